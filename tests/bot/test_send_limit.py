"""The per-user send limit: whatever one user sends, the bot answers the limit plus one notice.

The real handlers and gate run in-process against the fake Bot API (each update is handled to
the end before the next is fed), and the limiter's clock is stepped by hand, so every count is
exact on any machine.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import pytest

from bot.callbacks import encode_language, encode_none
from bot.handlers import services_of_app
from bot.i18n import load_catalogue
from bot.offline.fake_api import ApiCall, FakeBotApi, FakeUser
from bot.throttle import NoticeWindow, QueryLimiter
from tests.bot.conftest import MakeServices
from tests.bot.fakes import FakeResolver, make_candidate, resolved
from tests.reliability.chat import feed, feed_press, feed_text, in_process_bot

CATALOGUE = load_catalogue()
SLOW_DOWN = {CATALOGUE.text(lang, "slow_down") for lang in ("en", "ru", "tg")}
LIMIT = 5
FLOODER = FakeUser(id=31, language_code="en")
NEIGHBOUR = FakeUser(id=32, language_code="en")
RUDAKI = make_candidate()
_ids = itertools.count(1)


@dataclass
class Clock:
    """A clock the test moves by hand."""

    now: float = 1_000.0

    def __call__(self) -> float:
        return self.now


Bot = tuple[FakeBotApi, Any, Clock]
Act = Callable[[FakeBotApi, Any, FakeUser], Coroutine[Any, Any, list[ApiCall]]]


@pytest.fixture
async def bot(make_services: MakeServices) -> AsyncIterator[Bot]:
    """The bot with a limit of :data:`LIMIT` updates a minute and a stepped clock."""
    clock = Clock()
    services = make_services(
        resolver=FakeResolver({"Рудаки 45": resolved("Рудаки 45", RUDAKI, house=45)}),
        limiter=QueryLimiter(per_minute=LIMIT, burst=LIMIT, clock=clock),
        inline_limiter=QueryLimiter(per_minute=3 * LIMIT, burst=LIMIT, clock=clock),
        notices=NoticeWindow(window_s=60),
    )
    async with in_process_bot(services) as (api, application):
        yield api, application, clock


async def greet(api: FakeBotApi, application: Any, user: FakeUser) -> list[ApiCall]:
    """Send /start and return the bot's calls."""
    return await feed_text(application, api, user, "/start")


async def ask(api: FakeBotApi, application: Any, user: FakeUser) -> list[ApiCall]:
    """Type a place."""
    return await feed_text(application, api, user, "Рудаки 45")


async def press(api: FakeBotApi, application: Any, user: FakeUser, data: str) -> list[ApiCall]:
    """Press a button with ``data`` on the last message the bot sent ``user``."""
    if not bot_messages(api, user):
        await feed_text(application, api, user, "/lang")  # something to press on
    return await feed_press(application, api, user, data, message_id=bot_messages(api, user)[-1])


def bot_messages(api: FakeBotApi, user: FakeUser) -> list[int]:
    """The ids of the messages the bot sent ``user``, oldest first."""
    sent = [mid for (cid, mid), m in api.messages.items() if cid == user.id and m["from"]["is_bot"]]
    return sorted(sent)


async def press_none(api: FakeBotApi, application: Any, user: FakeUser) -> list[ApiCall]:
    """Press "none of these"."""
    return await press(api, application, user, encode_none())


async def press_language(api: FakeBotApi, application: Any, user: FakeUser) -> list[ApiCall]:
    """Press a language button (answer, edit, and a help message)."""
    return await press(api, application, user, encode_language("en"))


async def press_forged(api: FakeBotApi, application: Any, user: FakeUser) -> list[ApiCall]:
    """Press a forged button."""
    return await press(api, application, user, "p:dyu-0001::forged")


async def share_location(api: FakeBotApi, application: Any, user: FakeUser) -> list[ApiCall]:
    """Share a point in the city."""
    since = api.mark()
    message = api.user_message(user, location={"latitude": 38.5598, "longitude": 68.787})
    await feed(application, {"message": message})
    return api.reply_calls(since)


