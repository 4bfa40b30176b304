"""Undo text typed on the wrong keyboard layout (``leify,t`` -> ``душанбе``), §1.3 and §4.

A word converts only when its ЙЦУКЕН reading is clearly likelier as a Cyrillic place-name word
than the word itself as a Latin one, by the letter-pair models of
:mod:`resolver.text.layout_bigrams`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

from resolver.text.layout_bigrams import CYRILLIC_PAIR_COUNTS, LATIN_PAIR_COUNTS

QWERTY_KEYS = "qwertyuiop[]asdfghjkl;'zxcvbnm,.`QWERTYUIOP{}ASDFGHJKL:\"ZXCVBNM<>~"
JCUKEN_KEYS = "йцукенгшщзхъфывапролджэячсмитьбюёЙЦУКЕНГШЩЗХЪФЫВАПРОЛДЖЭЯЧСМИТЬБЮЁ"
_QWERTY_TO_JCUKEN = str.maketrans(QWERTY_KEYS, JCUKEN_KEYS)
# Russian keys that the Tajik layout re-assigns (ц щ ы ь - = for қ ҳ ҷ ӣ ғ ӯ).
_RUSSIAN_TO_TAJIK = str.maketrans("цщыь-=ЦЩЫЬ", "қҳҷӣғӯҚҲҶӢ")

_QWERTY_WORD = re.compile(r"[A-Za-z\[\]{};:'\"`~,.<>]+")
# Layout punctuation between letters (leify,t) or ending a word ([ ] ; ` for х ъ ж ё). Not the
# apostrophe: Uzbek-style Latin writes g' and o' (ko'chasi).
_QWERTY_PUNCT_INSIDE = re.compile(r"[A-Za-z][\[\]{};:\"`~,.<>]+[A-Za-z]|[\[\]{};:\"`~]$")
_IMPOSSIBLE_CYRILLIC = re.compile(
    r"^[ьъыЬЪЫ]|[ьъ][ьъы]|[йЙ][ьъ]|[бвгджзйклмнпрстфхцчшщ]{5}", re.IGNORECASE
)
_CYRILLIC_RUN = re.compile(r"(?<![\w=-])[=-]?[\u0400-\u04ff=][\u0400-\u04ff=-]*")
_TAJIK_LAYOUT_MARKER = re.compile(
    r"=|^-|^[ыЫ]|[аеиоуэюяАЕИОУЭЮЯ][ыьЫЬ]|[кгхцКГХЦ][ьыЬЫ]|[ьЬ][аоуыэАОУЫЭ]"
    r"|[щЩ](?=[бвгджзклмнпрстфхцчшщ]|$)"
)
# How much likelier (mean log-probability per letter pair) the ЙЦУКЕН reading of a Latin word
# must be as a Cyrillic place-name word than the word itself as a Latin one. Trained on half of
# the gazetteer, tested on the other half (scripts/make_layout_bigrams.py --evaluate): no Latin
# name word converted, 95% of the Cyrillic words typed on QWERTY recovered.
MIN_LAYOUT_LIKELIHOOD_GAIN = 1.0
MIN_LAYOUT_WORD_LETTERS = 3
MAX_ACRONYM_LETTERS = 5
_PAIR_SMOOTHING = 0.5


@dataclass(frozen=True)
class PairModel:
    """Letter-pair counts of one script's place-name words, as a smoothed probability model."""

    counts: Mapping[str, int]
    pair_space: int  # how many pairs the alphabet allows, for add-half smoothing

    @cached_property
    def _denominator(self) -> float:
        return sum(self.counts.values()) + _PAIR_SMOOTHING * self.pair_space

    def mean_log_probability(self, word: str) -> float:
        """The mean log-probability of the word's letter pairs."""
        pairs = edge_bigrams(word)
        logs = (
            math.log((self.counts.get(p, 0) + _PAIR_SMOOTHING) / self._denominator) for p in pairs
        )
        return sum(logs) / len(pairs)


CYRILLIC_PAIRS = PairModel(CYRILLIC_PAIR_COUNTS, 40 * 40)
LATIN_PAIRS = PairModel(LATIN_PAIR_COUNTS, 30 * 30)


