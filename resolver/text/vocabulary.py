"""The address words of ``seed/terms.yaml`` (кӯчаи, ул., мкр, д., кв.), matched on folded tokens.

Built once from the loaded seed (:func:`resolver.readings.vocabulary_for`); pure lookups, with the
one-letter-off index built next to the phrases it indexes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from resolver.gazetteer import AddressTerm, TermClass
from resolver.text.fold import fold, script_of
from resolver.text.latin import latin_key

MAX_PHRASE_WORDS = 4
# What a Russian adjective adds to a district's name: Шохмансур-ский, Фирдавси-йский (folded).
_ADJECTIVE_OF = re.compile(r"^[ие]?н?ск[^\W\d_]{1,3}$")
MIN_TYPO_WORD_LETTERS = 6  # address words this long are matched one letter off (микорайон)
MAX_NAME_NUMBER_DIGITS = 2  # "Испечак 2", "Зарафшон 12": longer numbers are houses


@dataclass(frozen=True)
class TermMatch:
    """An address phrase found in the tokens."""

    term_class: TermClass
    size: int
    home_name: bool = False  # the home city or country (Душанбе, Таджикистан): pure filler


def _phrase_keys(spelling: str) -> list[tuple[str, ...]]:
    """The token tuples a spelling matches: folded, and Latin-keyed for Latin spellings."""
    folded = tuple(fold(spelling).split())
    keys = [folded] if folded else []
    if folded and script_of(spelling) == "latin":
        keys.append(tuple(latin_key(spelling).split()))
    return keys


class Vocabulary:
    """Address words of ``seed/terms.yaml``, matched on folded tokens (longest phrase first).

    Args:
        terms: The address terms (``Gazetteer.aliases.terms``).
        numbered_names: Folded "name number" pairs that are place names (``испечак 2``), so
            "Испечак 2" reads as a name first; see :func:`numbered_names_from`.
        place_words: Folded words of the gazetteer's names. Another town's name that is also
            a Dushanbe name (Бустон, Гулистон) is not taken for that town.
        districts: Folded district names (without their type word) and the district each names:
            ``("сино",) -> "sino"``, so "район Сино" beside a street is read as context.
    """

    def __init__(
        self,
        terms: Iterable[AddressTerm],
        *,
        numbered_names: Iterable[str] = (),
        place_words: Iterable[str] = (),
        districts: Mapping[tuple[str, ...], str] | None = None,
    ) -> None:
        ours = frozenset(place_words)
        phrases: dict[tuple[str, ...], TermMatch] = {}
        for term in terms:
            for spelling in term.spellings:
                home = term.term_class is TermClass.CITY and spelling[:1].isupper()
                for key in _phrase_keys(spelling):
                    if term.term_class is TermClass.OTHER_CITY and ours.intersection(key):
                        continue
                    phrases.setdefault(key, TermMatch(term.term_class, len(key), home))
        self._phrases: Mapping[tuple[str, ...], TermMatch] = phrases
        self._longest = min(MAX_PHRASE_WORDS, max((len(key) for key in phrases), default=1))
        self._near = _one_letter_off(phrases)
        self.numbered_names = frozenset(numbered_names)
        self.districts: Mapping[tuple[str, ...], str] = dict(districts or {})

    def district_of(self, words: Sequence[str]) -> str | None:
        """The district that ``words`` name ("сино", "исмоили сомони", "шохмансурскии"), if any.

        A Russian adjective of a district name ("Шохмансурский район") starts with the name.
        """
        key = tuple(words)
        found = self.districts.get(key)
        if found is not None or len(key) != 1:
            return found
        return next(
            (
                code
                for name, code in self.districts.items()
                if len(name) == 1
                and _ADJECTIVE_OF.match(key[0].removeprefix(name[0]))
                and key[0].startswith(name[0])
            ),
            None,
        )

    def match(self, words: Sequence[str], start: int) -> TermMatch | None:
        """Return the longest address phrase starting at ``words[start]``, if any."""
        for size in range(min(self._longest, len(words) - start), 0, -1):
            found = self._phrases.get(tuple(words[start : start + size]))
            if found is not None:
                return found
        return None

    def match_typo(self, word: str) -> TermMatch | None:
        """Match a long word one letter off a long address word (``микорайон``, ``проез``)."""
        if len(word) < MIN_TYPO_WORD_LETTERS - 1 or word.isdigit():
            return None
        exact = self._phrases
        if (found := self._near.get(word)) is not None:  # a letter left out
            return found
        for variant in _deletions(word):  # a letter added, or one letter replaced
            found = exact.get((variant,)) or self._near.get(variant)
            long_enough = len(word) >= MIN_TYPO_WORD_LETTERS
            if found is not None and long_enough and not _is_city(found):
                return found
        return None

    def match_latin(self, word: str) -> TermMatch | None:
        """Match one Latin word by its Latin key (``khiyoboni``, ``hiyoboni``, ``xiyoboni``)."""
        found = self._phrases.get((latin_key(word),))
        return found if found is not None and found.size == 1 else None


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def _is_city(found: TermMatch) -> bool:
    return found.term_class in {TermClass.CITY, TermClass.OTHER_CITY}


def _one_letter_off(phrases: Mapping[tuple[str, ...], TermMatch]) -> dict[str, TermMatch]:
    """Index every long one-word address term by its one-letter deletions (SymSpell style).

    City words are left out: near-misses of them are parts of names (Таджикистана, Пойтахт).
    """
    near: dict[str, TermMatch] = {}
    for key, found in phrases.items():
        if len(key) == 1 and len(key[0]) >= MIN_TYPO_WORD_LETTERS and not _is_city(found):
            for variant in _deletions(key[0]):
                if (variant,) not in phrases:
                    near.setdefault(variant, found)
    return near


def numbered_names_from(names: Iterable[str]) -> frozenset[str]:
    """Collect the folded "word number" pairs of place names (``Испечак-2`` -> ``испечак 2``).

    The resolver passes the gazetteer's names, so "Испечак 2" reads as a name first while
    "Испечак 28" stays a house number.
    """
    found: set[str] = set()
    for name in names:
        words = fold(name).split()
        found.update(
            f"{words[i - 1]} {words[i]}"
            for i in range(1, len(words))
            if words[i].isdigit()
            and len(words[i]) <= MAX_NAME_NUMBER_DIGITS
            and not words[i - 1].isdigit()
        )
    return frozenset(found)
