"""Offline end to end: the real application, over HTTP, against the project's fake Bot API server.

Each test runs python-telegram-bot's real network layer (long polling ``getUpdates``, sending,
editing, answering) against :class:`bot.offline.fake_api.FakeBotApi` on 127.0.0.1, with a fake
resolver.
The variant with the real resolver and a real Meilisearch is in ``tests/integration``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from pathlib import Path
from typing import Any

import pytest

from bot.offline.chat import chat_loop, offline_bot
from bot.offline.fake_api import ApiCall, FakeBotApi, FakeUser
from bot.throttle import QueryLimiter
from tests.bot.conftest import MakeServices
from tests.bot.fakes import (
    FakeResolver,
    FakeSectors,
    ambiguous,
    make_candidate,
    make_officer,
    make_sector,
    resolved,
)

RU = FakeUser(id=1001, first_name="Фаридун", language_code="ru")
EN = FakeUser(id=1002, first_name="Anna", language_code="en")
TG = FakeUser(id=1003, first_name="Нигина", language_code="tg")

CITY_BOX = (38.45, 68.65, 38.65, 68.90)
SECTOR_BOX = (38.55, 68.75, 38.58, 68.80)
INSIDE = (38.5598, 68.7870)
OUTSIDE = (40.2833, 69.6333)  # Khujand

AINI = make_candidate(
    place_id="dyu-0002",
    document_id="dyu-0002",
    name="кӯчаи Айнӣ",
    name_tg="кӯчаи Айнӣ",
    name_ru="улица Айни",
    name_en="Aini Street",
    kind="street",
    district=["shohmansur"],
    sector=make_sector(
        id="SHM-07",
        district="shohmansur",
        name="Aini East",
        officer=make_officer(
            name_ru="Каримов Далер",
            name_tg="Каримов Далер",
            name_en="Daler Karimov",
            phone="+992 00 765 43 21",
        ),
    ),
)
RUDAKI = make_candidate()


def inline_keyboard(call: ApiCall) -> list[dict[str, Any]]:
    """The inline buttons a call sent, flattened."""
    markup = call.params.get("reply_markup") or {}
    return [button for row in markup.get("inline_keyboard", []) for button in row]


def sent_message_id(api: FakeBotApi, call: ApiCall) -> int:
    """The id the fake server gave the message a sendMessage call created."""
    ids = [
        mid
        for (chat, mid), m in api.messages.items()
        if chat == call.chat_id and m["from"]["is_bot"]
    ]
    return max(ids)


async def say(api: FakeBotApi, user: FakeUser, text: str) -> ApiCall:
    """Send ``text`` as ``user`` and return the bot's reply."""
    since = api.mark()
    api.send_text(user, text)
    return await api.wait_for("sendMessage", since=since, chat_id=user.id)


# --- the resident's conversation -----------------------------------------------------------


async def test_a_typed_address_gets_the_inspector_card(make_services: MakeServices) -> None:
    resolver = FakeResolver({"ул. Айни 45": resolved("ул. Айни 45", AINI, house=45)})
    async with offline_bot(make_services(resolver=resolver)) as (api, _app):
        reply = await say(api, RU, "ул. Айни 45")
    text = reply.params["text"]
    assert reply.params["parse_mode"] == "HTML"
    for expected in (
        "Каримов Далер",
        "Капитан",
        "+992 00 765 43 21",
        "улица Айни, дом 45",
        "SHM-07",
        "Шохмансур",
    ):
        assert expected in text
    [button] = inline_keyboard(reply)
    assert button["callback_data"].startswith("c:SHM-07:")


async def test_save_as_contact_sends_the_inspector(make_services: MakeServices) -> None:
    resolver = FakeResolver({"Айни 45": resolved("Айни 45", AINI, house=45)})
    async with offline_bot(make_services(resolver=resolver)) as (api, _app):
        card = await say(api, RU, "Айни 45")
        since = api.mark()
        api.press_button(RU, sent_message_id(api, card), inline_keyboard(card)[0]["callback_data"])
        contact = await api.wait_for("sendContact", since=since, chat_id=RU.id)
    assert contact.params["phone_number"] == "+992 00 765 43 21"
    assert contact.params["first_name"] == "Каримов Далер"


