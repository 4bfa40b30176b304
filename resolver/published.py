"""The published data: everything the resolver reads, as one version, and its contract.

One *version* is two Meilisearch indexes swapped in together by the index builder:

- ``<live>`` (``noziri_places``): the search documents
  (:class:`~resolver.index_schema.PlaceDocument`), each carrying the ``version`` it was built for;
- ``<live>_meta`` (:func:`data_index_name`): the data the resolver links hits with, as a few
  documents told apart by ``type``::

      version     id "version": build id, build time, seed hash, schema, counts
      sector      one a sector: the sector with its inspector and office, and its polygon
      vocabulary  the address terms (``seed/terms.yaml``) and the places' aliases
      places      chunks of places: kind, names, districts and sector links (house ranges)

:func:`data_documents` writes them (the builder) and :func:`read_data_documents` reads them back
(the resolver), both pure. A version that is incomplete (a chunk or a sector missing, a document
of another build) or of another :data:`SCHEMA_VERSION` is refused with
:class:`PublishedDataError`. Models are dumped and validated generically, so fields added to a
sector or an inspector pass through.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from resolver.errors import NoziriError
from resolver.gazetteer import (
    AddressTerm,
    Aliases,
    District,
    Link,
    PlaceAlias,
    PlaceKind,
    Sector,
    display_name,
)

# Bump when the meaning or shape of a published document changes: a resolver refuses a version
# of another schema and keeps serving the one it has.
SCHEMA_VERSION: Final = 1
VERSION_ID: Final = "version"
VOCABULARY_ID: Final = "vocabulary"
PLACES_PER_DOCUMENT: Final = 1000
# A placeholder search returns at most the index's maxTotalHits: room for 10M places.
MAX_DATA_DOCUMENTS: Final = 10_000


def data_index_name(live: str) -> str:
    """The index that holds the data of the live places index ``live``."""
    return f"{live}_meta"


class PublishedDataError(NoziriError):
    """The published data cannot be served (incomplete, another schema, or unreadable)."""


class PublishedPlace(BaseModel):
    """A place as the resolver links it: its kind, names and districts."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: str
    kind: PlaceKind
    name_tg: str | None = None
    name_ru: str | None = None
    name_en: str | None = None
    old_names: tuple[str, ...] = ()
    alt_names: tuple[str, ...] = ()
    districts: tuple[District, ...] = ()

    def display_name(self, lang: str) -> str:
        """Return the best name for a reader of ``lang`` (tg, ru or en), falling back sensibly."""
        names = {"tg": self.name_tg, "ru": self.name_ru, "en": self.name_en}
        return display_name(names, lang, fallback=self.id)


