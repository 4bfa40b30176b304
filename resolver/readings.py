"""Step 2 of the resolver: the readings of a text, each one a way to search it.

A parse and its alternatives become :class:`Reading` values: the name's words in the Cyrillic
fold and the Latin key, the house number and the address words seen. Text typed on the wrong
keyboard layout adds the readings of its fixed form. Pure: values in, values out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from resolver.gazetteer import Aliases, PlaceKind, TermClass
from resolver.models import AddressParts, HouseNumber
from resolver.published import PublishedData, PublishedPlace
from resolver.text.fold import fold, script_of
from resolver.text.latin import latin_key
from resolver.text.layout import fix_layout
from resolver.text.morphology import (
    NO_MORPHOLOGY,
    Morphology,
    PymorphyMorphology,
    protected_words,
)
from resolver.text.parse import ParsedQuery, parse_query, truncate_input
from resolver.text.vocabulary import Vocabulary, numbered_names_from

MAX_QUERY_WORDS = 10


@dataclass(frozen=True)
class Reading:
    """One way to read the text: the name's words in both scripts and the house number."""

    cyrillic: tuple[str, ...]
    latin: tuple[str, ...]
    house: HouseNumber | None
    terms: frozenset[TermClass]
    extra: tuple[str, ...] = ()  # words of the text set aside by the parser (type words, initials)
    # A fallback reading of text the parser took for filler alone ("Душанбе"): it may offer
    # places named so, but never settles on one.
    fallback: bool = False
    # Text typed with the wrong keyboard layout: the resident meant Cyrillic, so names are shown
    # in the language of that text, not in the Latin letters that reached us.
    typed_as: str | None = None
    # One part of a composite address read alone (resolver.text.address): the districts the
    # text names, the words of other parts it leaves unexplained, and its stage (2: context,
    # searched only when the specific parts find nothing).
    districts: frozenset[str] = frozenset()
    leftover: int = 0
    stage: int = 1
    sentence: bool = False  # a sentence around the place: a name read with a typo only asks
    initials: tuple[str, ...] = ()  # one-letter words before a name word (Х. Шерози)


def is_searchable(word: str) -> bool:
    """Tell whether a word can match the index: it has a Latin or Cyrillic letter or a digit.

    Dushanbe's names are indexed in Cyrillic and Latin only. Words in other scripts (東京, שלום,
    سلام) can match nothing, and a Chinese, Japanese or Korean word would make Meilisearch load a
    dictionary on first use (seconds, past the resolver's timeout), so they are not searched.
    """
    return any(char.isdigit() or ("a" <= char <= "z") or ("а" <= char <= "я") for char in word)


def names_only_home(words: Sequence[str], vocabulary: Vocabulary) -> bool:
    """Tell whether ``words`` are just the home city or country ("Душанбе", "г. Душанбе")."""
    found = vocabulary.match(words, 0) if words else None
    return found is not None and found.home_name and found.size == len(words)


def readings_of(parsed: ParsedQuery, vocabulary: Vocabulary) -> list[Reading]:
    """Turn a parse and its alternatives into distinct readings."""
    readings: list[Reading] = []
    all_words = fold(parsed.original).split()
    for option in (parsed, *parsed.alternatives):
        named = option.name.split()
        words = tuple(w for w in named if is_searchable(w))[:MAX_QUERY_WORDS]
        set_aside = [w for w in dict.fromkeys(all_words) if w not in words and not w.isdigit()]
        extra = tuple(dict.fromkeys([*set_aside, *latin_key(" ".join(set_aside)).split()]))
        reading = Reading(
            words,
            tuple(latin_key(option.name).split())[:MAX_QUERY_WORDS],
            option.house,
            frozenset(option.term_classes),
            extra[:MAX_QUERY_WORDS],
            fallback=not parsed.name
            or len(words) < min(len(named), MAX_QUERY_WORDS)  # a word no index field can hold
            or parsed.name.replace(" ", "").isdigit()  # "12": a number alone names nothing
            or names_only_home(parsed.name.split(), vocabulary),
            districts=option.districts,
            leftover=option.leftover,
            stage=option.stage,
            sentence=option.sentence,
            initials=option.initials,
        )
        if words and reading not in readings:
            readings.append(reading)
    return readings


