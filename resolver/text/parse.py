"""Read a resident's text: the place name, its house number and the address words around it.

Pure functions over :func:`resolver.text.fold.fold` output, used at query time by
:class:`resolver.service.Resolver`::

    bound the input (length, control characters, Meilisearch syntax)
      -> fold each comma-separated part and split it into tokens
      -> mark address words (кӯчаи, ул., мкр, д., кв. ...) from seed/terms.yaml
      -> read the house number (45, 45а, 45/1, д. 45, хонаи 45, №45, 45 кв 12, корп. 2)
         but keep numbers that belong to a name (91 мкр, шаҳраки 102, 1-й проезд, 8 марта)
      -> the name is what is left; unsure readings go to ``alternatives``

No file I/O: the address words come in as a :class:`~resolver.text.vocabulary.Vocabulary` built
from the loaded seed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace

from pydantic import BaseModel, ConfigDict

from resolver.gazetteer import TermClass
from resolver.models import AddressParts, HouseNumber
from resolver.text.address import (
    CONTEXT_KINDS,
    Component,
    address_parts,
    districts_named,
    elsewhere_of,
    leftover_words,
    pick_components,
    read_towns,
    split_components,
)
from resolver.text.distance import edit_distance
from resolver.text.fold import script_of
from resolver.text.latin import latin_key
from resolver.text.morphology import NO_MORPHOLOGY, Morphology, WordForms, word_forms
from resolver.text.plus_code import find_plus_code
from resolver.text.tokens import HOUSE_TOKEN, Token, tokenize
from resolver.text.tokens import neighbour as _neighbour
from resolver.text.tokens import term_class as _term_class
from resolver.text.units import (
    is_home_postcode,
    mark_postcodes,
    read_numbers_before_units,
    read_office_after_floor,
    read_unit_values,
    set_aside_function_words,
    unit_words_are_aside,
)
from resolver.text.vocabulary import MAX_NAME_NUMBER_DIGITS, TermMatch, Vocabulary

# An address is short; a 4096-character paste costs parse time for nothing past this, so it is
# cut here, at a space. The one input cap: the resolver bounds its text with it before parsing.
MAX_INPUT_CHARS = 256
MAX_NAME_WORDS = 10  # Meilisearch reads at most 10 query words

# Words a number is part of, not a house number: streets named after dates and anniversaries.
# Compared by Latin key, so "8 марта", "8 Marta", "40-letiya" and "50 солагии" all match.
NUMBER_BOUND_KEYS = frozenset(
    latin_key(word)
    for word in (
        *("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа"),
        *("сентября", "октября", "ноября", "декабря", "летия", "лет", "летию", "съезда"),
        *("партсъезда", "армии", "дивизии", "бригады", "гвардейской", "солагии", "солагӣ"),
        *("сола", "солаи", "years", "anniversary", "летия", "oktyabrya", "marta", "maya"),
    )
)
# Classes whose word binds the number next to it into the name: "91 мкр", "гузаргоҳи 2".
NUMBERED_NAME_CLASSES = frozenset({TermClass.MICRODISTRICT, TermClass.MAHALLA, TermClass.PASSAGE})
# Classes whose names carry house numbers: "кӯчаи Пушкин №2" is house 2, "больница №1" is not.
STREET_CLASSES = frozenset({TermClass.STREET, TermClass.AVENUE, TermClass.SQUARE})
MAHALLA_CLASSES = frozenset({TermClass.MICRODISTRICT, TermClass.MAHALLA})
# Classes that announce the number after them.
UNIT_CLASSES = {TermClass.HOUSE: "house", TermClass.FLAT: "flat", TermClass.BLOCK: "block"}
BLOCK_LETTERS = frozenset({"к", "k"})  # "д. 45 к. 2": корпус after a house number
HOUSE_LETTERS = frozenset("абвгдежзклмнопрстуфabcdefghk")

PREPOSITIONS = frozenset({"у", "к", "с", "со", "за", "на", "в", "около", "возле", "near", "by"})
_HOUSE_LIKE = re.compile(r"^\d{1,4}[^\W\d_]?$")
_GLUED_UNIT = re.compile(r"^(д|х|h|кв|kv)(\d{1,4}(?:[^\W\d_])?(?:/\d{1,4}[^\W\d_]?)?)$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\ufeff]")


# --- the parsed query ----------------------------------------------------------------------------


class ParsedQuery(BaseModel):
    """One reading of a query: the place name, the house number and the address words seen."""

    model_config = ConfigDict(frozen=True)

    original: str
    name: str  # folded, without address words, filler and house-number parts; at most 10 words
    house: HouseNumber | None = None
    term_classes: tuple[TermClass, ...] = ()
    alternatives: tuple[ParsedQuery, ...] = ()
    parts: AddressParts = AddressParts()  # postcode, floor, office, district ... (the card's)
    # One part of a composite address, read alone: the districts the text names (a check that
    # the place lies there), and how many words of other, unexplained parts it leaves over.
    districts: frozenset[str] = frozenset()
    leftover: int = 0
    stage: int = 1  # 2: context (a mahalla or district beside a street), searched last
    sentence: bool = False  # the text has verbs around the place: a typo is not enough there
    initials: tuple[str, ...] = ()  # one-letter words before a name word ("Х." of "Х. Шерози")


# --- step 1: bound the input ---------------------------------------------------------------------


def truncate_input(text: str, *, limit: int = MAX_INPUT_CHARS) -> str:
    """Cut text longer than ``limit`` characters at the last space before the limit."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = cut.rfind(" ")
    return cut[:space] if space > limit // 2 else cut


