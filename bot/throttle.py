"""Per-user limits on what one user can make the bot send: a token bucket per user id.

Every update the bot would answer (a message, a command, a location, a button press, an inline
query) takes a token from its sender's bucket. Past the limit the bot answers once with a notice
and then stays silent until the notice window has passed (:class:`NoticeWindow`), so a flood costs
the shared send budget the limit plus one message, not one message per update.

Pure apart from the clock, which is injected, so tests can step time. The buckets of users who
have been quiet long enough to be full again are dropped, so memory follows active users only.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol


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


class Verdict(StrEnum):
    """What to do with one update from a user."""

    ANSWER = "answer"  # within the limit
    NOTICE = "notice"  # over the limit: tell the user once for this window
    IGNORE = "ignore"  # over the limit and already told: send nothing


@dataclass
class NoticeWindow:
    """When each user was last told to slow down: at most one notice per ``window_s``."""

    window_s: float = 60.0
    max_users: int = 10_000
    last: dict[int, float] = field(default_factory=dict)

    def claim(self, user_id: int, now: float) -> bool:
        """Tell whether ``user_id`` may get a notice now, and if so record it."""
        told = self.last.get(user_id)
        if told is not None and now - told < self.window_s:
            return False
        self.last[user_id] = now
        self.forget_old_notices(now)
        return True

    def forget_old_notices(self, now: float) -> None:
        """Drop notices older than the window once there are too many."""
        if len(self.last) <= self.max_users:
            return
        for user_id in [uid for uid, told in self.last.items() if now - told >= self.window_s]:
            del self.last[user_id]


def judge(limiter: QueryLimiter, notices: NoticeWindow, user_id: int) -> Verdict:
    """Take a token for one update of ``user_id``; past the limit, one notice per window."""
    if limiter.allow(user_id):
        return Verdict.ANSWER
    return Verdict.NOTICE if notices.claim(user_id, limiter.clock()) else Verdict.IGNORE


class SharedLimits(Protocol):
    """The limits of several workers, kept where all of them count (:mod:`bot.cluster`)."""

    async def judge(
        self, role: str, limiter: QueryLimiter, notices: NoticeWindow, user_id: int
    ) -> Verdict:
        """:func:`judge` with ``limiter``'s and ``notices``' rules on shared buckets."""
        ...
