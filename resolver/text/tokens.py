"""Tokens: the folded words of a text, with what the parser learns about each one.

Pure. :func:`tokenize` folds each part of the text (split at commas, semicolons, line breaks,
brackets and sentence ends) into :class:`Token` values that the parse steps annotate in place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from resolver.gazetteer import TermClass
from resolver.text.fold import fold
from resolver.text.vocabulary import TermMatch

MAX_HOUSE_NUMBER = 9999

HOUSE_TOKEN = re.compile(r"^(\d{1,4})([^\W\d_])?(?:/(\d{1,4}[^\W\d_]?))?$")
# Parts of an address: commas, semicolons, line breaks, brackets, and the ends of sentences
# ("Здравствуйте! Подскажите ...", "Рудаки 45 (БЦ Созидание)").
_SEGMENT_BREAK = re.compile(r"[,;:\n\r\t()!?]+")
_GLUED_NUMBER = re.compile(r"[^\W\d_]-(\d{1,2})(?![\d/])")
_HYPHEN_LETTER = re.compile(r"\d-([^\W\d_])(?![^\W\d_])")  # 109-A: the house's letter
_DOTTED_LETTER = re.compile(r"(?<![^\W\d_])([^\W\d_])\.")  # "С." of "С. Шерозӣ", "Н.Махсум"
_MARKED_NUMBER = re.compile(r"[№#]\s*(\d{1,4})")
# "1-й проезд", "3-я больница", "2-y proezd", "гузаргоҳи 1-уми": ordinals are never houses.
_ORDINAL_NUMBER = re.compile(
    r"(\d{1,3})-?(?:ого|ая|ое|ой|ий|ый|ум|уми|го|й|я|th|st|nd|rd|ogo|aya|oye|oy|iy|yy|ya|y)"
    r"(?![^\W_])",
    re.IGNORECASE,
)


def split_segments(text: str) -> list[str]:
    """Split at commas, semicolons, line breaks, brackets and ``!``/``?`` ("Рудаки 18, кв 10")."""
    return [part for part in _SEGMENT_BREAK.split(text) if part.strip()]


@dataclass
class Token:
    """A folded word with what the parser learned about it."""

    text: str
    segment: int
    term: TermMatch | None = None
    # name | term | drop (a later word of a phrase) | aside (a word that names no place: filler,
    # a function word) | house | flat | block | floor | office | entrance | postcode
    role: str = "name"
    glued: bool = False  # joined to the previous word by a hyphen in the text (Испечак-2)
    marked: bool = False  # written after № or #
    filler: bool = False  # the home city or its city word: not reported in term_classes
    ordinal: bool = False  # written as an ordinal (1-й, 3-я, 2-y): part of a name
    dotted: bool = False  # a single letter written with a dot (С. Шерозӣ): an initial
    notes: list[str] = field(default_factory=list)

    @property
    def is_number(self) -> bool:
        """A bare number (no letter, no slash)."""
        return self.text.isdigit()

    @property
    def is_house_shape(self) -> bool:
        """45, 45а, 45/1, 45а/1 in the house-number range."""
        found = HOUSE_TOKEN.match(self.text)
        return bool(found) and 0 < int(found.group(1)) <= MAX_HOUSE_NUMBER if found else False


def tokenize(text: str) -> list[Token]:
    """Fold each comma-separated part of ``text`` into tokens, noting glued and № numbers."""
    tokens: list[Token] = []
    for index, segment in enumerate(split_segments(text)):
        glued = set(_GLUED_NUMBER.findall(segment)) | {
            fold(letter) for letter in _HYPHEN_LETTER.findall(segment)
        }
        marked = set(_MARKED_NUMBER.findall(segment))
        ordinal = set(_ORDINAL_NUMBER.findall(segment))
        dotted = {fold(letter) for letter in _DOTTED_LETTER.findall(segment)}
        tokens += [
            Token(
                w,
                index,
                glued=w in glued,
                marked=w in marked,
                ordinal=w in ordinal,
                dotted=len(w) == 1 and w in dotted,
            )
            for w in fold(segment).split()
        ]
    return tokens


def neighbour(tokens: list[Token], i: int, step: int) -> Token | None:
    """The nearest token at ``i + step`` that is not dropped, in the same segment."""
    j = i + step
    while 0 <= j < len(tokens) and tokens[j].role == "drop":
        j += step
    if 0 <= j < len(tokens) and tokens[j].segment == tokens[i].segment:
        return tokens[j]
    return None


def term_class(token: Token | None) -> TermClass | None:
    """The address-word class of a token, if it is one."""
    return token.term.term_class if token is not None and token.term is not None else None
