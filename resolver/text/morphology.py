"""Bring Russian common words to one form, so "рядом с цирком" meets "цирк".

Residents decline the words around and inside place names ("возле Зелёного базара", "за
Национальной библиотекой", "по улице Джаббора Расулова"). Typo tolerance cannot bridge a case
ending on a short word ("цирком" is two edits from "цирк"), so index and query both pass their
Russian words through one lemmatiser: :func:`lemmatize_text` replaces each declined common noun,
adjective or participle with its dictionary form and leaves everything else as typed.

Proper names are never touched: a word the dictionary does not know (Айни, Шерозӣ, Сино), one it
tags as a name, surname, patronymic or place name (Рудаки, Шотемур, Душанбе), a word with a Tajik
letter, and any word of the gazetteer's Tajik names (``protected``: Хона, Кохи, Поён look like
Russian word forms but are Tajik) stay as they are.

The analyser itself (pymorphy3 and its Russian dictionaries) sits behind the small
:class:`Morphology` protocol; :class:`PymorphyMorphology` loads it once (about 15 MB, 0.15 s)
and caches each word's answer. Callers that want no morphology pass :data:`NO_MORPHOLOGY`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Protocol

from resolver.text.fold import fold

# Grammemes that mark a proper name: such words are never brought to another form.
PROPER_GRAMMEMES = frozenset({"Name", "Surn", "Patr", "Geox", "Orgn", "Trad", "Abbr", "Init"})
# Parts of speech that carry case endings and are common words when not proper names.
DECLINED_PARTS = frozenset({"NOUN", "ADJF", "ADJS", "PRTF"})
# Parts of speech that name no place: prepositions, conjunctions, particles, interjections,
# pronouns ("по", "и", "же", "ой", "меня"), and the words of a sentence around a place: verbs
# and adverbs ("украли", "живу", "сейчас"). A text with these is a sentence, not an address.
FUNCTION_PARTS = frozenset({"PREP", "CONJ", "PRCL", "INTJ", "NPRO"})
SENTENCE_PARTS = frozenset({"VERB", "INFN", "GRND", "PRTS", "PRED", "ADVB"})
TAJIK_LETTERS = frozenset("ҳқғҷӣӯҲҚҒҶӢӮ")
MIN_SENTENCE_WORDS = 3  # fewer words are a name, maybe mistyped into a verb form (Точив)
MIN_LEMMA_LETTERS = 3  # "уши" -> "ухо": two-letter stems are too easily a Tajik word
_CYRILLIC_WORD = re.compile(r"[\u0400-\u052f]+")


class Morphology(Protocol):
    """What the text pipeline asks of a morphological analyser."""

    def lemma(self, word: str) -> str:
        """The dictionary form of a declined common word; the word itself otherwise."""
        ...

    def is_function_word(self, word: str) -> bool:
        """Tell whether a word names no place: a preposition, pronoun, verb or adverb."""
        ...

    def is_verb(self, word: str) -> bool:
        """Tell whether a word is a verb or adverb: the text around it is a sentence."""
        ...


class _NoMorphology:
    """Leaves every word as typed (tests, and callers without the dictionaries)."""

    def lemma(self, word: str) -> str:
        return word

    def is_function_word(self, word: str) -> bool:
        return False

    def is_verb(self, word: str) -> bool:
        return False


NO_MORPHOLOGY: Morphology = _NoMorphology()


class PymorphyMorphology:
    """:class:`Morphology` over pymorphy3's Russian dictionaries.

    Args:
        protected: Words never lemmatised (compared lower-cased): the gazetteer's Tajik name
            words, which Russian morphology would misread.
    """

    def __init__(self, *, protected: Iterable[str] = ()) -> None:
        self._analyzer = _russian_analyzer()
        self._protected = frozenset(word.lower() for word in protected)
        self._lemmas: dict[str, str] = {}  # the cache lives with the words it caches
        self._parts: dict[str, str] = {}

    def lemma(self, word: str) -> str:
        """The dictionary form of a declined common Russian word; the word itself otherwise."""
        found = self._lemmas.get(word)
        if found is None:
            found = self._lemmas[word] = self._lemma(word)
        return found

    def is_function_word(self, word: str) -> bool:
        """Tell whether a Russian word names no place: a preposition, pronoun, verb, adverb."""
        return self.part_of(word) in FUNCTION_PARTS | SENTENCE_PARTS

    def is_verb(self, word: str) -> bool:
        """Tell whether a Russian word is a verb or adverb (the text is a sentence)."""
        return self.part_of(word) in SENTENCE_PARTS

    def part_of(self, word: str) -> str:
        """The part of speech of a known Russian word ("" for others and protected words)."""
        found = self._parts.get(word)
        if found is None:
            found = self._parts[word] = self._part_of(word)
        return found

    def _lemma(self, word: str) -> str:
        lowered = word.lower()
        if len(word) < MIN_LEMMA_LETTERS or lowered in self._protected:
            return word
        if TAJIK_LETTERS.intersection(word):
            return word
        best = self._analyzer.parse(lowered)[0]
        tag = best.tag
        if not best.is_known or tag.POS not in DECLINED_PARTS:
            return word
        if PROPER_GRAMMEMES.intersection(tag.grammemes):
            return word
        lemma = str(best.normal_form)
        return word if len(lemma) < MIN_LEMMA_LETTERS else lemma

    def _part_of(self, word: str) -> str:
        lowered = word.lower()
        if len(word) < 2 or lowered in self._protected or TAJIK_LETTERS.intersection(word):
            return ""
        best = self._analyzer.parse(lowered)[0]
        return str(best.tag.POS) if best.is_known and best.tag.POS else ""


@dataclass(frozen=True)
class WordForms:
    """What morphology says of a text's words, keyed by their folded form (as tokens are)."""

    lemmas: Mapping[str, str] = field(default_factory=dict)  # folded word -> folded lemma
    function_words: frozenset[str] = frozenset()  # folded words that name no place
    sentence: bool = False  # the text has a verb or adverb: a sentence, not an address


