"""The outbox worker's choices, with a stub bot: which failures retry, how long it waits, and
what it claims when several workers share the database."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.i18n import Catalogue
from bot.reporting.delivery import DeliveryWorker
from bot.reporting.services import Reporting, ReportPolicy
from reports.model import Draft, PlaceRef, ReportKind, ReportStatus, StaffScope
from reports.store import SqlReportStore
from tests.bot.reporting import open_sqlite

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
STAFF_CHAT = -5001
POLICY = ReportPolicy(backoff_base_s=10, backoff_cap_s=80)


@dataclass
class StubBot:
    """Answers sends with ``error`` (None: success) and counts them; ``failing`` names the kinds
    of message that fail (all of them when empty)."""

    error: Exception | None = None
    sent: list[tuple[str, int]] = field(default_factory=list)
    failing: set[str] = field(default_factory=set)

    def answer(self, kind: str, chat_id: int) -> None:
        self.sent.append((kind, chat_id))
        if self.error is not None and (not self.failing or kind in self.failing):
            raise self.error

    async def send_message(self, chat_id: int, *_: Any, **__: Any) -> None:
        self.answer("message", chat_id)

    async def send_media_group(self, chat_id: int, *_: Any, **__: Any) -> None:
        self.answer("album", chat_id)

    async def send_voice(self, chat_id: int, *_: Any, **__: Any) -> None:
        self.answer("voice", chat_id)


@dataclass
class SteppedClock:
    """The worker's time, moved by the test (or by a slow send)."""

    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now


@dataclass
class SlowBot(StubBot):
    """Each send takes ``seconds`` on the worker's ``clock`` (or never ends: None)."""

    clock: SteppedClock = field(default_factory=SteppedClock)
    seconds: float | None = 0.0
    started: asyncio.Event = field(default_factory=asyncio.Event)

    def answer(self, kind: str, chat_id: int) -> None:
        super().answer(kind, chat_id)
        if self.seconds is not None:
            self.clock.now += timedelta(seconds=self.seconds)

    async def send_message(self, chat_id: int, *_: Any, **__: Any) -> None:
        self.started.set()
        if self.seconds is None:
            await asyncio.Event().wait()  # hangs until cancelled
        self.answer("message", chat_id)


def filed(store: SqlReportStore, **media: Any) -> str:
    """A report of SOM-01, whose staff chat is linked: one NEW_REPORT owed (``media``: photo and
    voice file ids of the draft)."""
    code = store.invite(StaffScope(sector_id="SOM-01"), now=T0, valid_for=timedelta(hours=1))
    store.link(code, chat_id=STAFF_CHAT, now=T0)
    draft = Draft(
        kind=ReportKind.OTHER,
        place=PlaceRef(label="Rudaki Avenue, house 45", sector_id="SOM-01"),
        occurred="now",
        text="A broken street light",
        **media,
    )
    return store.submit(draft, resident_chat_id=7001, now=T0).reference


@pytest.fixture
def store(tmp_path: Path) -> SqlReportStore:
    """The real store on a SQLite file."""
    return open_sqlite(tmp_path / "reports.sqlite3")


def worker(
    store: SqlReportStore,
    bot: StubBot,
    catalogue: Catalogue,
    *,
    clock: Callable[[], datetime] = lambda: T0,
    policy: ReportPolicy = POLICY,
) -> DeliveryWorker:
    """A worker at T0 (the clock does not move by itself)."""
    reporting = Reporting(store=store, policy=policy, clock=clock)
    return DeliveryWorker(bot=bot, reporting=reporting, catalogue=catalogue)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "error",
    [
        Forbidden("bot was kicked from the group chat"),
        NetworkError("Bad Gateway"),
        TimedOut(),
        BadRequest("chat not found"),
    ],
)
async def test_a_failed_send_is_retried_after_the_backoff_and_stays_pending(
    store: SqlReportStore, catalogue: Catalogue, error: Exception
) -> None:
    reference = filed(store)
    sent = await worker(store, StubBot(error=error), catalogue).deliver_due()
    assert sent == 0
    assert store.due(now=T0 + timedelta(seconds=9)) == []
    [again] = store.due(now=T0 + timedelta(seconds=10))
    assert again.attempts == 1 and again.reference == reference
    assert store.get(reference).status is ReportStatus.PENDING


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")  # RetryAfter(60)
async def test_retry_after_waits_as_long_as_telegram_asks(
    store: SqlReportStore, catalogue: Catalogue
) -> None:
    filed(store)
    await worker(store, StubBot(error=RetryAfter(60)), catalogue).deliver_due()
    assert store.due(now=T0 + timedelta(seconds=59)) == []
    assert len(store.due(now=T0 + timedelta(seconds=60))) == 1