def strip_control_characters(text: str) -> str:
    """Replace control and invisible formatting characters with spaces."""
    return _CONTROL.sub(" ", text)


def mark_terms(
    tokens: list[Token], vocabulary: Vocabulary, lemmas: Mapping[str, str] | None = None
) -> None:
    """Mark address phrases; a multi-word phrase keeps its first token and drops the rest.

    A declined word is also tried in its dictionary form (``адресу`` -> ``адрес``).
    """
    words = [token.text for token in tokens]
    lemma_words = [(lemmas or {}).get(word, word) for word in words]
    i = 0
    while i < len(tokens):
        found = vocabulary.match(words, i)
        if found is None and lemma_words[i] != words[i]:
            found = vocabulary.match(lemma_words, i)
        if found is None and script_of(words[i]) == "latin":
            found = vocabulary.match_latin(words[i])
        if found is None:
            found = vocabulary.match_typo(words[i]) or _match_microdistrict_stem(words[i])
        if found is None or _is_initial(found, words, i, vocabulary):
            i += 1
            continue
        tokens[i].term, tokens[i].role = found, "term"
        tokens[i].filler = found.term_class is TermClass.FILLER
        for follower in tokens[i + 1 : i + found.size]:
            follower.role = "drop"
        i += found.size


def _is_initial(found: TermMatch, words: Sequence[str], i: int, vocabulary: Vocabulary) -> bool:
    """A one-letter street/district word (``к.``, ``н.``) is far more often an initial
    (``Н. Махсум``); ``г.``/``ш.`` count only before the home city (``г. Душанбе``) or another
    town, ``н.`` before a district's name (``н. Шоҳмансур``)."""
    if found.size > 1 or len(words[i]) > 1 or found.term_class in UNIT_CLASSES:
        return False
    after = vocabulary.match(words, i + 1) if i + 1 < len(words) else None
    if found.term_class is TermClass.DISTRICT:
        town = after is not None and after.term_class is TermClass.OTHER_CITY
        return not town and vocabulary.district_of(words[i + 1 : i + 2]) is None
    if found.term_class is TermClass.STREET and i and _HOUSE_LIKE.match(words[i - 1]):
        return False  # "маҳаллаи 112 к. Хувайдуллоев": к. after a number is кӯчаи
    if found.term_class is not TermClass.CITY:
        return True
    if after is not None:
        return not (after.home_name or after.term_class is TermClass.OTHER_CITY)
    following = words[i + 1] if i + 1 < len(words) else ""
    return not following or following in vocabulary.place_words  # г. Сомгар, but Г. Абдулло


_MICRODISTRICT_STEM = re.compile(r"^(?:микр|мкр|mikr|mkr)[^\W\d_]{0,9}$")
_MICRODISTRICT_WORDS = ("микрорайон", "mikrorayon", "mikroraion")
MAX_MICRODISTRICT_TYPOS = 3  # no gazetteer word starting with м is this close to микрорайон


