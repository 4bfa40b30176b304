"""Split a whole address or message into its parts, and pick the part that names the place.

People write composite addresses ("734025, г. Душанбе, район Сино, улица Дилкушо 26/1, офис 7")
and sentences ("Здравствуйте, живу на Рудаки 45, рядом с цирком"). After the tokens are marked
(:mod:`resolver.text.parse`, :mod:`resolver.text.units`), :func:`split_components` groups the
name words into components, each introduced by its type word (or followed by it: "Rudaki avenue",
"91 мкр", "Фрунзенский район") or standing alone in its comma-separated part:

    street     кӯчаи / ул. / проспект / avenue ...  the most specific part: the answer
    place      БЦ / ТЦ / бозори / парк ...          a building, mall, market or park
    landmark   рядом с / назди / near ...           what the resident stands next to
    area       маҳаллаи / мкр ...                   context for a street, else the answer
    district   ноҳияи / район / district            context: a check that the street lies there
    city/town  г. Душанбе, Худжанд                  home filler, or another town: no answer
    plain      a part without a type word           a district's name, or a name

:func:`pick_components` orders the named components from most to least specific, and
:func:`address_parts` collects what the card may show. Pure: tokens in, values out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from resolver.gazetteer import TermClass
from resolver.models import AddressParts
from resolver.text.fold import script_of
from resolver.text.tokens import Token, term_class
from resolver.text.vocabulary import Vocabulary

COMPONENT_OF_CLASS = {
    TermClass.STREET: "street",
    TermClass.AVENUE: "street",
    TermClass.PASSAGE: "street",
    TermClass.SQUARE: "street",
    TermClass.BUILDING: "place",
    TermClass.MALL: "place",
    TermClass.MARKET: "place",
    TermClass.PARK: "place",
    TermClass.NEAR: "landmark",
    TermClass.MAHALLA: "area",
    TermClass.MICRODISTRICT: "area",
    TermClass.DISTRICT: "district",
    TermClass.CITY: "city",
    TermClass.OTHER_CITY: "town",
}
# The order in which components name the place: the most specific first.
SPECIFICITY = ("street", "place", "plain", "landmark", "area", "district")
CONTEXT_KINDS = frozenset({"area", "district"})  # searched only when nothing else is found
EXPLAINED_KINDS = frozenset({"place", "landmark", "area", "district"})  # words that may stay over
UNIT_ROLES = ("floor", "office", "flat", "entrance", "block")
TOWN_PREPOSITIONS = frozenset({"в", "во", "из", "in", "dar", "дар"})  # "живу в Кулябе"
# Tajik ordinal words that name numbered passages ("гузаргоҳи якум", "дуюми").
ORDINAL_NAMES = frozenset(
    ("якум", "якуми", "дуюм", "дуюми", "сеюм", "сеюми", "чорум", "чоруми", "панчум", "панчуми")
)


@dataclass
class Component:
    """Name words of one part of an address, and the kind of part their type word says."""

    kind: str
    typed: bool  # introduced (or followed) by its own type word
    segment: int
    term: TermClass | None = None  # the class of its type word
    words: list[int] = field(default_factory=list)  # indexes of its name tokens
    has_house: bool = False
    district: str | None = None  # for a district component: the district it names

    def text(self, tokens: Sequence[Token]) -> str:
        """Its name words, joined."""
        return " ".join(tokens[i].text for i in self.words)


def _component_kind(token: Token) -> str | None:
    if token.role != "term" or token.filler:
        return None
    cls = term_class(token)
    return COMPONENT_OF_CLASS.get(cls) if cls is not None else None


def split_components(tokens: Sequence[Token], vocabulary: Vocabulary) -> list[Component]:
    """Group the tokens into components (see the module docstring), in text order."""
    components: list[Component] = []
    current: Component | None = None
    for i, token in enumerate(tokens):
        if current is not None and token.segment != current.segment:
            current = None
        kind = _component_kind(token)
        if kind is not None:
            if current is not None and _takes_type_word_after(current, kind, token.text):
                current.kind, current.typed, current.term = kind, True, term_class(token)
            else:
                current = Component(kind, True, token.segment, term_class(token))
                components.append(current)
        elif token.role == "house":
            owner = current or (components[-1] if components else None)  # "ул. Айни, 48"
            if owner is not None:
                owner.has_house = True
        elif token.role == "name":
            if current is None or _is_complete(current, vocabulary, tokens):
                current = Component("plain", False, token.segment)
                components.append(current)
            current.words.append(i)
    for component in components:
        _read_district(component, tokens, vocabulary)
    return _join_numbered_passages(components, tokens)


def _is_numbered_passage(component: Component, tokens: Sequence[Token]) -> bool:
    """``гузаргоҳи якум``, ``1-й проезд``: a passage named only by its number."""
    return component.term is TermClass.PASSAGE and all(
        tokens[i].ordinal or "name-number" in tokens[i].notes or tokens[i].text in ORDINAL_NAMES
        for i in component.words
    )


def _join_numbered_passages(
    components: list[Component], tokens: Sequence[Token]
) -> list[Component]:
    """A numbered passage is the passage of the street beside it: one part, words in order."""
    joined: list[Component] = []
    for component in components:
        street = next((c for c in reversed(joined) if c.kind == "street"), None)
        if street is not None and component.words and _is_numbered_passage(component, tokens):
            street.words = sorted(street.words + component.words)
            street.has_house = street.has_house or component.has_house
            continue
        joined.append(component)
    return joined


def _is_complete(current: Component, vocabulary: Vocabulary, tokens: Sequence[Token]) -> bool:
    """Whether the next name word starts a new part.

    It does after a house number ("проспекте Рудаки-166, столичного района") and after a
    district's full name ("н. Шоҳмансур Мастонгулов").
    """
    if current.has_house:
        return True
    words = [tokens[i].text for i in current.words]
    return current.kind == "district" and vocabulary.district_of(words) is not None


def _takes_type_word_after(current: Component, kind: str, word: str) -> bool:
    """Tell whether a type word types the name before it: "Rudaki avenue", "91 мкр".

    English puts every type word after the name; Russian and Tajik only a microdistrict's or a
    district's ("91 мкр", "Сино р-н"). Only for a part without a type word or a house yet: in
    "Айни 45 ТЦ Гулистон" and "Шоҳмансур кучаи Мастонгулов" the type word starts a new part.
    """
    after_allowed = kind in {"area", "district"} or script_of(word) == "latin"
    return (
        after_allowed
        and not current.typed
        and bool(current.words)
        and not current.has_house
        and kind not in {"landmark", "city", "town"}
    )


def _read_district(component: Component, tokens: Sequence[Token], vocabulary: Vocabulary) -> None:
    """Tell a district component which district it names; a plain one naming a district is one."""
    if component.kind not in {"district", "plain", "landmark"} or not component.words:
        return
    words = [tokens[i].text for i in component.words if len(tokens[i].text) > 1]
    found = vocabulary.district_of(words, typos=component.typed) if words else None
    if found is not None and not component.has_house:
        component.kind, component.district = "district", found
        component.term = TermClass.DISTRICT


def pick_components(components: Sequence[Component], tokens: Sequence[Token]) -> list[Component]:
    """The named components, most specific first.

    A street first, then a part that holds the house number ("Айни 48, БЦ Созидание": the
    street and house are the answer, the building is context), then by kind. A part of
    initials or one-letter abbreviations alone ("д.") names nothing.
    """
    named = [
        c
        for c in components
        if c.kind in SPECIFICITY and any(len(tokens[i].text) > 1 for i in c.words)
    ]
    return sorted(
        named, key=lambda c: (c.kind != "street", not c.has_house, SPECIFICITY.index(c.kind))
    )


def read_towns(tokens: list[Token], vocabulary: Vocabulary) -> str | None:
    """Find another town the text is in ("г. Худжанд, ул. Ленина 12", "живу в Кулябе").

    A town's name that is not also a Dushanbe name counts anywhere, in any case form after a
    preposition. One that is also ours (Бохтар, Ваҳдат, Гулистон are streets and mahallas here)
    counts only where the text makes it a town: after or before a city word (г. Ваҳдат,
    Vahdat city), after "в" / "из" (в Вахдате), or standing alone in its part of an address
    that names a street elsewhere ("Бохтар, кӯчаи Айнӣ 12"). Elsewhere it is read as the name.
    """
    for i, token in enumerate(tokens):
        found = token.term if term_class(token) is TermClass.OTHER_CITY else None
        after_preposition = i > 0 and tokens[i - 1].text in TOWN_PREPOSITIONS
        if found is None and token.role == "name" and after_preposition:
            found = vocabulary.town_of(token.text)
        if found is None:
            continue
        if not found.shared or _reads_as_town(tokens, i) or after_preposition:
            return token.text
        token.role, token.term = "name", None
    return None


def _reads_as_town(tokens: Sequence[Token], i: int) -> bool:
    """A shared town name is the town beside a city word, or alone in its part of the text.

    Not after a type word ("шаҳраки Турсунзода", "улица Бустон"), and not before a city word
    that belongs to the home city ("кучаи Бустон г. Душанбе").
    """
    before = tokens[i - 1] if i else None
    after = tokens[i + 1] if i + 1 < len(tokens) else None
    if before is not None and before.role == "term" and not before.filler:
        return _is_city_word(before) or term_class(before) is TermClass.DISTRICT  # н. Ҳисор
    following = tokens[i + 2] if i + 2 < len(tokens) else None
    home_next = following is not None and following.term is not None and following.term.home_name
    if after is not None and _is_city_word(after) and not home_next:
        return True  # Vahdat city, Бохтар ш.
    segment, town = tokens[i].segment, tokens[i]
    peers = [t for t in tokens if t.segment == segment and t is not town]
    alone = all(t.role not in {"name", "house"} for t in peers)
    named_elsewhere = any(
        t.segment != segment
        and ((t.role == "name" and not t.is_house_shape) or term_class(t) is TermClass.OTHER_CITY)
        for t in tokens
    )
    return alone and named_elsewhere


def _is_city_word(token: Token) -> bool:
    """г., шаҳри, city: a city word, not the home city's name."""
    return (
        token.term is not None
        and token.term.term_class is TermClass.CITY
        and not (token.term.home_name or token.filler)
    )


