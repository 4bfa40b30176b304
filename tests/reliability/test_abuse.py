"""Abuse: one resident flooding the bot is answered up to the limit, told once, then ignored.

The bot is composed as ``python -m bot`` composes it (the default per-user limit of
``BOT_QUERIES_PER_MINUTE``), over the real resolver and Meilisearch. In the paced flood each
update is handled to the end before the next (in-process) and the limiter's clock is stepped, so
"100 a minute" is exact and the counts are deterministic on any machine; the burst goes over HTTP
(long polling, the real rate limiter) and measures what the flood costs a neighbour.
"""

from __future__ import annotations

import asyncio
import math
import time
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from bot.i18n import load_catalogue
from bot.offline.chat import offline_bot
from bot.offline.fake_api import ApiCall, FakeBotApi, FakeUser
from bot.settings import BotSettings
from search_platform.connection import Endpoint
from tests.reliability.building import make_resolver, real_services
from tests.reliability.chat import CountingResolver, feed_text, in_process_bot, timed_ask

pytestmark = pytest.mark.integration

CATALOGUE = load_catalogue()
SLOW_DOWN = CATALOGUE.text("en", "slow_down")
PER_MINUTE: int = BotSettings.model_fields["bot_queries_per_minute"].default
FLOOD = 100  # messages in one minute from one user
CALM_EVERY = 10  # the other user writes once per ten of the flooder's messages (10 a minute)
QUERY = "Рудаки 45"
SETTLE_S = 1.0


class SteppedClock:
    """A clock the test moves forward by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def texts(calls: list[ApiCall]) -> list[str]:
    """The texts of the messages among ``calls``."""
    return [c.params["text"] for c in calls if c.method == "sendMessage"]


async def test_flooding_user_is_answered_to_the_limit_told_once_and_a_neighbour_unaffected(
    meili: Endpoint, live_index: tuple[str, SecretStr], tmp_path: Path, figures: dict[str, Any]
) -> None:
    live, key = live_index
    resolver, backend = make_resolver(meili.url, key, live=live)
    services = real_services(resolver, backend, data_dir=tmp_path, per_minute=PER_MINUTE)
    counting = CountingResolver(services.resolver)
    services.resolver = counting
    clock = SteppedClock()
    services.limiter.clock = clock
    flooder, neighbour = FakeUser(id=1, language_code="en"), FakeUser(id=2, language_code="en")
    flooder_replies: list[list[str]] = []
    neighbour_replies: list[list[str]] = []
    try:
        async with in_process_bot(services) as (api, application):
            for n in range(FLOOD):
                clock.now = n * 60.0 / FLOOD
                flooder_replies.append(texts(await feed_text(application, api, flooder, QUERY)))
                if n % CALM_EVERY == 0:
                    reply = texts(await feed_text(application, api, neighbour, QUERY))
                    neighbour_replies.append(reply)
    finally:
        backend.close()
    notices = sum(reply.count(SLOW_DOWN) for reply in flooder_replies)
    answered = sum(1 for reply in flooder_replies if reply and SLOW_DOWN not in reply)
    silent = sum(1 for reply in flooder_replies if not reply)
    earned = PER_MINUTE  # the tokens one minute gives back
    assert answered <= PER_MINUTE + earned  # the burst, plus what the minute gives back
    assert notices == 1, "more than one 'slow down' in the minute"
    assert answered + notices + silent == FLOOD
    assert all(len(reply) == 1 and SLOW_DOWN not in reply for reply in neighbour_replies)
    assert len({reply[0] for reply in neighbour_replies}) == 1  # the same card every time
    assert counting.gauge.total == answered + len(neighbour_replies), "throttled text searched"
    figures["abuse: flooder (100 msgs/min) answered"] = answered
    figures["abuse: flooder told to slow down"] = notices
    figures["abuse: flooder messages left unanswered"] = silent
    figures["abuse: neighbour answered"] = f"{len(neighbour_replies)}/{len(neighbour_replies)}"


async def test_a_burst_from_one_user_does_not_delay_another(
    meili: Endpoint, live_index: tuple[str, SecretStr], tmp_path: Path, figures: dict[str, Any]
) -> None:
    live, key = live_index
    resolver, backend = make_resolver(meili.url, key, live=live)
    services = real_services(resolver, backend, data_dir=tmp_path, per_minute=PER_MINUTE)
    flooder, neighbour = FakeUser(id=11, language_code="en"), FakeUser(id=12, language_code="en")
    try:
        async with offline_bot(services) as (api, _app):
            _, calm_s = await timed_ask(api, neighbour, QUERY)
            since = api.mark()
            started = time.monotonic()
            for _ in range(FLOOD):
                api.send_text(flooder, QUERY)  # all at once, without waiting for replies
            reply, busy_s = await timed_ask(api, neighbour, QUERY, timeout=60)
            sent = await settled_replies(api, flooder.id, since=since)
            elapsed_s = time.monotonic() - started
    finally:
        backend.close()
    assert reply.params["text"] != SLOW_DOWN
    refilled = math.ceil(elapsed_s * PER_MINUTE / 60)
    assert sent.count(SLOW_DOWN) == 1
    assert len(sent) <= PER_MINUTE + refilled + 1, "the flooder got more than the limit"
    figures["abuse: neighbour reply, calm s"] = round(calm_s, 3)
    figures["abuse: neighbour reply during a 100-message burst s"] = round(busy_s, 3)
    figures["abuse: replies to a 100-message burst"] = len(sent)


async def settled_replies(api: FakeBotApi, chat_id: int, *, since: int) -> list[str]:
    """The messages sent to ``chat_id`` after ``since``, once none came for a second."""
    deadline = time.monotonic() + 60
    count, quiet_since = -1, time.monotonic()
    while time.monotonic() < deadline:
        sent = [c for c in api.calls[since:] if c.method == "sendMessage" and c.chat_id == chat_id]
        if len(sent) != count:
            count, quiet_since = len(sent), time.monotonic()
        elif time.monotonic() - quiet_since >= SETTLE_S:
            break
        await asyncio.sleep(0.05)
    return [str(c.params["text"]) for c in sent]
