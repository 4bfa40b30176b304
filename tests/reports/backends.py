"""The reports database of a test: a SQLite file, or a database of a real PostgreSQL.

Registered for the whole suite (``tests/conftest.py``), so the store's contract tests and the
bot's end-to-end report flows run on both backends. The PostgreSQL server is started once per
session from the machine's binaries (:mod:`tests.reports.postgres`), each test in a database of
its own. Without the binaries the PostgreSQL runs skip, unless ``NOZIRI_REQUIRE_POSTGRES=1``
(CI), where they fail.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from deploy.postgres import find_bindir
from tests.reports.postgres import PostgresServer, running_postgres

BACKENDS = ("sqlite", "postgresql")


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