def _match_microdistrict_stem(word: str) -> TermMatch | None:
    """``микрроайн``, ``мкирорацон``: the most mistyped word of all (a dozen letters typed fast)
    is recognised on its микр-/мкр- stem or within three typos of микрорайон."""
    if _MICRODISTRICT_STEM.match(word) or (
        word[:1] in {"м", "m"}
        and len(_MICRODISTRICT_WORDS[0]) - 3 <= len(word) <= len(_MICRODISTRICT_WORDS[0]) + 3
        and min(edit_distance(word, w, limit=MAX_MICRODISTRICT_TYPOS) for w in _MICRODISTRICT_WORDS)
        <= MAX_MICRODISTRICT_TYPOS
    ):
        return TermMatch(TermClass.MICRODISTRICT, 1)
    return None


def split_glued_units(tokens: list[Token]) -> list[Token]:
    """Split ``д45``, ``х45``, ``кв12`` into a unit word and its number."""
    result: list[Token] = []
    for token in tokens:
        glued = _GLUED_UNIT.match(token.text) if token.role == "name" else None
        if glued is None:
            result.append(token)
            continue
        result.append(replace(token, text=glued.group(1), notes=[]))
        result.append(replace(token, text=glued.group(2), notes=[]))
    return result


# --- step 3: numbers -----------------------------------------------------------------------------


def bind_numbers_to_names(tokens: list[Token]) -> None:
    """Keep numbers that belong to a name: ``91 мкр``, ``мкр 46``, ``1-й проезд``, ``8 марта``."""
    for i, token in enumerate(tokens):
        if token.role != "term" or _term_class(token) not in NUMBERED_NAME_CLASSES:
            continue
        before, after = _neighbour(tokens, i, -1), _neighbour(tokens, i, 1)
        bound = before if before is not None and before.is_house_shape else after
        if bound is not None and bound.role == "name" and bound.is_house_shape:
            bound.notes.append("name-number")
    for i, token in enumerate(tokens):
        after = _neighbour(tokens, i, 1)
        if token.is_number and after is not None and latin_key(after.text) in NUMBER_BOUND_KEYS:
            token.notes.append("name-number")
        if token.ordinal:
            token.notes.append("name-number")


def assign_unit_numbers(tokens: list[Token]) -> None:
    """Read the number after a unit word: ``д. 45``, ``хонаи 45``, ``кв. 12``, ``корп. 2``."""
    for i, token in enumerate(tokens):
        cls = _term_class(token) if token.role == "term" else None
        unit = UNIT_CLASSES.get(cls) if cls is not None else None
        if unit is None and token.text in BLOCK_LETTERS:
            unit = "block" if any(t.role == "house" for t in tokens[:i]) else None
        after = _neighbour(tokens, i, 1)
        if unit is None or after is None or after.role != "name" or not after.is_house_shape:
            continue
        if "name-number" in after.notes:
            continue
        if _names_an_institution(tokens, i, after):
            same_part = [t for t in tokens if t.segment == token.segment]
            if not any(_term_class(t) in STREET_CLASSES for t in same_part):
                after.notes.append("name-number")  # "Родильный дом № 2": never the house
            token.role = "drop"  # "улица Мастонгулова дом №90": the № number is left to choose
            continue
        number_before = any(t.is_house_shape and t.role in {"name", "house"} for t in tokens[:i])
        after.role = "house" if unit == "block" and not number_before else unit  # bldg 74/3
        token.role = "drop"


def _names_an_institution(tokens: list[Token], i: int, number: Token) -> bool:
    """``Родильный дом №2``: a unit word after a name word with a № number is part of a name."""
    before = _neighbour(tokens, i, -1)
    return number.marked and before is not None and before.role == "name"


