"""The bot's Bot API requests over aiohttp: errors python-telegram-bot understands, proxies."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator

import pytest
from telegram.error import NetworkError, TimedOut
from telegram.request import RequestData

from bot.offline.fake_api import FakeBotApi
from bot.request import AiohttpRequest, env_proxy, proxy_for
from search_platform.process import free_port


@pytest.fixture
async def request_() -> AsyncIterator[AiohttpRequest]:
    async with AiohttpRequest(read_timeout=0.3, connect_timeout=0.3) as request:
        yield request


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A server that accepts connections and never answers."""
    listener = socket.create_server(("127.0.0.1", 0))
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    listener.close()


async def test_a_bot_api_call_round_trips(request_: AiohttpRequest) -> None:
    async with FakeBotApi() as api:
        result = await request_.post(f"{api.root}/bot{api.token}/getMe")
    assert isinstance(result, dict) and result["is_bot"] is True


async def test_a_server_that_never_answers_times_out(
    request_: AiohttpRequest, silent_server: str
) -> None:
    started = asyncio.get_running_loop().time()
    with pytest.raises(TimedOut):
        await request_.post(f"{silent_server}/bot1:x/getMe", request_data=RequestData())
    assert asyncio.get_running_loop().time() - started < 3


async def test_nothing_listening_is_a_network_error(request_: AiohttpRequest) -> None:
    with pytest.raises(NetworkError, match="aiohttp"):
        await request_.post(f"http://127.0.0.1:{free_port()}/bot1:x/getMe")


async def test_a_closed_request_says_to_initialize_it() -> None:
    request = AiohttpRequest()
    with pytest.raises(RuntimeError, match="initialize"):
        await request.do_request("http://127.0.0.1:1/", "POST")


@pytest.mark.parametrize(
    ("environment", "url", "expected"),
    [
        (
            {"HTTPS_PROXY": "http://proxy:3128"},
            "https://api.telegram.test/bot1/getMe",
            "http://proxy:3128",
        ),
        ({"HTTPS_PROXY": "http://proxy:3128"}, "http://127.0.0.1:8081/bot1/getMe", None),
        ({"ALL_PROXY": "http://all:1"}, "http://bots.test/bot1/getMe", "http://all:1"),
        (
            {"HTTPS_PROXY": "http://proxy:3128", "NO_PROXY": "api.telegram.test"},
            "https://api.telegram.test/bot1/getMe",
            None,
        ),
        ({}, "https://api.telegram.test/bot1/getMe", None),
    ],
)
def test_environment_proxies_are_honoured(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str], url: str, expected: str | None
) -> None:
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    proxy_for.cache_clear()
    try:
        assert env_proxy(url) == expected
    finally:
        proxy_for.cache_clear()
