"""Fold place text so every way of typing a Dushanbe name meets one searchable form.

One pipeline serves index time (``index_builder.documents``) and query time (``resolver``), addok
style: :data:`FOLD_STEPS` is a tuple of small named functions and :func:`fold` runs them in order.
Everything here is pure and fast (it runs on every query and on every indexed name).

- :func:`fold`: the Cyrillic search form (Tajik letters typed the Russian way, homoglyphs, legacy
  8-bit encodings, punctuation) used for the ``names``/``aliases`` search fields and for queries.
- :func:`latin_key`: an ASCII key in which the romanisation schemes and the Cyrillic spelling of one
  name meet (``Rudaki``, ``Roudaki``, ``Рӯдакӣ``, ``Рудаки`` -> ``rudaki``).
- :func:`fix_layout`: undo text typed on the wrong keyboard layout (``leify,t`` -> ``душанбе``).
- :func:`script_of`: which script a text is written in, to pick the display language.

The rules and the evidence behind them are in ``../shared/reference/tajik_text.md`` (sections cited
as §1.3 etc.).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

from resolver.layout_bigrams import CYRILLIC_PAIR_COUNTS, LATIN_PAIR_COUNTS

FoldStep = Callable[[str], str]
Script = Literal["cyrillic", "latin", "mixed", "none"]

_CYRILLIC_LETTER = re.compile(r"[\u0400-\u052f]")
_LATIN_LETTER = re.compile(r"[A-Za-z\u00c0-\u024f]")
_COMBINING_MARK = re.compile(
    r"[\u0300-\u036f\u0483-\u0489\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]"
)


def _with_capitals(mapping: dict[str, str | None]) -> dict[str, str | None]:
    """Add the upper-case form of every key, mapped to the upper-case form of its value."""
    capitals = {key.upper(): (value.upper() if value else value) for key, value in mapping.items()}
    return {**capitals, **mapping}


def compose_unicode(text: str) -> str:
    """Compose to NFC, so ``и`` + combining macron typed separately becomes ``ӣ`` (§1.1)."""
    return unicodedata.normalize("NFC", text)


# --- legacy 8-bit Tajik fonts (§1.3) ------------------------------------------------------------

# Scheme A (CP1251 Serbian/Macedonian letters): Љумњурии Тољикистон, Ќонуни, тољикї, рўзнома.
_LEGACY_SCHEME_A = str.maketrans(
    _with_capitals({"љ": "ҷ", "њ": "ҳ", "ќ": "қ", "ї": "ӣ", "ў": "ӯ", "ѓ": "ғ"})
)
# Scheme B (adlia.tj): Ѕонуни Їуміурии Тоїикистон, таљйиру иловаіо.
_LEGACY_SCHEME_B = str.maketrans(_with_capitals({"ї": "ҷ", "і": "ҳ", "ѕ": "қ", "љ": "ғ"}))
_LEGACY_HINT = re.compile(r"[љњќїўѓіѕЉЊЌЇЎЃІЅ]")
_SCHEME_B_HINT = re.compile(r"[ѕЅ]|[іІ].*[їљЇЉ]|[їљЇЉ].*[іІ]", re.DOTALL)


def decode_legacy_tajik(text: str) -> str:
    """Decode Tajik letters from legacy 8-bit fonts, choosing the scheme from the text itself.

    Scheme B is recognised by ``ѕ``, or by ``і`` together with ``ї``/``љ``; a lone ``і`` is a
    Ukrainian/Kazakh ``i`` typed for ``и`` and is left to :func:`fold_tajik_letters`.
    """
    if not _LEGACY_HINT.search(text):
        return text
    scheme = _LEGACY_SCHEME_B if _SCHEME_B_HINT.search(text) else _LEGACY_SCHEME_A
    return text.translate(scheme)


# --- Tajik letters and their Russian-keyboard substitutes (§1.2, §1.3, §1.4) --------------------

_TAJIK_LETTERS = str.maketrans(
    _with_capitals(
        {
            # The six Tajik letters, as typed on a Russian keyboard.
            "ҳ": "х", "қ": "к", "ғ": "г", "ҷ": "ч", "ӣ": "и", "ӯ": "у",
            # ё is written е in most Russian text; ў is the Uzbek letter often typed for ӯ.
            "ё": "е", "ў": "у", "ѐ": "е", "ѝ": "и",
            # Look-alikes from Kazakh, Azerbaijani, Khakas, Bashkir... keyboards.
            "һ": "х", "ӽ": "х", "ӿ": "х", "ҹ": "ч", "ӌ": "ч", "ҝ": "к", "ҡ": "к", "ӄ": "к",
            "ҕ": "г", "ӻ": "г", "ѓ": "г", "ќ": "к", "њ": "х", "і": "и", "ї": "и", "є": "е",
            # Letters the 1998 reform dropped: ъ/ь are not written, ы -> и, ц -> с (Сирк), щ -> ш.
            "ъ": None, "ь": None, "ы": "и", "ц": "с", "щ": "ш",
            # е/э are one vowel to a typist.
            "э": "е",
        }
    )
)  # fmt: skip


def fold_tajik_letters(text: str) -> str:
    """Fold Tajik letters and their look-alikes to the Russian-keyboard substitutes (ҳ -> х)."""
    return text.translate(_TAJIK_LETTERS)


def fold_dzh(text: str) -> str:
    """Fold the Russian transcription ``дж`` of ``ҷ`` to ``ч``, so Худжанд meets Хуҷанд."""
    return text.replace("дж", "ч") if "дж" in text else text


# --- homoglyphs (§1.4) ---------------------------------------------------------------------------

# Latin letters that look like Cyrillic ones, for words that are mostly Cyrillic. ``h`` and ``i``
# are how people without a Tajik keyboard fake ҳ and ӣ inside a Cyrillic word (Шоhмансур, Айнi).
# Targets are already folded (ҳ -> х), as this step runs after fold_tajik_letters.
_LATIN_TO_CYRILLIC = str.maketrans(
    {
        "a": "а", "A": "А", "B": "В", "c": "с", "C": "С", "e": "е", "E": "Е", "ë": "е", "Ë": "Е",
        "H": "Н", "h": "х", "i": "и", "I": "И", "ī": "и", "Ī": "И", "K": "К", "k": "к",
        "M": "М", "o": "о", "O": "О", "p": "р", "P": "Р", "T": "Т", "x": "х", "X": "Х", "y": "у",
        "Y": "У", "ū": "у", "Ū": "У",
    }
)  # fmt: skip
# Cyrillic letters that look like Latin ones, for words that are mostly Latin.
_CYRILLIC_TO_LATIN = str.maketrans(
    {
        "а": "a", "А": "A", "В": "B", "е": "e", "Е": "E", "К": "K", "к": "k", "М": "M", "Н": "H",
        "о": "o", "О": "O", "р": "p", "Р": "P", "с": "c", "С": "C", "Т": "T", "у": "y", "У": "Y",
        "х": "x", "Х": "X", "ѕ": "s", "Ѕ": "S", "ј": "j", "Ј": "J",
        # і (already folded to и) in a Latin word: Rudakі
        "и": "i", "И": "I",
    }
)  # fmt: skip
_DIGIT_TO_CYRILLIC = str.maketrans({"3": "з", "0": "о", "6": "б"})
# A look-alike digit between two Cyrillic letters, or leading a word of 3+ Cyrillic letters with a
# vowel ("3арафшон"); "6мкр", "46мкр", "45а" keep their digits.
_DIGIT_IN_CYRILLIC = re.compile(
    r"(?<=[\u0400-\u052f])[036](?=[\u0400-\u052f])"
    r"|(?<![^\W_])[036](?=[\u0400-\u052f]{3})(?=[\u0400-\u052f]*[аеиоуАЕИОУ])"
)
_LETTER_RUN = re.compile(r"[^\W\d_]+")


def _count_scripts(word: str) -> tuple[int, int]:
    cyrillic = latin = 0
    for char in word:
        if "\u0400" <= char <= "\u052f":
            cyrillic += 1
        elif (char.isascii() and char.isalpha()) or "\u00c0" <= char <= "\u024f":
            latin += 1
    return cyrillic, latin


def unify_word_script(word: str) -> str:
    """Rewrite look-alike letters of the minority script in ``word`` into its majority script.

    A tie goes to Cyrillic, the script of most Dushanbe text.
    """
    cyrillic, latin = _count_scripts(word)
    if not (cyrillic and latin):
        return word
    if cyrillic >= latin:
        return word.translate(_LATIN_TO_CYRILLIC)
    return word.translate(_CYRILLIC_TO_LATIN)


def replace_digit_homoglyphs(text: str) -> str:
    """Read 3, 0 and 6 inside Cyrillic letters as з, о and б (``Ру6аки``, ``3арафшон``)."""
    if "3" not in text and "0" not in text and "6" not in text:
        return text
    return _DIGIT_IN_CYRILLIC.sub(lambda m: m.group().translate(_DIGIT_TO_CYRILLIC), text)


def unify_homoglyphs(text: str) -> str:
    """Map Latin/Cyrillic look-alike letters inside each letter run to the run's main script."""
    if not (_CYRILLIC_LETTER.search(text) and _LATIN_LETTER.search(text)):
        return text
    return _LETTER_RUN.sub(lambda m: unify_word_script(m.group()), text)


