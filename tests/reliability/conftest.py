"""Fixtures for the reliability tests: real Meilisearch (shared and killable), a published
seed index with its search-only key, and a figures sheet printed at the end of the run.

The Meilisearch fixtures are the integration suite's own (re-exported, same rules: testcontainers
with the local image, the plain process only as an announced fallback outside CI).
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from search_platform.connection import Endpoint
from tests.integration.conftest import (
    candidate_images,
    docker_engine,
    fallback_reason,
    find_binary_or_fail,
    image_exists,
    index_uid,
    meili,
    meili_binary,
    meili_client,
)
from tests.reliability.building import publish_seed
from tests.reliability.killable import ContainerMeili, ProcessMeili, running

__all__ = ["index_uid", "meili", "meili_binary", "meili_client"]

FIGURES = pytest.StashKey[dict[str, Any]]()


def pytest_configure(config: pytest.Config) -> None:
    """Start an empty figures sheet for this run."""
    config.stash[FIGURES] = {}


@pytest.fixture(scope="session")
def figures(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Measured figures for the README's Reliability section, printed after the run."""
    return request.config.stash[FIGURES]


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """Print the figures (and write them to ``NOZIRI_FIGURES_FILE`` if set)."""
    sheet = config.stash.get(FIGURES, {})
    if not sheet:
        return
    terminalreporter.section("reliability figures")
    for name, value in sorted(sheet.items()):
        terminalreporter.write_line(f"{name}: {value}")
    target = os.environ.get("NOZIRI_FIGURES_FILE")
    if target:
        Path(target).write_text(json.dumps(sheet, indent=2, sort_keys=True) + "\n")


@pytest.fixture(scope="session")
def live_index(meili: Endpoint) -> tuple[str, SecretStr]:
    """Publish the real seed once per session; return the live index name and search key."""
    live = f"noziri_rel_{uuid.uuid4().hex[:8]}"
    return live, publish_seed(meili, live=live)


@pytest.fixture
def killable_meili(tmp_path: Path) -> Iterator[ProcessMeili | ContainerMeili]:
    """A Meilisearch of this test's own that may be killed and restarted."""
    master_key = secrets.token_urlsafe(24)
    client = docker_engine()
    images = [image for image in candidate_images() if client and image_exists(client, image)]
    server: ProcessMeili | ContainerMeili
    if images:
        server = ContainerMeili(images[0], master_key)
    else:
        fallback_reason(client)  # fails where Docker is required
        server = ProcessMeili(find_binary_or_fail(), master_key, tmp_path)
    with running(server) as started:
        yield started


class ErrorLog(logging.Handler):
    """Keep ERROR records: the bot's error handler logs one per exception that reached it."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the record."""
        self.records.append(record)


@pytest.fixture
def error_log() -> Iterator[ErrorLog]:
    """ERROR records logged during one test (all its examples)."""
    handler = ErrorLog()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
