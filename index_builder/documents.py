"""Turn the gazetteer into Meilisearch documents (pure: values in, values out).

One :class:`~resolver.index_schema.PlaceDocument` per place. A street or avenue linked to
several sectors by house ranges becomes one document per range (``<place_id>--<n>``), so a hit
already carries the sector its houses belong to.

Search fields hold only text produced by the resolver's own pipeline
(:func:`resolver.text.fold.fold` and :func:`resolver.text.latin.latin_key`), the same functions
the resolver applies to a query, so ``Хисор`` meets ``Ҳисор`` and ``Rudaki`` meets ``Рӯдакӣ``.
Every name is indexed twice: as written (``кучаи айни``) and without its street-type word
(``айни``), so a bare name is an exact match too.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

from index_builder.seed.models import Gazetteer, Place, PlaceAlias
from resolver.gazetteer import AddressTerm, HouseRange, Link, PlaceKind, TermClass
from resolver.index_schema import GeoPoint, PlaceDocument, segment_id
from resolver.readings import morphology_for
from resolver.text.fold import fold as fold_text
from resolver.text.latin import latin_key as latin_key_text
from resolver.text.morphology import Morphology, lemmatize_text
from resolver.text.vocabulary import MAX_PHRASE_WORDS, TermMatch, Vocabulary

# Generic words that name the *type* of an address, not the place: stripping them from a name
# leaves the part residents type (``кӯчаи Айнӣ`` -> ``айни``). Market, park and mall words stay:
# ``бозори Шоҳмансур`` is not ``ноҳияи Шоҳмансур``. City words stay too: ``Душанбе Плаза``.
STRIPPABLE_TERM_CLASSES = frozenset(
    {
        TermClass.STREET,
        TermClass.AVENUE,
        TermClass.PASSAGE,
        TermClass.SQUARE,
        TermClass.MAHALLA,
        TermClass.MICRODISTRICT,
        TermClass.DISTRICT,
    }
)
# Names repeat a lot (every shop on Rudaki carries "Рудаки" in its address; a synthetic city
# reuses name parts), and folding is the builder's hot spot: memoise the shared pure functions.
FOLD_CACHE_SIZE = 1 << 17


@lru_cache(maxsize=FOLD_CACHE_SIZE)
def fold(text: str) -> str:
    """Return :func:`resolver.text.fold.fold` of ``text`` (memoised)."""
    return fold_text(text)


@lru_cache(maxsize=FOLD_CACHE_SIZE)
def latin_key(text: str) -> str:
    """Return :func:`resolver.text.latin.latin_key` of ``text`` (memoised)."""
    return latin_key_text(text)


# Popularity (0-100) breaks ties between equally good matches, so "Рудаки" lists the avenue
# before a shop on it. Base by kind: what residents name most when asked where they live or
# meet (long avenues, markets, malls, big landmarks) first; then a bonus for source confidence,
# for every extra known name (a place with many names is a well-known place), and for
# coordinates (mapped places are the prominent ones).
KIND_POPULARITY: dict[PlaceKind, int] = {
    PlaceKind.AVENUE: 60,
    PlaceKind.MARKET: 50,
    PlaceKind.MALL: 45,
    PlaceKind.SQUARE: 45,
    PlaceKind.DISTRICT: 40,
    PlaceKind.LANDMARK: 40,
    PlaceKind.UNIVERSITY: 35,
    PlaceKind.HOSPITAL: 35,
    PlaceKind.MICRODISTRICT: 30,
    PlaceKind.MAHALLA: 25,
    PlaceKind.STREET: 25,
    PlaceKind.HOTEL: 20,
    PlaceKind.OFFICE: 15,
}
CONFIDENCE_BONUS = {"high": 15, "medium": 8, "low": 0}
NAME_BONUS_EACH = 3
NAME_BONUS_MAX = 15
GEO_BONUS = 5


@dataclass(frozen=True, eq=False)
class TypeWords:
    """Address-type phrases that may be cut off a folded name's ends (``кучаи айни`` -> ``айни``).

    Matching is the resolver's own (:class:`resolver.text.vocabulary.Vocabulary` over
    ``seed/terms.yaml``), so a name is indexed exactly as a query naming it is read. A single
    letter is never cut: in a name it is an initial (``Н. Қарабоев``), not ``н.`` for ноҳия.
    """

    vocabulary: Vocabulary

    @classmethod
    def from_terms(cls, terms: Iterable[AddressTerm]) -> TypeWords:
        """Build the matcher from the seed's address terms."""
        return cls(Vocabulary(terms))

    def strip(self, folded: str) -> str:
        """Cut type phrases off both ends of a folded name, unless nothing would remain."""
        words = folded.split()
        while len(words) > 1 and (size := self.leading(words)):
            words = words[size:]
        while len(words) > 1 and (size := self.trailing(words)):
            words = words[:-size]
        return " ".join(words)

    def leading(self, words: Sequence[str]) -> int:
        """Return the length of a strippable phrase at the start (0 if none)."""
        found = self.vocabulary.match(words, 0)
        if found is None or found.size >= len(words):
            return 0
        return found.size if is_strippable(found, words[: found.size]) else 0

    def trailing(self, words: Sequence[str]) -> int:
        """Return the length of a strippable phrase that ends the name (0 if none)."""
        for size in range(min(MAX_PHRASE_WORDS, len(words) - 1), 0, -1):
            found = self.vocabulary.match(words, len(words) - size)
            if found is not None and found.size == size and is_strippable(found, words[-size:]):
                return size
        return 0


