"""Fixtures of the reports store's contract tests: both backends, a clock, draft factories.

Every contract test runs on SQLite (a file in the test's tmp dir) and on a real PostgreSQL
started once per session from the machine's binaries (:mod:`tests.reports.postgres`), each test
in a database of its own. Without the binaries the PostgreSQL runs skip, unless
``NOZIRI_REQUIRE_POSTGRES=1`` (CI), where they fail.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from reports.model import Draft, PlaceRef, ReportKind, StaffScope
from reports.store import SqlReportStore, open_store
from tests.reports.postgres import PostgresServer, find_bindir, running_postgres

BACKENDS = ("sqlite", "postgresql")
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
RESIDENT = 1001
OTHER_RESIDENT = 1002
SECTOR_CHAT = -5001
OTHER_CHAT = -5002
DUTY_CHAT = -6001


def postgres_required() -> bool:
    """Tell whether the PostgreSQL tests must run (CI) instead of skipping."""
    return os.environ.get("NOZIRI_REQUIRE_POSTGRES", "").strip() == "1"


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the session (skip, or fail in CI, without the binaries)."""
    bindir = find_bindir()
    if bindir is None:
        message = "PostgreSQL binaries not found (initdb, pg_ctl): apt-get install postgresql"
        if postgres_required():
            pytest.fail(f"{message}; NOZIRI_REQUIRE_POSTGRES=1 requires them")
        pytest.skip(message)
    with running_postgres(bindir) as server:
        yield server


DATABASE_NUMBERS = itertools.count(1)


def new_postgres_database(server: PostgresServer) -> str:
    """Create an empty database on the server; its URL."""
    name = f"noziri_test_{os.getpid()}_{next(DATABASE_NUMBERS)}"
    admin = create_engine(server.url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return server.url(name)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The backend of this run of the test."""
    return str(request.param)


@pytest.fixture
def database_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A fresh, empty database of the backend."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'reports.sqlite3'}"
    return new_postgres_database(request.getfixturevalue("postgres_server"))


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