def unit_words_without_numbers_are_names(tokens: list[Token]) -> None:
    """``Дом печати``: a house/flat/block word with no number after it is part of the name.

    Not before a preposition or a "near" word: "Дом у суда", "дом рядом с цирком" say where
    the resident's home is.
    """
    for i, token in enumerate(tokens):
        if token.role != "term" or _term_class(token) not in UNIT_CLASSES:
            continue
        after = _neighbour(tokens, i, 1)
        points = after is not None and (
            after.text in PREPOSITIONS
            or after.role == "aside"
            or _term_class(after) is TermClass.NEAR
        )
        token.role, token.term = ("aside", token.term) if points else ("name", None)


def _is_house_letter(token: Token | None, number: Token) -> bool:
    return (
        token is not None
        and token.role == "name"
        and token.text in HOUSE_LETTERS
        and token.segment == number.segment
    )


def attach_house_letters(tokens: list[Token]) -> None:
    """Join a lone letter after a house number: ``45 а`` -> ``45а``, but not an initial
    (``19 Р. Амакиев``)."""
    for i, token in enumerate(tokens):
        if token.role == "house" and token.is_number:
            after = _neighbour(tokens, i, 1)
            if after is None or not _is_house_letter(after, token):
                continue
            following = _neighbour(tokens, i + 1, 1) if tokens[i + 1] is after else None
            if after.glued or following is None or following.role != "name":  # 109-A Ismoili
                token.text += after.text
                after.role = "drop"


# --- step 4: readings ----------------------------------------------------------------------------


def house_from_tokens(tokens: Sequence[Token]) -> HouseNumber | None:
    """Build the house number from the tokens marked house, block and flat."""
    house = next((t for t in tokens if t.role == "house"), None)
    if house is None:
        return None
    found = HOUSE_TOKEN.match(house.text)
    if found is None:
        return None
    block = next((t.text for t in tokens if t.role == "block"), None)
    flat = next((t.text for t in tokens if t.role == "flat"), None)
    return HouseNumber(
        number=int(found.group(1)),
        letter=_cyrillic_letter(found.group(2)),
        building=found.group(3) or block,
        flat=flat,
    )


_LATIN_HOUSE_LETTER = dict(zip("abvgdezikmnoprstufh", "абвгдезикмнопрстуфх", strict=True))


def _cyrillic_letter(letter: str | None) -> str | None:
    """A house letter as Dushanbe writes it: ``93-a``, ``63A`` -> ``а`` (``81B`` -> ``б``)."""
    return _LATIN_HOUSE_LETTER.get(letter, letter) if letter else letter


def name_from_tokens(tokens: Sequence[Token]) -> str:
    """Join the name tokens, dropping lone initials (``И. Сомонӣ``) when a longer word remains."""
    words = [t.text for t in tokens if t.role == "name"]
    longer = [w for w in words if len(w) > 1 or w.isdigit()]
    return " ".join((longer or words)[:MAX_NAME_WORDS])


def term_classes_of(tokens: Sequence[Token]) -> tuple[TermClass, ...]:
    """The address-word classes present, in order, without repeats."""
    seen: list[TermClass] = []
    for token in tokens:
        cls = _term_class(token)
        reported = token.role in {"term", "drop"} and not token.filler
        if reported and cls is not None and cls not in seen:
            seen.append(cls)
    return tuple(seen)


def _candidates_for_house(tokens: list[Token]) -> list[int]:
    """Indexes of unmarked numbers that may be the house number, in reading order."""
    return [
        i
        for i, t in enumerate(tokens)
        if t.role == "name" and t.is_house_shape and "name-number" not in t.notes
    ]


def _pick_house_candidate(tokens: list[Token], candidates: list[int]) -> int:
    """A number after ``№`` wins; else the first of a trailing run of numbers (``Рудаки 18 10``);
    else the first number (``83 Rudaki``)."""
    marked = [i for i in candidates if tokens[i].marked]
    if marked:
        return marked[0]
    kept = [i for i, t in enumerate(tokens) if t.role == "name"]
    if not kept or kept[-1] != candidates[-1]:
        return candidates[0]
    run = candidates[-1]
    while run - 1 in candidates and tokens[run - 1].is_number and not tokens[run - 1].glued:
        run -= 1
    return run