def is_strippable(found: TermMatch, words: Sequence[str]) -> bool:
    """Tell whether a matched phrase is a type word to cut (not an initial, not a market)."""
    if len(words) == 1 and len(words[0]) == 1:
        return False
    return found.term_class in STRIPPABLE_TERM_CLASSES


def build_documents(
    gazetteer: Gazetteer, *, morphology: Morphology | None = None
) -> list[PlaceDocument]:
    """Build every search document of the gazetteer, in place order."""
    return list(iter_documents(gazetteer, morphology=morphology))


def iter_documents(
    gazetteer: Gazetteer, *, morphology: Morphology | None = None
) -> Iterator[PlaceDocument]:
    """Yield the search documents one place at a time (lets a build send while it folds).

    ``morphology`` is the resolver's (:func:`resolver.readings.morphology_for`, the default):
    names are indexed in their dictionary form too, as queries are read.
    """
    type_words = TypeWords.from_terms(gazetteer.aliases.terms)
    forms = NameForms(morphology or morphology_for(gazetteer))
    aliases = aliases_by_place(gazetteer.aliases.places)
    links = links_by_place(gazetteer.links)
    district_of = {sector.id: sector.district.value for sector in gazetteer.sectors}
    for place in gazetteer.places:
        place_links = links.get(place.id, ())
        base = base_fields(place, aliases.get(place.id, ()), type_words=type_words, forms=forms)
        base["district"] = districts_of(place, place_links, district_of)
        yield from link_documents(base, place_links)


def districts_of(place: Place, links: Sequence[Link], district_of: dict[str, str]) -> list[str]:
    """The districts a place lies in: the seed's, and those of the sectors it links to.

    A street the seed places in one district may have houses in a sector of the next one; a
    district named beside it in a query is checked against both.
    """
    named = [district.value for district in place.districts]
    linked = [district_of[link.sector_id] for link in links if link.sector_id in district_of]
    return list(dict.fromkeys([*named, *linked]))


@dataclass(frozen=True)
class NameForms:
    """Every name's dictionary form (the morphology step), memoised per name."""

    morphology: Morphology

    def lemmas(self, names: Iterable[str]) -> tuple[str, ...]:
        """The names whose dictionary form differs from how they are written, in that form."""
        return tuple(
            lemma for name in names if (lemma := lemmatize_text(name, self.morphology)) != name
        )