def lowercase(text: str) -> str:
    """Lowercase (Python maps the Tajik capitals Ҳ Қ Ғ Ҷ Ӣ Ӯ correctly)."""
    return text.lower()


def strip_combining_marks(text: str) -> str:
    """Drop combining marks NFC could not attach (a stray macron) and the dot of Turkish İ."""
    text = text.replace("İ", "I") if "İ" in text else text
    return _COMBINING_MARK.sub("", text) if _COMBINING_MARK.search(text) else text


# --- punctuation, house numbers, spaces ---------------------------------------------------------

_APOSTROPHE = re.compile(r"['’ʼʻ`‘´]")
_APOSTROPHE_IN_WORD = re.compile(r"(?<=[^\W\d_])['’ʼʻ`‘´](?=[^\W\d_])")
_SLASH_BETWEEN_DIGITS = re.compile(r"(?:(?<=\d)|(?<=\d[^\W\d_]))\s*[\\/|]\s*(?=\d)")
_ORDINAL_SUFFIX = re.compile(
    r"(?<=\d)-?(?:ого|ому|ая|ое|ой|ий|ум|уми|ми|го|й|я|е|м|и"
    r"|th|st|nd|rd|ogo|aya|oye|oe|oy|iy|yy|ya|y|ye)(?![^\W_])"
)
_NOT_WORD = re.compile(r"[^\w/]+|_+|(?<!\d)(?<!\d[^\W\d_])/|/(?!\d)")
_LETTER_DIGIT_BOUNDARY = re.compile(r"(?<=[^\W\d_]{2})(?=\d)|(?<=\d)(?=[^\W\d_]{2})")
_DIGIT = re.compile(r"\d")
_SPACES = re.compile(r"\s+")


