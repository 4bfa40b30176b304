"""Step 2 of the resolver: the readings of a text, each one a way to search it.

A parse and its alternatives become :class:`Reading` values: the name's words in the Cyrillic
fold and the Latin key, the house number and the address words seen. Text typed on the wrong
keyboard layout adds the readings of its fixed form. Pure: values in, values out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from resolver.gazetteer import TermClass
from resolver.models import HouseNumber
from resolver.published import PublishedData
from resolver.text.fold import fold, script_of
from resolver.text.latin import latin_key
from resolver.text.layout import fix_layout
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
        )
        if words and reading not in readings:
            readings.append(reading)
    return readings


def read_text(text: str, vocabulary: Vocabulary) -> list[Reading]:
    """Every reading of ``text``: its parses, then those of its wrong-layout fix, if any."""
    text = truncate_input(text)
    readings = readings_of(parse_query(text, vocabulary), vocabulary)
    fixed = fix_layout(text)
    if fixed:
        language = display_language(fixed)
        readings += [
            replace(r, typed_as=language)
            for r in readings_of(parse_query(fixed, vocabulary), vocabulary)
            if r not in readings
        ]
    return readings


def vocabulary_for(gazetteer: PublishedData) -> Vocabulary:
    """The published address words, knowing which place names take a number (Испечак 2)."""
    names = [
        name
        for place in gazetteer.places
        for name in (
            place.name_tg,
            place.name_ru,
            place.name_en,
            *place.alt_names,
            *place.old_names,
        )
        if name
    ]
    return Vocabulary(gazetteer.terms, numbered_names=numbered_names_from(names))


def display_language(text: str) -> str:
    """Show names in the script the resident typed: Latin -> en, Tajik letters -> tg, else ru."""
    if script_of(text) == "latin":
        return "en"
    return "tg" if any(char in "ҳқғҷӣӯҲҚҒҶӢӮ" for char in text) else "ru"
