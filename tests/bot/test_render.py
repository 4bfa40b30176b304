"""Rendering without Telegram: cards, choices and notices in Tajik, Russian and English."""

from __future__ import annotations

from html import escape

import pytest

from bot import render
from bot.callbacks import (
    MAX_CALLBACK_BYTES,
    CallbackSigner,
    CallbackTooLongError,
    ChooseLanguage,
    NoneOfThese,
    PickPlace,
    SendContact,
    decode_press,
    encode_contact,
    encode_language,
    encode_pick,
)
from bot.i18n import LANGUAGES, Catalogue, pick_language
from resolver.gazetteer import Officer, PlaceKind
from resolver.models import AddressParts, HouseNumber, Resolution, Status
from tests.bot.fakes import ambiguous, make_candidate, make_officer, make_sector, resolved

OFFICER_NAMES = {"tg": "Раҳимов Ҷамшед", "ru": "Рахимов Джамшед", "en": "Jamshed Rahimov"}
PLACE_NAMES = {"tg": "хиёбони Рӯдакӣ", "ru": "проспект Рудаки", "en": "Rudaki Avenue"}
RANKS = {"tg": "Капитан", "ru": "Капитан", "en": "Captain"}
OFFICES = {"tg": "хиёбони Рӯдакӣ 80", "ru": "проспект Рудаки 80", "en": "Rudaki Avenue, 80"}
TUESDAY = {"tg": "Сш", "ru": "Вт", "en": "Tue"}
DEMO = {"tg": "тахайюлӣ", "ru": "вымышлены", "en": "fictional"}


def buttons(reply: render.Reply) -> list[tuple[str, str | None]]:
    """Flatten an inline keyboard into (text, callback_data) pairs."""
    markup = reply.markup
    assert markup is not None and hasattr(markup, "inline_keyboard")
    return [(b.text, b.callback_data) for row in markup.inline_keyboard for b in row]  # type: ignore[misc]


def has_location_button(reply: render.Reply) -> bool:
    """Tell whether the reply carries the reply keyboard with "send my location"."""
    keyboard = getattr(reply.markup, "keyboard", ())
    return any(button.request_location for row in keyboard for button in row)


# --- the card -----------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
def test_card_shows_the_inspector_in_the_readers_language(
    catalogue: Catalogue, signer: CallbackSigner, lang: str
) -> None:
    reply = render.render_card(catalogue, lang, make_candidate(), house="45а", signer=signer)
    for expected in (
        OFFICER_NAMES[lang],
        PLACE_NAMES[lang],
        RANKS[lang],
        OFFICES[lang],
        TUESDAY[lang],
        DEMO[lang],
        "45а",
        "SOM-01",
        "+992 00 123 45 67",
    ):
        assert expected in reply.text, expected


@pytest.mark.parametrize("lang", LANGUAGES)
def test_card_offers_to_save_the_inspector_as_a_contact(
    catalogue: Catalogue, signer: CallbackSigner, lang: str
) -> None:
    reply = render.render_card(catalogue, lang, make_candidate(), house=None, signer=signer)
    [(label, data)] = buttons(reply)
    assert label == catalogue.text(lang, "save_contact")
    assert decode_press(data, signer, languages=LANGUAGES) == SendContact(sector_id="SOM-01")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_location_card_says_your_location(
    catalogue: Catalogue, signer: CallbackSigner, lang: str
) -> None:
    reply = render.render_location_card(catalogue, lang, make_sector(), signer=signer)
    assert catalogue.text(lang, "card_your_location") in reply.text
    assert OFFICER_NAMES[lang] in reply.text


@pytest.mark.parametrize("rank", Officer.model_fields["rank"].annotation.__args__)  # type: ignore[union-attr]
@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_rank_is_translated(
    catalogue: Catalogue, signer: CallbackSigner, rank: str, lang: str
) -> None:
    candidate = make_candidate(sector=make_sector(officer=make_officer(rank=rank)))
    text = render.render_card(catalogue, lang, candidate, house=None, signer=signer).text
    assert catalogue.text(lang, f"rank_{rank}") in text
    assert rank not in text


@pytest.mark.parametrize("kind", list(PlaceKind))
@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_place_kind_has_a_label(catalogue: Catalogue, kind: PlaceKind, lang: str) -> None:
    assert catalogue.has(f"kind_{kind.value}")
    assert render.kind_label(catalogue, lang, kind.value) == catalogue.text(
        lang, f"kind_{kind.value}"
    )