def join_apostrophes(text: str) -> str:
    """Drop apostrophes inside a word (G'afurov, Sa'di, Ne'mat), as ъ is dropped in Cyrillic."""
    return _APOSTROPHE_IN_WORD.sub("", text) if _APOSTROPHE.search(text) else text


def fold_punctuation(text: str) -> str:
    """Turn punctuation into spaces, keeping house-number shapes.

    ``45\\1`` and ``45 / 1`` become ``45/1``; ``1-й``/``1-уми``/``8-и`` lose their ordinal
    suffix; ``Испечак-2`` and ``Испечак2`` become ``испечак 2`` and ``46мкр`` ``46 мкр``, while a
    single house letter stays attached (``45а``).
    """
    if not _DIGIT.search(text):  # most names: only punctuation to clear
        return _NOT_WORD.sub(" ", text)
    text = _SLASH_BETWEEN_DIGITS.sub("/", text)
    text = _ORDINAL_SUFFIX.sub("", text)
    text = _NOT_WORD.sub(" ", text)
    return _LETTER_DIGIT_BOUNDARY.sub(" ", text)


def collapse_spaces(text: str) -> str:
    """Collapse runs of whitespace to one space and trim."""
    return _SPACES.sub(" ", text).strip()


FOLD_STEPS: tuple[FoldStep, ...] = (
    compose_unicode,
    strip_combining_marks,
    decode_legacy_tajik,
    fold_tajik_letters,
    join_apostrophes,
    replace_digit_homoglyphs,
    unify_homoglyphs,
    lowercase,
    fold_dzh,
    fold_punctuation,
    collapse_spaces,
)


def fold(text: str) -> str:
    """Fold ``text`` into the Cyrillic search form shared by the index and the queries.

    Idempotent: ``fold(fold(x)) == fold(x)``.

    Example:
        >>> fold("Хиёбони  РӮДАКӢ, 45 / 1")
        'хиебони рудаки 45/1'
    """
    for step in FOLD_STEPS:
        text = step(text)
    return text


# --- Latin key -----------------------------------------------------------------------------------

_CYRILLIC_TO_ASCII = str.maketrans(
    {
        "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ж": "zh", "з": "z",
        "и": "i", "И": "I", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p",
        "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ч": "ch", "ш": "sh",
        "ю": "yu", "я": "ya",
    }
)  # fmt: skip
# Letters of the romanisation schemes (§2.1-2.2) that NFD stripping would get wrong.
_LATIN_LETTERS_TO_ASCII = str.maketrans(
    {
        "š": "sh", "č": "ch", "ž": "zh", "ç": "j", "ş": "sh", "ƣ": "gh", "ƶ": "zh", "ġ": "gh",
        "ğ": "gh", "ķ": "q", "ḩ": "h", "ß": "ss", "æ": "ae", "ø": "o", "ı": "i", "ł": "l",
    }
)  # fmt: skip

