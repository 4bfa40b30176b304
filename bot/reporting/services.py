"""What the reporting handlers use: the store, the policy and the clock, kept in BotServices."""

from __future__ import annotations

import asyncio
import contextlib
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, TypeVar

from telegram.warnings import PTBUserWarning

from bot.throttle import QueryLimiter
from reports.ports import ReportStore

T = TypeVar("T")


@contextlib.contextmanager
def step_buttons_tracked_per_user() -> Iterator[None]:
    """Build a ConversationHandler without PTB's per_message warning.

    The report conversations are per chat and user on purpose (a step's buttons are checked
    against the step the draft is at, so a press on an old message is answered as stale).
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="If 'per_message=False'", category=PTBUserWarning)
        yield


def utc_now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class ReportPolicy:
    """How long things take: retention, escalation, the worker's periods, lease and backoff."""

    retention_days: int = 90
    escalate_after: timedelta = timedelta(minutes=60)
    delivery_period_s: float = 2.0
    escalation_period_s: float = 30.0
    retention_period_s: float = 3600.0
    backoff_base_s: float = 5.0
    backoff_cap_s: float = 900.0
    # How long a claimed delivery is this process's alone: far longer than one send (a card,
    # an album and a voice message, each within PTB's timeouts). A process that dies mid-send
    # holds its rows that long; then another process sends them.
    delivery_lease: timedelta = timedelta(seconds=60)
    claim_batch: int = 10  # deliveries claimed at a time (each is sent within the lease)
    staff_language: str = "ru"  # of what the worker sends to staff chats (no user to ask)

    def backoff(self, attempts: int) -> timedelta:
        """The wait before the next attempt after ``attempts`` failed ones (doubling, capped)."""
        seconds = self.backoff_base_s * 2 ** min(max(attempts, 0), 30)
        return timedelta(seconds=min(seconds, self.backoff_cap_s))


@dataclass
class Reporting:
    """The reporting side of the bot's services; ``clock`` is injected so tests can step time."""

    store: ReportStore
    policy: ReportPolicy = field(default_factory=ReportPolicy)
    clock: Callable[[], datetime] = utc_now
    # Updates of a report in progress have their own bucket: a whole report with five photos is
    # about seventeen updates, close to the usual per-minute limit, and a resident must not be
    # silenced halfway (the daily report limit bounds what they can send on).
    limiter: QueryLimiter = field(default_factory=lambda: QueryLimiter(per_minute=60, burst=40))
    wake: asyncio.Event = field(default_factory=asyncio.Event)

    def nudge(self) -> None:
        """Wake the delivery worker: something was just owed (a report, an action)."""
        self.wake.set()

    async def call(self, method: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run one store method in a thread (each is one short transaction)."""
        return await asyncio.to_thread(partial(method, *args, **kwargs))