async def test_ambiguous_asks_with_buttons_and_a_press_edits_into_the_card(
    make_services: MakeServices,
) -> None:
    resolver = FakeResolver({"Айни": ambiguous("Айни", AINI, RUDAKI)})
    async with offline_bot(make_services(resolver=resolver)) as (api, _app):
        question = await say(api, EN, "Айни")
        buttons = inline_keyboard(question)
        assert [b["text"].split(" · ")[0] for b in buttons] == [
            "Aini Street",
            "Rudaki Avenue",
            "None of these",
        ]
        assert all(len(b["callback_data"].encode()) <= 64 for b in buttons)
        since = api.mark()
        api.press_button(EN, sent_message_id(api, question), buttons[0]["callback_data"])
        edit = await api.wait_for("editMessageText", since=since, chat_id=EN.id)
        answer = await api.wait_for("answerCallbackQuery", since=since)
    assert edit.params["message_id"] == sent_message_id(api, question)
    assert "Daler Karimov" in edit.params["text"] and "Aini Street" in edit.params["text"]
    assert "text" not in answer.params
    assert api.messages[(EN.id, edit.params["message_id"])]["text"] == edit.params["text"]


async def test_none_of_these_suggests_another_way_to_ask(
    make_services: MakeServices, unresolved_path: Path
) -> None:
    resolver = FakeResolver({"Айни": ambiguous("Айни", AINI, RUDAKI)})
    async with offline_bot(make_services(resolver=resolver)) as (api, _app):
        question = await say(api, RU, "Айни")
        since = api.mark()
        api.press_button(RU, sent_message_id(api, question), "x")
        edit = await api.wait_for("editMessageText", since=since, chat_id=RU.id)
    assert "ул. Айни 45" in edit.params["text"]
    assert "reply_markup" not in edit.params
    assert [json.loads(line)["status"] for line in unresolved_path.read_text().splitlines()] == [
        "ambiguous"
    ]


async def test_not_found_explains_and_offers_the_location_button(
    make_services: MakeServices, unresolved_path: Path
) -> None:
    async with offline_bot(make_services()) as (api, _app):
        reply = await say(api, TG, "Марс 12")
    assert "«Марс 12» дар Душанбе ёфт нашуд" in reply.params["text"]
    [[button]] = reply.params["reply_markup"]["keyboard"]
    assert button["request_location"] is True
    [record] = [
        json.loads(line) for line in unresolved_path.read_text(encoding="utf-8").splitlines()
    ]
    assert record["text"] == "Марс 12" and record["status"] == "not_found"
    assert str(TG.id) not in json.dumps(record)


@pytest.mark.parametrize(
    ("point", "expected"),
    [
        (INSIDE, "Ваше местоположение"),
        (OUTSIDE, "за пределами Душанбе"),
        ((38.47, 68.70), "участок не найден"),
    ],
)
async def test_a_shared_location_gets_its_sector_or_says_it_is_outside(
    make_services: MakeServices, point: tuple[float, float], expected: str
) -> None:
    sectors = FakeSectors(city=CITY_BOX, boxes={SECTOR_BOX: make_sector()})
    async with offline_bot(make_services(sectors=sectors)) as (api, _app):
        since = api.mark()
        api.share_location(RU, *point)
        reply = await api.wait_for("sendMessage", since=since, chat_id=RU.id)
    assert expected in reply.params["text"]


async def test_start_and_help_explain_in_the_users_language(make_services: MakeServices) -> None:
    async with offline_bot(make_services()) as (api, _app):
        start = await say(api, TG, "/start")
        help_ = await say(api, EN, "/help")
    assert "нозири минтақавии милитсияро" in start.params["text"]
    assert "<code>кӯчаи Айнӣ 45</code>" in start.params["text"]
    assert "How to ask" in help_.params["text"]
    assert help_.params["reply_markup"]["keyboard"][0][0]["request_location"] is True