# (pattern, replacement) applied in order to the ASCII text; see the table in the module docs.
_LATIN_VARIANTS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (r"w", "v"),
        (r"tsch|dsch", "j"),  # German ч / ҷ
        (r"sch", "sh"),  # German Duschanbe
        (r"dzh|dzj|dj|zh|tch|ch", "j"),  # ҷ ч ж in every scheme; fold made ҷ and дж -> ч
        (r"ts", "s"),  # ц -> с in fold; Tsementzavod
        (r"ck", "k"),
        (r"c(?=[eiy])", "s"),  # Central, Circus
        (r"c", "k"),  # Clara, Cafe
        (r"kh|x", "h"),  # х: kh (BGN), x (Uzbek/Wiktionary), h (Tajik ҳ is h too)
        (r"gh", "g"),  # ғ
        (r"q", "k"),  # қ
        (r"ou", "u"),  # French Roudaki, Rasoulov
        (r"yo", "e"),  # ё folds to е
        (r"y", "i"),  # й ӣ: Ayni / Aini
        (r"([a-z])\1+", r"\1"),  # doubled letters: Каххоров / Kahorov, Hissar / Hisor
    )
)
_ANY_LATIN_VARIANT = re.compile("|".join(f"(?:{p.pattern})" for p, _ in _LATIN_VARIANTS))
_NON_ASCII_WORD = re.compile(r"[^a-z0-9/ ]+")


def transliterate_cyrillic(text: str) -> str:
    """Transliterate folded Cyrillic to ASCII by a fixed table (х -> kh, ч -> ch, ж -> zh)."""
    return text.translate(_CYRILLIC_TO_ASCII)


def asciify_latin(text: str) -> str:
    """Map scheme letters (š č ž ç ƣ ķ) to digraphs and strip the remaining accents."""
    text = text.translate(_LATIN_LETTERS_TO_ASCII)
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFD", text)
    return _NON_ASCII_WORD.sub("", decomposed)


def collapse_latin_variants(text: str) -> str:
    """Collapse spelling variants of the romanisation schemes into one ASCII spelling.

    The rules run until nothing changes (a rule can make another apply: ``oou`` -> ``ou`` ->
    ``u``), so a key is its own key.
    """
    while True:
        for pattern, replacement in _LATIN_VARIANTS:
            text = pattern.sub(replacement, text)
        if not _ANY_LATIN_VARIANT.search(text):
            return text


def split_letters_from_digits(text: str) -> str:
    """Split ``0ae`` -> ``0 ae`` and ``ae45`` -> ``ae 45`` as :func:`fold` does."""
    return _LETTER_DIGIT_BOUNDARY.sub(" ", text) if _DIGIT.search(text) else text


def latin_key(text: str) -> str:
    """Return the ASCII key in which Cyrillic and every Latin romanisation of a name meet.

    The key is for matching, not for display: ``Рӯдакӣ``, ``Рудаки``, ``Rudaki`` and ``Roudaki``
    all give ``rudaki``; ``Хуҷанд``, ``Худжанд``, ``Khujand`` and ``Khudzhand`` give ``hujand``.

    Example:
        >>> latin_key("Shakhmansur") == latin_key("Шахмансур")
        True
    """
    folded = fold(text)
    ascii_text = asciify_latin(transliterate_cyrillic(folded))
    return collapse_spaces(split_letters_from_digits(collapse_latin_variants(ascii_text)))


# --- script --------------------------------------------------------------------------------------

MIXED_MINORITY_SHARE = 0.2


def script_of(text: str) -> Script:
    """Tell which script ``text`` is written in, by its letters.

    ``mixed`` when both Latin and Cyrillic letters are present and the smaller share is at least
    a fifth of the letters; ``none`` without Latin or Cyrillic letters (digits, emoji, Arabic).
    """
    cyrillic, latin = _count_scripts(text)
    if not cyrillic and not latin:
        return "none"
    if min(cyrillic, latin) >= MIXED_MINORITY_SHARE * (cyrillic + latin):
        return "mixed"
    return "cyrillic" if cyrillic > latin else "latin"


# --- wrong keyboard layout (§1.3, §4) -----------------------------------------------------------

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


def edit_distance(a: str, b: str, *, limit: int) -> int:
    """Levenshtein distance with adjacent transposition, cut off above ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            cost = 0 if char_a == char_b else 1
            best = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and char_a == b[j - 2] and a[i - 2] == char_b:
                best = min(best, previous2[j - 2] + 1)
            current.append(best)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]
