"""Connection settings shared by every entry point (bot, resolver CLI, index builder, benches).

Read from the environment (and ``.env``): ``MEILI_URL`` (one server) or ``MEILI_URLS`` (several
replicas, comma-separated) and ``MEILI_MASTER_KEY`` point at existing servers; without either the
commands start and manage an embedded Meilisearch (see :mod:`search_platform.server`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from resolver.errors import ConfigError
from resolver.index_schema import LIVE_INDEX

S = TypeVar("S", bound=BaseSettings)

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class MeiliSettings(BaseSettings):
    """Where Meilisearch is and how to reach it."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    meili_url: str | None = Field(
        default=None, description="Use this server instead of the embedded one."
    )
    meili_urls: str | None = Field(
        default=None,
        description="Several replicas, comma-separated; replaces MEILI_URL when set.",
    )
    meili_master_key: SecretStr | None = None
    meili_search_key: SecretStr | None = Field(
        default=None, description="A search-only key; by default the one the index builder created."
    )
    meili_binary: Path | None = Field(
        default=None, description="The meilisearch executable to run."
    )
    meili_index: str = LIVE_INDEX
    noziri_data_dir: Path = Field(default=PROJECT_ROOT / ".noziri")
    meili_timeout_s: float = Field(default=2.0, gt=0, description="Per-request timeout.")
    noziri_version_check_s: float = Field(
        default=2.0, gt=0, description="How often a running resolver checks the published version."
    )


def read_settings(settings_class: type[S]) -> S:
    """Build settings from the environment; a wrong value raises :class:`ConfigError`.

    Each problem names the environment variable (``BOT_QUERIES_PER_MINUTE``), not a traceback.
    """
    try:
        return settings_class()
    except ValidationError as exc:
        raise ConfigError([setting_problem(error) for error in exc.errors()]) from exc


def setting_problem(error: Mapping[str, Any]) -> str:
    """One validation error as ``VARIABLE: message`` (values of secrets are never shown)."""
    variable = "_".join(str(part) for part in error["loc"]).upper() or "settings"
    return f"{variable}: {error['msg']}"
