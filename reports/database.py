"""The reports database's engine and schema: SQLite or PostgreSQL, and the Alembic migrations.

SQLite runs in WAL mode with foreign keys on and a busy timeout; the driver's own transaction
handling is off and ours starts writers with ``BEGIN IMMEDIATE`` (readers with a plain, deferred
``BEGIN``), so two processes on one file take turns instead of failing half-way. A new SQLite
file is created 0600, its directory 0700. PostgreSQL is reached through psycopg 3. Both engines
hide bound parameters: no report text reaches a log or an error message.

:func:`migrate` upgrades to the newest revision of ``reports/migrations/`` in one transaction
holding the schema lock (SQLite's write lock; a PostgreSQL advisory lock), so processes starting
together migrate once.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from reports.ports import (
    DatabaseUnavailable,
)
from search_platform.files import PRIVATE_DIR_MODE, touch_private

SQLITE_BUSY_TIMEOUT_S: Final = 30
MIGRATIONS_DIR: Final = Path(__file__).resolve().parent / "migrations"
# The PostgreSQL advisory lock that serialises schema changes ("NOZIRI" in ASCII, as a number).
SCHEMA_LOCK: Final = 0x4E4F5A495249


def make_engine(database_url: str) -> Engine:
    """An engine for SQLite (WAL, foreign keys, busy timeout, IMMEDIATE writes) or PostgreSQL."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return sqlite_engine(database_url)
    return create_engine(
        url,
        hide_parameters=True,
        pool_pre_ping=True,
        connect_args={"connect_timeout": 10},
    )


def sqlite_engine(database_url: str) -> Engine:
    """SQLite with the transaction handling done by us: DEFERRED reads, IMMEDIATE writes."""
    engine = create_engine(
        database_url,
        hide_parameters=True,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False},
    )
    event.listen(engine, "connect", configure_sqlite_connection)
    event.listen(engine, "begin", begin_sqlite_transaction)
    return engine


def configure_sqlite_connection(connection: Any, _record: Any) -> None:
    """WAL, foreign keys and the busy timeout on every new connection; we issue BEGIN."""
    connection.isolation_level = None  # the driver's own implicit BEGIN is off
    cursor = connection.cursor()
    for pragma in (
        f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}",
        "PRAGMA journal_mode=WAL",
        "PRAGMA foreign_keys=ON",
        "PRAGMA synchronous=NORMAL",
    ):
        cursor.execute(pragma)
    cursor.close()


def begin_sqlite_transaction(connection: Any) -> None:
    """Take the write lock at BEGIN for writers, so no transaction fails to upgrade later."""
    reading = connection.get_execution_options().get("noziri_read", False)
    connection.exec_driver_sql("BEGIN" if reading else "BEGIN IMMEDIATE")


def prepare_sqlite_file(database_url: str) -> None:
    """Create the database file 0600 (and its directory 0700) before SQLite opens it."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return
    path = Path(url.database).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR_MODE)
    touch_private(path)


def unavailable(exc: Exception) -> DatabaseUnavailable:
    """The error to show for a database that cannot be used (no SQL, no parameters)."""
    cause = type(getattr(exc, "orig", None) or exc).__name__
    return DatabaseUnavailable(
        f"the reports database cannot be used ({cause}): check DATABASE_URL and that the "
        "database is running, then run `python -m bot reports migrate`"
    )


def alembic_config(connection: Connection | None = None) -> Config:
    """The migrations' configuration, without an ``alembic.ini``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


@contextmanager
def schema_lock(engine: Engine) -> Iterator[Connection]:
    """A transaction that holds the schema lock: one process migrates, the others wait."""
    with engine.begin() as connection:  # on SQLite, BEGIN IMMEDIATE is that lock
        if engine.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK})
        yield connection


def migrate(engine: Engine, *, revision: str = "head") -> None:
    """Upgrade the schema to ``revision`` (the newest by default), in one transaction."""
    with schema_lock(engine) as connection:
        command.upgrade(alembic_config(connection), revision)


def schema_revision(engine: Engine) -> str | None:
    """The revision the database is at (None before the first migration)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    """The newest revision of ``reports/migrations``."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


class Transactions:
    """Sessions on one engine: a transaction committed on success, database failures raised as
    :class:`~reports.ports.DatabaseUnavailable`; readers start with a deferred BEGIN on SQLite."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._writer = sessionmaker(engine, expire_on_commit=False)
        self._reader = sessionmaker(
            engine.execution_options(noziri_read=True), expire_on_commit=False
        )

    @contextmanager
    def begin(self, *, write: bool = True) -> Iterator[Session]:
        """One transaction (a writer unless ``write`` is False)."""
        sessions = self._writer if write else self._reader
        try:
            with sessions.begin() as session:
                yield session
        except (OperationalError, InterfaceError) as exc:
            raise unavailable(exc) from exc
