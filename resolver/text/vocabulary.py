"""The address words of ``seed/terms.yaml`` (кӯчаи, ул., мкр, д., кв.), matched on folded tokens.

Built once from the loaded seed (:func:`resolver.readings.vocabulary_for`); pure lookups, with the
one-letter-off index built next to the phrases it indexes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from resolver.gazetteer import AddressTerm, TermClass
from resolver.text.distance import edit_distance
from resolver.text.fold import fold, script_of
from resolver.text.latin import latin_key

MAX_PHRASE_WORDS = 4
_ADJECTIVE_END = re.compile(r"(?:[ие]?н?ск[^\W\d_]{1,3}|и|ро)$")  # Сино-йский, Сино-и
_SUFFIX_END = re.compile(r"ск[^\W\d_]{1,3}$")  # Зарафшан-ский
_CASE_ENDINGS = frozenset({"е", "а", "у", "ом", "ои", "ем", "ске", "ска"})
# What an ending adds to a district's name (Latin-keyed): a Russian adjective or case
# (Шохмансур-ский, Фирдавси-йский, Шохмансур-а), a Tajik izafat or object marker (Сино-и,
# Фирдавси-ро).
_ENDING_OF = re.compile(r"^(?:[iey]?n?sk[a-z]{1,3}|i|yi|ii|ro|iro|a|u|e|om)$")
MIN_TYPO_WORD_LETTERS = 6  # address words this long are matched one letter off (микорайон)
MAX_NAME_NUMBER_DIGITS = 2  # "Испечак 2", "Зарафшон 12": longer numbers are houses


@dataclass(frozen=True)
class TermMatch:
    """An address phrase found in the tokens."""

    term_class: TermClass
    size: int
    home_name: bool = False  # the home city or country (Душанбе, Таджикистан): pure filler
    shared: bool = False  # another town's name that is also a Dushanbe name (Бохтар, Ваҳдат)


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
            a Dushanbe name (Бохтар, Гулистон: streets here) is ``shared``: the parser takes it
            for the town only where the text says so (:func:`resolver.text.address.read_towns`).
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
                keys = _phrase_keys(spelling)
                shared = term.term_class is TermClass.OTHER_CITY and any(
                    ours.intersection(key) for key in keys
                )
                for key in keys:
                    phrases.setdefault(key, TermMatch(term.term_class, len(key), home, shared))
        self._phrases: Mapping[tuple[str, ...], TermMatch] = phrases
        self._longest = min(MAX_PHRASE_WORDS, max((len(key) for key in phrases), default=1))
        self._near = _one_letter_off(phrases)
        self.numbered_names = frozenset(numbered_names)
        self.districts: Mapping[tuple[str, ...], str] = dict(districts or {})
        self._district_keys = [
            (tuple(latin_key(word) for word in name), code) for name, code in self.districts.items()
        ]
        self.place_words = ours
        self._words_by_start: dict[str, list[str]] = {}
        for word in ours:
            if len(word) >= 5:
                self._words_by_start.setdefault(word[:2], []).append(word)
        self._home_words = [
            key[0] for key, found in phrases.items() if found.home_name and len(key) == 1
        ]
        self._towns = {
            key[0]: found
            for key, found in phrases.items()
            if found.term_class is TermClass.OTHER_CITY and len(key) == 1
        }

    def town_of(self, word: str) -> TermMatch | None:
        """Another town named in a Russian case form: "в Кулябе", "из Худжанда", "Вахдате"."""
        for size in range(1, 4):
            found = self._towns.get(word[:-size]) if len(word) > size + 3 else None
            if found is not None and word[-size:] in _CASE_ENDINGS:
                return found
        return None

    def is_ours(self, word: str) -> bool:
        """Whether a word is (a form of) a Dushanbe name word: "зарафшанскии" of "зарафшон"."""
        if word in self.place_words:
            return True
        stems = {_ADJECTIVE_END.sub("", word), _SUFFIX_END.sub("", word)}
        return any(
            edit_distance(stem, name, limit=1) <= 1
            for stem in stems
            if len(stem) >= 5
            for name in self._words_by_start.get(stem[:2], ())
        )

    def is_home_like(self, text: str) -> bool:
        """Whether ``text`` is the home city's name, maybe with a typo (Душаннбе, Дкшанбе)."""
        words = text.split()
        return len(words) == 1 and any(
            edit_distance(words[0], home, limit=2) <= 2 for home in self._home_words
        )

    def district_name(self, code: str) -> str | None:
        """The district's name as the index holds it (its first name in the seed), folded."""
        return next((" ".join(name) for name, c in self.districts.items() if c == code), None)

    def district_of(self, words: Sequence[str], *, typos: bool = True) -> str | None:
        """The district that ``words`` name, if any, however it is written.

        "сино", "исмоили сомони", "и сомони" (an initial), "сомони" (the surname alone),
        "shokhmansur" (another romanisation), "шохмансурскии" (a Russian adjective),
        "фирдавсии", "синои", "фирдавсиро" (Tajik izafat and object endings).
        """
        if not words:
            return None
        found = self.districts.get(tuple(words))
        if found is not None:
            return found
        keys = [latin_key(word) for word in words]
        return next(
            (
                code
                for name, code in self._district_keys
                if _names_district(keys, name, typos=typos)
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


def _names_district(words: Sequence[str], name: Sequence[str], *, typos: bool = True) -> bool:
    """Whether Latin-keyed ``words`` write the district ``name``: its last words, each in full
    (an ending or one typo allowed in long words) or as an initial."""
    if not words or len(words) > len(name) or len(words[-1]) < 3:
        return False
    return all(
        _writes_word(word, part, typos=typos)
        for word, part in zip(words, name[-len(words) :], strict=True)
    )


def _writes_word(word: str, name_word: str, *, typos: bool = True) -> bool:
    if word == name_word or (len(word) == 1 and name_word.startswith(word)):
        return True
    if word.startswith(name_word) and _ENDING_OF.match(word[len(name_word) :]):
        return True
    return typos and len(word) >= 5 and edit_distance(word, name_word, limit=1) <= 1


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def _is_city(found: TermMatch) -> bool:
    """Words never matched one letter off: cities and towns are parts of names (Пойтахт), and
    a filler word one letter off is usually a name ("Хороге" is not "хорошо")."""
    return found.term_class in {TermClass.CITY, TermClass.OTHER_CITY, TermClass.FILLER}


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
