"""Talking to the real bot application through the fake Bot API server, and counting."""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from collections.abc import AsyncIterator, Coroutine
from concurrent.futures import Future
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from telegram import Update
from telegram.ext import Application
from telegram.request import BaseRequest, RequestData

from bot.app import BotApplication, add_handlers, close_services
from bot.handlers import SERVICES_KEY, BotServices
from bot.offline.fake_api import ApiCall, BotApiError, FakeBotApi, FakeUser
from bot.ports import PlaceResolver
from resolver.models import HouseNumber, Resolution
from tests.reliability.proxy import InFlight

T = TypeVar("T")
_update_ids = itertools.count(10_000_000)


async def ask(api: FakeBotApi, user: FakeUser, text: str, *, timeout: float = 15.0) -> ApiCall:
    """Send ``text`` as ``user`` over long polling and return the bot's message back."""
    since = api.mark()
    api.send_text(user, text)
    return await api.wait_for("sendMessage", since=since, chat_id=user.id, timeout=timeout)


async def timed_ask(
    api: FakeBotApi, user: FakeUser, text: str, *, timeout: float = 15.0
) -> tuple[ApiCall, float]:
    """Like :func:`ask`, also returning the seconds from the update to the reply."""
    started = time.perf_counter()
    call = await ask(api, user, text, timeout=timeout)
    return call, time.perf_counter() - started


async def feed(application: BotApplication, update: dict[str, Any]) -> None:
    """Hand one update straight to the application's handlers (no polling round trip)."""
    payload = {"update_id": next(_update_ids), **update}
    await application.process_update(Update.de_json(payload, application.bot))


async def feed_text(
    application: BotApplication, api: FakeBotApi, user: FakeUser, text: str
) -> list[ApiCall]:
    """Let ``user`` type ``text`` and return every call the bot made in reply."""
    since = api.mark()
    await feed(application, {"message": api.user_message(user, text=text)})
    return api.reply_calls(since)


async def feed_press(
    application: BotApplication, api: FakeBotApi, user: FakeUser, data: str, *, message_id: int
) -> list[ApiCall]:
    """Let ``user`` press a button carrying ``data`` on message ``message_id``."""
    since = api.mark()
    message = api.messages[(user.id, message_id)]
    query = {
        "id": f"forged{next(_update_ids)}",
        "from": user.as_json(),
        "chat_instance": f"ci{user.id}",
        "message": message,
        "data": data,
    }
    await feed(application, {"callback_query": query})
    return api.reply_calls(since)


@dataclass
class CountingResolver:
    """Wrap a resolver and count calls in progress and their high-water mark."""

    inner: PlaceResolver
    gauge: InFlight = field(default_factory=InFlight)

    async def resolve(self, text: str) -> Resolution:
        """Resolve through the wrapped resolver, counting."""
        self.gauge.enter()
        try:
            return await self.inner.resolve(text)
        finally:
            self.gauge.leave()

    async def choose(
        self, choice_id: str, *, house: HouseNumber | None = None, lang: str = "ru"
    ) -> Resolution:
        """Resolve a pressed choice through the wrapped resolver (no search, not counted)."""
        return await self.inner.choose(choice_id, house=house, lang=lang)

    async def aclose(self) -> None:
        """Close the wrapped resolver."""
        await self.inner.aclose()


class LoopThread:
    """An event loop in a background thread, so that synchronous hypothesis tests can drive
    asynchronous code one example at a time."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T], *, timeout: float = 60.0) -> T:
        """Run ``coroutine`` on the loop and wait for its result."""
        future: Future[T] = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        return future.result(timeout=timeout)

    def close(self) -> None:
        """Stop the loop and its thread."""
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        self.loop.close()


class InProcessRequest(BaseRequest):
    """Python-telegram-bot's HTTP seam answered in-process by a :class:`FakeBotApi`.

    The fake server's logic (message store, edits, refusals) without its HTTP round trip, which
    would dominate the time of thousands of fuzzed updates.
    """

    def __init__(self, api: FakeBotApi) -> None:
        self.api = api

    @property
    def read_timeout(self) -> float:
        """Answers come at once."""
        return 5.0

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    async def do_request(  # noqa: PLR0917  (the signature of BaseRequest)
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        """Answer ``<root>/bot<token>/<method>`` as the fake server would."""
        token, api_method = url.rsplit("/", 2)[-2:]
        params = json.loads(json.dumps(request_data.parameters)) if request_data else {}
        try:
            result = await self.api.call(token.removeprefix("bot"), api_method, params)
        except BotApiError as exc:
            body = {"ok": False, "error_code": exc.code, "description": exc.description}
            return exc.code, json.dumps(body).encode()
        return 200, json.dumps({"ok": True, "result": result}).encode()


@asynccontextmanager
async def in_process_bot(services: BotServices) -> AsyncIterator[tuple[FakeBotApi, Any]]:
    """The bot's real handlers and error handler, talking to the fake Bot API in-process."""
    api = FakeBotApi()
    builder = Application.builder().token(api.token).request(InProcessRequest(api))
    application = builder.get_updates_request(InProcessRequest(api)).updater(None).build()
    application.bot_data[SERVICES_KEY] = services
    add_handlers(application)
    async with application:
        try:
            yield api, application
        finally:
            await close_services(application)


class BotSession:
    """The real application against the fake Bot API, alive across many examples.

    ``in_process=True`` skips the HTTP hop (see :class:`InProcessRequest`); otherwise the bot
    runs exactly as ``python -m bot chat`` does, long polling the fake server over HTTP.
    """

    def __init__(self, services: Any, *, in_process: bool = False, **build_options: Any) -> None:
        from bot.offline.chat import offline_bot

        self.thread = LoopThread()
        self._context = (
            in_process_bot(services) if in_process else offline_bot(services, **build_options)
        )
        self.api, self.application = self.thread.run(self._context.__aenter__())

    def text(self, user: FakeUser, text: str) -> list[ApiCall]:
        """Feed one typed message; return the bot's reply calls."""
        return self.thread.run(feed_text(self.application, self.api, user, text))

    def update(self, update: dict[str, Any]) -> list[ApiCall]:
        """Feed any update (an inline query, a chosen inline result...); return the calls."""

        async def run() -> list[ApiCall]:
            since = self.api.mark()
            await feed(self.application, update)
            return self.api.reply_calls(since)

        return self.thread.run(run())

    def press(self, user: FakeUser, data: str, *, message_id: int) -> list[ApiCall]:
        """Feed one button press; return the bot's reply calls."""
        return self.thread.run(
            feed_press(self.application, self.api, user, data, message_id=message_id)
        )

    def close(self) -> None:
        """Stop the application, the fake server and the loop."""
        self.thread.run(self._context.__aexit__(None, None, None))
        self.thread.close()
