"""``python -m index_builder`` configuration: the connection settings plus where the seed is.

``NOZIRI_SEED_DIR`` is the builder's setting only: the resolver and the bot read the published
data from Meilisearch and need no ``seed/``.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from search_platform.settings import PROJECT_ROOT, MeiliSettings


class BuilderSettings(MeiliSettings):
    """Everything ``python -m index_builder`` reads from the environment."""

    seed_dir: Path = Field(default=PROJECT_ROOT / "seed", validation_alias="NOZIRI_SEED_DIR")