def count_documents(gazetteer: Gazetteer) -> int:
    """Return how many documents :func:`build_documents` will make, without building them."""
    links = links_by_place(gazetteer.links)
    return sum(len(links[p.id]) if is_split(links.get(p.id, ())) else 1 for p in gazetteer.places)


def aliases_by_place(aliases: Iterable[PlaceAlias]) -> dict[str, list[str]]:
    """Group seed alias texts by place id."""
    grouped: dict[str, list[str]] = {}
    for alias in aliases:
        grouped.setdefault(alias.place_id, []).append(alias.alias)
    return grouped


def links_by_place(links: Iterable[Link]) -> dict[str, list[Link]]:
    """Group sector links by place id, in file order.

    File order is the resolver's order too (:meth:`resolver.sectors.SectorDirectory.links_for`):
    segment ``n`` of a split street is the same link for the builder and for a button press.
    """
    grouped: dict[str, list[Link]] = {}
    for link in links:
        grouped.setdefault(link.place_id, []).append(link)
    return grouped


class SearchFields(NamedTuple):
    """The folded search fields of one place."""

    names: tuple[str, ...]
    names_latin: tuple[str, ...]
    aliases: tuple[str, ...]
    aliases_latin: tuple[str, ...]


def base_fields(
    place: Place,
    aliases: Sequence[str],
    *,
    type_words: TypeWords,
    forms: NameForms | None = None,
) -> dict[str, Any]:
    """Return a place's document fields that do not depend on its sector link."""
    other_names = (*place.old_names, *place.alt_names, *place.derived_names, *aliases)
    lemmas = forms.lemmas((*current_names(place), *other_names)) if forms else ()
    fields = search_fields(tuple(current_names(place)), (*other_names, *lemmas), type_words)
    return {
        "id": place.id,
        "place_id": place.id,
        "kind": place.kind.value,
        "name_tg": place.name_tg,
        "name_ru": place.name_ru,
        "name_en": place.name_en,
        "district": [district.value for district in place.districts],
        "names": list(fields.names),
        "names_latin": list(fields.names_latin),
        "aliases": list(fields.aliases),
        "aliases_latin": list(fields.aliases_latin),
        "address": address_text(place, type_words=type_words),
        "popularity": popularity(place, extra_names=len(other_names)),
        "geo": geo_point(place),
    }


@lru_cache(maxsize=FOLD_CACHE_SIZE)
def search_fields(
    names: tuple[str, ...], other_names: tuple[str, ...], type_words: TypeWords
) -> SearchFields:
    """Fold current and other names into the four search fields (memoised: names repeat)."""
    folded_names = search_forms(names, type_words=type_words)
    folded_aliases = [
        form
        for form in search_forms(other_names, type_words=type_words)
        if form not in folded_names
    ]
    return SearchFields(
        names=tuple(folded_names),
        names_latin=tuple(latin_forms(folded_names)),
        aliases=tuple(folded_aliases),
        aliases_latin=tuple(latin_forms(folded_aliases)),
    )


def current_names(place: Place) -> list[str]:
    """Return the place's current names in Tajik, Russian and English (those it has)."""
    return [name for name in (place.name_tg, place.name_ru, place.name_en) if name]


def search_forms(texts: Iterable[str], *, type_words: TypeWords) -> list[str]:
    """Fold each text; bare forms (type words cut) first, then the full forms; no repeats.

    Order matters to Meilisearch: an array is one attribute, ``attribute`` ranks by the
    position of the matched word in it and ``exactness`` rewards an attribute that *starts*
    with the query. Bare names first make ``рудаки`` start the avenue's ``names`` (position 0),
    where ``хиебони рудаки`` would put it second, behind ``Рудаки Плаза``.
    """
    folded = [fold(text) for text in texts]
    return unique_nonempty([*(type_words.strip(form) for form in folded), *folded])


