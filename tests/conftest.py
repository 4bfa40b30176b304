"""Suite-wide rules: tests that need a real Meilisearch (everything under ``tests/integration``,
and any test using the ``meili`` family of fixtures) carry the ``integration`` marker, and where
Docker is required (``CI=true`` or ``NOZIRI_REQUIRE_DOCKER=1``) a skipped integration test fails
the run: CI must really exercise Meilisearch.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

# The reports database fixtures (SQLite and a real PostgreSQL) for the store's and the bot's tests.
pytest_plugins = ("tests.reports.backends",)

INTEGRATION_DIR = Path(__file__).parent / "integration"


def integration_required() -> bool:
    """Tell whether integration tests may not be skipped in this run."""
    ci = os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}
    return ci or os.environ.get("NOZIRI_REQUIRE_DOCKER", "").strip() == "1"


class SkippedIntegrationGuard:
    """Plugin that counts skipped integration tests and fails the run if any."""

    def __init__(self) -> None:
        self.skipped: list[str] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Remember an integration test that was skipped (an xfail is not a skip)."""
        skipped = report.skipped and not hasattr(report, "wasxfail")
        if skipped and "integration" in report.keywords:
            self.skipped.append(report.nodeid)

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        """Turn a green run with skipped integration tests into a failure."""
        if self.skipped and exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        """Say which integration tests were skipped and why the run fails."""
        if self.skipped:
            terminalreporter.write_line(
                f"FAILED: {len(self.skipped)} integration test(s) skipped, but CI or "
                "NOZIRI_REQUIRE_DOCKER=1 requires them to run: " + ", ".join(self.skipped[:10])
            )


def pytest_configure(config: pytest.Config) -> None:
    """Install the skip guard where integration tests are required."""
    if integration_required():
        config.pluginmanager.register(SkippedIntegrationGuard(), "noziri-skipped-integration")


def uses_real_meilisearch(item: pytest.Item) -> bool:
    """Tell whether a test needs a real Meilisearch: it lives in tests/integration, or it asks
    (directly or through other fixtures) for ``meili``, ``meili_binary`` or a ``*_meili``."""
    if item.path.is_relative_to(INTEGRATION_DIR):
        return True
    names = set(getattr(item, "fixturenames", ()))
    return bool(names & {"meili", "meili_binary"}) or any(n.endswith("_meili") for n in names)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test that needs a real Meilisearch as ``integration``."""
    for item in items:
        if uses_real_meilisearch(item):
            item.add_marker(pytest.mark.integration)
