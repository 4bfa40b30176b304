"""Forged input: button presses and inline results that name unknown, stale or made-up ids.

``callback_data`` comes back from Telegram verbatim, so anyone can send any 1-64 bytes; inline
results and their ids are equally in the sender's hands. The bot must answer politely ("this list
is out of date") and never act, never apologise for an error, never log a traceback.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from bot.callbacks import CallbackSigner, encode_contact, encode_pick
from bot.handlers import services_of_app
from bot.i18n import LANGUAGES, load_catalogue
from bot.offline.fake_api import ApiCall, FakeUser
from bot.recent import BoundedMemo, RecentlyShown
from index_builder.seed.load import load_gazetteer
from search_platform.connection import Endpoint
from tests.reliability.building import SEED_DIR, make_resolver, real_services
from tests.reliability.chat import BotSession
from tests.reliability.conftest import ErrorLog
from tests.reliability.strategies import hostile_text
from tests.reliability.telegram_rules import MAX_CALLBACK_BYTES

pytestmark = pytest.mark.integration

CATALOGUE = load_catalogue()
STALE = {CATALOGUE.text(lang, "stale_press") for lang in LANGUAGES}
APOLOGIES = {CATALOGUE.text(lang, "error") for lang in LANGUAGES}
USER = FakeUser(id=4242, language_code="ru")
GAZETTEER = load_gazetteer(SEED_DIR)
PLACE_IDS = [place.id for place in GAZETTEER.places]
SECTOR_IDS = [sector.id for sector in GAZETTEER.sectors]
FORGE = settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
ACTIONS = ("sendMessage", "editMessageText", "sendContact")
SCALE = float(os.environ.get("NOZIRI_FUZZ_SCALE", "1"))


@pytest.fixture(scope="module")
def bot(
    meili: Endpoint, live_index: tuple[str, SecretStr], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BotSession]:
    """The real bot over the real resolver, with one card already shown to :data:`USER`."""
    live, key = live_index
    resolver, backend = make_resolver(meili.url, key, live=live)
    services = real_services(
        resolver, backend, data_dir=tmp_path_factory.mktemp("forged"), per_minute=1_000_000
    )
    session = BotSession(services, in_process=True)
    session.text(USER, "Рудаки 45")
    yield session
    session.close()
    backend.close()


def bot_messages(session: BotSession, user: FakeUser) -> list[int]:
    """The ids of the messages the bot sent to ``user``, oldest first."""
    chat = session.api.messages
    return sorted(mid for (cid, mid), m in chat.items() if cid == user.id and m["from"]["is_bot"])


def last_bot_message(session: BotSession, user: FakeUser) -> int:
    """The id of the last message the bot sent to ``user``."""
    sent = bot_messages(session, user)
    assert sent, "the bot showed the user nothing to press"
    return sent[-1]


def signature() -> st.SearchStrategy[str]:
    """Eight characters of the signature alphabet."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    return st.text(alphabet=alphabet, min_size=0, max_size=9)


# Unsigned payloads that are legitimately valid ("none of these", the language buttons).
LEGITIMATE = frozenset({"x", *(f"l:{lang}" for lang in LANGUAGES)})


def forgeable(data: str) -> bool:
    """Telegram carries 1-64 bytes of callback_data; legitimate unsigned payloads are no forgery."""
    return 1 <= len(data.encode()) <= MAX_CALLBACK_BYTES and data not in LEGITIMATE


ids = st.sampled_from(PLACE_IDS) | st.text(min_size=0, max_size=20)
sectors = st.sampled_from(SECTOR_IDS) | st.text(min_size=0, max_size=20)
other_signer = st.binary(min_size=32, max_size=32).map(CallbackSigner)
forged_data = st.one_of(
    st.text(min_size=1, max_size=64),
    st.builds("p:{}:{}:{}".format, ids, st.text(max_size=6), signature()),
    st.builds("c:{}:{}".format, sectors, signature()),
    st.builds(lambda i, s: encode_pick(i, None, s), st.sampled_from(PLACE_IDS), other_signer),
    st.builds(encode_contact, st.sampled_from(SECTOR_IDS), other_signer),
    st.sampled_from(["p", "c", "l", "p:", "c::", "l:xx", "x:", "p:::", ":::", "l:EN"]),
).filter(forgeable)


def check_polite_refusal(calls: list[ApiCall], error_log: ErrorLog) -> None:
    """One "out of date" toast, no action, no apology, no error logged."""
    answers = [c for c in calls if c.method == "answerCallbackQuery"]
    assert len(answers) == 1, calls
    assert answers[0].params.get("text") in STALE
    assert not [c for c in calls if c.method in ACTIONS]
    assert error_log.records == []


@settings(FORGE, max_examples=max(1, int(1_500 * SCALE)))
@given(data=forged_data)
def test_forged_button_data_gets_a_polite_out_of_date_answer(
    bot: BotSession, error_log: ErrorLog, data: str
) -> None:
    calls = bot.press(USER, data, message_id=last_bot_message(bot, USER))
    check_polite_refusal(calls, error_log)


