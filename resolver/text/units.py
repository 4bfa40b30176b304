"""Read the parts of a building an address names, so their numbers never pass for the house.

Organisations publish their addresses down to the room: "ул. Лохути, 26, каб. 314", "ул.
Маяковского 37 кв. 43 подъезд 1", "6 этаж, 602", "ОШЁНАИ ЯКУМ ХУЧРАИ № 2", "734025, г. Душанбе".
Each processor here marks tokens in place (pure, on :class:`~resolver.text.tokens.Token` values):

    mark_postcodes            734025                   -> postcode
    set_aside_function_words  по, за, меня, украли     -> aside (words that name no place)
    read_numbers_before_units 5-й этаж, 2 подъезд      -> floor / entrance / office
    read_unit_values          этаж 5, каб. 314, ошёнаи якум, блок А -> floor / office / section
    read_office_after_floor   6 этаж, 602              -> office
"""

from __future__ import annotations

import re
from collections.abc import Collection

from resolver.gazetteer import TermClass
from resolver.text.tokens import Token, neighbour, term_class

# Classes whose word announces a number that is not the house (the number after or before it).
BUILDING_PART_CLASSES = {
    TermClass.FLOOR: "floor",
    TermClass.ENTRANCE: "entrance",
    TermClass.OFFICE: "office",
}
# Tajik and Russian ordinal words for floors and entrances ("ошёнаи якум", "первый этаж").
ORDINAL_WORDS = {
    **dict.fromkeys(("якум", "якуми", "первыи", "первом", "first"), "1"),
    **dict.fromkeys(("дуюм", "дуюми", "второи", "втором", "second"), "2"),
    **dict.fromkeys(("сеюм", "сеюми", "третии", "третьем", "третем", "third"), "3"),
    **dict.fromkeys(("чорум", "чоруми", "четвертыи", "четвертом", "fourth"), "4"),
    **dict.fromkeys(("панчум", "панчуми", "пятыи", "пятом", "fifth"), "5"),
}
_POSTCODE = re.compile(r"^7[0-9]{5}$")
_UNIT_VALUE = re.compile(r"^\d{1,4}[^\W\d_]?$")
_BLOCK_LETTER = re.compile(r"^[^\W\d_]$")
HOME_POSTCODE_PREFIX = "734"  # Dushanbe's postcodes are 7340NN (renamings.md, "Postcodes")


def mark_postcodes(tokens: list[Token]) -> None:
    """Mark six-digit numbers starting with 7 (Tajik postcodes: 734025) as the postcode."""
    for token in tokens:
        if token.role == "name" and _POSTCODE.match(token.text):
            token.role = "postcode"


def set_aside_function_words(tokens: list[Token], function_words: Collection[str]) -> None:
    """Set aside words that name no place: prepositions, pronouns, verbs ("по", "меня", "украли").

    ``function_words`` are folded forms the morphology step recognised; set-aside words never
    block an answer, and still count for a place whose name holds them.
    """
    for token in tokens:
        if token.role == "name" and token.text in function_words:
            token.role = "aside"


def _unit_of(token: Token | None) -> str | None:
    if token is None or token.role != "term":
        return None
    cls = term_class(token)
    return BUILDING_PART_CLASSES.get(cls) if cls is not None else None


def read_numbers_before_units(tokens: list[Token]) -> None:
    """``5-й этаж``, ``3rd floor``, ``2 подъезд``: a number just before a floor or entrance word."""
    for i, token in enumerate(tokens):
        unit = _unit_of(neighbour(tokens, i, 1))
        is_value = token.role == "name" and _UNIT_VALUE.match(token.text) is not None
        if unit is not None and is_value and not any(t.role == unit for t in tokens):
            token.role = unit


def _unit_value(token: Token) -> str | None:
    """The value a unit word announces: a number, an ordinal word or a block letter."""
    if token.role != "name":
        return None
    if _UNIT_VALUE.match(token.text):
        return token.text
    return ORDINAL_WORDS.get(token.text)


def read_unit_values(tokens: list[Token]) -> None:
    """``этаж 5``, ``каб. 314``, ``ҳуҷраи №2``, ``ошёнаи якум``, ``блок А``: the value after."""
    for i, token in enumerate(tokens):
        unit = _unit_of(token)
        after = neighbour(tokens, i, 1)
        if after is None:
            continue
        if unit is not None and (value := _unit_value(after)) is not None:
            after.role, after.text = unit, value
            token.role = "drop"
        elif (
            term_class(token) is TermClass.BLOCK
            and after.role == "name"
            and _BLOCK_LETTER.match(after.text)
        ):
            after.role, token.role = "section", "drop"  # Блок А: a part, not the house's


def read_office_after_floor(tokens: list[Token]) -> None:
    """``6 этаж, 602``: a number standing alone right after a floor is the office (room)."""
    for i, token in enumerate(tokens):
        before = tokens[i - 1] if i else None
        alone = not any(t.segment == token.segment for t in tokens if t is not token)
        if (
            alone
            and token.role == "name"
            and _UNIT_VALUE.match(token.text)
            and before is not None
            and before.role in {"floor", "drop", "aside"}
            and any(t.role == "floor" for t in tokens[:i])
        ):
            token.role = "office"


def unit_words_are_aside(tokens: list[Token]) -> None:
    """A floor, office or entrance word without its number ("офисы", "этаж") names nothing."""
    for token in tokens:
        if _unit_of(token) is not None:
            token.role = "aside"


def is_home_postcode(code: str) -> bool:
    """Tell whether a postcode is Dushanbe's (7340NN)."""
    return code.startswith(HOME_POSTCODE_PREFIX)