@dataclass(frozen=True)
class TextReadings:
    """What the text says besides its place (the parts), and each way to search it."""

    readings: list[Reading]
    parts: AddressParts


def read_text(
    text: str, vocabulary: Vocabulary, *, morphology: Morphology = NO_MORPHOLOGY
) -> TextReadings:
    """Every reading of ``text``: its parses, then those of its wrong-layout fix, if any."""
    text = truncate_input(text)
    parsed = parse_query(text, vocabulary, morphology=morphology)
    readings = readings_of(parsed, vocabulary)
    fixed = fix_layout(text)
    if fixed:
        language = display_language(fixed)
        readings += [
            replace(r, typed_as=language)
            for r in readings_of(parse_query(fixed, vocabulary, morphology=morphology), vocabulary)
            if r not in readings
        ]
    return TextReadings(readings, parsed.parts)


def names_of(place: PublishedPlace) -> list[str]:
    """Every current, alternative and old name of a place."""
    names = (place.name_tg, place.name_ru, place.name_en, *place.alt_names, *place.old_names)
    return [name for name in names if name]


def vocabulary_for(gazetteer: PublishedData) -> Vocabulary:
    """The published address words, with what parsing needs to know of the place names.

    Which place names take a number (Испечак 2), every folded name word (another town's name
    that is also ours is not taken for that town), and the names of the districts.
    """
    aliases: dict[str, list[str]] = {}
    for alias in gazetteer.aliases.places:
        aliases.setdefault(alias.place_id, []).append(alias.alias)
    named = [(place, [*names_of(place), *aliases.get(place.id, ())]) for place in gazetteer.places]
    every_name = [name for _, names in named for name in names]
    words = {word for name in every_name for word in fold(name).split()}
    words |= {word for name in every_name for word in latin_key(name).split()}
    plain = Vocabulary(gazetteer.aliases.terms)
    districts = {
        key: place.districts[0].value
        for place, names in named
        if place.kind is PlaceKind.DISTRICT and len(place.districts) == 1
        for name in names
        if (key := district_key(name, plain))
    }
    return Vocabulary(
        gazetteer.aliases.terms,
        numbered_names=numbered_names_from(every_name),
        place_words=words,
        districts=districts,
    )


class TajikNamed(Protocol):
    """A place with a Tajik name (a seed place or a published one)."""

    @property
    def name_tg(self) -> str | None:
        """The Tajik name."""
        ...


class NamedPlaces(Protocol):
    """Places and their aliases: the seed (index time) or the published data (query time)."""

    @property
    def places(self) -> Sequence[TajikNamed]:
        """The places."""
        ...

    @property
    def aliases(self) -> Aliases:
        """Their aliases."""
        ...


def morphology_for(gazetteer: NamedPlaces) -> Morphology:
    """The Russian morphology both the index and the queries go through.

    The words of the gazetteer's Tajik names are protected: Russian morphology would misread
    some of them (Хона, Кохи, Поён). Index and query build it from the same gazetteer.
    """
    tajik = [place.name_tg for place in gazetteer.places if place.name_tg]
    tajik += [alias.alias for alias in gazetteer.aliases.places if alias.lang == "tg"]
    return PymorphyMorphology(protected=protected_words(tajik))


def district_key(name: str, vocabulary: Vocabulary) -> tuple[str, ...]:
    """A district's name without its type word: "ноҳияи Сино" -> ("сино",)."""
    words = fold(name).split()
    return tuple(
        word
        for i, word in enumerate(words)
        if (found := vocabulary.match(words, i)) is None
        or found.term_class is not TermClass.DISTRICT
    )


def display_language(text: str) -> str:
    """Show names in the script the resident typed: Latin -> en, Tajik letters -> tg, else ru."""
    if script_of(text) == "latin":
        return "en"
    return "tg" if any(char in "ҳқғҷӣӯҲҚҒҶӢӮ" for char in text) else "ru"
