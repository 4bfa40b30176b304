"""Issue 13 through the fake Bot API: no dead ends, one phone form, greetings, old names.

The real application and python-telegram-bot's network layer against
:class:`bot.offline.fake_api.FakeBotApi`, with a fake resolver (as in ``test_conversation.py``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.conversation import is_greeting, read_bare_house
from bot.offline.chat import offline_bot
from bot.offline.fake_api import ApiCall, FakeBotApi, FakeUser
from resolver.models import Candidate, HouseNumber, Resolution
from tests.bot.conftest import MakeServices
from tests.bot.fakes import (
    FakeResolver,
    ambiguous,
    make_candidate,
    make_officer,
    make_sector,
    resolved,
)

RU = FakeUser(id=2001, first_name="Фаридун", language_code="ru")
EN = FakeUser(id=2002, first_name="Anna", language_code="en")
TG = FakeUser(id=2003, first_name="Нигина", language_code="tg")

# Six house ranges, as проспект Рудаки has in seed/links.yaml; the last one has no end.
RANGES = [(1, 45), (47, 99), (101, 151), (153, 209), (211, None), (2, 98)]


def segment(number: int, start: int, end: int | None) -> Candidate:
    """One house range of Rudaki Avenue, with its own fictional inspector."""
    officer = make_officer(name_en=f"Inspector {number}", phone=f"+992 00 408 70 0{number}")
    return make_candidate(
        document_id=f"dyu-0001--{number}",
        house_start=start,
        house_end=end,
        house_parity="even" if start % 2 == 0 else "odd",
        sector=make_sector(id=f"SOM-{number:02d}", officer=officer),
    )


SEGMENTS = tuple(segment(n, start, end) for n, (start, end) in enumerate(RANGES, 1))


def keyboard_rows(call: ApiCall) -> list[list[dict[str, Any]]]:
    """The inline keyboard of a call, row by row."""
    return list((call.params.get("reply_markup") or {}).get("inline_keyboard", []))


async def say(api: FakeBotApi, user: FakeUser, text: str) -> ApiCall:
    """Send ``text`` as ``user`` and return the bot's reply."""
    since = api.mark()
    api.send_text(user, text)
    return await api.wait_for("sendMessage", since=since, chat_id=user.id)


def street_resolver(**extra: Resolution) -> FakeResolver:
    """ "Rudaki" asks for the house; a house typed next is answered from the street's ranges."""
    houses = {("dyu-0001", "211"): resolved("dyu-0001", SEGMENTS[4], house=211)}
    houses[("dyu-0001", "12")] = resolved("dyu-0001", SEGMENTS[5], house=12)
    answers = {
        "Rudaki": ambiguous("Rudaki", *SEGMENTS),
        "Проспект Рудаки": ambiguous("x", *SEGMENTS),
    }
    return FakeResolver(answers | extra, houses=houses)


# --- every range of a split street is reachable --------------------------------------------


async def test_a_split_street_asks_which_house_and_lists_every_range_two_a_row(
    make_services: MakeServices,
) -> None:
    async with offline_bot(make_services(resolver=street_resolver())) as (api, _app):
        question = await say(api, EN, "Rudaki")
    assert "Which house? Type the number, or choose a range." in question.params["text"]
    rows = keyboard_rows(question)
    ranges = [button["text"] for row in rows[:-1] for button in row]
    assert ranges[4] == "Houses 211 and up, odd"
    assert len(ranges) == len(RANGES)
    assert [len(row) for row in rows[:-1]] == [2, 2, 2]
    assert [button["text"] for button in rows[-1]] == ["None of these"]


async def test_a_number_typed_after_the_question_is_the_house_on_that_street(
    make_services: MakeServices,
) -> None:
    resolver = street_resolver()
    async with offline_bot(make_services(resolver=resolver)) as (api, _app):
        await say(api, EN, "Rudaki")
        card = await say(api, EN, "211")
    assert "Inspector 5" in card.params["text"] and "house 211" in card.params["text"]
    assert resolver.asked == ["Rudaki"]  # "211" was not searched on its own


async def test_a_house_on_no_range_asks_again_and_the_next_number_is_read(
    make_services: MakeServices, unresolved_path: Path
) -> None:
    resolver = street_resolver()
    resolver.houses[("dyu-0001", "999")] = ambiguous("dyu-0001", *SEGMENTS)
    async with offline_bot(make_services(resolver=resolver)) as (api, _app):
        await say(api, EN, "Rudaki")
        again = await say(api, EN, "999")
        card = await say(api, EN, "211")
    assert "Which house?" in again.params["text"]
    assert "Inspector 5" in card.params["text"]
    logged = [json.loads(line)["text"] for line in unresolved_path.read_text().splitlines()]
    assert logged == ["Rudaki", "999"]


@pytest.mark.parametrize("user", [RU, TG])
async def test_a_house_typed_with_its_word_is_read_too(
    make_services: MakeServices, user: FakeUser
) -> None:
    async with offline_bot(make_services(resolver=street_resolver())) as (api, _app):
        await say(api, user, "Проспект Рудаки")
        card = await say(api, user, "д. 12" if user is RU else "12")
    assert "SOM-06" in card.params["text"]