async def type_inline(api: FakeBotApi, application: Any, user: FakeUser) -> list[ApiCall]:
    """Type an inline query."""
    since = api.mark()
    query = {"id": f"iq{next(_ids)}", "from": user.as_json(), "query": "Рудаки", "offset": ""}
    await feed(application, {"inline_query": query})
    return api.reply_calls(since)


def is_notice(call: ApiCall) -> bool:
    """Tell whether a call is the "slow down" notice (a message or a toast)."""
    return call.params.get("text") in SLOW_DOWN


def answered(batches: list[list[ApiCall]]) -> int:
    """How many updates got any answer that is not the notice."""
    return sum(1 for calls in batches if calls and not any(is_notice(c) for c in calls))


ACTS: dict[str, Act] = {
    "/start": greet,
    "typed place": ask,
    "location": share_location,
    "none of these": press_none,
    "language press": press_language,
    "forged press": press_forged,
}


@pytest.mark.parametrize("act", ACTS.values(), ids=ACTS.keys())
async def test_a_flood_of_one_kind_gets_the_limit_and_one_notice(bot: Bot, act: Act) -> None:
    api, application, _clock = bot
    batches = [await act(api, application, FLOODER) for _ in range(60)]
    notices = [c for calls in batches for c in calls if is_notice(c)]
    assert answered(batches) <= LIMIT
    assert len(notices) == 1
    assert sum(1 for calls in batches if calls) <= LIMIT + 1, "the bot answered past the limit"


async def test_a_mixed_flood_of_commands_and_presses_gets_the_limit_and_one_notice(
    bot: Bot,
) -> None:
    api, application, _clock = bot
    kinds = list(ACTS.values())
    batches = [await kinds[n % len(kinds)](api, application, FLOODER) for n in range(120)]
    replies = sum(1 for calls in batches if calls)
    assert answered(batches) <= LIMIT
    assert sum(1 for calls in batches for c in calls if is_notice(c)) == 1
    assert replies <= LIMIT + 1
    neighbour = await greet(api, application, NEIGHBOUR)
    assert neighbour and not any(is_notice(c) for c in neighbour)


async def test_inline_queries_have_their_own_limit_and_one_silent_refusal(bot: Bot) -> None:
    api, application, _clock = bot
    batches = [await type_inline(api, application, FLOODER) for _ in range(40)]
    answers = [calls for calls in batches if calls]
    assert len(answers) == LIMIT + 1  # the burst, then one empty answer; then nothing
    assert answers[-1][0].params["results"] == []


async def test_after_the_window_the_user_is_answered_again_and_told_once_more(bot: Bot) -> None:
    api, application, clock = bot
    first = [await greet(api, application, FLOODER) for _ in range(20)]
    clock.now += 60  # the window has passed and the bucket is full again
    second = [await greet(api, application, FLOODER) for _ in range(20)]
    for batches in (first, second):
        assert answered(batches) == LIMIT
        assert sum(1 for calls in batches for c in calls if is_notice(c)) == 1


async def test_within_the_window_a_refill_does_not_bring_a_second_notice(bot: Bot) -> None:
    api, application, clock = bot
    batches = []
    for _ in range(60):  # one a second for a minute: the bucket refills one every 12 s
        batches.append(await greet(api, application, FLOODER))
        clock.now += 1
    assert sum(1 for calls in batches for c in calls if is_notice(c)) == 1
    assert answered(batches) <= LIMIT + LIMIT  # the burst plus what the minute gives back


async def test_updates_nobody_answers_cost_nothing(bot: Bot) -> None:
    api, application, _clock = bot
    for _ in range(3 * LIMIT):  # a live location re-sends itself as edits; the bot ignores them
        edited = api.user_message(FLOODER, location={"latitude": 38.55, "longitude": 68.78})
        await feed(application, {"edited_message": edited})
        chosen = {"result_id": "dyu-0001", "from": FLOODER.as_json(), "query": "Рудаки"}
        await feed(application, {"chosen_inline_result": chosen})
        blank = {"id": f"iq{next(_ids)}", "from": FLOODER.as_json(), "query": "  ", "offset": ""}
        await feed(application, {"inline_query": blank})
    limiter = services_of_app(application).limiter
    assert FLOODER.id not in limiter.buckets
    assert all(not is_notice(c) for c in api.calls)
    reply = await greet(api, application, FLOODER)
    assert reply and not any(is_notice(c) for c in reply)
