"""How the store opens its database: SQLite's settings, private files, errors without secrets."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from reports.ports import DatabaseUnavailable
from reports.store import SqlReportStore, open_store
from tests.reports.postgres import free_port


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_sqlite_runs_in_wal_with_foreign_keys_and_a_busy_timeout(store: SqlReportStore) -> None:
    with store.engine.connect() as connection:
        pragma = {
            name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "foreign_keys", "busy_timeout")
        }
    assert pragma == {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 30_000}


def test_a_new_sqlite_file_is_private(tmp_path: Path) -> None:
    database = tmp_path / "new" / "reports.sqlite3"
    open_store(f"sqlite:///{database}").close()
    assert database.stat().st_mode & 0o777 == 0o600
    assert database.parent.stat().st_mode & 0o777 == 0o700


def test_database_errors_never_show_the_values(store: SqlReportStore) -> None:
    secret = "the neighbour at no. 10 beats his wife"
    with pytest.raises(IntegrityError) as failed, store.engine.begin() as connection:
        connection.execute(
            text("INSERT INTO report_events (reference, at, actor, status, text) "
                 "VALUES ('NOT-A-REPORT', CURRENT_TIMESTAMP, 'staff', 'closed', :text)"),
            {"text": secret},
        )  # fmt: skip
    assert secret not in str(failed.value)


def test_an_unreachable_postgresql_is_database_unavailable() -> None:
    url = f"postgresql+psycopg://noziri:secret-password@127.0.0.1:{free_port()}/reports"
    with pytest.raises(DatabaseUnavailable) as refused:
        open_store(url)
    assert "DATABASE_URL" in str(refused.value)
    assert "secret-password" not in str(refused.value)