def edge_bigrams(word: str) -> list[str]:
    """The letter pairs of a lower-cased word, with ``^`` and ``$`` marking its edges."""
    marked = f"^{word.lower()}$"
    return [marked[i : i + 2] for i in range(len(marked) - 1)]


def layout_likelihood_gain(
    word: str, *, cyrillic: PairModel = CYRILLIC_PAIRS, latin: PairModel = LATIN_PAIRS
) -> float:
    """How much more a Latin word looks like its ЙЦУКЕН reading than like a Latin name word."""
    converted = word.translate(_QWERTY_TO_JCUKEN)
    return cyrillic.mean_log_probability(converted) - latin.mean_log_probability(word)


def _is_acronym(word: str) -> bool:
    return word.isupper() and len(word) <= MAX_ACRONYM_LETTERS


def _read_trailing_punctuation(word: str, core: str) -> str:
    """``fypj,`` -> ``анзоб``: a trailing , or . is б/ю when that reads likelier."""
    whole, converted = word.translate(_QWERTY_TO_JCUKEN), core.translate(_QWERTY_TO_JCUKEN)
    if whole != converted and layout_likelihood_gain(word) >= layout_likelihood_gain(core):
        return whole
    return converted + word[len(core) :]


def qwerty_word_to_russian(word: str) -> str | None:
    """Read one Latin word as Russian typed on an English layout, if that is plausible.

    The ЙЦУКЕН reading must be clearly likelier as a place-name word than the Latin word itself
    (letter-pair statistics of the gazetteer), or the word must carry layout punctuation between
    its letters (``leify,t``). Romanised names (``Rudaki``, ``Shakhmansur``) stay.
    """
    core = word.rstrip(",.")
    if sum(char.isalpha() for char in core) < MIN_LAYOUT_WORD_LETTERS or _is_acronym(core):
        return None
    if _IMPOSSIBLE_CYRILLIC.search(core.translate(_QWERTY_TO_JCUKEN)):
        return None
    keyed = _QWERTY_PUNCT_INSIDE.search(core) is not None
    if not keyed and layout_likelihood_gain(core) < MIN_LAYOUT_LIKELIHOOD_GAIN:
        return None
    return _read_trailing_punctuation(word, core)


def _qwerty_word_in_wrong_layout_text(word: str) -> str:
    """Once a text is known to be mistyped, its other Latin words are too (``nw`` -> тц,
    ``nuve`` -> тгму): people do not switch layouts in the middle of a short query."""
    core = word.rstrip(",.")
    return _read_trailing_punctuation(word, core) if core else word


def russian_word_to_tajik(word: str) -> str | None:
    """Read one Cyrillic word as Tajik typed on the Russian layout (``Р=дакь`` -> ``Рӯдакӣ``).

    Only words with a sign Russian spelling cannot produce are converted: ``=``, a leading ``-``
    or ``ы``, ``ы``/``ь`` after a vowel or after к г х ц, ``ь`` before a hard vowel, ``щ`` before
    a consonant or at the end.
    """
    if not _TAJIK_LAYOUT_MARKER.search(word):
        return None
    return word.translate(_RUSSIAN_TO_TAJIK)


def fix_layout(text: str) -> str | None:
    """Undo text typed on the wrong keyboard layout, or return None when it does not look so.

    Handles Russian typed on an English layout (``leify,t`` -> ``душанбе``) and Tajik typed on a
    Russian layout (``к=чаи Дещоть`` -> ``кӯчаи Деҳотӣ``). One clearly mistyped word puts the
    whole text in that mode, so its other words convert too (``nw ,fhfrfn`` -> ``тц баракат``).
    """
    tajik = any(russian_word_to_tajik(w) for w in _CYRILLIC_RUN.findall(text))
    qwerty = any(qwerty_word_to_russian(w) for w in _QWERTY_WORD.findall(text))
    if not (tajik or qwerty):
        return None
    if tajik:
        text = _CYRILLIC_RUN.sub(lambda m: m.group().translate(_RUSSIAN_TO_TAJIK), text)
    if qwerty:
        text = _QWERTY_WORD.sub(lambda m: _qwerty_word_in_wrong_layout_text(m.group()), text)
    return text
