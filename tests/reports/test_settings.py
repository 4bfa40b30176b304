"""ReportSettings: defaults, the database URL forms, and wrong values named by variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from reports.settings import ReportSettings
from resolver.errors import ConfigError
from search_platform.settings import read_settings

VARIABLES = (
    "DATABASE_URL",
    "REPORTS_DAILY_LIMIT",
    "REPORTS_RETENTION_DAYS",
    "REPORTS_ESCALATION_MINUTES",
    "REPORTS_INVITE_HOURS",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NOZIRI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)  # no .env of the checkout


def test_defaults_are_sqlite_in_the_data_dir_and_the_documented_limits(tmp_path: Path) -> None:
    settings = read_settings(ReportSettings)
    assert settings.url == f"sqlite:///{tmp_path / 'data' / 'reports.sqlite3'}"
    assert (settings.reports_daily_limit, settings.retention.days) == (5, 90)
    assert settings.escalation.total_seconds() == 3600
    assert settings.invite_validity.total_seconds() == 48 * 3600


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgresql://u:p@db/reports", "postgresql+psycopg://u:p@db/reports"),
        ("postgres://u:p@db/reports", "postgresql+psycopg://u:p@db/reports"),
        ("postgresql+psycopg://u:p@db/reports", "postgresql+psycopg://u:p@db/reports"),
        ("sqlite:////var/lib/noziri/r.sqlite3", "sqlite:////var/lib/noziri/r.sqlite3"),
    ],
)
def test_database_urls_are_read_as_psycopg_or_sqlite(
    monkeypatch: pytest.MonkeyPatch, given: str, used: str
) -> None:
    monkeypatch.setenv("DATABASE_URL", given)
    assert read_settings(ReportSettings).url == used


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DATABASE_URL", "mysql://u:p@db/reports"),
        ("DATABASE_URL", "reports.sqlite3"),
        ("REPORTS_DAILY_LIMIT", "0"),
        ("REPORTS_DAILY_LIMIT", "many"),
        ("REPORTS_RETENTION_DAYS", "-1"),
        ("REPORTS_ESCALATION_MINUTES", "0"),
        ("REPORTS_INVITE_HOURS", "0"),
    ],
)
def test_a_wrong_value_is_a_config_error_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as refused:
        read_settings(ReportSettings)
    assert variable in str(refused.value)


def test_a_password_in_the_url_is_not_shown_in_the_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "mysql://u:hunter2@db/reports")
    with pytest.raises(ConfigError) as refused:
        read_settings(ReportSettings)
    assert "hunter2" not in str(refused.value)