async def test_a_new_text_after_the_question_is_a_new_search(make_services: MakeServices) -> None:
    aini = make_candidate(place_id="dyu-0002", document_id="dyu-0002", name_en="Aini Street")
    resolver = street_resolver(**{"Aini 45": resolved("Aini 45", aini, house=45)})
    async with offline_bot(make_services(resolver=resolver)) as (api, _app):
        await say(api, EN, "Rudaki")
        card = await say(api, EN, "Aini 45")
        later = await say(api, EN, "211")  # the question was answered: a bare number is a search
    assert "Aini Street" in card.params["text"]
    assert resolver.asked == ["Rudaki", "Aini 45", "211"]
    assert "could not find" in later.params["text"]


async def test_a_whole_street_button_then_a_typed_number_gives_the_card(
    make_services: MakeServices,
) -> None:
    street = make_candidate(sector=None)
    other = make_candidate(place_id="dyu-0002", document_id="dyu-0002", name_en="Aini Street")
    resolver = street_resolver(Rudaki=ambiguous("Rudaki", street, other))
    resolver.choices["dyu-0001"] = ambiguous("dyu-0001", *SEGMENTS)
    async with offline_bot(make_services(resolver=resolver)) as (api, _app):
        question = await say(api, EN, "Rudaki")
        since = api.mark()
        message_id = max(mid for (chat, mid) in api.messages if chat == EN.id)
        api.press_button(EN, message_id, keyboard_rows(question)[0][0]["callback_data"])
        ranges = await api.wait_for("editMessageText", since=since, chat_id=EN.id)
        card = await say(api, EN, "211")
    assert len([b for row in keyboard_rows(ranges)[:-1] for b in row]) == len(RANGES)
    assert "Inspector 5" in card.params["text"]


async def test_a_pressed_range_answers_the_question(make_services: MakeServices) -> None:
    resolver = street_resolver()
    async with offline_bot(make_services(resolver=resolver)) as (api, _app):
        question = await say(api, EN, "Rudaki")
        since = api.mark()
        message_id = max(mid for (chat, mid) in api.messages if chat == EN.id)
        api.press_button(EN, message_id, keyboard_rows(question)[0][1]["callback_data"])
        card = await api.wait_for("editMessageText", since=since, chat_id=EN.id)
        await say(api, EN, "211")
    assert "Inspector 2" in card.params["text"]
    assert resolver.asked == ["Rudaki", "211"]  # after the card, "211" is a search of its own


@pytest.mark.parametrize(
    ("text", "house"),
    [
        ("211", HouseNumber(number=211)),
        ("45а", HouseNumber(number=45, letter="а")),
        ("д. 12/1", HouseNumber(number=12, building="1")),
        ("house 7", HouseNumber(number=7)),
        ("№ 30", HouseNumber(number=30)),
        (" 9 ", HouseNumber(number=9)),
        ("Айни 45", None),
        ("0", None),
        ("12345", None),
        ("45 кв 3", None),
        ("", None),
    ],
)
def test_reads_a_bare_house_number(text: str, house: HouseNumber | None) -> None:
    assert read_bare_house(text) == house


# --- the card in the resident's language, its phone, the old name ---------------------------


async def test_an_english_card_names_sector_district_and_office_in_english(
    make_services: MakeServices,
) -> None:
    area = {"name_tg": "Бинокорон", "name_ru": "Бинокорон", "name_en": "Binokoron"}
    sector = make_sector(id="SHM-08", district="shohmansur", **area)
    card_for = resolved("Somoni 20", make_candidate(sector=sector), house=20)
    async with offline_bot(make_services(resolver=FakeResolver({"Somoni 20": card_for}))) as (
        api,
        _app,
    ):
        card = await say(api, EN, "Somoni 20")
        tajik = await say(api, TG, "Somoni 20")
    assert "🗂 Sector SHM-08 (Binokoron), Shohmansur district" in card.params["text"]
    assert "🏢 Precinct office: Rudaki Avenue, 80" in card.params["text"]
    assert "🗂 Минтақаи SHM-08 (Бинокорон), ноҳияи Шоҳмансур" in tajik.params["text"]


async def test_the_phone_reads_the_same_in_the_card_and_the_contact(
    make_services: MakeServices,
) -> None:
    card_for = resolved("Rudaki 45", make_candidate(), house=45)
    async with offline_bot(make_services(resolver=FakeResolver({"Rudaki 45": card_for}))) as (
        api,
        _app,
    ):
        card = await say(api, EN, "Rudaki 45")
        since = api.mark()
        message_id = max(mid for (chat, mid) in api.messages if chat == EN.id)
        api.press_button(EN, message_id, keyboard_rows(card)[0][0]["callback_data"])
        contact = await api.wait_for("sendContact", since=since, chat_id=EN.id)
    assert "📞 +992 00 123 45 67" in card.params["text"]
    assert "tel:" not in card.params["text"]  # the Bot API refuses tel: links in HTML
    assert contact.params["phone_number"] == "+992 00 123 45 67"


