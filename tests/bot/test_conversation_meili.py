"""The conversation end to end with the REAL resolver and a REAL Meilisearch.

The bot runs over HTTP against the fake Bot API server as in ``test_conversation.py``; behind it
are the lead's :class:`resolver.service.Resolver`, the seed's sector directory and an index built
from ``seed/`` by the index builder. This module runs its own Meilisearch process (with the
platform's helpers) because one test stops and restarts it in the middle of a conversation, which
a shared session server cannot allow.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from subprocess import Popen
from typing import Any

import pytest
from pydantic import SecretStr
from shapely.geometry import shape

from bot.adapters import MeiliPlaceResolver
from bot.handlers import BotServices
from bot.i18n import load_catalogue
from bot.offline.chat import offline_bot
from bot.offline.fake_api import ApiCall, FakeBotApi, FakeUser
from bot.throttle import QueryLimiter
from bot.unresolved import UnresolvedLog
from index_builder.seed.load import load_gazetteer
from index_builder.seed.models import Gazetteer
from resolver.bootstrap import load_pipeline, meili_backend
from resolver.meili import MeiliBackend
from resolver.models import Status
from resolver.service import AwaitingResolver, Resolver
from search_platform.connection import Endpoint
from search_platform.files import write_server_config
from search_platform.process import LOOPBACK, free_port, spawn, stop_process, wait_until_healthy
from search_platform.settings import PROJECT_ROOT, MeiliSettings
from tests.integration.conftest import find_binary_or_fail

pytestmark = pytest.mark.integration

SEED_DIR = PROJECT_ROOT / "seed"
RU = FakeUser(id=3001, first_name="Фаридун", language_code="ru")
EN = FakeUser(id=3002, first_name="Anna", language_code="en")
RESOLVED_QUERY = "хиёбони Рӯдакӣ 45"
SPLIT_STREET_QUERY = "Айни"
NOWHERE_QUERY = "Бейкер-стрит 221б Лондон"
KHUJAND = (40.2833, 69.6333)


@dataclass
class MeiliProcess:
    """A Meilisearch process on a fixed port, so it can be stopped and started again."""

    binary: Path
    workdir: Path
    master_key: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    port: int = field(default_factory=free_port)
    process: Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Where the server listens."""
        return f"http://{LOOPBACK}:{self.port}"

    def start(self) -> None:
        """Start (or restart) the server on its port, keeping its database."""
        config = write_server_config(
            self.workdir / "meili.toml", db=self.workdir / "db", master_key=self.master_key
        )
        log = self.workdir / "meili.log"
        self.process = spawn(self.binary, config=config, port=self.port, log=log)
        wait_until_healthy(self.process, self.url, log=log, timeout_s=30)

    def stop(self) -> None:
        """Stop the server (SIGTERM)."""
        if self.process is not None:
            stop_process(self.process)


