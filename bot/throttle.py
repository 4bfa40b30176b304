"""A per-user limit on queries per minute: one token bucket per user id.

Pure apart from the clock, which is injected, so tests can step time. The buckets of users who
have been quiet long enough to be full again are dropped, so memory follows active users only.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Bucket:
    """Tokens left and when they were last counted."""

    tokens: float
    updated: float


@dataclass
class QueryLimiter:
    """Allow each user ``per_minute`` queries a minute, with bursts up to ``burst``."""

    per_minute: float
    burst: int
    clock: Callable[[], float] = time.monotonic
    max_users: int = 10_000
    buckets: dict[int, Bucket] = field(default_factory=dict)

    def allow(self, user_id: int) -> bool:
        """Take one token from ``user_id``'s bucket; False when it is empty."""
        now = self.clock()
        bucket = self.refill(self.buckets.get(user_id), now)
        allowed = bucket.tokens >= 1
        if allowed:
            bucket.tokens -= 1
        self.buckets[user_id] = bucket
        self.forget_idle_users(now)
        return allowed

    def refill(self, bucket: Bucket | None, now: float) -> Bucket:
        """Add the tokens earned since the bucket was last counted."""
        if bucket is None:
            return Bucket(tokens=float(self.burst), updated=now)
        earned = (now - bucket.updated) * self.per_minute / 60.0
        return Bucket(tokens=min(float(self.burst), bucket.tokens + earned), updated=now)

    def forget_idle_users(self, now: float) -> None:
        """Drop buckets that have refilled completely once there are too many."""
        if len(self.buckets) <= self.max_users:
            return
        full = [uid for uid, b in self.buckets.items() if self.refill(b, now).tokens >= self.burst]
        for user_id in full:
            del self.buckets[user_id]