class VersionInfo(BaseModel):
    """Which build a published version is: its id, when and from what it was built, its counts."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    version: str = Field(min_length=1)
    built_at: datetime
    seed_hash: str
    schema_version: int
    counts: dict[str, int] = Field(default_factory=dict)

    def describe(self) -> str:
        """One line for logs and the maintainer: id, build time, seed hash."""
        return f"{self.version} (built {self.built_at:%Y-%m-%d %H:%M} UTC, seed {self.seed_hash})"


class PublishedData(BaseModel):
    """One version of the published data, read back whole: what a resolver snapshot is built of."""

    model_config = ConfigDict(frozen=True)

    version: VersionInfo
    places: tuple[PublishedPlace, ...]
    aliases: Aliases  # the places' other names and the address words, as in the seed
    sectors: tuple[Sector, ...]
    links: tuple[Link, ...]
    # sector id -> GeoJSON Polygon/MultiPolygon geometry (plain data; shapely in sectors.py)
    boundaries: dict[str, dict[str, object]] = Field(default_factory=dict)


# -- writing (the builder) ----------------------------------------------------------------------


def data_documents(data: PublishedData) -> list[dict[str, Any]]:
    """The documents of the data index for ``data``, every one stamped with its version."""
    version = data.version.version
    documents = [
        {"id": VERSION_ID, "type": "version", **data.version.model_dump(mode="json")},
        {
            "id": VOCABULARY_ID,
            "type": "vocabulary",
            "version": version,
            "terms": _dump(data.aliases.terms),
            "place_aliases": _dump(data.aliases.places),
        },
        *(
            sector_document(sector, data.boundaries.get(sector.id), version)
            for sector in data.sectors
        ),
        *places_documents(data.places, data.links, version),
    ]
    return documents


def sector_document(
    sector: Sector, boundary: Mapping[str, object] | None, version: str
) -> dict[str, Any]:
    """One sector with its inspector and office, and its polygon."""
    return {
        "id": f"sector-{sector.id}",
        "type": "sector",
        "version": version,
        "sector": sector.model_dump(mode="json"),
        "boundary": dict(boundary) if boundary is not None else None,
    }


def places_documents(
    places: Sequence[PublishedPlace], links: Iterable[Link], version: str
) -> list[dict[str, Any]]:
    """Places in chunks of :data:`PLACES_PER_DOCUMENT`, each with its links in file order."""
    links_of: dict[str, list[dict[str, Any]]] = {}
    for link in links:
        links_of.setdefault(link.place_id, []).append(link.model_dump(mode="json"))
    chunks = [
        places[i : i + PLACES_PER_DOCUMENT] for i in range(0, len(places), PLACES_PER_DOCUMENT)
    ]
    return [
        {
            "id": f"places-{number:05d}",
            "type": "places",
            "version": version,
            "places": [
                {**place.model_dump(mode="json"), "links": links_of.get(place.id, [])}
                for place in chunk
            ],
        }
        for number, chunk in enumerate(chunks, 1)
    ]


def _dump(models: Iterable[BaseModel]) -> list[dict[str, Any]]:
    return [model.model_dump(mode="json") for model in models]


def version_counts(data: PublishedData) -> dict[str, int]:
    """The counts a version document carries (``data_documents`` is the count of the data index)."""
    chunks = -(-len(data.places) // PLACES_PER_DOCUMENT)
    return {
        "places": len(data.places),
        "sectors": len(data.sectors),
        "links": len(data.links),
        "terms": len(data.aliases.terms),
        "aliases": len(data.aliases.places),
        "polygons": len(data.boundaries),
        "data_documents": 2 + len(data.sectors) + chunks,
    }


# -- reading (the resolver) ---------------------------------------------------------------------


def read_version(document: Mapping[str, Any]) -> VersionInfo:
    """Read the version document, refusing one of another schema.

    Raises:
        PublishedDataError: the document is not a version document, or of another schema.
    """
    try:
        info = VersionInfo.model_validate(document)
    except ValidationError as exc:
        raise PublishedDataError(f"the published version document cannot be read: {exc}") from exc
    if info.schema_version != SCHEMA_VERSION:
        raise PublishedDataError(
            f"version {info.version} has schema {info.schema_version}, this resolver reads "
            f"schema {SCHEMA_VERSION}: update the bot, or roll back with "
            "`python -m index_builder rollback`"
        )
    return info


def read_data_documents(documents: Sequence[Mapping[str, Any]]) -> PublishedData:
    """Read every document of a data index back into one :class:`PublishedData`.

    Raises:
        PublishedDataError: no version document, another schema, a document of another build,
            a missing part (counts differ from the version's), or a document that does not parse.
    """
    by_type: dict[str, list[Mapping[str, Any]]] = {}
    for document in documents:
        by_type.setdefault(str(document.get("type")), []).append(document)
    versions = by_type.get("version", [])
    if len(versions) != 1:
        raise PublishedDataError("the published data has no version document: build it again")
    info = read_version(versions[0])
    strays = [
        d.get("id")
        for d in documents
        if d.get("type") != "version" and d.get("version") != info.version
    ]
    if strays:
        raise PublishedDataError(f"documents {strays[:3]} are not of version {info.version}")
    try:
        data = _assemble(info, by_type)
    except ValidationError as exc:
        raise PublishedDataError(f"version {info.version} cannot be read: {exc}") from exc
    _require_counts(data)
    return data


def _assemble(info: VersionInfo, by_type: Mapping[str, list[Mapping[str, Any]]]) -> PublishedData:
    """Validate the documents of each type into the parts of the data."""
    sectors = by_type.get("sector", [])
    chunks = sorted(by_type.get("places", []), key=lambda d: str(d.get("id")))
    rows = [row for chunk in chunks for row in chunk.get("places", [])]
    vocabulary = by_type.get("vocabulary", [{}])[0]
    return PublishedData(
        version=info,
        places=tuple(PublishedPlace.model_validate(row) for row in rows),
        aliases=Aliases(
            places=tuple(PlaceAlias.model_validate(a) for a in vocabulary.get("place_aliases", [])),
            terms=tuple(AddressTerm.model_validate(t) for t in vocabulary.get("terms", [])),
        ),
        sectors=tuple(Sector.model_validate(d["sector"]) for d in sectors),
        links=tuple(Link.model_validate(link) for row in rows for link in row.get("links", [])),
        boundaries={d["sector"]["id"]: d["boundary"] for d in sectors if d.get("boundary")},
    )


def _require_counts(data: PublishedData) -> None:
    """Refuse data whose parts do not add up to the counts its version announced."""
    expected = data.version.counts
    found = version_counts(data)
    missing = {
        name: (found.get(name), count)
        for name, count in expected.items()
        if found.get(name) != count
    }
    if missing:
        details = ", ".join(f"{name} {got} of {want}" for name, (got, want) in missing.items())
        raise PublishedDataError(f"version {data.version.version} is incomplete: {details}")
