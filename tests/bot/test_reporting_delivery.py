"""The outbox worker's choices, with a stub bot: which failures retry, and how long it waits."""

from __future__ import annotations

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


def worker(store: SqlReportStore, bot: StubBot, catalogue: Catalogue) -> DeliveryWorker:
    """A worker at T0 (the clock does not move by itself)."""
    reporting = Reporting(store=store, policy=POLICY, clock=lambda: T0)
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
    [again] = store.due(now=T0 + timedelta(seconds=10))
    assert await work.deliver(again)
    staff = [kind for kind, chat in bot.sent if chat == STAFF_CHAT]
    assert staff == ["message", "album", "album", "voice"]  # the card once, never again
    assert store.get(reference).status is ReportStatus.DELIVERED
