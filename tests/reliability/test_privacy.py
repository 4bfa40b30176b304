"""Privacy: a whole conversation at DEBUG level leaves no message text next to who sent it.

The real stack (bot, resolver, Meilisearch client) runs with every logger at DEBUG, through every
path that logs: answers, choices, button presses, a location, inline mode, a forged press,
Meilisearch down, and an unexpected exception with its traceback. Nothing that identifies the
user (id, first name) may share a log record with anything the user typed; the unresolved-query
file keeps texts without identity.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.adapters import MeiliPlaceResolver
from bot.offline.chat import offline_bot
from bot.offline.fake_api import FakeBotApi, FakeUser
from resolver.meili import MeiliBackend
from resolver.service import AwaitingResolver
from search_platform.connection import Endpoint
from search_platform.process import free_port
from tests.reliability.building import make_resolver, real_services
from tests.reliability.chat import ask

pytestmark = pytest.mark.integration

USER = FakeUser(id=918_273_645, first_name="Парвинахон", language_code="tg")
TYPED = ("кӯчаи Пинҳонӣ 77", "Рудаки 45", "Айни", "Сомони", "Душанбе Сити Пинҳон")
INLINE = "Пинҳонӣ Инлайн 5"


class ExplodingResolver:
    """A resolver that fails in a way nobody planned for."""

    async def resolve(self, text: str) -> object:
        """Fail."""
        raise RuntimeError("unexpected failure deep in the resolver")

    async def aclose(self) -> None:
        """Nothing to close."""


def full_text(record: logging.LogRecord) -> str:
    """Everything a log handler could write for ``record``: message, traceback, stack, extras."""
    formatter = logging.Formatter()
    parts = [record.getMessage(), record.name]
    if record.exc_info:
        parts.append(formatter.formatException(record.exc_info))
    if record.stack_info:
        parts.append(formatter.formatStack(record.stack_info))
    parts += [str(value) for value in vars(record).values()]
    return "\n".join(parts)


async def press_first_button(
    api: FakeBotApi, user: FakeUser, call_params: dict[str, object]
) -> None:
    """Press the first inline button of a message the bot just sent, if it has one."""
    markup = call_params.get("reply_markup")
    rows = markup.get("inline_keyboard", []) if isinstance(markup, dict) else []
    data = [b["callback_data"] for row in rows for b in row if "callback_data" in b]
    if not data:
        return
    since = api.mark()
    message_id = max(mid for (cid, mid) in api.messages if cid == user.id)
    api.press_button(user, message_id, data[0])
    await api.wait_for("answerCallbackQuery", since=since, timeout=15)


async def test_debug_logs_of_a_whole_conversation_never_tie_text_to_the_user(
    meili: Endpoint,
    live_index: tuple[str, SecretStr],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    live, key = live_index
    resolver, backend = make_resolver(meili.url, key, live=live)
    dead_url = f"http://127.0.0.1:{free_port()}"  # nothing listens: search is down
    dead_backend = MeiliBackend(dead_url, api_key=key.get_secret_value(), index=live)
    services = real_services(resolver, backend, data_dir=tmp_path)
    try:
        async with offline_bot(services) as (api, _app):
            for command in ("/start", "/help"):
                await ask(api, USER, command)
            for text in TYPED:
                reply = await ask(api, USER, text)
                await press_first_button(api, USER, reply.params)
            since = api.mark()
            api.share_location(USER, 38.5598, 68.7870)
            await api.wait_for("sendMessage", since=since, chat_id=USER.id)
            since = api.mark()
            api.type_inline(USER, INLINE)
            await api.wait_for("answerInlineQuery", since=since)
            since = api.mark()
            api.press_button(USER, max(m for (c, m) in api.messages if c == USER.id), "p:x::forged")
            await api.wait_for("answerCallbackQuery", since=since)
            services.resolver = MeiliPlaceResolver(
                AwaitingResolver(dead_backend.asynchronous(), resolver.pipeline)
            )
            await ask(api, USER, TYPED[0])  # Meilisearch down
            services.resolver = ExplodingResolver()  # type: ignore[assignment]
            await ask(api, USER, TYPED[1])  # an unexpected exception and its traceback
    finally:
        backend.close()
        dead_backend.close()
    typed = (*TYPED, INLINE)
    identity = (str(USER.id), USER.first_name)
    assert any(r.exc_info for r in caplog.records), "the failure path logged no traceback"
    for record in caplog.records:
        line = full_text(record)
        if any(text in line for text in typed):
            assert not any(who in line for who in identity), line
    unresolved = (tmp_path / "unresolved.jsonl").read_text(encoding="utf-8")
    assert TYPED[0] in unresolved
    assert not any(who in unresolved for who in identity)
