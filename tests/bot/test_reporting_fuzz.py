"""Fuzzing every step of the report flow with bad input: one polite, valid reply, every time.

Each example takes a fresh resident to one step along the happy path, then sends something the
step cannot use: any text (huge, control characters, right-to-left, HTML), the wrong kind of
message (a sticker, a document, a photo, a voice message, someone else's contact, a location
outside the city), a forged or stale button, or a command. The bot must answer with exactly one
message or toast that Telegram would accept, never the error apology, and log no traceback.

Deterministic (``derandomize=True``, no example database); the updates are fed in-process
(``tests.reliability.chat.BotSession``), so a few hundred examples take seconds.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.i18n import LANGUAGES, load_catalogue
from bot.offline.fake_api import ApiCall, FakeUser, command_entities
from bot.reporting.draft import STEPS
from bot.reporting.services import Reporting
from tests.bot.reporting import FAST, open_sqlite, report_resolver, report_sectors
from tests.reliability.chat import BotSession, feed
from tests.reliability.strategies import hostile_text
from tests.reliability.telegram_rules import send_problems

EXAMPLES: Final = 800
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)
APOLOGIES: Final = {load_catalogue().text(lang, "error") for lang in LANGUAGES}
# The happy path up to each step: (text to type, or button data to press).
PATH: Final[tuple[tuple[str, str], ...]] = (
    ("text", "/report"),
    ("press", "f:gate:go"),
    ("press", "f:kind:incident"),
    ("text", "Rudaki 45"),
    ("press", "f:place:pick0"),
    ("press", "f:when:now"),
    ("text", "A window was broken"),
    ("press", "f:what:next"),
    ("press", "f:photos:done"),
    ("press", "f:contact:anon"),
    ("press", "f:notice:ok"),
)
# How many PATH entries lead to each step.
DEPTH: Final = dict(zip(STEPS, (1, 2, 3, 5, 6, 8, 9, 10, 11), strict=True))
USERS = iter(range(900_000, 10_000_000))

STICKER: Final = {
    "file_id": "st1",
    "file_unique_id": "st1u",
    "width": 512,
    "height": 512,
    "is_animated": False,
    "is_video": False,
    "type": "regular",
}
WRONG_MEDIA: Final[tuple[dict[str, Any], ...]] = (
    {"sticker": STICKER},
    {"document": {"file_id": "doc1", "file_unique_id": "doc1u", "file_name": "a.pdf"}},
    {"photo": [{"file_id": "ph9", "file_unique_id": "ph9u", "width": 9, "height": 9}]},
    {"voice": {"file_id": "vo9", "file_unique_id": "vo9u", "duration": 2}},
    {"contact": {"phone_number": "+992001112233", "first_name": "X", "user_id": 1}},
    {"location": {"latitude": 51.5, "longitude": -0.12}},
    {"dice": {"emoji": "🎲", "value": 3}},
)
COMMANDS: Final = ("/start", "/help", "/report", "/lang", "/about", "/myreports", "/link 1", "/x")


@pytest.fixture(scope="module")
def fuzz_session(tmp_path_factory: pytest.TempPathFactory, catalogue: Any) -> Iterator[BotSession]:
    """The real application with reporting on, fed in-process."""
    from bot.handlers import BotServices
    from bot.throttle import QueryLimiter
    from bot.unresolved import UnresolvedLog

    folder: Path = tmp_path_factory.mktemp("report-fuzz")
    store = open_sqlite(folder / "reports.sqlite3")
    services = BotServices(
        resolver=report_resolver(),
        sectors=report_sectors(),
        catalogue=catalogue,
        limiter=QueryLimiter(per_minute=1_000_000, burst=1_000_000),
        unresolved=UnresolvedLog(folder / "unresolved.jsonl"),
        reporting=Reporting(store=store, policy=FAST),
    )
    session = BotSession(services, in_process=True)
    yield session
    session.close()
    store.close()


def last_bot_message(session: BotSession, user: FakeUser) -> int:
    """The newest message the bot sent the user (the one a button press comes from)."""
    return max(mid for (cid, mid), m in session.api.messages.items() if cid == user.id)


def type_text(session: BotSession, user: FakeUser, text: str) -> list[ApiCall]:
    """The user types ``text`` (a command gets its entity, as Telegram marks it)."""
    content: dict[str, Any] = {"text": text, "entities": command_entities(text) or None}

    async def run() -> list[ApiCall]:
        since = session.api.mark()
        await feed(session.application, {"message": session.api.user_message(user, **content)})
        return session.api.reply_calls(since)

    return session.thread.run(run())


def walk_to(session: BotSession, user: FakeUser, step: str) -> None:
    """Take ``user`` along the happy path to ``step``."""
    for kind, value in PATH[: DEPTH[step]]:
        if kind == "text":
            type_text(session, user, value)
        else:
            session.press(user, value, message_id=last_bot_message(session, user))
    draft = session.application.user_data[user.id]["report"]
    assert draft["step"] == step, (step, draft["step"])


def send_bad(session: BotSession, user: FakeUser, bad: tuple[str, Any]) -> list[ApiCall]:
    """Send one bad input; the bot's calls in reply."""
    kind, value = bad
    if kind in {"text", "command"}:
        return type_text(session, user, value)
    if kind == "press":
        return session.press(user, value, message_id=last_bot_message(session, user))

    async def run() -> list[ApiCall]:
        since = session.api.mark()
        await feed(session.application, {"message": session.api.user_message(user, **value)})
        return session.api.reply_calls(since)

    return session.thread.run(run())


