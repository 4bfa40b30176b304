"""``validate --coverage``: the counts of what the seed covers, on a small gazetteer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from index_builder.__main__ import main
from index_builder.seed.coverage import Coverage, count_coverage, coverage_tables
from index_builder.seed.models import Address, Aliases, Gazetteer, Place, PlaceAlias
from resolver.gazetteer import AliasKind, HouseRange, Link, Sector
from search_platform.settings import PROJECT_ROOT

DISTRICT_RECORDS = (
    ("dyu-0001", "somoni", "ноҳияи Исмоили Сомонӣ", "район Исмоили Сомони", "Ismoili Somoni"),
    ("dyu-0002", "sino", "ноҳияи Сино", "район Сино", "Sino district"),
    ("dyu-0003", "firdavsi", "ноҳияи Фирдавсӣ", "район Фирдавси", "Firdavsi district"),
    ("dyu-0004", "shohmansur", "ноҳияи Шоҳмансур", "район Шохмансур", "Shohmansur district"),
)


@pytest.fixture
def make_place() -> Callable[..., Place]:
    """Build a place; keyword overrides replace the defaults."""

    def make(place_id: str, **overrides: Any) -> Place:
        values: dict[str, Any] = {"id": place_id, "kind": "street", "name_ru": "улица Бохтар"}
        return Place.model_validate(values | overrides)

    return make


@pytest.fixture
def small_seed(
    make_place: Callable[..., Place], make_sector: Callable[..., Sector]
) -> Callable[..., Gazetteer]:
    """Four districts, a split street in two districts, a mahalla, a landmark with a house and
    coordinates, a street named in no district; overrides replace parts."""

    def make(**overrides: Any) -> Gazetteer:
        districts = tuple(
            make_place(i, kind="district", districts=[d], name_tg=tg, name_ru=ru, name_en=en)
            for i, d, tg, ru, en in DISTRICT_RECORDS
        )
        places = (
            *districts,
            make_place("dyu-0010", kind="avenue", districts=["somoni", "sino"], name_tg="Рӯдакӣ"),
            make_place("dyu-0011", kind="mahalla", districts=["sino"], old_names=["Фрунзе"]),
            make_place(
                "dyu-0012",
                kind="landmark",
                districts=["somoni"],
                address=Address(street="проспект Рудаки", house="22"),
                lat=38.57,
                lon=68.78,
            ),
            make_place("nzr-0001"),
        )
        links = (
            Link(place_id="dyu-0010", sector_id="SOM-01", houses=HouseRange(start=1, end=9)),
            Link(place_id="dyu-0010", sector_id="SOM-02", houses=HouseRange(start=10)),
        )
        aliases = Aliases(
            places=(PlaceAlias(place_id="nzr-0001", alias="улица Ленина", kind=AliasKind.OLD),)
        )
        values: dict[str, Any] = {
            "places": places,
            "aliases": aliases,
            "sectors": (make_sector("SOM-01", area=True), make_sector("SOM-02")),
            "links": links,
        }
        return Gazetteer.model_validate(values | overrides)

    return make


def test_places_are_counted_by_kind_and_district(small_seed: Callable[..., Gazetteer]) -> None:
    coverage = count_coverage(small_seed())
    assert coverage.places == 8
    assert coverage.by_kind == {
        "district": 4, "street": 1, "avenue": 1, "mahalla": 1, "landmark": 1
    }  # fmt: skip
    assert coverage.by_district["places"] == {
        "somoni": 3, "sino": 3, "firdavsi": 1, "shohmansur": 1, "none": 1
    }  # fmt: skip
    assert coverage.by_district["streets + avenues"] == {
        "somoni": 1, "sino": 1, "firdavsi": 0, "shohmansur": 0, "none": 1
    }  # fmt: skip
    assert coverage.by_district["mahallas + microdistricts"]["sino"] == 1


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("with_coordinates", 1),
        ("with_house", 1),
        ("with_house_ranges", 1),
        ("with_old_names", 2),  # one from old_names, one from an "old" alias
        ("in_all_languages", 4),  # the four districts
        ("by_language", {"tg": 5, "ru": 8, "en": 4}),
        ("sectors", 2),
        ("sectors_with_area_name", 1),
        ("missing_sector_forms", ()),
        ("missing_district_forms", ()),
    ],
)
def test_what_the_places_carry_is_counted(
    small_seed: Callable[..., Gazetteer], field: str, expected: object
) -> None:
    assert getattr(count_coverage(small_seed()), field) == expected


def test_a_district_without_an_english_name_is_reported(
    small_seed: Callable[..., Gazetteer], make_place: Callable[..., Place]
) -> None:
    gazetteer = small_seed()
    sino = make_place("dyu-0002", kind="district", districts=["sino"], name_tg="ноҳияи Сино")
    places = tuple(sino if p.id == "dyu-0002" else p for p in gazetteer.places)
    coverage = count_coverage(gazetteer.model_copy(update={"places": places}))
    assert coverage.missing_district_forms == ("sino en",)


def test_a_sector_office_without_an_english_address_is_reported(
    small_seed: Callable[..., Gazetteer], make_sector: Callable[..., Sector]
) -> None:
    sectors = (make_sector("SOM-01", office_address_en=" "), make_sector("SOM-02"))
    coverage = count_coverage(small_seed(sectors=sectors))
    assert coverage.missing_sector_forms == ("SOM-01 office_address_en",)


def test_tables_name_every_count(small_seed: Callable[..., Gazetteer]) -> None:
    coverage: Coverage = count_coverage(small_seed())
    items = coverage_tables(coverage)
    lines = [item for item in items if isinstance(item, str)]
    assert lines[0].startswith("sectors (fictional): 2, 1 known by an area")
    assert lines[1:] == ["sector fields without a form: none", "district names missing: none"]


def test_validate_coverage_prints_the_counts_of_the_real_seed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status = main(["validate", str(PROJECT_ROOT / "seed"), "--coverage"])
    out = capsys.readouterr().out
    assert status == 0
    assert "streets + avenues" in out
    assert "names in all of tg, ru, en" in out
    assert "district names missing: none" in out