@pytest.mark.parametrize(
    ("user", "line"),
    [
        (RU, "ℹ️ Старое название «улица Ленина», теперь это проспект Рудаки."),
        (EN, "ℹ️ Formerly «улица Ленина»: it is now Rudaki Avenue."),
        (TG, "ℹ️ Номи пештара «улица Ленина», ҳоло хиёбони Рӯдакӣ."),
    ],
)
async def test_an_old_name_is_answered_with_the_name_it_has_now(
    make_services: MakeServices, user: FakeUser, line: str
) -> None:
    old = make_candidate(matched_old_name="улица Ленина")
    resolver = FakeResolver({"ул. Ленина 45": resolved("ул. Ленина 45", old, house=45)})
    async with offline_bot(make_services(resolver=resolver)) as (api, _app):
        card = await say(api, user, "ул. Ленина 45")
    assert line in card.params["text"]


async def test_an_old_name_of_a_split_street_is_named_above_the_house_question(
    make_services: MakeServices,
) -> None:
    segments = tuple(s.model_copy(update={"matched_old_name": "улица Ленина"}) for s in SEGMENTS)
    resolver = FakeResolver({"Ленина": ambiguous("Ленина", *segments)})
    async with offline_bot(make_services(resolver=resolver)) as (api, _app):
        question = await say(api, RU, "Ленина")
    assert question.params["text"].startswith("ℹ️ Старое название «улица Ленина»")
    assert "Проспект Рудаки: дома поделены" in question.params["text"]


# --- a choice of one ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reasons", "why"),
    [
        (("words 100%", "2 typo(s)"), "it is spelt differently from the names I know."),
        (("words 50%", "name 100%"), "not every word of it matches a name I know."),
        (("words 100%", "name 100%"), "it can be read in more than one way."),
    ],
)
async def test_a_single_unsure_candidate_asks_and_says_why(
    make_services: MakeServices, reasons: tuple[str, ...], why: str
) -> None:
    unsure = make_candidate(reasons=reasons, name_en="91 microdistrict", kind="microdistrict")
    resolver = FakeResolver({"91 мкр": ambiguous("91 мкр", unsure)})
    async with offline_bot(make_services(resolver=resolver)) as (api, _app):
        question = await say(api, EN, "91 мкр")
        since = api.mark()
        message_id = max(mid for (chat, mid) in api.messages if chat == EN.id)
        api.press_button(EN, message_id, keyboard_rows(question)[0][0]["callback_data"])
        card = await api.wait_for("editMessageText", since=since, chat_id=EN.id)
    assert question.params["text"] == f"I am not sure what «91 мкр» means: {why}\nIs it this place?"
    labels = [[button["text"] for button in row] for row in keyboard_rows(question)]
    assert labels == [["91 microdistrict · microdistrict, Ismoili Somoni"], ["None of these"]]
    assert "Jamshed Rahimov" in card.params["text"]


# --- greetings ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "greeting"),
    [
        ("привет", True),
        ("Привет!", True),
        ("салом", True),
        ("Ассалому алейкум", True),
        ("ассаламу алейкум!!", True),
        ("hello", True),
        ("Hi there 👋", True),
        ("Добрый день", True),
        ("здравствуйте", True),
        ("Рӯз ба хайр", True),
        ("привет бот", True),
        ("привет, Рудаки 45", False),
        ("салом кӯчаи Айнӣ 45", False),
        ("Рудаки", False),
        ("бот", False),
        ("", False),
        ("добрый", False),
    ],
)
def test_tells_a_greeting_alone_from_a_query(text: str, greeting: bool) -> None:
    assert is_greeting(text) is greeting


@pytest.mark.parametrize(
    ("user", "text", "start"),
    [
        (RU, "Привет!", "Здравствуйте! Напишите улицу и номер дома"),
        (TG, "салом", "Салом! Кӯча ва рақами хонаро нависед"),
        (EN, "hello", "Hello! Type a street and a house number"),
    ],
)
async def test_a_greeting_is_greeted_back_with_how_to_ask(
    make_services: MakeServices, user: FakeUser, text: str, start: str
) -> None:
    resolver = FakeResolver()
    async with offline_bot(make_services(resolver=resolver)) as (api, _app):
        reply = await say(api, user, text)
    assert reply.params["text"].startswith(start)
    assert resolver.asked == []
    assert reply.params["reply_markup"]["keyboard"][0][0]["request_location"] is True


async def test_a_greeting_with_an_address_is_searched(make_services: MakeServices) -> None:
    resolver = FakeResolver({"привет, Рудаки 45": resolved("привет", make_candidate(), house=45)})
    async with offline_bot(make_services(resolver=resolver)) as (api, _app):
        card = await say(api, RU, "привет, Рудаки 45")
    assert "Рахимов Джамшед" in card.params["text"]
    assert resolver.asked == ["привет, Рудаки 45"]
