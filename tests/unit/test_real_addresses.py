"""The real-address set (tests/data/real_addresses.jsonl) stays well formed and tied to the seed.

Every row is an address copied verbatim from a public page or file: it must parse, cite its source,
name only seed places that exist, and keep its class consistent (a Dushanbe address names a place,
another city's address and a coverage gap name none).
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "real_addresses.jsonl"
PLACES = ROOT / "seed" / "places.yaml"

# Issue 12: "collect at least 300 real Dushanbe addresses".
MIN_DUSHANBE_ROWS = 300
NOISE_CLASSES = {"real_address", "missing_place", "other_city"}
LANGS = {"ru", "tg", "en"}
PART_KEYS = {
    "postcode", "district", "office", "floor", "flat", "entrance", "block", "building",
    "microdistrict", "plus_code",
}  # fmt: skip
REQUIRED = {
    "query", "place_id", "house", "noise", "lang", "accept", "parts", "source", "source_title",
}  # fmt: skip
# A web address, or a file of the public code index cited the way the shared gazetteer does.
SOURCE = re.compile(r"^(https?://\S+|github \(id \d+\))$")
# HouseNumber.label(): number, optional Cyrillic/Latin letter, optional /building.
HOUSE = re.compile(r"^\d+[а-яa-z]?(/\d+)?$")


@cache
def rows() -> tuple[dict[str, Any], ...]:
    lines = DATA.read_text(encoding="utf-8").splitlines()
    return tuple(json.loads(line) for line in lines if line.strip())


@cache
def seed_ids() -> frozenset[str]:
    places = yaml.safe_load(PLACES.read_text(encoding="utf-8"))["places"]
    return frozenset(place["id"] for place in places)


def dushanbe_rows() -> list[dict[str, Any]]:
    return [row for row in rows() if row["noise"] != "other_city"]


@pytest.fixture(params=range(len(rows())), ids=lambda index: f"row{index + 1}")
def row(request: pytest.FixtureRequest) -> dict[str, Any]:
    index: int = request.param
    return rows()[index]


def test_every_row_has_the_schema_fields(row: dict[str, Any]) -> None:
    assert row.keys() >= REQUIRED, sorted(REQUIRED - row.keys())
    assert isinstance(row["query"], str) and row["query"].strip()
    assert row["noise"] in NOISE_CLASSES
    assert row["lang"] in LANGS
    assert isinstance(row["accept"], list)


def test_every_row_cites_a_source(row: dict[str, Any]) -> None:
    assert SOURCE.match(row["source"]), row["source"]
    assert row["source_title"].strip()


def test_every_named_place_exists_in_the_seed(row: dict[str, Any]) -> None:
    named = [row["place_id"], *row["accept"]] if row["place_id"] else row["accept"]
    assert set(named) <= seed_ids(), sorted(set(named) - seed_ids())


def test_house_labels_are_written_like_house_number_labels(row: dict[str, Any]) -> None:
    assert row["house"] is None or HOUSE.match(row["house"]), row["house"]


def test_parts_use_the_documented_keys(row: dict[str, Any]) -> None:
    assert set(row["parts"]) <= PART_KEYS, sorted(set(row["parts"]) - PART_KEYS)
    assert all(isinstance(value, str) and value for value in row["parts"].values())


@pytest.mark.parametrize(
    ("noise", "has_place", "has_missing"),
    [("real_address", True, False), ("missing_place", False, True), ("other_city", False, False)],
)
def test_each_class_names_a_place_only_when_it_should(
    noise: str, has_place: bool, has_missing: bool
) -> None:
    selected = [row for row in rows() if row["noise"] == noise]
    # Every missing place may be added to the seed one day (its row is then relabelled).
    assert selected or noise == "missing_place", f"no {noise} rows"
    for row in selected:
        assert (row["place_id"] is not None) is has_place, row["query"]
        assert bool(row.get("missing")) is has_missing, row["query"]


def test_no_address_is_listed_twice() -> None:
    queries = [row["query"] for row in rows()]
    assert len(queries) == len(set(queries))


def test_the_set_holds_at_least_300_dushanbe_addresses() -> None:
    assert len(dushanbe_rows()) >= MIN_DUSHANBE_ROWS