@pytest.fixture(scope="module")
def meili_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MeiliProcess]:
    """Run this module's own Meilisearch."""
    server = MeiliProcess(
        binary=find_binary_or_fail(), workdir=tmp_path_factory.mktemp("bot-meili")
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    """The project's seed."""
    return load_gazetteer(SEED_DIR)


@pytest.fixture(scope="module")
def real_search(meili_process: MeiliProcess) -> Iterator[tuple[Resolver, MeiliBackend]]:
    """Build the seed index with ``python -m index_builder build`` and connect the resolver."""
    index = f"bot_e2e_{secrets.token_hex(4)}"
    environment = os.environ | {
        "MEILI_URL": meili_process.url,
        "MEILI_MASTER_KEY": meili_process.master_key,
    }
    command = [sys.executable, "-m", "index_builder", "build", "--index", index, "--quiet"]
    built = subprocess.run(
        command, env=environment, capture_output=True, text=True, timeout=300, check=False
    )
    assert built.returncode == 0, built.stdout + built.stderr
    settings = MeiliSettings(meili_index=index, meili_timeout_s=1.0)
    endpoint = Endpoint(url=meili_process.url, api_key=SecretStr(meili_process.master_key))
    backend = meili_backend(settings, endpoint)
    yield Resolver(backend, load_pipeline(settings, endpoint)), backend
    backend.close()


@pytest.fixture(scope="module")
def real_resolver(real_search: tuple[Resolver, MeiliBackend]) -> Resolver:
    """The real resolver (blocking), to compare the bot's answers with."""
    return real_search[0]


@pytest.fixture
def services(real_search: tuple[Resolver, MeiliBackend], tmp_path: Path) -> BotServices:
    """The bot's services around the real resolver and sector directory."""
    resolver, backend = real_search
    return BotServices(
        resolver=MeiliPlaceResolver(AwaitingResolver(backend.asynchronous(), resolver.pipeline)),
        sectors=resolver.directory,
        data_date=lambda: resolver.pipeline.current().version.built_at,
        catalogue=load_catalogue(),
        limiter=QueryLimiter(per_minute=600, burst=600),
        unresolved=UnresolvedLog(tmp_path / "unresolved.jsonl"),
    )


def inline_keyboard(call: ApiCall) -> list[dict[str, Any]]:
    """The inline buttons a call sent, flattened."""
    markup = call.params.get("reply_markup") or {}
    return [button for row in markup.get("inline_keyboard", []) for button in row]


def last_bot_message_id(api: FakeBotApi, chat_id: int) -> int:
    """The id of the bot's latest message in a chat."""
    return max(
        mid for (chat, mid), m in api.messages.items() if chat == chat_id and m["from"]["is_bot"]
    )


async def say(api: FakeBotApi, user: FakeUser, text: str) -> ApiCall:
    """Send ``text`` as ``user`` and return the bot's reply."""
    since = api.mark()
    api.send_text(user, text)
    return await api.wait_for("sendMessage", since=since, chat_id=user.id, timeout=10)


def point_inside(gazetteer: Gazetteer) -> tuple[tuple[float, float], str]:
    """A point well inside some sector's polygon, and that sector's id."""
    sector_id, geometry = next(iter(sorted(gazetteer.boundaries.items())))
    point = shape(geometry).representative_point()
    return (point.y, point.x), sector_id


async def test_conversation_with_the_real_resolver(
    services: BotServices, real_resolver: Resolver, gazetteer: Gazetteer
) -> None:
    expected = real_resolver.resolve(RESOLVED_QUERY)
    assert expected.status is Status.RESOLVED and expected.best is not None and expected.best.sector
    split = real_resolver.resolve(SPLIT_STREET_QUERY)
    assert split.status is Status.AMBIGUOUS
    (lat, lon), sector_id = point_inside(gazetteer)
    sector = next(s for s in gazetteer.sectors if s.id == sector_id)
    async with offline_bot(services) as (api, _app):
        card = await say(api, RU, RESOLVED_QUERY)
        assert expected.best.sector.officer.name_ru in card.params["text"]
        assert "дом 45" in card.params["text"]

        question = await say(api, EN, SPLIT_STREET_QUERY)
        buttons = inline_keyboard(question)
        one_street = len({c.place_id for c in split.candidates}) == 1
        assert (
            len(buttons)
            == (len(split.candidates) if one_street else min(5, len(split.candidates))) + 1
        )
        since = api.mark()
        api.press_button(EN, last_bot_message_id(api, EN.id), buttons[0]["callback_data"])
        edit = await api.wait_for("editMessageText", since=since, chat_id=EN.id, timeout=10)
        first = split.candidates[0]
        if first.sector is not None:
            assert first.sector.officer.name_en in edit.params["text"]
        else:  # a whole split street: the bot offers its house ranges
            assert "the houses are split between several inspectors" in edit.params["text"]
            assert len(inline_keyboard(edit)) > 2

        nowhere = await say(api, RU, NOWHERE_QUERY)
        assert "Не удалось найти" in nowhere.params["text"]

        since = api.mark()
        api.share_location(RU, lat, lon)
        here = await api.wait_for("sendMessage", since=since, chat_id=RU.id, timeout=10)
        assert sector.officer.name_ru in here.params["text"]
        since = api.mark()
        api.share_location(RU, *KHUJAND)
        away = await api.wait_for("sendMessage", since=since, chat_id=RU.id, timeout=10)
        assert "за пределами Душанбе" in away.params["text"]

        since = api.mark()
        api.type_inline(EN, RESOLVED_QUERY)
        inline = await api.wait_for("answerInlineQuery", since=since, timeout=10)
        assert inline.params["results"][0]["id"] == expected.best.document_id

        since = api.mark()
        api.press_button(RU, last_bot_message_id(api, RU.id), "p:dyu-0001::forged00")
        forged = await api.wait_for("answerCallbackQuery", since=since, timeout=10)
        assert forged.params["text"] == "Этот список устарел. Напишите адрес ещё раз."


async def test_meilisearch_stopped_and_restarted_mid_conversation(
    services: BotServices, meili_process: MeiliProcess, real_resolver: Resolver
) -> None:
    officer = real_resolver.resolve(RESOLVED_QUERY).best.sector.officer.name_ru  # type: ignore[union-attr]
    async with offline_bot(services) as (api, _app):
        before = await say(api, RU, RESOLVED_QUERY)
        meili_process.stop()
        try:
            started = time.monotonic()
            during = await say(api, RU, RESOLVED_QUERY)
            waited = time.monotonic() - started
        finally:
            meili_process.start()
        after = await say(api, RU, RESOLVED_QUERY)
    assert officer in before.params["text"]
    assert during.params["text"] == "Сервис временно недоступен. Попробуйте ещё раз через минуту."
    assert waited < 3, f"the user waited {waited:.2f} s for the outage notice"
    assert officer in after.params["text"]


async def test_a_frozen_meilisearch_is_reported_within_three_seconds(
    services: BotServices, meili_process: MeiliProcess, real_resolver: Resolver
) -> None:
    assert meili_process.process is not None
    pid = meili_process.process.pid
    async with offline_bot(services) as (api, _app):
        await say(api, RU, RESOLVED_QUERY)
        os.kill(pid, signal.SIGSTOP)  # alive but not answering: only timeouts can tell
        try:
            started = time.monotonic()
            during = await say(api, RU, RESOLVED_QUERY)
            waited = time.monotonic() - started
        finally:
            os.kill(pid, signal.SIGCONT)
        after = await say(api, RU, RESOLVED_QUERY)
    assert during.params["text"] == "Сервис временно недоступен. Попробуйте ещё раз через минуту."
    assert waited < 3, f"the user waited {waited:.2f} s for the outage notice"
    assert "Ваш участковый" in after.params["text"]
