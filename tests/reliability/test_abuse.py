"""Abuse: one resident sending 100 messages a minute is slowed down; others are not.

The bot is composed as ``python -m bot`` composes it (the default per-user limit of
``BOT_QUERIES_PER_MINUTE``), over the real resolver and Meilisearch. The limiter's clock is
stepped, so "100 a minute" is exact and the counts are deterministic on any machine.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from bot.i18n import load_catalogue
from bot.offline.chat import offline_bot
from bot.offline.fake_api import FakeUser
from bot.settings import BotSettings
from search_platform.connection import Endpoint
from tests.reliability.building import make_resolver, real_services
from tests.reliability.chat import CountingResolver, ask, timed_ask

pytestmark = pytest.mark.integration

CATALOGUE = load_catalogue()
SLOW_DOWN = CATALOGUE.text("en", "slow_down")
PER_MINUTE: int = BotSettings.model_fields["bot_queries_per_minute"].default
FLOOD = 100  # messages in one minute from one user
CALM_EVERY = 10  # the other user writes once per ten of the flooder's messages (10 a minute)
QUERY = "Рудаки 45"


class SteppedClock:
    """A clock the test moves forward by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_flooding_user_is_slowed_down_while_another_keeps_getting_answers(
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
    flooder_replies, neighbour_replies = [], []
    try:
        async with offline_bot(services) as (api, _app):
            for n in range(FLOOD):
                clock.now = n * 60.0 / FLOOD
                flooder_replies.append((await ask(api, flooder, QUERY)).params["text"])
                if n % CALM_EVERY == 0:
                    neighbour_replies.append((await ask(api, neighbour, QUERY)).params["text"])
    finally:
        backend.close()
    slowed = flooder_replies.count(SLOW_DOWN)
    answered = FLOOD - slowed
    earned = PER_MINUTE  # the tokens one minute gives back
    assert answered <= PER_MINUTE + earned  # the burst, plus what the minute gives back
    assert slowed >= FLOOD - (PER_MINUTE + earned)
    assert SLOW_DOWN not in neighbour_replies
    assert len(set(neighbour_replies)) == 1  # the same card every time
    assert counting.gauge.total == answered + len(neighbour_replies), "throttled text searched"
    figures["abuse: flooder (100 msgs/min) answered"] = answered
    figures["abuse: flooder slowed down"] = slowed
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
            for _ in range(FLOOD):
                api.send_text(flooder, QUERY)  # all at once, without waiting for replies
            reply, busy_s = await timed_ask(api, neighbour, QUERY, timeout=60)
            flooder_done = await wait_for_replies(api, flooder.id, since=since, count=FLOOD)
    finally:
        backend.close()
    assert reply.params["text"] != SLOW_DOWN
    assert flooder_done, "the flooder did not get a reply to every message"
    figures["abuse: neighbour reply, calm s"] = round(calm_s, 3)
    figures["abuse: neighbour reply during a 100-message burst s"] = round(busy_s, 3)


async def wait_for_replies(api: Any, chat_id: int, *, since: int, count: int) -> bool:
    """Wait (bounded) until ``chat_id`` got ``count`` messages after ``since``."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        sent = [c for c in api.calls[since:] if c.method == "sendMessage" and c.chat_id == chat_id]
        if len(sent) >= count:
            return True
        await asyncio.sleep(0.05)
    return False
