"""Fold place text so every way of typing a Dushanbe name meets one searchable form.

One pipeline serves index time (``index_builder.documents``) and query time (``resolver``), addok
style: :data:`FOLD_STEPS` is a tuple of small named functions and :func:`fold` runs them in order.
Everything here is pure and fast (it runs on every query and on every indexed name).

- :func:`fold`: the Cyrillic search form (Tajik letters typed the Russian way, homoglyphs, legacy
  8-bit encodings, punctuation) used for the ``names``/``aliases`` search fields and for queries.
- :func:`script_of`: which script a text is written in, to pick the display language.

The rules and the evidence behind them are in ``../shared/reference/tajik_text.md`` (sections cited
as §1.3 etc.).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import Literal

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
LETTER_DIGIT_BOUNDARY = re.compile(r"(?<=[^\W\d_]{2})(?=\d)|(?<=\d)(?=[^\W\d_]{2})")
DIGIT = re.compile(r"\d")
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
    if not DIGIT.search(text):  # most names: only punctuation to clear
        return _NOT_WORD.sub(" ", text)
    text = _SLASH_BETWEEN_DIGITS.sub("/", text)
    text = _ORDINAL_SUFFIX.sub("", text)
    text = _NOT_WORD.sub(" ", text)
    return LETTER_DIGIT_BOUNDARY.sub(" ", text)


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
