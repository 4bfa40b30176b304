"""SectorDirectory: a sector by id, by place and house number, and by coordinates."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from index_builder.published import published_data
from index_builder.seed.load import load_gazetteer
from index_builder.seed.models import Aliases, Gazetteer, Place
from resolver.gazetteer import District, HouseRange, Link, Officer, Sector
from resolver.sectors import SectorDirectory
from search_platform.settings import PROJECT_ROOT


def square(lon: float, lat: float, size: float = 0.01) -> dict[str, object]:
    """A GeoJSON square with its south-west corner at (lon, lat)."""
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


def make_sector(sector_id: str, number: int) -> Sector:
    """A fictional sector of Ismoili Somoni district."""
    officer = Officer(
        name_tg="Далер Саидов",
        name_ru="Далер Саидов",
        name_en="Daler Saidov",
        rank="lieutenant",
        phone=f"+992 00 20{number} 00 0{number}",
        reception_hours="Sat 10:00-13:00",
    )
    return Sector(
        id=sector_id,
        district=District.SOMONI,
        name=f"участок {number}",
        office_address_tg="кӯчаи Бохтар 1",
        office_address_ru="улица Бохтар, 1",
        office_address_en="Bokhtar Street, 1",
        officer=officer,
    )


def houses(start: int, end: int | None, parity: Any = "all") -> HouseRange:
    """A house range."""
    return HouseRange(start=start, end=end, parity=parity)


@pytest.fixture
def make_directory() -> Callable[..., SectorDirectory]:
    """A directory over three square sectors side by side (west to east: A, B, C).

    Place dyu-0001 (a market) lies in SOM-01. Street dyu-0100 is split: 1-20 in SOM-01, odd
    21+ in SOM-02, even 22+ in SOM-03 (the street runs along their border).
    """

    def make(**overrides: Any) -> SectorDirectory:
        values: dict[str, Any] = {
            "places": (
                Place(id="dyu-0001", kind="market", name_ru="Зелёный базар"),
                Place(id="dyu-0100", kind="avenue", name_ru="проспект Рудаки"),
            ),
            "aliases": Aliases(),
            "sectors": tuple(make_sector(f"SOM-0{n}", n) for n in (1, 2, 3)),
            "links": (
                Link(place_id="dyu-0001", sector_id="SOM-01"),
                Link(place_id="dyu-0100", sector_id="SOM-01", houses=houses(1, 20)),
                Link(place_id="dyu-0100", sector_id="SOM-02", houses=houses(21, None, "odd")),
                Link(place_id="dyu-0100", sector_id="SOM-03", houses=houses(22, None, "even")),
            ),
            "boundaries": {
                "SOM-01": square(68.77, 38.57),
                "SOM-02": square(68.78, 38.57),
                "SOM-03": square(68.79, 38.57),
            },
        }
        return SectorDirectory(published_data(Gazetteer.model_validate(values | overrides)))

    return make


def sector_id(sector: Sector | None) -> str | None:
    """The id of a sector, or None."""
    return sector.id if sector else None


def test_finds_sector_by_id(make_directory: Callable[..., SectorDirectory]) -> None:
    directory = make_directory()
    assert sector_id(directory.sector("SOM-02")) == "SOM-02"
    assert directory.sector("SIN-99") is None


def test_lists_links_of_a_split_street_in_file_order(
    make_directory: Callable[..., SectorDirectory],
) -> None:
    links = make_directory().links_for("dyu-0100")
    assert [link.sector_id for link in links] == ["SOM-01", "SOM-02", "SOM-03"]
    assert make_directory().links_for("dyu-9999") == ()


@pytest.mark.parametrize(
    ("place_id", "house", "expected"),
    [
        ("dyu-0001", None, "SOM-01"),  # a market: one sector, house number irrelevant
        ("dyu-0001", 7, "SOM-01"),
        ("dyu-0100", 1, "SOM-01"),
        ("dyu-0100", 20, "SOM-01"),
        ("dyu-0100", 21, "SOM-02"),  # odd side past 20
        ("dyu-0100", 22, "SOM-03"),  # even side past 20
        ("dyu-0100", 999, "SOM-02"),  # the last ranges are open-ended
        ("dyu-0100", None, None),  # a split street needs a house number
        ("dyu-9999", 5, None),  # an unknown place
    ],
)
def test_finds_sector_for_place_and_house(
    make_directory: Callable[..., SectorDirectory],
    place_id: str,
    house: int | None,
    expected: str | None,
) -> None:
    assert sector_id(make_directory().sector_for_place(place_id, house)) == expected


def test_house_outside_every_range_has_no_sector(
    make_directory: Callable[..., SectorDirectory],
) -> None:
    links = (
        Link(place_id="dyu-0001", sector_id="SOM-01"),
        Link(place_id="dyu-0100", sector_id="SOM-01", houses=houses(1, 20)),
        Link(place_id="dyu-0100", sector_id="SOM-02", houses=houses(21, 40)),
    )
    directory = make_directory(links=links)
    assert sector_id(directory.sector_for_place("dyu-0100", 40)) == "SOM-02"
    assert directory.sector_for_place("dyu-0100", 41) is None


@pytest.mark.parametrize(
    ("lat", "lon", "expected"),
    [
        (38.575, 68.775, "SOM-01"),
        (38.575, 68.785, "SOM-02"),
        (38.579, 68.799, "SOM-03"),
        (38.575, 68.78, "SOM-01"),  # on the shared edge: the first sector of the file
        (38.575, 68.76, None),  # west of every sector
        (38.60, 68.785, None),  # north of every sector
    ],
)
def test_finds_sector_at_coordinates(
    make_directory: Callable[..., SectorDirectory], lat: float, lon: float, expected: str | None
) -> None:
    assert sector_id(make_directory().sector_at(lat, lon)) == expected


def test_tells_whether_a_point_is_in_dushanbe(
    make_directory: Callable[..., SectorDirectory],
) -> None:
    directory = make_directory()
    assert directory.is_in_dushanbe(38.575, 68.785)
    assert not directory.is_in_dushanbe(38.575, 68.70)
    assert not directory.is_in_dushanbe(68.785, 38.575)  # lat and lon swapped


def test_directory_without_polygons_finds_no_point(
    make_directory: Callable[..., SectorDirectory],
) -> None:
    directory = make_directory(boundaries={})
    assert directory.sector_at(38.575, 68.785) is None
    assert not directory.is_in_dushanbe(38.575, 68.785)
    assert sector_id(directory.sector_for_place("dyu-0001")) == "SOM-01"


# --------------------------------------------------------------------------------------------
# The real seed
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def seed() -> Gazetteer:
    """The repository's seed."""
    return load_gazetteer(PROJECT_ROOT / "seed")


