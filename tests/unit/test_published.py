"""The published data round trip, and the versions a resolver must refuse."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from index_builder.published import published_data, stamped
from index_builder.seed.load import load_gazetteer
from resolver.published import (
    PublishedData,
    PublishedDataError,
    data_documents,
    read_data_documents,
)
from search_platform.settings import PROJECT_ROOT

Documents = list[dict[str, Any]]


@pytest.fixture(scope="module")
def data() -> PublishedData:
    """The seed as one stamped version."""
    raw = published_data(load_gazetteer(PROJECT_ROOT / "seed"), seed_hash="abc")
    return stamped(
        raw, version="20261201_000000_000000", built_at=datetime(2026, 12, 1, tzinfo=UTC)
    )


def test_published_data_reads_back_equal(data: PublishedData) -> None:
    assert read_data_documents(data_documents(data)) == data


def drop_type(kind: str) -> Callable[[Documents], Documents]:
    return lambda docs: [d for d in docs if d["type"] != kind]


def drop_one_sector(docs: Documents) -> Documents:
    first = next(i for i, d in enumerate(docs) if d["type"] == "sector")
    return docs[:first] + docs[first + 1 :]


def other_schema(docs: Documents) -> Documents:
    return [d | {"schema_version": 99} if d["type"] == "version" else d for d in docs]


def stray_version(docs: Documents) -> Documents:
    return [d | {"version": "other"} if d["type"] == "sector" else d for d in docs]


def sector_field_unknown(docs: Documents) -> Documents:
    return [
        d | {"sector": d["sector"] | {"colour": "red"}} if d["type"] == "sector" else d
        for d in docs
    ]


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (drop_type("version"), "no version document"),
        (drop_type("places"), "incomplete"),
        (drop_one_sector, "incomplete"),
        (other_schema, "schema 99"),
        (stray_version, "not of version"),
        (sector_field_unknown, "cannot be read"),
    ],
    ids=["no version", "no places", "a sector missing", "other schema", "mixed builds", "unknown"],
)
def test_a_version_that_cannot_be_served_is_refused(
    data: PublishedData, damage: Callable[[Documents], Documents], message: str
) -> None:
    with pytest.raises(PublishedDataError, match=message):
        read_data_documents(damage(data_documents(data)))