@pytest.mark.parametrize("lang", LANGUAGES)
def test_split_street_without_sector_asks_for_the_house_number(
    catalogue: Catalogue, signer: CallbackSigner, lang: str
) -> None:
    reply = render.render_card(
        catalogue, lang, make_candidate(sector=None), house=None, signer=signer
    )
    assert reply.text.startswith(render.capitalise(PLACE_NAMES[lang]))
    assert escape(catalogue.text(lang, "example")) in reply.text
    assert has_location_button(reply)


def test_card_of_a_segment_without_house_shows_the_house_range(
    catalogue: Catalogue, signer: CallbackSigner
) -> None:
    segment = make_candidate(
        document_id="dyu-0001--2", house_start=1, house_end=45, house_parity="odd"
    )
    text = render.render_card(catalogue, "en", segment, house=None, signer=signer).text
    assert "houses 1–45, odd" in text


# --- ambiguous ----------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
def test_ambiguous_offers_at_most_five_places_and_none_of_these(
    catalogue: Catalogue, signer: CallbackSigner, lang: str
) -> None:
    many = [
        make_candidate(document_id=f"dyu-{n:04d}", place_id=f"dyu-{n:04d}") for n in range(1, 8)
    ]
    reply = render.render_resolution(catalogue, lang, ambiguous("Рудаки", *many), signer=signer)
    pairs = buttons(reply)
    assert len(pairs) == 6
    assert pairs[-1] == (catalogue.text(lang, "choices_none"), "x")
    assert decode_press(pairs[0][1], signer, languages=LANGUAGES) == PickPlace("dyu-0001", None)
    assert "Рудаки" in reply.text


@pytest.mark.parametrize("lang", LANGUAGES)
def test_choice_labels_name_the_place_kind_and_district(catalogue: Catalogue, lang: str) -> None:
    label = render.choice_label(catalogue, lang, make_candidate())
    assert PLACE_NAMES[lang] in label
    assert catalogue.text(lang, "kind_avenue") in label
    assert {"tg": "Исмоили Сомонӣ", "ru": "Исмоили Сомони", "en": "Ismoili Somoni"}[lang] in label


def test_choice_label_of_a_street_segment_shows_its_houses(catalogue: Catalogue) -> None:
    segment = make_candidate(
        document_id="dyu-0001--3", house_start=47, house_end=None, house_parity="all"
    )
    assert render.choice_label(catalogue, "ru", segment).endswith("дома от 47")


def test_choice_buttons_carry_the_house_number(
    catalogue: Catalogue, signer: CallbackSigner
) -> None:
    resolution = Resolution(
        query="Айни 45/1",
        status=Status.AMBIGUOUS,
        house=HouseNumber(number=45, building="1"),
        candidates=(make_candidate(), make_candidate(place_id="dyu-0002", document_id="dyu-0002")),
    )
    [(_, first), *_rest] = buttons(
        render.render_choices(catalogue, "ru", resolution, signer=signer)
    )
    assert decode_press(first, signer, languages=LANGUAGES) == PickPlace("dyu-0001", "45/1")


# --- not found and notices ----------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
def test_not_found_explains_how_to_ask_with_the_location_button(
    catalogue: Catalogue, lang: str
) -> None:
    reply = render.render_not_found(catalogue, lang, "Марс 12")
    assert "Марс 12" in reply.text
    assert escape(catalogue.text(lang, "example")) in reply.text
    assert has_location_button(reply)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_text_in_another_town_says_only_dushanbe_is_covered_and_102(
    catalogue: Catalogue, lang: str, signer: CallbackSigner
) -> None:
    elsewhere = Resolution(
        query="г. Худжанд, ул. Ленина 5",
        status=Status.NOT_FOUND,
        parts=AddressParts(elsewhere="хучанд"),
    )
    reply = render.render_resolution(catalogue, lang, elsewhere, signer=signer)
    assert reply.text == render.render_other_town(catalogue, lang, elsewhere.query).text
    assert "102" in reply.text and "Худжанд" in reply.text
    assert reply.text != render.render_not_found(catalogue, lang, elsewhere.query).text
    assert has_location_button(reply)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_welcome_and_help_have_an_example_and_the_location_button(
    catalogue: Catalogue, lang: str
) -> None:
    for reply in (render.render_welcome(catalogue, lang), render.render_help(catalogue, lang)):
        assert escape(catalogue.text(lang, "example")) in reply.text
        assert has_location_button(reply)


