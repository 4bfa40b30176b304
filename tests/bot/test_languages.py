"""Every text and every card in the reader's language: no word of another language in it.

Proper names (the place, the inspector) and quotations («the old name», «the query») may stay in
their own script; the names inside office addresses and sector areas may too, but their letters must
fit the language; everything else is checked: a Russian text has no Tajik letters or Tajik-only
words, a Tajik text no Russian-only letters or words, an English text no Cyrillic at all, and the
proper names an English text does carry hold no Cyrillic street-type or sector word.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from functools import cache

import pytest

from bot import render
from bot.callbacks import CallbackSigner
from bot.i18n import LANGUAGES, Catalogue, load_catalogue
from index_builder.published import published_data, published_place
from index_builder.seed.load import load_gazetteer
from index_builder.seed.models import Gazetteer, Place
from resolver.gazetteer import Sector
from resolver.link import Linker, Pick
from resolver.models import Candidate, HouseNumber, Resolution, Status
from resolver.published import PublishedData
from search_platform.settings import PROJECT_ROOT

SIGNER = CallbackSigner(secret=b"languages")
_WORD = re.compile(r"[^\W\d_]+(?:[-'][^\W\d_]+)*", re.UNICODE)
_CODE = re.compile(r"<code>.*?</code>|<[^>]+>|«[^»]*»", re.DOTALL)
_CYRILLIC = re.compile(r"[Ѐ-ӿ]")
TAJIK_LETTERS = frozenset("ӣӯҳқғҷӢӮҲҚҒҶ")
RUSSIAN_ONLY_LETTERS = frozenset("ыщьцЫЩЬЦ")
# Words a card must never carry in Cyrillic when it is English (street types, sector words).
CYRILLIC_TYPE_WORDS = frozenset(
    {"улица", "ул", "проспект", "пр", "кӯчаи", "кӯча", "хиёбони", "махалля", "маҳаллаи"}
    | {"микрорайон", "шаҳраки", "площадь", "майдони", "участок", "минтақаи", "район", "ноҳияи"}
)


@cache
def gazetteer() -> Gazetteer:
    """The real seed."""
    return load_gazetteer(PROJECT_ROOT / "seed")


@cache
def catalogue() -> Catalogue:
    """The real catalogues."""
    return load_catalogue()


def words(text: str) -> list[str]:
    """The words of a rendered text, without HTML tags and ``<code>`` examples."""
    return _WORD.findall(_CODE.sub(" ", text))


@cache
def vocabulary(lang: str) -> frozenset[str]:
    """Every word of one catalogue, lower-cased."""
    texts = catalogue().messages[lang].values()
    return frozenset(word.lower() for text in texts for word in words(text))


def foreign_words(lang: str) -> frozenset[str]:
    """Catalogue words of the other Cyrillic language that ``lang`` never uses."""
    other = {"ru": "tg", "tg": "ru"}.get(lang)
    return vocabulary(other) - vocabulary(lang) if other else frozenset()


def problems(
    lang: str, text: str, proper_names: frozenset[str], data_names: frozenset[str] = frozenset()
) -> list[str]:
    """The words of ``text`` that belong to another language than ``lang``.

    ``proper_names`` may be in any script (but an English text names no Cyrillic street type);
    ``data_names`` (office streets, areas) may be words the catalogues do not know, in the letters
    of ``lang``. One-letter words are initials (``С. Р. Афардӣ``).
    """
    found = []
    for word in words(text):
        lower = word.lower()
        if lower in proper_names:
            found += [word] if lang == "en" and lower in CYRILLIC_TYPE_WORDS else []
            continue
        letters = set(word)
        if (
            (lang == "en" and _CYRILLIC.search(word))
            or (lang == "ru" and letters & TAJIK_LETTERS)
            or (lang == "tg" and letters & RUSSIAN_ONLY_LETTERS)
            or (len(word) > 1 and lower in foreign_words(lang) and lower not in data_names)
        ):
            found.append(word)
    return found


def sector_data(sector: Sector | None) -> frozenset[str]:
    """The words of a sector's office addresses and area names."""
    if sector is None:
        return frozenset()
    return names_of(
        sector.office_address_tg, sector.office_address_ru, sector.office_address_en,
        sector.name_tg, sector.name_ru, sector.name_en,
    )  # fmt: skip


def names_of(*texts: str | None) -> frozenset[str]:
    """The words of proper names, lower-cased."""
    return frozenset(w.lower() for text in texts if text for w in _WORD.findall(text))


@cache
def published() -> PublishedData:
    """The seed as the resolver reads it back from the published data."""
    return published_data(gazetteer())


def sample_places() -> list[Place]:
    """Every seventh place (of every kind) and every split street."""
    split = {link.place_id for link in gazetteer().links if link.houses is not None}
    places = gazetteer().places
    return [p for i, p in enumerate(places) if i % 7 == 0 or p.id in split]


def candidates_of(place: Place, old_name: str | None) -> list[Candidate]:
    """The candidates the resolver links for a place (each segment of a split street)."""
    linker = Linker(published())
    picks = linker.link_place(published_place(place), None, Pick(0.9, (), "ru"))
    return [c.model_copy(update={"matched_old_name": old_name}) for c in picks]