@settings(FORGE, max_examples=max(1, int(300 * SCALE)))
@given(data=forged_data)
def test_forged_press_on_an_inline_message_gets_a_polite_answer(
    bot: BotSession, error_log: ErrorLog, data: str
) -> None:
    query = {
        "id": f"inline-press-{secrets.token_hex(4)}",
        "from": USER.as_json(),
        "chat_instance": "elsewhere",
        "inline_message_id": "AgAAAForgedInlineMessageId",
        "data": data,
    }
    check_polite_refusal(bot.update({"callback_query": query}), error_log)


def test_correctly_signed_press_for_a_place_never_shown_is_out_of_date(
    bot: BotSession, error_log: ErrorLog
) -> None:
    services = services_of_app(bot.application)
    signer = services.signer
    shown = set(services.recent.candidates.entries)
    unknown = next(place_id for place_id in PLACE_IDS if place_id not in shown)
    for data in (encode_pick(unknown, "45", signer), encode_pick("no-such-place", None, signer)):
        calls = bot.press(USER, data, message_id=last_bot_message(bot, USER))
        check_polite_refusal(calls, error_log)
    calls = bot.press(
        USER, encode_contact("XXX-99", signer), message_id=last_bot_message(bot, USER)
    )
    check_polite_refusal(calls, error_log)


def payloads(call: ApiCall) -> list[str]:
    """The signed payloads (place and contact buttons) of a sent message."""
    rows = (call.params.get("reply_markup") or {}).get("inline_keyboard", [])
    data = [button.get("callback_data", "") for row in rows for button in row]
    return [d for d in data if d.startswith(("p:", "c:"))]


def forgotten(recent: RecentlyShown, data: str) -> bool:
    """Tell whether the id a payload names has left the bot's memory."""
    kind, name = data.split(":")[:2]
    memo: BoundedMemo[Any] = recent.candidates if kind == "p" else recent.sectors
    return memo.recall(name) is None


QUERIES = ("Рудаки 45", "Айни", "Сомони", "Фирдавсӣ 3")
FILLERS = ("Айни 10", "Сомони 5", "Фирдавсӣ", "Исмоили Сомонӣ 20", "Шотемур 3", "Карамов")


def test_press_on_a_card_the_bot_no_longer_remembers_is_out_of_date(
    bot: BotSession, error_log: ErrorLog
) -> None:
    services = services_of_app(bot.application)
    services.recent = RecentlyShown(
        candidates=BoundedMemo(capacity=1), sectors=BoundedMemo(capacity=1)
    )
    user = FakeUser(id=777, language_code="en")
    old: list[str] = []
    for query in QUERIES:  # the first answer with buttons that refer back to it
        old = payloads(bot.text(user, query)[0])
        if old:
            break
    assert old, f"none of {QUERIES} got an answer with buttons: is the resolver finding places?"
    first_id = last_bot_message(bot, user)
    for filler in FILLERS:  # later answers push the first one's entries out of the memory
        bot.text(user, filler)
        stale = [data for data in old if forgotten(services.recent, data)]
        if stale:
            break
    assert stale, "no later answer displaced the first one from the bot's memory"
    check_polite_refusal(bot.press(user, stale[0], message_id=first_id), error_log)


def inline_results_ok(calls: list[ApiCall]) -> list[dict[str, Any]]:
    """The single inline answer's results, checked against Telegram's limits."""
    assert [c.method for c in calls] == ["answerInlineQuery"], calls
    results: list[dict[str, Any]] = calls[0].params["results"]
    result_ids = [r["id"] for r in results]
    assert len(results) <= 50 and len(set(result_ids)) == len(result_ids)
    assert all(1 <= len(i.encode()) <= 64 for i in result_ids)
    return results


@settings(FORGE, max_examples=max(1, int(500 * SCALE)))
@given(text=hostile_text.map(lambda text: text[:256]).filter(lambda text: text.strip() != ""))
def test_any_inline_query_gets_one_valid_answer(
    bot: BotSession, error_log: ErrorLog, text: str
) -> None:
    inline = {
        "id": f"iq-{secrets.token_hex(4)}",
        "from": USER.as_json(),
        "query": text,
        "offset": "",
    }
    inline_results_ok(bot.update({"inline_query": inline}))
    assert error_log.records == []


@pytest.mark.parametrize("result_id", ["dyu-9999", "unavailable", "", "x" * 64, "../../etc"])
def test_a_chosen_inline_result_with_an_unknown_id_is_ignored_quietly(
    bot: BotSession, error_log: ErrorLog, result_id: str
) -> None:
    chosen = {"result_id": result_id, "from": USER.as_json(), "query": "Рудаки"}
    assert bot.update({"chosen_inline_result": chosen}) == []
    assert error_log.records == []
