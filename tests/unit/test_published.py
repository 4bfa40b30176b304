"""The published data round trip, and the versions a resolver must refuse."""

from __future__ import annotations

import logging
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
from resolver.snapshots import Snapshots
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


class ScriptedReader:
    """A published-data reader whose live data index the test replaces."""

    def __init__(self, documents: Documents) -> None:
        self.live: Documents | Exception = documents

    def version(self) -> dict[str, Any] | None:
        if isinstance(self.live, Exception):
            raise self.live
        return next((d for d in self.live if d["type"] == "version"), None)

    def documents(self) -> Documents:
        if isinstance(self.live, Exception):
            raise self.live
        return self.live


def version_named(data: PublishedData, version: str) -> Documents:
    return data_documents(stamped(data, version=version, built_at=datetime.now(UTC)))


def test_snapshots_switch_to_a_new_version_and_back_to_a_kept_one(data: PublishedData) -> None:
    reader = ScriptedReader(version_named(data, "one"))
    snapshots = Snapshots.load(reader)
    first = snapshots.current()
    reader.live = version_named(data, "two")
    assert snapshots.check().version.version == "two"
    reader.live = version_named(data, "one")  # a rollback
    assert snapshots.check() is first


@pytest.mark.parametrize(
    "live",
    [other_schema, drop_one_sector, lambda docs: PublishedDataError("index_not_found")],
    ids=["other schema", "half published", "data index gone"],
)
def test_snapshots_keep_serving_when_the_live_version_cannot_be_served(
    data: PublishedData, live: Callable[[Documents], Any], caplog: pytest.LogCaptureFixture
) -> None:
    reader = ScriptedReader(version_named(data, "one"))
    snapshots = Snapshots.load(reader)
    served = snapshots.current()
    reader.live = live(version_named(data, "two"))
    assert snapshots.check() is served
    assert snapshots.follow("two") is None
    assert any(r.levelno >= logging.WARNING for r in caplog.records)