def word_forms(text: str, morphology: Morphology) -> WordForms:
    """Read each Cyrillic word of ``text`` once: its lemma and whether it names no place.

    Words are looked up as typed (the dictionaries know "цирком", not its folded "сирком") and
    reported by their folded form, the form the parser's tokens carry.
    """
    lemmas: dict[str, str] = {}
    function: set[str] = set()
    sentence = False
    words = _CYRILLIC_WORD.findall(text)
    long_enough = len(words) >= MIN_SENTENCE_WORDS  # "П. Точив" is a name with a typo
    for word in words:
        folded = fold(word)
        lemma = morphology.lemma(word)
        if lemma != word and (folded_lemma := fold(lemma)) != folded:
            lemmas[folded] = folded_lemma
        verb = morphology.is_verb(word)
        if morphology.is_function_word(word) and (long_enough or not verb):
            function.add(folded)
            sentence = sentence or verb
    return WordForms(lemmas, frozenset(function), sentence)


@cache
def _russian_analyzer() -> Any:
    """pymorphy3's analyser over its Russian dictionaries, loaded once per process (read-only)."""
    import pymorphy3  # noqa: PLC0415 (loaded on first use: the dictionaries are 15 MB)

    return pymorphy3.MorphAnalyzer()


def lemmatize_text(text: str, morphology: Morphology) -> str:
    """Replace each declined Russian common word of ``text`` with its dictionary form.

    Example:
        >>> lemmatize_text("рядом с цирком", NO_MORPHOLOGY)
        'рядом с цирком'
    """
    return _CYRILLIC_WORD.sub(lambda found: morphology.lemma(found.group(0)), text)


def protected_words(names: Iterable[str]) -> frozenset[str]:
    """The words of Tajik names that Russian morphology must leave alone (lower-cased)."""
    return frozenset(word.lower() for name in names for word in _CYRILLIC_WORD.findall(name))
