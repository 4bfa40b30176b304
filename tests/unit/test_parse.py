"""Reading a query: the name, the house number, address words and filler, as tables."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from index_builder.published import published_data
from index_builder.seed.load import load_gazetteer
from resolver.gazetteer import AddressTerm, TermClass
from resolver.models import HouseNumber
from resolver.readings import vocabulary_for
from resolver.text.fold import fold
from resolver.text.parse import MAX_NAME_WORDS, ParsedQuery, parse_query
from resolver.text.vocabulary import Vocabulary, numbered_names_from

GAZETTEER = load_gazetteer(Path(__file__).resolve().parents[2] / "seed")
SEED_TERMS = GAZETTEER.aliases.terms
VOCABULARY = vocabulary_for(published_data(GAZETTEER))  # as the product composes it


def parse(text: str) -> ParsedQuery:
    return parse_query(text, VOCABULARY)


def house(
    number: int, letter: str | None = None, building: str | None = None, flat: str | None = None
) -> HouseNumber:
    return HouseNumber(number=number, letter=letter, building=building, flat=flat)


# --- house numbers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name", "expected"),
    [
        ("Айни 45", "айни", house(45)),
        ("Айни 45а", "айни", house(45, "а")),
        ("Айни 45 а", "айни", house(45, "а")),
        ("Айни 45А", "айни", house(45, "а")),
        ("Айни 45/1", "айни", house(45, building="1")),
        ("Айни 45\\1", "айни", house(45, building="1")),
        ("Айни 45 / 2", "айни", house(45, building="2")),
        ("Айни 45а/1", "айни", house(45, "а", "1")),
        ("Айни д. 45", "айни", house(45)),
        ("Айни дом 45", "айни", house(45)),
        ("Айни д45", "айни", house(45)),
        ("кӯчаи Айнӣ, хонаи 45", "айни", house(45)),
        ("Айни х. 45", "айни", house(45)),
        ("ул. Айни №45", "айни", house(45)),
        ("ул. Айни, д. 45", "айни", house(45)),
        ("Айни 45 кв 12", "айни", house(45, flat="12")),
        ("Айни 45, кв. 12", "айни", house(45, flat="12")),
        ("Айни 45 квартира 12", "айни", house(45, flat="12")),
        ("Айни 45 корп 2", "айни", house(45, building="2")),
        ("Айни 45, корп. 2", "айни", house(45, building="2")),
        ("Айни д. 45 к. 2", "айни", house(45, building="2")),
        ("Рудаки 18, кв 10", "рудаки", house(18, flat="10")),
        ("Рудаки 18-10", "рудаки", house(18, flat="10")),
        ("83 Rudaki", "rudaki", house(83)),
        ("хиёбони Рӯдакӣ -40", "рудаки", house(40)),
        ("Rudaki st. 45", "rudaki", house(45)),
        ("Rudaki 93/1", "rudaki", house(93, building="1")),
        ("54/9 Shotimur", "shotimur", house(54, building="9")),
        ("кучаи Бустон-3 127, кв. 60", "бустон 3", house(127, flat="60")),
        ("54 Чиноро-2", "чиноро 2", house(54)),
        (
            "кӯчаи Мирзо Турсунзода, гузаргоҳи якум 57, кв. 36",
            "мирзо турсунзода якум",
            house(57, flat="36"),
        ),
        ("улица 8 марта 12", "8 марта", house(12)),
        ("19 Р. Амакиев", "амакиев", house(19)),  # an initial is not a house letter
    ],
)
def test_reads_the_house_number_in_every_form_people_write(
    text: str, name: str, expected: HouseNumber
) -> None:
    parsed = parse(text)
    assert (parsed.name, parsed.house) == (name, expected)


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("91 мкр", "91"),
        ("мкр 46", "46"),
        ("46мкр", "46"),
        ("мкр. 46", "46"),
        ("15А микрорайон", "15а"),
        ("шаҳраки 102", "102"),
        ("шаҳраки №114", "114"),
        ("маҳаллаи 10", "10"),
        ("102 microdistrict", "102"),
        ("8 марта", "8 марта"),
        ("8 Marta", "8 marta"),
        ("площадь 800-летия Москвы", "800 летия москви"),
        ("40-letiya Oktyabrya", "40 letiya oktyabrya"),
        ("кӯчаи 50 солагии Тоҷикистон", "50 солагии"),
        ("1-й проезд", "1"),
        ("2-y proezd", "2"),
        ("гузаргоҳи 2", "2"),
        ("гузаргоҳи 1-уми Неъмат Қарабоев", "1 немат карабоев"),
        ("3-я Республиканская больница", "3 республиканская болниса"),
        ("Испечак-2", "испечак 2"),
        ("Зарафшон 2", "зарафшон 2"),
        ("мкр Испечак 2", "испечак 2"),
        ("101", "101"),  # a number alone names a microdistrict
        ("81 микорайон", "81"),  # a misspelt microdistrict word still binds its number
        ("88 микрроайн", "88"),
        ("65 микоррйаон", "65"),
        ("91 мкирорацон", "91"),
    ],
)
def test_keeps_numbers_that_are_part_of_a_name(text: str, name: str) -> None:
    parsed = parse(text)
    assert (parsed.name, parsed.house) == (name, None)


@pytest.mark.parametrize(
    ("text", "primary", "alternative"),
    [
        ("Испечак 2", ("испечак 2", None), ("испечак", house(2))),
        ("Испечак-2", ("испечак 2", None), ("испечак", house(2))),
        ("Рудаки 2", ("рудаки", house(2)), ("рудаки 2", None)),  # one digit: unsure
        ("Sino 2", ("sino", house(2)), ("sino 2", None)),
        ("больница №1", ("болниса", house(1)), ("болниса 1", None)),
        ("Айни №45", ("айни", house(45)), ("айни 45", None)),
        ("гостиница Душанбе", ("гостиниса", None), ("гостиниса душанбе", None)),
    ],
)
def test_keeps_both_readings_when_a_number_or_the_city_name_is_unsure(
    text: str,
    primary: tuple[str, HouseNumber | None],
    alternative: tuple[str, HouseNumber | None],
) -> None:
    parsed = parse(text)
    assert (parsed.name, parsed.house) == primary
    assert [(a.name, a.house) for a in parsed.alternatives] == [alternative]


@pytest.mark.parametrize("text", ["Рудаки 45", "Айни 45/1", "91 мкр", "Испечак 28", "Зарафшон 12"])
def test_is_sure_of_multi_digit_house_numbers_and_bound_numbers(text: str) -> None:
    assert parse(text).alternatives == ()


def test_reads_house_in_a_numbered_name_only_for_known_pairs() -> None:
    assert parse("Испечак 28").house == house(28)
    assert parse("Зарафшон 2").house is None


# --- address words -------------------------------------------------------------------------------


# (class, where the word goes, the name left, spellings people use)
ADDRESS_WORDS: list[tuple[TermClass, str, str, tuple[str, ...]]] = [
    (
        TermClass.STREET,
        "{} Айни",
        "айни",
        ("кӯчаи", "кучаи", "кӯча", "улица", "ул.", "ул", "ulitsa", "street", "st.", "kuchai"),
    ),
    (TermClass.STREET, "Айни {}", "айни", ("street", "str.", "kuchasi", "ko'chasi", "улица")),
    (
        TermClass.AVENUE,
        "{} Рудаки",
        "рудаки",
        ("хиёбони", "хиебони", "хиёб.", "проспект", "пр-т", "пр-кт", "пр.", "просп."),
    ),
    (TermClass.AVENUE, "{} Rudaki", "rudaki", ("prospekt", "khiyoboni", "hiyoboni", "xiyoboni")),
    (TermClass.AVENUE, "Rudaki {}", "rudaki", ("avenue", "ave.", "Ave")),
    (
        TermClass.PASSAGE,
        "{} Айни",
        "айни",
        ("гузаргоҳи", "гуз.", "переулок", "пер.", "проезд", "пр-д", "тупик", "проез"),
    ),
    (TermClass.SQUARE, "{} Айни", "айни", ("майдони", "площадь", "пл.", "maydoni", "square")),
    (
        TermClass.MAHALLA,
        "{} Мирзобек",
        "мирзобек",
        ("маҳаллаи", "маҳалла", "маҳ.", "махалля", "mahalla", "mahallai"),
    ),
    (
        TermClass.MICRODISTRICT,
        "{} 46",
        "46",
        ("мкр", "мкр.", "мкрн", "микрорайон", "микорайон", "шаҳраки", "microdistrict", "mkr"),
    ),
    (TermClass.DISTRICT, "{} Сино", "сино", ("ноҳияи", "нохияи", "район", "р-н", "nohiyai")),
    (TermClass.DISTRICT, "Sino {}", "sino", ("district", "rayon")),
    (
        TermClass.MARKET,
        "{} Корвон",
        "корвон",
        ("бозори", "бозор", "рынок", "базар", "bazaar", "bozori", "market"),
    ),
    (TermClass.PARK, "{} Рудаки", "рудаки", ("боғи", "парк", "сквер", "park")),
    (
        TermClass.MALL,
        "{} Садбарг",
        "садбарг",
        ("маркази савдо", "торговый центр", "ТЦ", "mall", "savdo markazi"),
    ),
    (
        TermClass.NEAR,
        "{} ЦУМ",
        "сум",
        ("назди", "дар назди", "рядом", "рядом с", "возле", "около", "напротив", "near"),
    ),
    (TermClass.CITY, "{} Ромит", "ромит", ("шаҳри", "город", "shahri")),  # a place not ours
    (TermClass.HOUSE, "Айни {} 45", "айни", ("д.", "дом", "хонаи", "х.", "house")),
    (TermClass.FLAT, "Айни 45 {} 12", "айни", ("кв.", "кв", "квартира", "flat", "apt.")),
    (TermClass.BLOCK, "Айни 45 {} 2", "айни", ("корп.", "корпус", "блок", "block")),
]


@pytest.mark.parametrize(
    ("text", "term_class", "name"),
    [
        (template.format(word), term_class, name)
        for term_class, template, name, words in ADDRESS_WORDS
        for word in words
    ],
)
def test_recognises_each_address_word_and_removes_it_from_the_name(
    text: str, term_class: TermClass, name: str
) -> None:
    parsed = parse(text)
    assert term_class in parsed.term_classes
    assert parsed.name == name


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("кӯчаи Айнӣ", "айни"),
        ("ул. Айни", "айни"),
        ("пр-т Рудаки", "рудаки"),
        ("Rudaki avenue", "rudaki"),
        ("khiyoboni Rudaki", "rudaki"),
        ("назди бозори Корвон", "корвон"),
        ("рядом с ЦУМ", "сум"),
        ("И. Сомонӣ", "сомони"),  # initials go: Meilisearch would need the one-letter word
        ("Н.Махсум", "махсум"),  # н. is an initial here, not ноҳияи
        ("Дом печати", "дом печати"),  # a unit word with no number is part of the name
        ("Маркази миллии тиббӣ", "маркази миллии тибби"),
    ],
)
def test_the_name_keeps_only_the_place_words(text: str, name: str) -> None:
    assert parse(text).name == name


# --- filler --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "г. Душанбе, ул. Айни",
        "шаҳри Душанбе, кӯчаи Айнӣ",
        "ш. Душанбе кӯчаи Айнӣ",
        "Душанбе, Айни",
        "Айни, Душанбе",
        "Айни, Dushanbe, Tajikistan",
        "ул. Айни г. Душанбе Республика Таджикистан",
        "Айни, Ҷумҳурии Тоҷикистон",
        "Айни?!",
        "Айни!!!",
        "«Айни»...",
    ],
)
def test_drops_the_home_city_country_and_punctuation(text: str) -> None:
    parsed = parse(text)
    assert parsed.name == "айни"
    assert TermClass.CITY not in parsed.term_classes


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("мне нужен участковый улица Бохтар, Душанбе", "бохтар"),
        ("я живу на улица Гагарина пожалуйста", "гагарина"),
        ("где кучаи Балъами?", "балами"),
        ("ман дар кӯчаи Айнӣ зиндагӣ мекунам", "айни"),
        ("I live on Rudaki avenue, please", "rudaki"),
    ],
)
def test_drops_conversational_filler(text: str, name: str) -> None:
    parsed = parse(text)
    assert parsed.name == name
    assert TermClass.FILLER not in parsed.term_classes


@pytest.mark.parametrize(
    ("text", "name"),
    [("Capital Park Dushanbe", "capital park dushanbe"), ("Бозор", "бозор"), ("парк", "парк")],
)
def test_a_name_made_only_of_address_words_keeps_them(text: str, name: str) -> None:
    assert parse(text).name == name


@pytest.mark.parametrize(
    ("text", "french"),
    [("bazar Chokhmansour", "shokhmansour"), ("ploshchad Chakhidon", "shakhidon")],
)
def test_latin_ch_is_also_read_the_french_way(text: str, french: str) -> None:
    assert french in [a.name for a in parse(text).alternatives]


@pytest.mark.parametrize("text", ["Родильный дом № 2", "улица Хусейнзода 8, Родильный дом № 2"])
def test_the_number_of_an_institution_is_never_the_house(text: str) -> None:
    parsed = parse(text)
    assert parsed.house is None or parsed.house.number == 8
    assert "2" in " ".join([parsed.name, *(a.name for a in parsed.alternatives)]).split()


def test_a_city_word_before_another_town_is_reported_as_elsewhere() -> None:
    assert parse("шаҳри Ҳисор, кӯчаи Айнӣ").parts.elsewhere == "хисор"


# --- input bounds --------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", "🎉🎉🎉", "\x00\x01\x02", "?!?!", "\u200b\u200b"])
def test_text_without_words_gives_an_empty_reading(text: str) -> None:
    parsed = parse(text)
    assert (parsed.name, parsed.house, parsed.alternatives) == ("", None, ())
    assert parsed.original == text


def test_a_4096_character_text_is_cut_to_ten_words() -> None:
    text = ("Рудаки Айни Сино " * 300)[:4096]
    parsed = parse(text)
    assert len(parsed.name.split()) == MAX_NAME_WORDS
    assert parsed.original == text


def test_control_characters_separate_words() -> None:
    assert parse("Рудаки\x0045\x07").name == "рудаки"
    assert parse("Рудаки\x0045\x07").house == house(45)


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ('"Рудаки"', "рудаки"),  # Meilisearch phrase search
        ("-Рудаки", "рудаки"),  # Meilisearch negation
        ("Рудаки -Айни", "рудаки айни"),
        ('"-Рудаки" "45', "рудаки"),
    ],
)
def test_meilisearch_query_syntax_is_neutralised(text: str, name: str) -> None:
    parsed = parse(text)
    assert parsed.name == name
    assert '"' not in parsed.name and not any(w.startswith("-") for w in parsed.name.split())


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=200))
def test_any_text_parses_into_at_most_ten_safe_words(text: str) -> None:
    parsed = parse(text)
    for reading in (parsed, *parsed.alternatives):
        words = reading.name.split()
        assert len(words) <= MAX_NAME_WORDS
        assert all('"' not in w and not w.startswith("-") for w in words)
        assert fold(reading.name) == reading.name


# --- terms file ----------------------------------------------------------------------------------


def test_seed_terms_cover_every_class_the_parser_uses() -> None:
    classes = {term.term_class for term in SEED_TERMS}
    assert classes == set(TermClass)


def test_seed_terms_fold_to_one_class_each() -> None:
    seen: dict[str, TermClass] = {}
    for term in SEED_TERMS:
        for spelling in term.spellings:
            folded = fold(spelling)
            assert folded, spelling
            assert seen.setdefault(folded, term.term_class) is term.term_class, spelling


def test_vocabulary_from_a_small_term_list() -> None:
    vocabulary = Vocabulary([AddressTerm(term_class=TermClass.STREET, spellings=("кӯчаи",))])
    parsed = parse_query("кучаи Айни 45", vocabulary)
    assert (parsed.name, parsed.house, parsed.term_classes) == (
        "айни",
        house(45),
        (TermClass.STREET,),
    )


def test_numbered_names_are_read_from_place_names() -> None:
    names = ["Испечак-2", "маҳаллаи Зарафшон 2", "шаҳраки 102", "Рудаки"]
    assert numbered_names_from(names) == {"испечак 2", "зарафшон 2"}
