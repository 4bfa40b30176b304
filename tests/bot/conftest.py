"""Fixtures for the bot: catalogue, fakes, and a running bot against the fake Bot API server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from bot.app import BotApplication, build_application
from bot.callbacks import CallbackSigner
from bot.fake_api import FakeBotApi
from bot.handlers import BotServices
from bot.i18n import Catalogue, load_catalogue
from bot.throttle import QueryLimiter
from bot.unresolved import UnresolvedLog
from tests.bot.fakes import FakeResolver, FakeSectors


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    """The real message catalogues."""
    return load_catalogue()


@pytest.fixture
def signer() -> CallbackSigner:
    """A signer with a fixed secret, so payloads are reproducible."""
    return CallbackSigner(secret=b"test-secret")


@pytest.fixture
def make_services(catalogue: Catalogue, tmp_path: Path) -> Iterator[object]:
    """Build :class:`BotServices` around fakes; keyword overrides replace any part."""

    def factory(**overrides: object) -> BotServices:
        values: dict[str, object] = {
            "resolver": FakeResolver(),
            "sectors": FakeSectors(),
            "catalogue": catalogue,
            "limiter": QueryLimiter(per_minute=60, burst=60),
            "unresolved": UnresolvedLog(tmp_path / "unresolved.jsonl"),
            "reply_deadline_s": 2.5,
        }
        return BotServices(**(values | overrides))  # type: ignore[arg-type]

    yield factory


@asynccontextmanager
async def running_bot(services: BotServices) -> AsyncIterator[tuple[FakeBotApi, BotApplication]]:
    """Run the real application, long polling the fake Bot API server over HTTP."""
    async with FakeBotApi() as api:
        application = build_application(services, token=api.token, api_root=api.root)
        async with application:
            assert application.updater is not None
            await application.updater.start_polling(poll_interval=0, timeout=1)
            await application.start()
            try:
                yield api, application
            finally:
                await application.updater.stop()
                await application.stop()
