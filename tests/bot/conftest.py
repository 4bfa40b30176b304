"""Fixtures for the bot: the real catalogue, a fixed signer, and services built around fakes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.callbacks import CallbackSigner
from bot.handlers import BotServices
from bot.i18n import Catalogue, load_catalogue
from bot.throttle import QueryLimiter
from bot.unresolved import UnresolvedLog
from tests.bot.fakes import FakeResolver, FakeSectors

MakeServices = Callable[..., BotServices]


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    """The real message catalogues."""
    return load_catalogue()


@pytest.fixture
def signer() -> CallbackSigner:
    """A signer with a fixed secret, so payloads are reproducible."""
    return CallbackSigner(secret=b"test-secret")


@pytest.fixture
def unresolved_path(tmp_path: Path) -> Path:
    """Where the services of a test append unresolved queries."""
    return tmp_path / "unresolved.jsonl"


@pytest.fixture
def make_services(catalogue: Catalogue, unresolved_path: Path) -> MakeServices:
    """Build :class:`BotServices` around fakes; keyword overrides replace any part."""

    def factory(**overrides: Any) -> BotServices:
        values: dict[str, Any] = {
            "resolver": FakeResolver(),
            "sectors": FakeSectors(),
            "catalogue": catalogue,
            "limiter": QueryLimiter(per_minute=60, burst=60),
            "unresolved": UnresolvedLog(unresolved_path),
            "reply_deadline_s": 2.5,
        }
        return BotServices(**(values | overrides))

    return factory
