"""Fixtures of the reports store's contract tests: a clock, draft factories, stores.

The backends (SQLite, and a real PostgreSQL, skipped without its binaries except in CI) come
from :mod:`tests.reports.backends`, registered for the whole suite.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from reports.model import Draft, PlaceRef, ReportKind, StaffScope
from reports.store import SqlReportStore, open_store

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
RESIDENT = 1001
OTHER_RESIDENT = 1002
SECTOR_CHAT = -5001
OTHER_CHAT = -5002
DUTY_CHAT = -6001


MakeStore = Callable[..., SqlReportStore]


@pytest.fixture
def make_store(database_url: str) -> Iterator[MakeStore]:
    """Open stores on the test's database (``make_store(daily_limit=2)``); closed after."""
    opened: list[SqlReportStore] = []

    def make(**options: Any) -> SqlReportStore:
        opened.append(open_store(database_url, **options))
        return opened[-1]

    yield make
    for store in opened:
        store.close()


@pytest.fixture
def store(make_store: MakeStore) -> SqlReportStore:
    """A store on a fresh database, with the default daily limit."""
    return make_store()


@dataclass
class Clock:
    """The time the tests pass as ``now``; moved by hand, never slept."""

    now: datetime = T0
    ticks: int = field(default=0)

    def advance(self, **delta: float) -> datetime:
        """Move on by ``timedelta(**delta)``; the new time."""
        self.now += timedelta(**delta)
        return self.now

    def tick(self) -> datetime:
        """Move on one second (so events get distinct times)."""
        return self.advance(seconds=1)


@pytest.fixture
def clock() -> Clock:
    """A clock starting on 2026-11-02 09:00 UTC."""
    return Clock()


MakeDraft = Callable[..., Draft]


@pytest.fixture
def make_draft() -> MakeDraft:
    """``make_draft(sector_id="SIN-03", phone=None, **fields)``: a valid draft."""

    def make(*, sector_id: str = "SOM-17", **overrides: Any) -> Draft:
        place = PlaceRef(label="кӯчаи Рӯдакӣ 10 (fictional sector)", sector_id=sector_id)
        fields: dict[str, Any] = {
            "kind": ReportKind.NOISE,
            "place": place,
            "occurred": "today",
            "text": "loud music every night after midnight",
            "photo_file_ids": ("photo-1", "photo-2"),
            "phone": "+992 00 123 45 67",
        }
        return Draft(**(fields | overrides))

    return make


@pytest.fixture
def link_chat(store: SqlReportStore, clock: Clock) -> Callable[..., StaffScope]:
    """``link_chat(chat_id, sector_id=… | duty_district=…)``: invite and link in one go."""

    def link(chat_id: int, **scope: Any) -> StaffScope:
        code = store.invite(StaffScope(**scope), now=clock.now, valid_for=timedelta(hours=48))
        return store.link(code, chat_id=chat_id, now=clock.now)

    return link
