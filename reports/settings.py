"""Reports configuration, read from the environment (and ``.env``).

    DATABASE_URL: where reports are kept. Unset: the SQLite file ``reports.sqlite3`` in
        NOZIRI_DATA_DIR (the directory 0700, the file 0600). PostgreSQL:
        ``postgresql+psycopg://user:password@host/dbname`` (``postgresql://`` is read the same).
    REPORTS_DAILY_LIMIT: reports one resident may file in any 24 hours (rolling).
    REPORTS_RETENTION_DAYS: days after closing a report keeps the resident's chat id and phone.
    REPORTS_ESCALATION_MINUTES: minutes a report may wait, unaccepted, before it goes to the
        district's duty chat.
    REPORTS_INVITE_HOURS: how long a staff invite code (``/link <code>``) is valid.
    NOZIRI_DATA_DIR: the project's data directory (shared with the bot and the resolver).

Build with :func:`search_platform.settings.read_settings`, which turns a wrong value into a
:class:`~resolver.errors.ConfigError` naming the variable.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from search_platform.settings import PROJECT_ROOT

SQLITE_FILE = "reports.sqlite3"
SUPPORTED_SCHEMES = ("sqlite", "postgresql+psycopg")


def normalise_database_url(url: str) -> str:
    """Read ``postgresql://`` and ``postgres://`` as psycopg 3 URLs; refuse other databases."""
    scheme, separator, rest = url.strip().partition("://")
    if not separator:
        raise ValueError("is not a URL: use sqlite:///path/file.sqlite3 or postgresql+psycopg://…")
    if scheme in {"postgresql", "postgres"}:
        scheme = "postgresql+psycopg"
    if scheme not in SUPPORTED_SCHEMES:
        raise ValueError(
            f"the {scheme!r} database is not supported: use sqlite:///… or postgresql+psycopg://…"
        )
    return f"{scheme}://{rest}"


class ReportSettings(BaseSettings):
    """Everything the reports store and its commands read from the environment."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: SecretStr | None = Field(
        default=None, description="SQLAlchemy URL; unset: SQLite in NOZIRI_DATA_DIR."
    )
    reports_daily_limit: int = Field(default=5, ge=1, le=1000)
    reports_retention_days: int = Field(default=90, ge=1, le=3650)
    reports_escalation_minutes: int = Field(default=60, ge=1, le=7 * 24 * 60)
    reports_invite_hours: int = Field(default=48, ge=1, le=30 * 24)
    noziri_data_dir: Path = PROJECT_ROOT / ".noziri"

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        return SecretStr(normalise_database_url(value.get_secret_value()))

    @property
    def sqlite_path(self) -> Path:
        """The default database file."""
        return self.noziri_data_dir.expanduser().resolve() / SQLITE_FILE

    @property
    def url(self) -> str:
        """The database URL to open (it may hold a password: never log it)."""
        if self.database_url is None:
            return f"sqlite:///{self.sqlite_path}"
        return self.database_url.get_secret_value()

    @property
    def retention(self) -> timedelta:
        """How long a closed report keeps the resident's chat id and phone."""
        return timedelta(days=self.reports_retention_days)

    @property
    def escalation(self) -> timedelta:
        """How long a report may wait unaccepted before the duty chat gets it."""
        return timedelta(minutes=self.reports_escalation_minutes)

    @property
    def invite_validity(self) -> timedelta:
        """How long an invite code can be used."""
        return timedelta(hours=self.reports_invite_hours)