async def test_lang_switches_the_language_of_later_answers(make_services: MakeServices) -> None:
    resolver = FakeResolver({"Rudaki 1": resolved("Rudaki 1", RUDAKI, house=1)})
    async with offline_bot(make_services(resolver=resolver)) as (api, _app):
        menu = await say(api, EN, "/lang")
        assert [b["callback_data"] for b in inline_keyboard(menu)] == ["l:tg", "l:ru", "l:en"]
        since = api.mark()
        api.press_button(EN, sent_message_id(api, menu), "l:tg")
        edit = await api.wait_for("editMessageText", since=since, chat_id=EN.id)
        help_ = await api.wait_for("sendMessage", since=since, chat_id=EN.id)
        card = await say(api, EN, "Rudaki 1")
    assert edit.params["text"] == "Забон: тоҷикӣ."
    assert "Чӣ тавр пурсидан мумкин" in help_.params["text"]
    assert "Раҳимов Ҷамшед" in card.params["text"] and "хонаи 1" in card.params["text"]


async def test_bot_registers_its_commands_in_every_language(make_services: MakeServices) -> None:
    async with offline_bot(make_services()) as (api, _app):
        await say(api, EN, "/start")
    languages = [c.params.get("language_code") for c in api.calls if c.method == "setMyCommands"]
    assert languages == [None, "tg", "ru", "en"]


async def test_inline_mode_offers_cards(make_services: MakeServices) -> None:
    resolver = FakeResolver({"Айни": ambiguous("Айни", AINI, RUDAKI)})
    async with offline_bot(make_services(resolver=resolver)) as (api, _app):
        since = api.mark()
        api.type_inline(RU, "Айни")
        answer = await api.wait_for("answerInlineQuery", since=since)
    results = answer.params["results"]
    assert [r["id"] for r in results] == ["dyu-0002", "dyu-0001"]
    assert "Каримов Далер" in results[0]["input_message_content"]["message_text"]
    assert results[0]["input_message_content"]["parse_mode"] == "HTML"


# --- bad presses, outages and floods --------------------------------------------------------


@pytest.mark.parametrize(
    "forged", ["p:dyu-0002::AAAAAAAA", "c:SHM-07:AAAAAAAA", "l:fr", "garbage", "p:../../etc"]
)
async def test_a_forged_press_gets_a_polite_answer(
    make_services: MakeServices, forged: str
) -> None:
    resolver = FakeResolver({"Айни": ambiguous("Айни", AINI, RUDAKI)})
    async with offline_bot(make_services(resolver=resolver)) as (api, _app):
        question = await say(api, RU, "Айни")
        since = api.mark()
        api.press_button(RU, sent_message_id(api, question), forged)
        answer = await api.wait_for("answerCallbackQuery", since=since)
        await asyncio.sleep(0.2)
    assert answer.params["text"] == "Этот список устарел. Напишите адрес ещё раз."
    assert not [
        c
        for c in api.calls[since:]
        if c.method in ("editMessageText", "sendMessage", "sendContact")
    ]


async def test_a_press_from_before_a_restart_is_stale(make_services: MakeServices) -> None:
    resolver = FakeResolver({"Айни": ambiguous("Айни", AINI, RUDAKI)})
    async with offline_bot(make_services(resolver=resolver)) as (api, _app):
        question = await say(api, RU, "Айни")
        old_data = inline_keyboard(question)[0]["callback_data"]
    async with offline_bot(make_services(resolver=resolver)) as (api, _app):
        fresh = await say(api, RU, "Айни")
        since = api.mark()
        api.press_button(RU, sent_message_id(api, fresh), old_data)
        answer = await api.wait_for("answerCallbackQuery", since=since)
    assert answer.params["text"] == "Этот список устарел. Напишите адрес ещё раз."


async def test_meilisearch_down_is_reported_fast_and_the_bot_recovers(
    make_services: MakeServices,
) -> None:
    resolver = FakeResolver({"Айни 45": resolved("Айни 45", AINI, house=45)}, down=True)
    async with offline_bot(make_services(resolver=resolver)) as (api, _app):
        started = time.monotonic()
        down = await say(api, RU, "Айни 45")
        elapsed = time.monotonic() - started
        resolver.down = False
        back = await say(api, RU, "Айни 45")
    assert down.params["text"] == "Сервис временно недоступен. Попробуйте ещё раз через минуту."
    assert elapsed < 3
    assert "Каримов Далер" in back.params["text"]