async def test_a_sent_delivery_is_marked_at_once_and_never_sent_again(
    store: SqlReportStore, catalogue: Catalogue
) -> None:
    reference = filed(store)
    bot = StubBot()
    work = worker(store, bot, catalogue)
    assert await work.deliver_due() == 1
    await work.deliver_due()  # the resident's "delivered" push; the card is not sent again
    assert [chat for _, chat in bot.sent].count(STAFF_CHAT) == 1
    assert store.get(reference).status is ReportStatus.DELIVERED


async def test_a_report_whose_album_failed_sends_only_the_rest_on_retry(
    store: SqlReportStore, catalogue: Catalogue
) -> None:
    reference = filed(store, photo_file_ids=("p1", "p2"), voice_file_id="v1")
    bot = StubBot(error=NetworkError("Bad Gateway"), failing={"album"})
    work = worker(store, bot, catalogue)
    assert await work.deliver_due() == 0  # the card went out, the album did not
    bot.error = None
    retry_at = T0 + timedelta(seconds=10)
    [again] = store.claim_due(now=retry_at, owner=work.owner, lease=POLICY.delivery_lease)
    assert await work.deliver(again)
    staff = [kind for kind, chat in bot.sent if chat == STAFF_CHAT]
    assert staff == ["message", "album", "album", "voice"]  # the card once, never again
    assert store.get(reference).status is ReportStatus.DELIVERED


def file_reports(store: SqlReportStore, count: int) -> list[str]:
    """``count`` reports of SOM-01 (linked) from distinct residents: a NEW_REPORT owed each."""
    code = store.invite(StaffScope(sector_id="SOM-01"), now=T0, valid_for=timedelta(hours=1))
    store.link(code, chat_id=STAFF_CHAT, now=T0)
    draft = Draft(
        kind=ReportKind.OTHER,
        place=PlaceRef(label="Rudaki Avenue, house 45", sector_id="SOM-01"),
        occurred="now",
        text="A broken street light",
    )
    return [store.submit(draft, resident_chat_id=7100 + i, now=T0).reference for i in range(count)]


def cards(bot: StubBot) -> int:
    """How many messages reached the staff chat."""
    return [chat for _, chat in bot.sent].count(STAFF_CHAT)


async def test_a_delivery_claimed_by_a_worker_that_died_waits_for_its_lease_to_run_out(
    store: SqlReportStore, catalogue: Catalogue
) -> None:
    reference = filed(store)
    store.claim_due(now=T0, owner="dead-host:1:0", lease=POLICY.delivery_lease)  # then killed
    clock, bot = SteppedClock(), StubBot()
    work = worker(store, bot, catalogue, clock=clock)
    clock.now = T0 + POLICY.delivery_lease - timedelta(seconds=1)
    assert await work.deliver_due() == 0
    clock.now = T0 + POLICY.delivery_lease
    assert await work.deliver_due() == 1
    assert cards(bot) == 1
    assert store.get(reference).status is ReportStatus.DELIVERED


async def test_a_worker_short_of_lease_frees_the_rest_of_its_batch_and_claims_afresh(
    store: SqlReportStore, catalogue: Catalogue
) -> None:
    # Each send takes 31 s of a 60 s lease: one send per claim, the rest freed at once (held
    # until the lease ran out, they would wait a minute; sent late, another worker might have
    # claimed them meanwhile).
    file_reports(store, 4)
    bot = SlowBot(seconds=31)
    policy = ReportPolicy(claim_batch=3, delivery_lease=timedelta(seconds=60))
    work = worker(store, bot, catalogue, clock=bot.clock, policy=policy)
    assert await work.deliver_due() >= 4
    assert cards(bot) == 4


async def test_two_workers_on_one_database_send_each_delivery_once(
    store: SqlReportStore, catalogue: Catalogue, tmp_path: Path
) -> None:
    file_reports(store, 12)
    other_store = open_sqlite(tmp_path / "reports.sqlite3")
    policy = ReportPolicy(claim_batch=2)
    bots = [StubBot(), StubBot()]
    workers = [
        worker(store, bots[0], catalogue, policy=policy),
        worker(other_store, bots[1], catalogue, policy=policy),
    ]
    try:
        await asyncio.gather(*(work.deliver_due() for work in workers))
    finally:
        other_store.close()
    assert cards(bots[0]) + cards(bots[1]) == 12
    assert store.due(now=T0 + timedelta(hours=1)) == []


async def test_a_stopped_worker_frees_what_it_claimed_for_the_next_one(
    store: SqlReportStore, catalogue: Catalogue
) -> None:
    file_reports(store, 3)
    bot = SlowBot(seconds=None)  # the first send hangs: the worker is stopped in the middle
    work = worker(store, bot, catalogue, clock=bot.clock)
    work.start()
    await asyncio.wait_for(bot.started.wait(), timeout=10)
    await work.stop()
    hour = timedelta(hours=1)
    assert len(store.claim_due(now=T0, owner="next", lease=hour)) == 2  # those not started
    later = T0 + POLICY.delivery_lease  # the one in flight (sent or not?) once its lease ran out
    [in_flight] = store.claim_due(now=later, owner="next", lease=hour)
    assert in_flight.reference == "SOM-01-000001"
