"""The bot token shows up in no output: no error text, no traceback, no log line at any level.

Every failure path reachable without Telegram is driven: a malformed ``TELEGRAM_API_BASE_URL``
(which aiohttp used to quote, token included), a server that refuses connections, one that never
answers, one that rejects the token (python-telegram-bot puts the token in that error), and the
log filter that is the last line of defence.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import traceback
from collections.abc import Iterator
from pathlib import Path

import pytest
from telegram.error import NetworkError, TelegramError, TimedOut

from bot.__main__ import main, run_telegram
from bot.offline.fake_api import FakeBotApi
from bot.request import AiohttpRequest
from bot.security import RedactingFilter, api_root_problem
from bot.settings import BotSettings
from resolver.errors import SetupError
from tests.bot.conftest import MakeServices
from tests.reliability.chat import LoopThread

TOKEN = "7654321:AAH-secret-part-of-the-token_0123456789"
SECRET_PART = TOKEN.split(":", 1)[1]
MALFORMED_ROOTS = [
    "localhost:8081",
    "htp:/x",
    "http://127.0.0.1:99999",
    "http://[::1",
    "http://",
    "ftp://127.0.0.1",
    "http://user:pw@127.0.0.1:8081",
    "http://127.0.0.1:8081/bot",
    f"http://127.0.0.1:8081/bot{TOKEN}",
    "http://127.0.0.1:8081/?x=1",
    "http://127.0.0.1:8081 /",
]


@pytest.fixture(autouse=True)
def root_filters_restored() -> Iterator[None]:
    """Take away the redacting filters ``run_telegram`` installs on the root logger's handlers."""
    handlers = logging.getLogger().handlers
    before = {handler: list(handler.filters) for handler in handlers}
    yield
    for handler, filters in before.items():
        handler.filters = filters


def leaks(text: str) -> bool:
    """Tell whether ``text`` holds the token or its secret part."""
    return TOKEN in text or SECRET_PART in text


def everything_about(exc: BaseException) -> str:
    """An exception's text, repr and whole traceback, causes and contexts included."""
    return "\n".join([str(exc), repr(exc), *traceback.format_exception(exc)])


def everything_logged(caplog: pytest.LogCaptureFixture) -> str:
    """Every record as a handler could write it, traceback included."""
    formatter = logging.Formatter("%(name)s %(message)s")
    return "\n".join(formatter.format(record) for record in caplog.records)


def refused_port() -> int:
    """A loopback port nobody listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A server that accepts connections and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


@pytest.mark.parametrize("root", MALFORMED_ROOTS)
def test_a_malformed_api_root_is_refused_before_any_request_without_the_token(
    root: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert api_root_problem(root)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", root)
    monkeypatch.setenv("NOZIRI_DATA_DIR", str(tmp_path))
    caplog.set_level(logging.DEBUG)
    assert main([]) == 1
    err = capsys.readouterr().err
    assert "TELEGRAM_API_BASE_URL" in err
    assert not leaks(err) and not leaks(everything_logged(caplog))


@pytest.mark.parametrize(
    "root", ["http://127.0.0.1:8081", "https://bots.example.org/api", "http://[::1]:8081"]
)
def test_well_formed_api_roots_are_accepted(root: str) -> None:
    assert api_root_problem(root) == ""


@pytest.mark.parametrize("root", ["localhost:8081", "htp:/x", "http://127.0.0.1:99999"])
async def test_request_errors_never_quote_the_token(root: str) -> None:
    request = AiohttpRequest()
    await request.initialize()
    try:
        with pytest.raises(NetworkError) as caught:
            await request.post(f"{root}/bot{TOKEN}/getMe")
    finally:
        await request.shutdown()
    assert not leaks(everything_about(caught.value))
    assert "<redacted>" in str(caught.value)


async def test_a_refused_connection_never_quotes_the_token() -> None:
    request = AiohttpRequest()
    await request.initialize()
    try:
        with pytest.raises(NetworkError) as caught:
            await request.post(f"http://127.0.0.1:{refused_port()}/bot{TOKEN}/getMe")
    finally:
        await request.shutdown()
    assert not leaks(everything_about(caught.value))


async def test_a_timeout_never_quotes_the_token(silent_server: str) -> None:
    request = AiohttpRequest(read_timeout=0.3, connect_timeout=0.3, pool_timeout=0.3)
    await request.initialize()
    try:
        with pytest.raises(TimedOut) as caught:
            await request.post(f"{silent_server}/bot{TOKEN}/getMe")
    finally:
        await request.shutdown()
    assert not leaks(everything_about(caught.value))


@pytest.fixture
def fake_api() -> Iterator[FakeBotApi]:
    """A fake Bot API server (another bot's token) on a loop of its own."""
    thread = LoopThread()
    api = FakeBotApi(token="1111111:another-bot")
    thread.run(api.start())
    yield api
    thread.run(api.stop())
    thread.close()


def telegram_settings(monkeypatch: pytest.MonkeyPatch, root: str) -> BotSettings:
    """Long-polling settings pointing at ``root``."""
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", root)
    monkeypatch.delenv("TELEGRAM_WEBHOOK_URL", raising=False)
    return BotSettings(_env_file=None)


def run_and_fail(
    make_services: MakeServices, settings: BotSettings, caplog: pytest.LogCaptureFixture
) -> SetupError:
    """Start the bot as ``python -m bot`` does; return the error it stops with."""
    caplog.set_level(logging.DEBUG)
    asyncio.set_event_loop(asyncio.new_event_loop())  # run_polling closes the loop it ran on
    with pytest.raises(SetupError) as caught:
        run_telegram(make_services(), settings, TOKEN)
    return caught.value


def test_a_rejected_token_stops_the_bot_with_advice_and_without_the_token(
    make_services: MakeServices,
    fake_api: FakeBotApi,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    error = run_and_fail(make_services, telegram_settings(monkeypatch, fake_api.root), caplog)
    assert "TELEGRAM_BOT_TOKEN: the Bot API server refused the token" in str(error)
    assert not leaks(everything_about(error)) and not leaks(everything_logged(caplog))


def test_an_unreachable_server_stops_the_bot_without_the_token(
    make_services: MakeServices, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    root = f"http://127.0.0.1:{refused_port()}"
    error = run_and_fail(make_services, telegram_settings(monkeypatch, root), caplog)
    assert "TELEGRAM_API_BASE_URL" in str(error)
    assert not leaks(everything_about(error)) and not leaks(everything_logged(caplog))


def test_the_log_filter_scrubs_message_arguments_and_tracebacks() -> None:
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(self.format(record))

    handler = Keep()
    handler.addFilter(RedactingFilter(TOKEN))
    log = logging.getLogger("tests.token_secrecy")
    log.addHandler(handler)
    try:
        try:
            try:
                raise ValueError(f"http://127.0.0.1/bot{TOKEN}/getMe")
            except ValueError as inner:
                raise TelegramError("wrapped") from inner
        except TelegramError:
            log.error("calling %s failed", f"/bot{TOKEN}/getMe", exc_info=True)
        log.warning("secret part alone: %s", SECRET_PART, stack_info=True)
    finally:
        log.removeHandler(handler)
    assert len(records) == 2
    assert not any(leaks(line) for line in records)
    assert "<redacted>" in records[0] and "ValueError" in records[0]