def latin_forms(folded: Iterable[str]) -> list[str]:
    """Return the Latin key of each folded text; unique, in first-seen order."""
    return unique_nonempty(latin_key(text) for text in folded)


def unique_nonempty(texts: Iterable[str]) -> list[str]:
    """Drop blanks and repeats, keeping the first occurrence's position."""
    return list(dict.fromkeys(text.strip() for text in texts if text.strip()))


def address_text(place: Place, *, type_words: TypeWords) -> str | None:
    """Return a building's folded ``street house`` (``рудаки 83``), if the seed knows its street."""
    if place.address is None or not place.address.street:
        return None
    return street_and_house(place.address.street, place.address.house or "", type_words)


@lru_cache(maxsize=FOLD_CACHE_SIZE)
def street_and_house(street: str, house: str, type_words: TypeWords) -> str | None:
    """Fold ``street house`` with the street's type word cut (memoised: addresses repeat)."""
    text = f"{type_words.strip(fold(street))} {fold(house)}".strip()
    return text or None


def geo_point(place: Place) -> GeoPoint | None:
    """Return Meilisearch's ``_geo`` value when the place has coordinates."""
    if place.lat is None or place.lon is None:
        return None
    return GeoPoint.model_construct(lat=place.lat, lng=place.lon)


def popularity(place: Place, *, extra_names: int) -> int:
    """Score how well known a place is (0-100) by the heuristic documented above."""
    score = KIND_POPULARITY.get(place.kind, 20) + CONFIDENCE_BONUS[place.confidence]
    score += min(NAME_BONUS_MAX, NAME_BONUS_EACH * extra_names)
    if place.lat is not None and place.lon is not None:
        score += GEO_BONUS
    return min(score, 100)


def link_documents(base: dict[str, Any], links: Sequence[Link]) -> list[PlaceDocument]:
    """Attach sector links: one document for a single sector, one per range for a split street.

    Documents are assembled with ``model_construct``: every value comes from validated seed
    models (ids match ``PLACE_ID_PATTERN``, so ``<id>--<n>`` is a valid Meilisearch id), and
    validating 100k documents again would cost a fifth of a synthetic build.
    ``tests/unit/test_documents.py`` re-validates every document of the seed.
    """
    sector_ids = sorted({link.sector_id for link in links})
    if is_split(links):
        return [
            make_document({**base, **segment_fields(base["place_id"], link, n)}, sector_ids)
            for n, link in enumerate(links, 1)
        ]
    sector_id = sector_ids[0] if len(sector_ids) == 1 else None
    houses = links[0].houses if len(links) == 1 else None
    return [make_document({**base, "sector_id": sector_id, **house_fields(houses)}, sector_ids)]


def make_document(fields: dict[str, Any], sector_ids: list[str]) -> PlaceDocument:
    """Assemble a document from trusted fields (see :func:`link_documents`)."""
    return PlaceDocument.model_construct(**{**fields, "sector_ids": sector_ids})


def is_split(links: Sequence[Link]) -> bool:
    """Tell whether a place is split by house ranges (several links, each with houses)."""
    return len(links) > 1 and all(link.houses is not None for link in links)


def segment_fields(place_id: str, link: Link, number: int) -> dict[str, Any]:
    """Return the fields of one house-range segment of a split street (its own id)."""
    return {
        "id": segment_id(place_id, number),
        "segment": number,
        "sector_id": link.sector_id,
        **house_fields(link.houses),
    }


def house_fields(houses: HouseRange | None) -> dict[str, int | str | None]:
    """Return the document's house range fields for a link's range (all None without one)."""
    if houses is None:
        return {"house_start": None, "house_end": None, "house_parity": None}
    return {"house_start": houses.start, "house_end": houses.end, "house_parity": houses.parity}