def visible(calls: list[ApiCall]) -> list[ApiCall]:
    """What the resident sees: messages, and toasts that carry a text."""
    return [c for c in calls if c.method != "answerCallbackQuery" or c.params.get("text")]


forged_press = st.one_of(
    st.text(min_size=1, max_size=64),
    st.builds(lambda s, c: f"f:{s}:{c}", st.sampled_from(STEPS), st.text(max_size=20)),
    st.builds(lambda r: f"s:a:{r}", st.from_regex(r"SOM-0[0-9]-00000[0-9]", fullmatch=True)),
    st.builds(lambda r: f"v:c:{r}", st.from_regex(r"SOM-0[0-9]-00000[0-9]", fullmatch=True)),
    st.sampled_from(["h:SOM-01-000001", "rp:dyu-0001::AAAAAAAA", "rs:SOM-01:zzzzzzzz", "x"]),
).filter(lambda data: not data.startswith(("f:gate:go", "f:kind:incident")) and ":" in data)
bad_input = st.one_of(
    st.tuples(st.just("text"), hostile_text.filter(lambda t: t.strip() != "")),
    st.tuples(st.just("text"), st.just("x" * 5000)),
    st.tuples(st.just("media"), st.sampled_from(WRONG_MEDIA)),
    st.tuples(st.just("press"), forged_press),
    st.tuples(st.just("command"), st.sampled_from(COMMANDS)),
)


@settings(FUZZ)
@given(step=st.sampled_from(STEPS), bad=bad_input, lang=st.sampled_from(LANGUAGES))
def test_every_step_answers_bad_input_with_one_polite_valid_reply(
    fuzz_session: BotSession,
    caplog: pytest.LogCaptureFixture,
    step: str,
    bad: tuple[str, Any],
    lang: str,
) -> None:
    user = FakeUser(id=next(USERS), first_name="Fuzz", language_code=lang)
    walk_to(fuzz_session, user, step)
    caplog.clear()
    with caplog.at_level(logging.ERROR):
        replies = visible(send_bad(fuzz_session, user, bad))
    assert len(replies) == 1, (step, bad, [c.method for c in replies])
    [reply] = replies
    if reply.method == "sendMessage":
        assert send_problems(reply) == [], (step, bad)
    assert reply.params.get("text") not in APOLOGIES
    assert not [r for r in caplog.records if r.exc_info], (step, bad)


def test_the_fuzzing_is_bounded(fuzz_session: BotSession) -> None:
    started = time.perf_counter()
    user = FakeUser(id=next(USERS), first_name="Timer", language_code="ru")
    walk_to(fuzz_session, user, "review")
    assert time.perf_counter() - started < 10  # one walk is fast: the fuzz stays in seconds