@pytest.mark.parametrize(
    "key", ["unavailable", "slow_down", "outside_city", "no_sector_here", "error"]
)
def test_notices_exist_and_differ_in_each_language(catalogue: Catalogue, key: str) -> None:
    texts = {lang: render.render_notice(catalogue, lang, key).text for lang in LANGUAGES}
    assert all(texts.values())
    assert len(set(texts.values())) == len(LANGUAGES)


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("unavailable", {"tg": "дастнорас", "ru": "недоступен", "en": "unavailable"}),
        ("slow_down", {"tg": "зуд", "ru": "Слишком много", "en": "too fast"}),
        (
            "outside_city",
            {"tg": "берун аз Душанбе", "ru": "за пределами Душанбе", "en": "outside Dushanbe"},
        ),
    ],
)
@pytest.mark.parametrize("lang", LANGUAGES)
def test_notices_say_what_happened(
    catalogue: Catalogue, message: str, expected: dict[str, str], lang: str
) -> None:
    assert expected[lang] in render.render_notice(catalogue, lang, message).text


def test_language_menu_names_each_language_in_itself(catalogue: Catalogue) -> None:
    pairs = buttons(render.render_language_menu(catalogue, "en"))
    assert pairs == [("Тоҷикӣ", "l:tg"), ("Русский", "l:ru"), ("English", "l:en")]


# --- escaping -----------------------------------------------------------------------------

HOSTILE = '<b>bold</b> & <a href="tg://x">link</a>'


@pytest.mark.parametrize("lang", LANGUAGES)
def test_user_text_is_escaped_in_not_found_and_choices(
    catalogue: Catalogue, signer: CallbackSigner, lang: str
) -> None:
    not_found = render.render_not_found(catalogue, lang, HOSTILE).text
    choices = render.render_choices(
        catalogue, lang, ambiguous(HOSTILE, make_candidate()), signer=signer
    ).text
    for text in (not_found, choices):
        assert "&lt;b&gt;bold&lt;/b&gt; &amp; &lt;a href=&quot;tg://x&quot;&gt;" in text
        assert "<a " not in text


def test_data_is_escaped_in_the_card(catalogue: Catalogue, signer: CallbackSigner) -> None:
    area = {"name_tg": "A<B", "name_ru": "A<B", "name_en": "A<B"}
    odd = make_candidate(name_en="Tom & Jerry <Mall>", sector=make_sector(**area))
    text = render.render_card(catalogue, "en", odd, house="<1>", signer=signer).text
    assert "Tom &amp; Jerry &lt;Mall&gt;" in text and "A&lt;B" in text and "&lt;1&gt;" in text


def test_a_4096_character_query_is_shortened_in_the_reply(catalogue: Catalogue) -> None:
    text = render.render_not_found(catalogue, "en", "Рудаки " * 600).text
    assert len(text) < 1000
    assert "…" in text


# --- callback data ------------------------------------------------------------------------


@pytest.mark.parametrize("document_id", ["dyu-0005--2", "syn-0123456--12", "nzr-0000001--999"])
@pytest.mark.parametrize("house", [None, "45", "145а/12", "1234567890abcdefgh"])
def test_pick_payload_fits_in_64_bytes_and_reads_back(
    signer: CallbackSigner, document_id: str, house: str | None
) -> None:
    data = encode_pick(document_id, house, signer)
    assert len(data.encode()) <= MAX_CALLBACK_BYTES
    press = decode_press(data, signer, languages=LANGUAGES)
    assert isinstance(press, PickPlace) and press.document_id == document_id


def test_a_house_that_would_overflow_the_payload_is_dropped(signer: CallbackSigner) -> None:
    long_id = "syn-" + "9" * 40
    data = encode_pick(long_id, "ааааааааааа", signer)
    assert decode_press(data, signer, languages=LANGUAGES) == PickPlace(long_id, None)


def test_an_id_too_long_for_telegram_is_refused(signer: CallbackSigner) -> None:
    with pytest.raises(CallbackTooLongError):
        encode_pick("x" * 60, None, signer)