def _reads_as_name_number(tokens: list[Token], index: int, vocabulary: Vocabulary) -> bool:
    """Whether a bare number ends or makes a name rather than being the house.

    ``Испечак-2``, ``Зарафшон 2`` (a known numbered name), ``маҳаллаи Испечак 2`` and a number
    standing alone (``101``: microdistricts are named by numbers).
    """
    token, before = tokens[index], _neighbour(tokens, index, -1)
    if not any(t.role == "name" and not t.is_house_shape for t in tokens):
        return "/" not in token.text
    if before is None or before.role != "name" or before.is_number or not token.is_number:
        return False
    if token.marked:
        return False
    if len(token.text) > MAX_NAME_NUMBER_DIGITS:
        return False
    pair = f"{before.text} {token.text}"
    if token.glued or pair in vocabulary.numbered_names:
        return True
    # "маҳаллаи Испечак 2": a mahalla word lets a short number be part of the name, unless a
    # street word names the street the house is on ("маҳаллаи Нодира 52, кӯч Хоҷамбиёи боло").
    has_street = any(_term_class(t) in STREET_CLASSES for t in tokens)
    return _has_unbound_mahalla_word(tokens) and not has_street


def _has_unbound_mahalla_word(tokens: list[Token]) -> bool:
    """``маҳаллаи Испечак 2``: a mahalla/microdistrict word whose own number is not written next
    to it names a place that a short number may belong to."""
    for i, token in enumerate(tokens):
        if _term_class(token) in MAHALLA_CLASSES:
            neighbours = (_neighbour(tokens, i, -1), _neighbour(tokens, i, 1))
            if not any(n is not None and "name-number" in n.notes for n in neighbours):
                return True
    return False


def choose_bare_house(tokens: list[Token], vocabulary: Vocabulary) -> list[int]:
    """Pick the bare number that is the house; return numbers whose reading is unsure.

    A number after the name (``Рудаки 45``) or leading it (``83 Rudaki``) is the house, as is one
    written after ``№``. A one- or two-digit number glued by a hyphen (``Испечак-2``), forming a
    known numbered name (``Зарафшон 2``) or in a text with a mahalla word reads as part of the
    name, and the next number is tried; that, a single digit after any name (``Рудаки 2``) and
    a № after a name (``больница №1``) are unsure: both readings are kept (a name number only
    while no other number is the house).
    """
    if any(t.role == "house" for t in tokens):
        return []
    unsure: list[int] = []
    while candidates := _candidates_for_house(tokens):
        chosen = _pick_house_candidate(tokens, candidates)
        if not _reads_as_name_number(tokens, chosen, vocabulary):
            tokens[chosen].role = "house"
            return [chosen] if _house_is_unsure(tokens, chosen) else []
        tokens[chosen].notes.append("name-number")
        unsure.append(chosen)
    return unsure


def _house_is_unsure(tokens: list[Token], index: int) -> bool:
    """A single digit after a name (``Рудаки 2``) or a № after a name with no street word
    (``больница №1``, but also ``Айни №45``) may be part of the name."""
    token, before = tokens[index], _neighbour(tokens, index, -1)
    if before is None or before.role != "name" or before.is_number:
        return False
    if token.marked:
        return not any(_term_class(t) in STREET_CLASSES for t in tokens)
    return len(token.text) == 1


def assign_flat_after_house(tokens: list[Token]) -> None:
    """``Рудаки 18 10`` / ``Рудаки 18-10``: a bare number right after the house is the flat."""
    for i, token in enumerate(tokens):
        after = _neighbour(tokens, i, 1)
        if (
            token.role == "house"
            and after is not None
            and after.role == "name"
            and after.is_number
            and not any(t.role == "flat" for t in tokens)
        ):
            after.role = "flat"


def _is_home_name(token: Token | None) -> bool:
    return token is not None and token.term is not None and token.term.home_name