def elsewhere_of(
    tokens: Sequence[Token], components: Sequence[Component], vocabulary: Vocabulary
) -> str | None:
    """Another town or district the parts name: a city word before a name that is not ours
    (г. Сомгар), or a district word before a name that is none of Dushanbe's districts
    (н. Шаҳритуз), when the text also names a street or place; "шаҳри Ҳисор" alone is still
    searched."""
    others = [c for c in components if c.words and c.kind not in {"city", "town", "district"}]
    for component in components:
        if not component.words or not others:
            continue
        if component.kind == "city" and not vocabulary.is_home_like(component.text(tokens)):
            return component.text(tokens)  # г. Сомгар; but "шахри Душаннбе" is a typo
        words = [tokens[i].text for i in component.words]
        foreign = component.kind == "district" and component.district is None and component.typed
        if foreign and not any(vocabulary.is_ours(word) for word in words):
            return component.text(tokens)  # н. Шаҳритуз; but "Zarafshon district" is ours
    return None


def districts_named(components: Sequence[Component]) -> frozenset[str]:
    """The districts the text names as context: with a district word ("район Сино"), or beside
    another named part ("Сино, Дилкушо 26"). A lone name ("Сомон") is a name, not context."""
    others = [c for c in components if c.words and not c.district]
    return frozenset(c.district for c in components if c.district and (c.typed or others))