async def test_a_resolver_that_hangs_is_cut_off_within_three_seconds(
    make_services: MakeServices,
) -> None:
    resolver = FakeResolver(delay_s=3.2)  # the default deadline (2.5 s) must cut it off
    async with offline_bot(make_services(resolver=resolver)) as (api, _app):
        started = time.monotonic()
        reply = await say(api, EN, "Rudaki 45")
        elapsed = time.monotonic() - started
    assert reply.params["text"].startswith("The service is briefly unavailable")
    assert elapsed < 3


async def test_a_flooding_user_is_slowed_down_and_others_are_not(
    make_services: MakeServices,
) -> None:
    resolver = FakeResolver({"Айни 45": resolved("Айни 45", AINI, house=45)})
    limiter = QueryLimiter(per_minute=2, burst=2)
    async with offline_bot(make_services(resolver=resolver, limiter=limiter)) as (api, _app):
        replies = [await say(api, RU, "Айни 45") for _ in range(3)]
        other = await say(api, EN, "Айни 45")
    assert ["Каримов Далер" in r.params["text"] for r in replies] == [True, True, False]
    assert (
        replies[2].params["text"]
        == "Слишком много запросов подряд. Подождите минуту и попробуйте снова."
    )
    assert "Daler Karimov" in other.params["text"]
    assert len(resolver.asked) == 3


async def test_an_unexpected_error_gets_an_apology_not_a_traceback(
    make_services: MakeServices, caplog: pytest.LogCaptureFixture
) -> None:
    class BrokenResolver:
        async def resolve(self, text: str) -> Any:
            raise RuntimeError("boom")

        async def aclose(self) -> None:
            return None

    async with offline_bot(make_services(resolver=BrokenResolver())) as (api, _app):
        reply = await say(api, EN, "Rudaki 45")
    assert reply.params["text"] == "Sorry, something went wrong on our side. Please try again."
    assert any(record.exc_info and "boom" in str(record.exc_info[1]) for record in caplog.records)


async def test_logs_never_hold_message_text_next_to_the_user_id(
    make_services: MakeServices, caplog: pytest.LogCaptureFixture
) -> None:
    secret_text = "Улица Тайная 77"
    user = FakeUser(id=987654321, first_name="Зарина", language_code="ru")
    resolver = FakeResolver({"Айни": ambiguous("Айни", AINI, RUDAKI)})
    caplog.set_level(logging.DEBUG)
    async with offline_bot(make_services(resolver=resolver)) as (api, _app):
        await say(api, user, secret_text)
        question = await say(api, user, "Айни")
        since = api.mark()
        api.press_button(
            user, sent_message_id(api, question), inline_keyboard(question)[0]["callback_data"]
        )
        await api.wait_for("editMessageText", since=since)
        api.type_inline(user, secret_text)
        await api.wait_for("answerInlineQuery", since=since)
    assert caplog.records, "the conversation logged nothing: the test would prove nothing"
    for record in caplog.records:
        line = record.getMessage() + (
            logging.Formatter().formatException(record.exc_info) if record.exc_info else ""
        )
        holds_text = secret_text in line or "Айни" in line
        assert not (holds_text and str(user.id) in line), line


# --- the terminal chat ----------------------------------------------------------------------


async def test_offline_terminal_chat_shows_texts_and_numbered_buttons(
    make_services: MakeServices,
) -> None:
    resolver = FakeResolver({"Айни": ambiguous("Айни", AINI, RUDAKI)})
    sectors = FakeSectors(city=CITY_BOX, boxes={SECTOR_BOX: make_sector()})
    script = iter(["/start", "Айни", "1", "1", "loc 38.5598 68.7870", "@ Айни", "1", "quit"])
    output: list[str] = []

    async def read_line(_prompt: str) -> str | None:
        return next(script, None)

    async with offline_bot(make_services(resolver=resolver, sectors=sectors)) as (api, _app):
        await chat_loop(api, RU, read_line=read_line, write=output.append)
    shown = "\n".join(output)
    assert "Noziri находит участкового" in shown
    assert "(1) улица Айни · улица, Шохмансур" in shown
    assert "(3) Ничего из этого" in shown
    assert "bot (edited):" in shown and "Каримов Далер" in shown
    assert "[contact] Каримов Далер +992 00 765 43 21" in shown
    assert "📍 Ваше местоположение" in shown
    assert "inline results:" in shown and "you (via the bot):" in shown
    assert "<b>" not in shown