def drop_filler(tokens: list[Token]) -> bool:
    """Drop the home city and country (``г. Душанбе``, ``Dushanbe, Таджикистан``) as filler.

    A city word before them (г., шаҳри) goes too; a city word before another name stays a term
    (``шаҳри Ҳисор``: another city). Returns whether a home name stood next to a name word
    (``гостиница Душанбе``), in which case the caller keeps a reading with it.
    """
    unsure = False
    for i, token in enumerate(tokens):
        if token.role != "term" or not _is_home_name(token):
            continue
        before, after = _neighbour(tokens, i, -1), _neighbour(tokens, i, 1)
        if _term_class(before) is TermClass.MALL:  # "маркази савдои Тоҷикистон", "ТЦ Душанбе Молл"
            token.role, token.term = "name", None  # a mall named after the city: its name
            continue
        token.filler = True
        if _term_class(before) is TermClass.CITY and before is not None:
            before.filler = True
        if _term_class(after) is TermClass.CITY and after is not None:
            after.filler = True  # "Dushanbe city", "Душанбе шаҳр"
        unsure = unsure or any(t is not None and t.role == "name" for t in (before, after))
    return unsure


def _reading(original: str, tokens: list[Token]) -> ParsedQuery:
    return ParsedQuery(
        original=original,
        name=name_from_tokens(tokens),
        house=house_from_tokens(tokens),
        term_classes=term_classes_of(tokens),
        initials=initials_of(tokens),
    )


def initials_of(tokens: list[Token]) -> tuple[str, ...]:
    """Letters written with a dot before a name word: the initials of a name (``Х. Шерози``).

    Without the dot a single letter is as often a preposition ("в жилом доме", "у цирка").
    """
    return tuple(
        token.text
        for i, token in enumerate(tokens)
        if token.role == "name"
        and token.dotted
        and token.text.isalpha()
        and (after := _neighbour(tokens, i, 1)) is not None
        and after.role == "name"
        and len(after.text) > 1
    )


def _copy_tokens(tokens: list[Token]) -> list[Token]:
    return [replace(t, notes=list(t.notes)) for t in tokens]


def _with_number_in_name(tokens: list[Token], index: int) -> list[Token]:
    copy = _copy_tokens(tokens)
    copy[index].role = "name"
    return copy


def _with_number_as_house(tokens: list[Token], index: int) -> list[Token]:
    copy = _copy_tokens(tokens)
    copy[index].role = "house"
    attach_house_letters(copy)
    return copy


def _with_home_city_names(tokens: list[Token]) -> list[Token]:
    copy = _copy_tokens(tokens)
    for token in copy:
        if _is_home_name(token) and token.role == "term":
            token.role, token.term = "name", None
    return copy


def _with_type_words_as_name(tokens: list[Token]) -> list[Token]:
    """``Capital Park Dushanbe``, ``Бозор``: when only address words are left, they are the name."""
    copy = _copy_tokens(tokens)
    for token in copy:
        cls = _term_class(token)
        if token.role == "term" and cls not in UNIT_CLASSES and cls is not TermClass.FILLER:
            token.role = "name"
    return copy


_FRENCH_CH = re.compile(r"(?<![ts])ch")


def _french_reading(reading: ParsedQuery) -> ParsedQuery | None:
    """``Chakhidon``, ``Douchanbe``: French (and some German) Latin writes ш as ``ch``."""
    if script_of(reading.name) != "latin" or not _FRENCH_CH.search(reading.name):
        return None
    return reading.model_copy(update={"name": _FRENCH_CH.sub("sh", reading.name)})


def read_tokens(text: str, vocabulary: Vocabulary, forms: WordForms | None = None) -> list[Token]:
    """Tokenise and mark address words, building parts and name-bound numbers (before the house)."""
    forms = forms or WordForms()
    tokens = split_glued_units(tokenize(text))
    mark_terms(tokens, vocabulary, forms.lemmas)
    mark_postcodes(tokens)
    set_aside_function_words(tokens, forms.function_words - vocabulary.place_words)
    bind_numbers_to_names(tokens)
    read_unit_values(tokens)
    assign_unit_numbers(tokens)
    read_numbers_before_units(tokens)
    unit_words_are_aside(tokens)
    unit_words_without_numbers_are_names(tokens)
    return tokens


