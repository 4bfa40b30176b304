"""The shared state of bot workers as the async roles the bot uses; the SQL is in
:mod:`reports.shared`, run in a thread (the store is synchronous).

No user or chat id is written as such: bucket and memo keys are HMACs keyed by the workers'
shared secret (:meth:`SharedBot.pseudonym`), so the tables say how often *someone* wrote, not who.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import secrets
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Final

from bot.recent import MemoEntry
from bot.throttle import NoticeWindow, QueryLimiter, Verdict
from reports.shared import Bucket, SqlSharedState, UpdateClaim

# How long a worker's hold on an update lasts unless renewed: the worker renews it every third
# of this while it handles the update, so a killed worker's update is free again within it.
UPDATE_LEASE: Final = timedelta(seconds=3)
PSEUDONYM_CHARS: Final = 32  # 128 bits of HMAC-SHA256


def worker_name() -> str:
    """This process's name in the shared state: host, pid and a random part."""
    return f"{socket.gethostname()[:48]}:{os.getpid()}:{secrets.token_hex(4)}"


@dataclass
class SharedBot:
    """Update claims, limits, the send budget and the button memo of every worker."""

    state: SqlSharedState
    key: bytes = b""  # the secret the workers share (their webhook secret)
    owner: str = field(default_factory=worker_name)
    lease: timedelta = UPDATE_LEASE
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    # --- update ids -------------------------------------------------------------------------

    async def claim(self, update_id: int) -> UpdateClaim:
        """Take ``update_id`` for this worker, unless done or held by a live one."""
        return await asyncio.to_thread(
            self.state.claim_update, update_id, owner=self.owner, now=self.clock(), lease=self.lease
        )

    async def finish(self, update_id: int) -> None:
        """``update_id`` was answered: redeliveries are acknowledged only."""
        await asyncio.to_thread(
            self.state.finish_update, update_id, owner=self.owner, now=self.clock()
        )

    async def renew(self, update_id: int) -> UpdateClaim:
        """Extend this worker's lease on ``update_id`` (HANDLE while it still holds it)."""
        return await self.claim(update_id)

    async def release(self, update_id: int) -> None:
        """``update_id`` could not be handled: let a redelivery be handled at once."""
        await asyncio.to_thread(self.state.release_update, update_id, owner=self.owner)

    # --- limits -----------------------------------------------------------------------------

    async def judge(
        self, role: str, limiter: QueryLimiter, notices: NoticeWindow, user_id: int
    ) -> Verdict:
        """:func:`bot.throttle.judge` over buckets every worker takes from."""
        allowance = Bucket(rate=limiter.per_minute / 60.0, burst=float(limiter.burst))
        who = self.pseudonym(str(user_id))
        if await self.take(f"{role}:{who}", allowance) == 0.0:
            return Verdict.ANSWER
        notice = Bucket(rate=1.0 / notices.window_s, burst=1.0)
        told = await self.take(f"notice:{who}", notice)
        return Verdict.NOTICE if told == 0.0 else Verdict.IGNORE

    async def take(self, key: str, bucket: Bucket) -> float:
        """Take a token from the shared bucket ``key``: 0.0, or the seconds to wait."""
        now = self.clock().timestamp()
        return await asyncio.to_thread(self.state.take, key, bucket, now=now)

    # --- the button memo (bot.recent.FarMemo) -----------------------------------------------

    async def remember(self, entries: Sequence[MemoEntry]) -> None:
        """Keep what buttons refer to, for every worker."""
        hidden = [(kind, self.pseudonym(key), value) for kind, key, value in entries]
        await asyncio.to_thread(self.state.remember_many, hidden, now=self.clock())

    async def recall(self, kind: str, key: str) -> str | None:
        """What some worker kept under ``kind``/``key``."""
        return await asyncio.to_thread(self.state.recall, kind, self.pseudonym(key))

    async def forget(self, kind: str, key: str) -> None:
        """Drop what is kept under ``kind``/``key``."""
        await asyncio.to_thread(self.state.forget, kind, self.pseudonym(key))

    def pseudonym(self, key: str) -> str:
        """The stored form of a key: an HMAC, so no user or chat id is kept as such."""
        return hmac.new(self.key, key.encode(), hashlib.sha256).hexdigest()[:PSEUDONYM_CHARS]

    async def prune(self) -> int:
        """Drop what is older than a day; how many rows went."""
        return await asyncio.to_thread(self.state.prune, now=self.clock())