@pytest.fixture(scope="module")
def directory(seed: Gazetteer) -> SectorDirectory:
    """A directory over the repository's seed."""
    return SectorDirectory(published_data(seed))


def test_every_real_place_has_a_sector_for_some_house(
    seed: Gazetteer, directory: SectorDirectory
) -> None:
    for place in seed.places:
        links = directory.links_for(place.id)
        start = links[0].houses.start if links and links[0].houses else None
        assert directory.sector_for_place(place.id, start) is not None, place.id


def test_real_places_with_coordinates_lie_in_their_sector(
    seed: Gazetteer, directory: SectorDirectory
) -> None:
    for place in seed.places:
        if place.lat is None or place.lon is None:
            continue
        found = directory.sector_at(place.lat, place.lon)
        linked = {link.sector_id for link in directory.links_for(place.id)}
        assert found is not None and found.id in linked, place.id


def test_rudaki_is_split_across_several_sectors(directory: SectorDirectory) -> None:
    rudaki = directory.links_for("dyu-0013")
    assert 3 <= len({link.sector_id for link in rudaki}) <= 6
    assert all(link.houses is not None for link in rudaki)


def test_building_on_rudaki_30_is_in_the_sector_of_rudaki_house_30(
    directory: SectorDirectory,
) -> None:
    tartine = directory.sector_for_place("dyu-0486")  # Тартин, пр. Рудаки 30, with coordinates
    assert tartine is not None
    assert sector_id(directory.sector_for_place("dyu-0013", 30)) == tartine.id


def test_saadi_sherozi_sides_belong_to_different_districts(directory: SectorDirectory) -> None:
    odd = directory.sector_for_place("dyu-0015", 41)
    even = directory.sector_for_place("dyu-0015", 42)
    assert odd is not None and even is not None
    assert {odd.district, even.district} == {District.SINO, District.FIRDAVSI}


def test_us_embassy_coordinates_fall_in_sino(directory: SectorDirectory) -> None:
    sector = directory.sector_at(38.57889, 68.71194)
    assert sector is not None and sector.district is District.SINO


def test_every_real_sector_and_officer_is_fictional(seed: Gazetteer) -> None:
    assert len(seed.sectors) >= 60
    assert all(s.fictional and s.officer.fictional for s in seed.sectors)
    assert {s.district for s in seed.sectors} == set(District)


def test_unreadable_polygon_names_its_sector(
    make_directory: Callable[..., SectorDirectory],
) -> None:
    broken = {"SOM-01": {"type": "Polygon", "coordinates": [[[68.77]]]}}
    with pytest.raises(ValueError, match=r"polygon of sector SOM-01 .* index_builder validate"):
        make_directory(boundaries=broken)
