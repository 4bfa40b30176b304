"""The seed's own data model: places, their addresses and the whole gazetteer read from ``seed/``.

These pydantic models are the boundary for everything read from ``seed/``; only the index builder
reads them (:mod:`index_builder.seed.load` reads the files, :mod:`index_builder.seed.validate`
checks the cross-record rules). The domain values the resolver reads back from the published data
(sectors, inspectors, links, aliases, address terms, kinds and districts) live in
:mod:`resolver.gazetteer`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from resolver.gazetteer import (
    PLACE_ID_PATTERN,
    Aliases,
    AliasKind,
    District,
    Frozen,
    Link,
    PlaceAlias,
    PlaceKind,
    Sector,
    display_name,
)

__all__ = ["Address", "AliasKind", "Aliases", "Gazetteer", "Place", "PlaceAlias"]


class Address(Frozen):
    """A building's postal address as the source wrote it."""

    street: str | None = None
    house: str | None = None
    street_place_id: str | None = Field(default=None, pattern=PLACE_ID_PATTERN)
    note: str | None = None


class Place(Frozen):
    """One real place of Dushanbe (or a synthetic one, ids ``syn-``)."""

    id: str = Field(pattern=PLACE_ID_PATTERN)
    kind: PlaceKind
    name_tg: str | None = None
    name_ru: str | None = None
    name_en: str | None = None
    old_names: tuple[str, ...] = ()
    alt_names: tuple[str, ...] = ()
    # Variants produced by the rules of tajik_text.md, not seen in a source.
    derived_names: tuple[str, ...] = ()
    qualifier: str | None = None  # text that was in parentheses or quotes in the source name
    districts: tuple[District, ...] = ()
    address: Address | None = None
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    coord_confidence: Literal["high", "medium", "low"] | None = None
    confidence: Literal["high", "medium", "low"] = "medium"
    note: str | None = None
    sources: tuple[str, ...] = ()

    def display_name(self, lang: str) -> str:
        """Return the best name for a reader of ``lang`` (tg, ru or en), falling back sensibly."""
        names = {"tg": self.name_tg, "ru": self.name_ru, "en": self.name_en}
        return display_name(names, lang, fallback=self.id)


class Gazetteer(Frozen):
    """The whole seed, as loaded from ``seed/``."""

    places: tuple[Place, ...]
    aliases: Aliases
    sectors: tuple[Sector, ...]
    links: tuple[Link, ...]
    # sector id -> GeoJSON Polygon/MultiPolygon geometry (kept as plain data; shapely in sectors.py)
    boundaries: dict[str, dict[str, object]] = Field(default_factory=dict)
