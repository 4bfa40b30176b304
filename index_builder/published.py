"""What the builder publishes next to the places: the seed turned into :class:`PublishedData`.

Pure: the seed's models in, the resolver's published models out (:mod:`resolver.published`).
The version id and build time are stamped by :func:`index_builder.publish.publish`, which names
the build.
"""

from __future__ import annotations

from datetime import UTC, datetime

from index_builder.seed.models import Gazetteer, Place
from resolver.published import (
    SCHEMA_VERSION,
    PublishedData,
    PublishedPlace,
    VersionInfo,
    version_counts,
)

UNSTAMPED = "unpublished"  # the version id until publish() names the build


def published_place(place: Place) -> PublishedPlace:
    """The fields of a seed place the resolver links and names it with."""
    return PublishedPlace.model_validate(place.model_dump(include=set(PublishedPlace.model_fields)))


def published_data(gazetteer: Gazetteer, *, seed_hash: str = "") -> PublishedData:
    """Everything the resolver needs of ``gazetteer``, with counts; the version is unstamped."""
    data = PublishedData(
        version=VersionInfo(
            version=UNSTAMPED,
            built_at=datetime.now(UTC),
            seed_hash=seed_hash or "unknown",
            schema_version=SCHEMA_VERSION,
        ),
        places=tuple(published_place(place) for place in gazetteer.places),
        aliases=gazetteer.aliases,
        sectors=gazetteer.sectors,
        links=gazetteer.links,
        boundaries=gazetteer.boundaries,
    )
    return stamped(data, version=UNSTAMPED, built_at=data.version.built_at)


def stamped(data: PublishedData, *, version: str, built_at: datetime) -> PublishedData:
    """The same data named as build ``version`` of ``built_at``, with its counts."""
    info = data.version.model_copy(
        update={"version": version, "built_at": built_at, "counts": version_counts(data)}
    )
    return data.model_copy(update={"version": info})