def card_texts(lang: str, candidate: Candidate) -> Iterator[str]:
    """The texts a resident can see about one candidate."""
    cat = catalogue()
    yield render.render_card(cat, lang, candidate, house="12", signer=SIGNER).text
    yield render.choice_label(cat, lang, candidate)
    one = Resolution(query="x", status=Status.AMBIGUOUS, candidates=(candidate,))
    yield render.render_resolution(cat, lang, one, signer=SIGNER).text
    yield from (article.title for article in render.render_inline_results(cat, lang, one))


def proper_names(candidate: Candidate) -> frozenset[str]:
    """The names a card about ``candidate`` may show in their own script."""
    officer = candidate.officer
    people = (officer.name_tg, officer.name_ru, officer.name_en) if officer else ()
    places = (candidate.name_tg, candidate.name_ru, candidate.name_en, candidate.matched_old_name)
    return names_of(*people, *places)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_catalogue_text_is_in_its_own_language(lang: str) -> None:
    values: defaultdict[str, str] = defaultdict(lambda: "1")
    for key, template in catalogue().messages[lang].items():
        text = template.format_map(values)
        assert problems(lang, text, frozenset()) == [], f"{lang}.yaml {key}: {text}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_card_of_a_sample_of_places_is_in_the_readers_language(lang: str) -> None:
    bad: list[str] = []
    for place in sample_places():
        old = place.old_names[0] if place.old_names else None
        for candidate in candidates_of(place, old):
            for text in card_texts(lang, candidate):
                found = problems(lang, text, proper_names(candidate), sector_data(candidate.sector))
                bad += [f"{place.id}: {found} in {text!r}"] if found else []
    assert bad == []


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_sector_card_is_in_the_readers_language(lang: str) -> None:
    bad: list[str] = []
    for sector in gazetteer().sectors:
        text = render.render_location_card(catalogue(), lang, sector, signer=SIGNER).text
        found = problems(lang, text, names_of(*officer_names(sector)), sector_data(sector))
        bad += [f"{sector.id}: {found}"] if found else []
    assert bad == []


def officer_names(sector: Sector) -> tuple[str, ...]:
    """The inspector's spellings."""
    officer = sector.officer
    return officer.name_tg, officer.name_ru, officer.name_en


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_split_street_question_is_in_the_readers_language(lang: str) -> None:
    rudaki = next(p for p in gazetteer().places if p.id == "dyu-0013")
    segments = tuple(candidates_of(rudaki, "улица Ленина"))
    question = Resolution(query="x", status=Status.AMBIGUOUS, candidates=segments)
    reply = render.render_resolution(catalogue(), lang, question, signer=SIGNER)
    labels = [b.text for row in getattr(reply.markup, "inline_keyboard", ()) for b in row]
    for text in (reply.text, *labels):
        names = proper_names(segments[0])
        assert problems(lang, text, names, sector_data(segments[0].sector)) == [], text


def test_an_english_card_of_a_street_without_an_english_name_has_no_cyrillic_type_word() -> None:
    street = next(
        p for p in gazetteer().places if p.name_ru and not p.name_en and p.kind == "street"
    )
    candidate = candidates_of(street, None)[0]
    resolution = Resolution(
        query="x", status=Status.RESOLVED, house=HouseNumber(number=3), candidates=(candidate,)
    )
    text = render.render_resolution(catalogue(), "en", resolution, signer=SIGNER).text
    assert not {w.lower() for w in words(text)} & CYRILLIC_TYPE_WORDS, text


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_card_names_the_district_as_places_yaml_does(lang: str) -> None:
    districts = {p.districts[0]: p for p in gazetteer().places if p.kind == "district"}
    for sector in gazetteer().sectors:
        line = render.sector_line(catalogue(), lang, sector)
        name = getattr(districts[sector.district], f"name_{lang}")
        assert line.endswith(f", {name}"), line
        proper = " ".join(w for w in name.split() if w not in {"район", "district", "ноҳияи"})
        assert line.count(proper) == 1, line  # the district is named once


_TAGS = re.compile(r"<code>.*?</code>|<[^>]+>", re.DOTALL)
_SENTENCE_START = re.compile(r"(?:^|[.!?]\s+)\W*?([^\W\d_])", re.UNICODE)
FRAGMENTS = ("kind_", "houses_", "day_", "place_", "confirm_why_", "example", "language_name")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_sentence_starts_with_a_capital(lang: str) -> None:
    values: defaultdict[str, str] = defaultdict(lambda: "1")
    for key, template in catalogue().messages[lang].items():
        if key.startswith(FRAGMENTS):
            continue
        text = _TAGS.sub("", template.format_map(values))
        for line in text.splitlines():
            if line.lstrip().startswith(("•", "/")):  # list items and commands are not sentences
                continue
            starts = [m.group(1) for m in _SENTENCE_START.finditer(line)]
            lower = [letter for letter in starts if letter.upper() != letter]  # ℹ has no case
            assert lower == [], f"{lang}.yaml {key}: {line}"
