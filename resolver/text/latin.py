"""The Latin key: one ASCII form in which Cyrillic and every Latin romanisation of a name meet.

``Rudaki``, ``Roudaki``, ``Рӯдакӣ`` and ``Рудаки`` all give ``rudaki`` (``../shared/reference/
tajik_text.md`` §3). Used for the ``*_latin`` search fields and for Latin queries.
"""

from __future__ import annotations

import re
import unicodedata

from resolver.text.fold import DIGIT, LETTER_DIGIT_BOUNDARY, collapse_spaces, fold

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
    return LETTER_DIGIT_BOUNDARY.sub(" ", text) if DIGIT.search(text) else text


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