@pytest.mark.parametrize(
    "forged",
    [
        "p:dyu-0005:45:AAAAAAAA",  # wrong signature
        "c:SOM-01:AAAAAAAA",
        "p:dyu-0005:45",  # missing signature
        "l:fr",  # unknown language
        "",
        "garbage",
        "p:dyu-0005:45:" + "A" * 100,
    ],
)
def test_forged_payloads_are_rejected(signer: CallbackSigner, forged: str) -> None:
    assert decode_press(forged, signer, languages=LANGUAGES) is None


def test_a_payload_signed_by_an_earlier_process_is_stale(signer: CallbackSigner) -> None:
    old = encode_pick("dyu-0005", "45", CallbackSigner.random())
    assert decode_press(old, signer, languages=LANGUAGES) is None


def test_a_tampered_place_id_is_rejected(signer: CallbackSigner) -> None:
    data = encode_pick("dyu-0005", "45", signer).replace("dyu-0005", "dyu-0006")
    assert decode_press(data, signer, languages=LANGUAGES) is None


def test_unsigned_payloads_read_back(signer: CallbackSigner) -> None:
    assert decode_press("x", signer, languages=LANGUAGES) == NoneOfThese()
    assert decode_press(encode_language("tg"), signer, languages=LANGUAGES) == ChooseLanguage("tg")
    assert decode_press(
        encode_contact("SHM-123", signer), signer, languages=LANGUAGES
    ) == SendContact("SHM-123")


# --- languages and inline mode ------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "lang"),
    [
        ("tg", "tg"),
        ("ru", "ru"),
        ("ru-RU", "ru"),
        ("uk", "ru"),
        ("uz", "ru"),
        ("kk", "ru"),
        ("en", "en"),
        ("de", "en"),
        (None, "en"),
        ("", "en"),
    ],
)
def test_language_follows_the_telegram_app(code: str | None, lang: str) -> None:
    assert pick_language(code) == lang


def test_inline_mode_offers_a_card_per_candidate_with_a_sector(catalogue: Catalogue) -> None:
    candidates = [make_candidate(document_id=f"dyu-000{n}") for n in range(1, 7)] + [
        make_candidate(sector=None)
    ]
    results = render.render_inline_results(catalogue, "ru", ambiguous("Рудаки", *candidates))
    assert [r.id for r in results] == [f"dyu-000{n}" for n in range(1, 6)]
    assert "Рахимов Джамшед" in results[0].input_message_content.message_text  # type: ignore[attr-defined]


def test_inline_mode_offers_nothing_for_an_unknown_place(catalogue: Catalogue) -> None:
    nothing = Resolution(query="Марс", status=Status.NOT_FOUND)
    assert render.render_inline_results(catalogue, "en", nothing) == []


def test_resolved_renders_the_card(catalogue: Catalogue, signer: CallbackSigner) -> None:
    reply = render.render_resolution(
        catalogue, "en", resolved("Rudaki 45", make_candidate(), 45), signer=signer
    )
    assert "house 45" in reply.text and "Jamshed Rahimov" in reply.text


@pytest.mark.parametrize("lang", LANGUAGES)
def test_segments_of_one_street_ask_which_houses(
    catalogue: Catalogue, signer: CallbackSigner, lang: str
) -> None:
    segments = [
        make_candidate(document_id="dyu-0001--1", house_start=1, house_end=99, house_parity="odd"),
        make_candidate(document_id="dyu-0001--2", house_start=2, house_end=98, house_parity="even"),
    ]
    reply = render.render_choices(catalogue, lang, ambiguous("Рудаки", *segments), signer=signer)
    place = render.capitalise(PLACE_NAMES[lang])
    assert reply.text == catalogue.text(lang, "segments_prompt", place=place)
    labels = [label for label, _ in buttons(reply)]
    assert labels[0].endswith(catalogue.text(lang, "houses_odd"))
    assert labels[1].endswith(catalogue.text(lang, "houses_even"))


def test_every_house_range_of_one_street_gets_a_button(
    catalogue: Catalogue, signer: CallbackSigner
) -> None:
    segments = [
        make_candidate(document_id=f"dyu-0001--{n}", house_start=10 * n - 9, house_end=10 * n)
        for n in range(1, 8)
    ]
    reply = render.render_choices(catalogue, "en", ambiguous("Rudaki", *segments), signer=signer)
    assert len(buttons(reply)) == 8  # seven ranges and "none of these"