def leftover_words(chosen: Component, components: Sequence[Component]) -> int:
    """How many name words of other, unexplained parts the reading of ``chosen`` leaves over."""
    return sum(
        len(c.words) for c in components if c is not chosen and c.kind not in EXPLAINED_KINDS
    )


def address_parts(
    tokens: Sequence[Token],
    components: Sequence[Component],
    *,
    plus_code: str | None = None,
    elsewhere: str | None = None,
) -> AddressParts:
    """What the text says besides the place and its house: postcode, floor, office, context."""
    units = {role: next((t.text for t in tokens if t.role == role), None) for role in UNIT_ROLES}
    first = {
        kind: next((c for c in components if c.kind == kind and c.words), None)
        for kind in ("area", "place", "landmark")
    }
    districts = sorted(districts_named(components))
    return AddressParts(
        postcode=next((t.text for t in tokens if t.role == "postcode"), None),
        district=districts[0] if len(districts) == 1 else None,
        area=_text_of(first["area"], tokens),
        building=_text_of(first["place"], tokens),
        landmark=_text_of(first["landmark"], tokens),
        plus_code=plus_code,
        elsewhere=elsewhere,
        **units,
    )


def _text_of(component: Component | None, tokens: Sequence[Token]) -> str | None:
    return component.text(tokens) if component is not None else None