def parse_query(
    text: str, vocabulary: Vocabulary, *, morphology: Morphology = NO_MORPHOLOGY
) -> ParsedQuery:
    """Read ``text`` into a place name, a house number and the address words present.

    When the text reads two ways ("Испечак 2": mahalla number or house 2; "гостиница Душанбе"),
    the first reading is the likelier one and the others are in ``alternatives``. A composite
    address ("район Сино, улица Дилкушо 26/1") is also read part by part, the most specific
    part first (:mod:`resolver.text.address`); declined Russian words are also read in their
    dictionary form (:mod:`resolver.text.morphology`).

    Example:
        >>> parse_query("ул. Айни, д. 45а", Vocabulary(())).name
        'ул айни'
    """
    bounded = strip_control_characters(truncate_input(text))
    plus_code = find_plus_code(bounded)
    body = plus_code.rest if plus_code else bounded
    forms = word_forms(body, morphology)
    tokens = read_tokens(body, vocabulary, forms)
    town = read_towns(tokens, vocabulary)
    read_office_after_floor(tokens)
    unsure_numbers = choose_bare_house(tokens, vocabulary)
    attach_house_letters(tokens)
    assign_flat_after_house(tokens)
    unsure_city = drop_filler(tokens)
    if not name_from_tokens(tokens):
        tokens = _with_type_words_as_name(tokens)
    others: list[list[Token]] = []
    for index in unsure_numbers:
        flip = tokens[index].role == "house"
        others.append(
            _with_number_in_name(tokens, index) if flip else _with_number_as_house(tokens, index)
        )
    if unsure_city:
        others.append(_with_home_city_names(tokens))
    components = split_components(tokens, vocabulary)
    variants = [split_components(option, vocabulary) for option in others]
    parts = address_parts(
        tokens,
        components,
        plus_code=plus_code.code if plus_code else None,
        elsewhere=town or elsewhere_of(tokens, components, vocabulary) or _foreign_postcode(tokens),
    )
    context = {"parts": parts, "districts": districts_named(components)}
    primary = _reading(text, tokens).model_copy(update=context)
    readings = [
        *_component_readings(tokens, components, primary, vocabulary),
        primary,
        *(_reading(text, option) for option in others),
        *(
            reading
            for option, parts_of in zip(others, variants, strict=True)
            for reading in _component_readings(
                option, parts_of, _reading(text, option).model_copy(update=context), vocabulary
            )
        ),
    ]
    readings += [french for reading in readings if (french := _french_reading(reading))]
    readings = [
        variant.model_copy(update={"sentence": forms.sentence})
        for reading in readings
        for variant in _with_lemmas(reading, forms)
    ]
    first = readings[0]
    alternatives = tuple(
        reading for reading in dict.fromkeys(readings[1:]) if reading != first and reading.name
    )
    return first.model_copy(update={"alternatives": alternatives, "parts": parts})


def _foreign_postcode(tokens: Sequence[Token]) -> str | None:
    """A postcode of another region (735700 is Khujand's): the address is not Dushanbe's."""
    code = next((t.text for t in tokens if t.role == "postcode"), None)
    return code if code is not None and not is_home_postcode(code) else None


def _component_readings(
    tokens: list[Token],
    components: list[Component],
    primary: ParsedQuery,
    vocabulary: Vocabulary,
) -> list[ParsedQuery]:
    """Each named part of a composite address read alone, the most specific first.

    A text of one part needs none (the whole reading is that part), unless that part is a
    district written in a form the index does not hold ("в Фирдавсинском районе"): a district
    is read by its own name.
    """
    ranked = pick_components(components, tokens)
    if len(ranked) < 2 and not any(c.district and c.typed for c in ranked):
        return []
    readings = []
    for rank, component in enumerate(ranked):
        words = [tokens[i] for i in component.words]
        name = name_from_tokens(words)
        if component.district and tuple(name.split()) not in vocabulary.districts:
            name = vocabulary.district_name(component.district) or name  # "Фирдавсинском"
        reading = primary.model_copy(
            update={
                "name": name,
                "term_classes": (component.term,) if component.term else (),
                "leftover": leftover_words(component, components),
                "stage": 2 if component.kind in CONTEXT_KINDS and rank else 1,
            }
        )
        readings.append(reading)
    return readings


def _with_lemmas(reading: ParsedQuery, forms: WordForms) -> list[ParsedQuery]:
    """A reading, then the same reading with declined words in their dictionary form."""
    words = reading.name.split()
    lemmas = [forms.lemmas.get(word, word) for word in words]
    if lemmas == words:
        return [reading]
    return [reading, reading.model_copy(update={"name": " ".join(lemmas)})]