async def test_an_edited_message_is_not_answered_again(make_services: MakeServices) -> None:
    resolver = FakeResolver({"Айни 45": resolved("Айни 45", AINI, house=45)})
    async with offline_bot(make_services(resolver=resolver)) as (api, _app):
        await say(api, RU, "Айни 45")
        own = max(
            mid
            for (chat, mid), m in api.messages.items()
            if chat == RU.id and not m["from"]["is_bot"]
        )
        since = api.mark()
        api.edit_text(RU, own, "Айни 47")
        with pytest.raises(TimeoutError):
            await api.wait_for("sendMessage", since=since, chat_id=RU.id, timeout=0.5)
    assert resolver.asked == ["Айни 45"]


async def test_a_split_street_press_offers_its_house_ranges_then_the_card(
    make_services: MakeServices,
) -> None:
    street = make_candidate(sector=None)  # the resolver's one button for a whole split avenue
    odd = make_candidate(document_id="dyu-0001--1", house_start=1, house_end=99, house_parity="odd")
    even = make_candidate(
        document_id="dyu-0001--2",
        house_start=2,
        house_end=None,
        house_parity="even",
        sector=make_sector(id="SOM-02", officer=make_officer(name_en="Bahrom Saidov")),
    )
    resolver = FakeResolver(
        {"Rudaki": ambiguous("Rudaki", street, AINI)},
        choices={"dyu-0001": ambiguous("dyu-0001", odd, even)},
    )
    async with offline_bot(make_services(resolver=resolver)) as (api, _app):
        question = await say(api, EN, "Rudaki")
        since = api.mark()
        api.press_button(
            EN, sent_message_id(api, question), inline_keyboard(question)[0]["callback_data"]
        )
        segments = await api.wait_for("editMessageText", since=since, chat_id=EN.id)
        labels = [b["text"] for b in inline_keyboard(segments)]
        since = api.mark()
        api.press_button(
            EN, sent_message_id(api, question), inline_keyboard(segments)[1]["callback_data"]
        )
        card = await api.wait_for("editMessageText", since=since, chat_id=EN.id)
    assert segments.params["text"].startswith("Rudaki Avenue: the houses are split between")
    assert "Which house? Type the number, or choose a range." in segments.params["text"]
    assert labels == ["Houses 1–99, odd", "Houses 2 and up, even", "None of these"]
    assert "Bahrom Saidov" in card.params["text"] and "houses 2 and up, even" in card.params["text"]


async def test_a_split_street_the_resolver_cannot_expand_asks_for_the_house(
    make_services: MakeServices,
) -> None:
    resolver = FakeResolver({"Rudaki": ambiguous("Rudaki", make_candidate(sector=None), AINI)})
    async with offline_bot(make_services(resolver=resolver)) as (api, _app):
        question = await say(api, EN, "Rudaki")
        since = api.mark()
        api.press_button(
            EN, sent_message_id(api, question), inline_keyboard(question)[0]["callback_data"]
        )
        edit = await api.wait_for("editMessageText", since=since, chat_id=EN.id)
    assert (
        "Rudaki Avenue: the houses are split between several inspectors. Type the house number"
        in (edit.params["text"])
    )


async def test_stopping_the_bot_closes_the_resolvers_connections(
    make_services: MakeServices,
) -> None:
    resolver = FakeResolver(answers={"Rudaki 45": resolved("Rudaki 45", make_candidate())})
    async with offline_bot(make_services(resolver=resolver)) as (api, _app):
        await say(api, EN, "Rudaki 45")
        assert not resolver.closed
    assert resolver.closed
