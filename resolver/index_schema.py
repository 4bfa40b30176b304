"""The Meilisearch document: the one contract between the index builder and the resolver.

The builder writes :class:`PlaceDocument` values (``index_builder.documents``); the resolver reads
hits back into the same model (``resolver.meili``). One document per place, and one per house-range
segment of a street that crosses sectors (``id`` = ``<place_id>--<n>``).

Search fields hold text produced by :func:`resolver.text.fold.fold` (Cyrillic folded) and
:func:`resolver.text.latin.latin_key` (Latin key); display fields keep the originals.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

LIVE_INDEX = "noziri_places"
SEGMENT_MARK = "--"
CYRILLIC_FIELDS = ("names", "aliases", "address")  # folded by resolver.text.fold.fold
LATIN_FIELDS = ("names_latin", "aliases_latin")  # resolver.text.latin.latin_key
# What the resolver reads back from a hit: display names, linking, and the search fields it
# re-scores against (resolver.rank). The index's displayed attributes include at least these.
RETURNED_FIELDS = (
    "id",
    "place_id",
    "kind",
    "name_tg",
    "name_ru",
    "name_en",
    "district",
    "sector_id",
    "sector_ids",
    "house_start",
    "house_end",
    "house_parity",
    "segment",
    "popularity",
    "version",
    *CYRILLIC_FIELDS,
    *LATIN_FIELDS,
)


class GeoPoint(BaseModel):
    """Meilisearch's ``_geo`` field."""

    model_config = ConfigDict(frozen=True)

    lat: float
    lng: float


class PlaceDocument(BaseModel):
    """One searchable record."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")

    id: str = Field(pattern=r"^[A-Za-z0-9_-]+$")
    place_id: str
    kind: str
    name_tg: str | None = None
    name_ru: str | None = None
    name_en: str | None = None
    district: list[str] = Field(default_factory=list)
    # Linking: a place in one sector has sector_id and no house range; a street segment carries
    # its range. ``sector_ids`` lists every sector the whole place touches (for filters and stats).
    sector_id: str | None = None
    sector_ids: list[str] = Field(default_factory=list)
    house_start: int | None = None
    house_end: int | None = None
    house_parity: str | None = None
    segment: int | None = None
    # Search fields, folded with the shared pipeline (same function at query time).
    names: list[str] = Field(default_factory=list)  # folded current names, every language
    names_latin: list[str] = Field(default_factory=list)  # latin_key of the current names
    aliases: list[str] = Field(default_factory=list)  # folded old, informal, alt, derived names
    aliases_latin: list[str] = Field(default_factory=list)
    address: str | None = None  # folded "street house" of a building, so "Рудаки 83" finds ЦУМ
    popularity: int = 0  # tie-breaker: avenues and big landmarks first
    geo: GeoPoint | None = Field(default=None, alias="_geo")
    # The published version the document belongs to (resolver.published): a hit of another
    # version than the resolver's snapshot makes it follow that version before answering.
    version: str | None = None


def segment_id(place_id: str, number: int) -> str:
    """The document id of a split street's ``number``-th (1-based, in file order) segment.

    The builder names segment documents with it and the resolver reads button ids back with
    :func:`split_choice_id`: one definition, so the two always agree.
    """
    return f"{place_id}{SEGMENT_MARK}{number}"


def split_choice_id(choice_id: str) -> tuple[str, int | None]:
    """Split a document or button id into place id and segment number (None for a place)."""
    place_id, _, segment = choice_id.partition(SEGMENT_MARK)
    return place_id, int(segment) if segment.isdigit() else None
