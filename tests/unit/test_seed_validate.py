"""The seed loader and ``python -m index_builder validate``: precise errors, never tracebacks.

Two kinds of tests: small gazetteers built with factories (one rule at a time), and a copy of
the real ``seed/`` broken in one way, run through the command line.
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from index_builder.seed import validate as validate_module
from index_builder.seed.load import (
    LINKS_FILE,
    PLACES_FILE,
    SECTORS_FILE,
    LoadedSeed,
    SeedError,
    SeedLoadError,
    load_seed,
    parse_seed,
)
from index_builder.seed.models import Aliases, AliasKind, Gazetteer, Place, PlaceAlias
from index_builder.seed.validate import validate
from index_builder.settings import BuilderSettings
from resolver.gazetteer import HouseRange, Link, Sector
from search_platform.settings import PROJECT_ROOT

REAL_SEED = PROJECT_ROOT / "seed"


# --------------------------------------------------------------------------------------------
# Factories
# --------------------------------------------------------------------------------------------
def square(lon: float, lat: float, size: float = 0.01) -> dict[str, object]:
    """A GeoJSON square with its south-west corner at (lon, lat)."""
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


@pytest.fixture
def make_place() -> Callable[..., Place]:
    """Build a place; keyword overrides replace the defaults."""

    def make(**overrides: Any) -> Place:
        values: dict[str, Any] = {"id": "dyu-0001", "kind": "landmark", "name_ru": "Цирк"}
        return Place.model_validate(values | overrides)

    return make


# One sector per district plus a second in Somoni; squares that touch or stand apart.
CORNERS = {
    "SOM-01": (68.78, 38.57),
    "SOM-02": (68.79, 38.57),
    "SIN-01": (68.76, 38.57),
    "FIR-01": (68.78, 38.55),
    "SHM-01": (68.80, 38.57),
}
DISTRICTS = {"SOM": "somoni", "SIN": "sino", "FIR": "firdavsi", "SHM": "shohmansur"}


def boundaries(*, without: str = "") -> dict[str, dict[str, object]]:
    """The default sector squares, optionally leaving one out."""
    return {k: square(*corner) for k, corner in CORNERS.items() if k != without}


@pytest.fixture
def make_gazetteer(
    make_place: Callable[..., Place], make_sector: Callable[..., Sector]
) -> Callable[..., Gazetteer]:
    """A sound gazetteer: a landmark in SOM-01 and one square sector per district (two in
    Somoni); overrides replace parts."""

    def make(**overrides: Any) -> Gazetteer:
        sectors = tuple(
            make_sector(k, phone=f"+992 00 10{n} 00 0{n}", district=DISTRICTS[k[:3]])
            for n, k in enumerate(CORNERS)
        )
        values: dict[str, Any] = {
            "places": (make_place(lat=38.575, lon=68.785),),
            "aliases": Aliases(),
            "sectors": sectors,
            "links": (Link(place_id="dyu-0001", sector_id="SOM-01"),),
            "boundaries": boundaries(),
        }
        return Gazetteer.model_validate(values | overrides)

    return make


def street_links(*ranges: tuple[int, int | None, str]) -> tuple[Link, ...]:
    """Links splitting street dyu-0100 into ``(start, end, parity)`` ranges over two sectors."""
    return tuple(
        Link(
            place_id="dyu-0100",
            sector_id="SOM-01" if n % 2 == 0 else "SOM-02",
            houses=HouseRange(start=start, end=end, parity=parity),
        )
        for n, (start, end, parity) in enumerate(ranges)
    )


def messages(errors: list[SeedError]) -> list[str]:
    """The errors as printed."""
    return [str(error) for error in errors]


# --------------------------------------------------------------------------------------------
# validate(): one rule at a time
# --------------------------------------------------------------------------------------------
def test_sound_small_gazetteer_has_no_errors(make_gazetteer: Callable[..., Gazetteer]) -> None:
    assert validate(make_gazetteer(), {"dyu-0001"}) == []


def test_reports_duplicate_place_id(
    make_gazetteer: Callable[..., Gazetteer], make_place: Callable[..., Place]
) -> None:
    places = (make_place(), make_place(kind="market"))
    errors = validate(make_gazetteer(places=places), None)
    assert "places.yaml: dyu-0001.id: duplicate id; first used earlier" in messages(errors)


def test_reports_shared_id_missing_from_seed(make_gazetteer: Callable[..., Gazetteer]) -> None:
    errors = validate(make_gazetteer(), {"dyu-0001", "dyu-0002"})
    assert [(e.file, e.record_id, e.field) for e in errors] == [("places.yaml", "dyu-0002", "id")]


def test_reports_place_without_link(
    make_gazetteer: Callable[..., Gazetteer], make_place: Callable[..., Place]
) -> None:
    places = (make_place(lat=38.575, lon=68.785), make_place(id="dyu-0002"))
    errors = validate(make_gazetteer(places=places), None)
    assert messages(errors) == [
        "places.yaml: dyu-0002: not linked to any sector; add it to links.yaml"
    ]


def test_reports_link_to_unknown_sector_and_place(make_gazetteer: Callable[..., Gazetteer]) -> None:
    links = (
        Link(place_id="dyu-0001", sector_id="SOM-01"),
        Link(place_id="dyu-0009", sector_id="SIN-07"),
    )
    found = {(e.record_id, e.field) for e in validate(make_gazetteer(links=links), None)}
    assert {("dyu-0009", "place_id"), ("dyu-0009", "sector_id")} <= found


def test_reports_landmark_linked_to_two_sectors(make_gazetteer: Callable[..., Gazetteer]) -> None:
    links = (
        Link(place_id="dyu-0001", sector_id="SOM-01"),
        Link(place_id="dyu-0001", sector_id="SOM-02"),
    )
    errors = validate(make_gazetteer(links=links), None)
    assert any("place linked again" in m for m in messages(errors))


def test_reports_house_ranges_on_a_landmark(make_gazetteer: Callable[..., Gazetteer]) -> None:
    links = (Link(place_id="dyu-0001", sector_id="SOM-01", houses=HouseRange(start=1)),)
    errors = validate(make_gazetteer(links=links), None)
    assert "house ranges are only for streets and avenues, not a landmark" in messages(errors)[0]


@pytest.mark.parametrize(
    ("ranges", "expected"),
    [
        ([(1, 10, "all"), (11, None, "all")], None),
        ([(1, 9, "odd"), (2, 10, "even"), (11, None, "all")], None),
        ([(1, None, "odd"), (2, None, "even")], None),
        ([(1, 40, "all")], None),
        ([(1, 10, "all"), (10, 20, "all")], "overlaps the range earlier: house 10 is in both"),
        ([(1, 10, "odd"), (1, 10, "all")], "house 1 is in both"),
        ([(1, None, "all"), (50, None, "even")], "house 50 is in both"),
        ([(1, 10, "all"), (13, None, "all")], "gap: house(s) 11, 12 in no range"),
        ([(1, 11, "odd"), (2, 10, "even"), (13, None, "all")], "gap: house(s) 12 in no range"),
        ([(5, None, "all")], "gap: house(s) 1, 2, 3, 4 in no range"),
        ([(1, None, "odd")], "gap: house(s) 2 in no range"),
        ([(1, 10, "all"), (20, 11, "all")], "end 11 is before start"),
    ],
)
def test_house_range_rules(
    make_gazetteer: Callable[..., Gazetteer],
    make_place: Callable[..., Place],
    ranges: list[tuple[int, int | None, str]],
    expected: str | None,
) -> None:
    places = (make_place(lat=38.575, lon=68.785), make_place(id="dyu-0100", kind="street"))
    links = (Link(place_id="dyu-0001", sector_id="SOM-01"), *street_links(*ranges))
    errors = messages(validate(make_gazetteer(places=places, links=links), None))
    if expected is None:
        assert errors == []
    else:
        assert len(errors) == 1
        assert expected in errors[0]
        assert errors[0].startswith("links.yaml: dyu-0100.houses")


def test_reports_phone_used_twice(
    make_gazetteer: Callable[..., Gazetteer], make_sector: Callable[..., Sector]
) -> None:
    sectors = (*make_gazetteer().sectors, make_sector("SOM-03", phone="+992 00 100 00 00"))
    errors = validate(make_gazetteer(sectors=sectors), None)
    assert "sectors.yaml: SOM-03.officer.phone: phone already used by SOM-01" in messages(errors)


def test_reports_link_into_another_district(
    make_gazetteer: Callable[..., Gazetteer], make_place: Callable[..., Place]
) -> None:
    places = (make_place(lat=38.575, lon=68.785, districts=["sino"]),)
    errors = validate(make_gazetteer(places=places), None)
    assert "SOM-01 is in somoni; the place lists sino" in messages(errors)[0]


@pytest.mark.parametrize(
    ("lat", "lon", "field"),
    [(40.1, 68.785, "lat"), (38.575, 69.5, "lon"), (68.785, 38.575, "lat")],
)
def test_reports_coordinates_outside_dushanbe(
    make_gazetteer: Callable[..., Gazetteer],
    make_place: Callable[..., Place],
    lat: float,
    lon: float,
    field: str,
) -> None:
    places = (make_place(lat=lat, lon=lon),)
    errors = validate(make_gazetteer(places=places), None)
    assert any(e.field == field and "outside Dushanbe" in e.message for e in errors)


def test_reports_place_outside_its_sector_polygon(
    make_gazetteer: Callable[..., Gazetteer], make_place: Callable[..., Place]
) -> None:
    places = (make_place(lat=38.575, lon=68.795),)  # inside SOM-02's square
    errors = validate(make_gazetteer(places=places), None)
    assert messages(errors) == [
        "places.yaml: dyu-0001.lat: outside the polygon of SOM-01; it lies in SOM-02"
    ]


def test_reports_sector_without_polygon(make_gazetteer: Callable[..., Gazetteer]) -> None:
    errors = validate(make_gazetteer(boundaries=boundaries(without="SOM-02")), None)
    assert messages(errors) == ["sectors.yaml: SOM-02: has no polygon in sectors.geojson; draw one"]


def test_reports_every_sector_without_polygon_when_the_file_has_none(
    make_gazetteer: Callable[..., Gazetteer],
) -> None:
    errors = validate(make_gazetteer(boundaries={}), set())
    missing = [e for e in errors if "has no polygon" in e.message]
    assert len(missing) == len(CORNERS)


def test_reports_self_intersecting_polygon(make_gazetteer: Callable[..., Gazetteer]) -> None:
    bow_tie = {
        "type": "Polygon",
        "coordinates": [
            [[68.79, 38.57], [68.80, 38.58], [68.80, 38.57], [68.79, 38.58], [68.79, 38.57]]
        ],
    }
    errors = validate(make_gazetteer(boundaries=boundaries() | {"SOM-02": bow_tie}), None)
    assert [(e.record_id, e.field) for e in errors] == [("SOM-02", "geometry")]
    assert "invalid polygon: Self-intersection" in errors[0].message


def test_reports_overlapping_polygons_but_not_touching_ones(
    make_gazetteer: Callable[..., Gazetteer],
) -> None:
    shifted = boundaries() | {"SOM-02": square(68.785, 38.57)}
    errors = validate(make_gazetteer(boundaries=shifted), None)
    assert len(errors) == 1
    assert "overlaps the polygon of SOM-01" in errors[0].message
    assert validate(make_gazetteer(), None) == []  # the default squares share an edge


def test_reports_alias_of_unknown_place(make_gazetteer: Callable[..., Gazetteer]) -> None:
    alias = PlaceAlias(place_id="dyu-0042", alias="ЦУМ", kind=AliasKind.INFORMAL)
    errors = validate(make_gazetteer(aliases=Aliases(places=(alias,))), None)
    assert messages(errors) == [
        "aliases.yaml: dyu-0042.place_id: no place has this id (alias 'ЦУМ')"
    ]


def test_seed_error_prints_file_line_record_and_field() -> None:
    error = SeedError("links.yaml", 12, "dyu-0013", "houses.end", "end 3 is before start")
    assert str(error) == "links.yaml:12: dyu-0013.houses.end: end 3 is before start"
    assert str(SeedError("places.yaml", None, None, None, "missing")) == "places.yaml: missing"


# --------------------------------------------------------------------------------------------
# parse_seed(): reading errors name file, line, record and field
# --------------------------------------------------------------------------------------------
MINIMAL_TEXTS = {
    "places.yaml": "places:\n- id: dyu-0001\n  kind: landmark\n  name_ru: Цирк\n",
    "aliases.yaml": "places: []\n",
    "sectors.yaml": "sectors: []\n",
    "links.yaml": "links: []\n",
    "sectors.geojson": '{"type": "FeatureCollection", "features": []}\n',
}


def parse_errors(**replacements: str) -> list[str]:
    """Parse the minimal seed with some files replaced; return the printed errors."""
    with pytest.raises(SeedLoadError) as caught:
        parse_seed(MINIMAL_TEXTS | {k.replace("_", "."): v for k, v in replacements.items()})
    return [str(error) for error in caught.value.errors]


def test_parses_minimal_seed_without_terms_file() -> None:
    gazetteer = parse_seed(MINIMAL_TEXTS).gazetteer
    assert [p.id for p in gazetteer.places] == ["dyu-0001"]
    assert gazetteer.aliases.terms == ()


def test_reports_unknown_field_on_its_line() -> None:
    text = "places:\n- id: dyu-0001\n  kind: landmark\n  colour: red\n"
    assert parse_errors(places_yaml=text) == [
        "places.yaml:4: dyu-0001.colour: unknown field 'colour'; check its spelling or remove it"
    ]


def test_reports_wrong_value_on_its_line() -> None:
    text = "places:\n- id: dyu-0001\n  kind: palace\n"
    errors = parse_errors(places_yaml=text)
    assert len(errors) == 1
    assert errors[0].startswith("places.yaml:3: dyu-0001.kind: Input should be")


def test_reports_yaml_syntax_error_with_line() -> None:
    text = "places:\n- id: dyu-0001\n  kind: [landmark\n"
    errors = parse_errors(places_yaml=text)
    assert len(errors) == 1
    assert re.match(r"places\.yaml:\d+: YAML syntax error: ", errors[0])


def test_reports_key_given_twice() -> None:
    text = "places:\n- id: dyu-0001\n  kind: landmark\n  kind: market\n"
    assert parse_errors(places_yaml=text) == ["places.yaml:4: kind: key given twice; keep one"]


def test_reports_file_without_its_list() -> None:
    assert parse_errors(links_yaml="link: []\n") == ["links.yaml:1: has no 'links:' list"]


def test_reports_nested_field_of_officer() -> None:
    text = (
        "sectors:\n- id: SOM-01\n  district: somoni\n  name: x\n  office_address_tg: x\n"
        "  office_address_ru: x\n  office_address_en: x\n"
        "  officer:\n    name_tg: x\n    name_ru: x\n    name_en: x\n"
        "    rank: captain\n    phone: '+992 93 123 45 67'\n    reception_hours: x\n"
    )
    errors = parse_errors(sectors_yaml=text)
    assert len(errors) == 1
    assert errors[0].startswith("sectors.yaml:13: SOM-01.officer.phone: String should match")


def test_reports_second_polygon_for_a_sector() -> None:
    feature = {"type": "Feature", "properties": {"sector_id": "SOM-01"}, "geometry": square(1, 1)}
    lines = [json.dumps(feature), json.dumps(feature)]
    text = '{"type": "FeatureCollection", "features": [\n' + ",\n".join(lines) + "\n]}\n"
    assert parse_errors(sectors_geojson=text) == [
        "sectors.geojson:3: SOM-01.properties.sector_id: second polygon for sector SOM-01;"
        " a sector has exactly one polygon"
    ]


def test_missing_seed_file_is_reported_not_raised(tmp_path: Path) -> None:
    with pytest.raises(SeedLoadError) as caught:
        load_seed(tmp_path)
    assert "places.yaml: missing from" in str(caught.value.errors[0])


# --------------------------------------------------------------------------------------------
# The real seed, copied and broken one way at a time, through the command line
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def real_seed() -> LoadedSeed:
    """The repository's seed, loaded once."""
    return load_seed(REAL_SEED)


@pytest.fixture
def seed_copy(tmp_path: Path) -> Path:
    """A copy of the real seed to break."""
    target = tmp_path / "seed"
    shutil.copytree(REAL_SEED, target)
    return target


@pytest.fixture
def reference(tmp_path: Path, real_seed: LoadedSeed) -> Path:
    """A stand-in for the shared places.jsonl: the ids the seed took from it."""
    path = tmp_path / "places.jsonl"
    ids = [p.id for p in real_seed.gazetteer.places if p.id.startswith("dyu-")]
    path.write_text("".join(json.dumps({"id": i}) + "\n" for i in ids), encoding="utf-8")
    return path


def run_cli(seed_dir: Path, reference: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """Run ``validate SEED_DIR --reference PATH``; return the exit status and the output."""
    parser = argparse.ArgumentParser()
    validate_module.add_arguments(parser)
    args = parser.parse_args([str(seed_dir), "--reference", str(reference)])
    status = args.run(args, BuilderSettings(_env_file=None))
    output = capsys.readouterr().out
    assert "Traceback" not in output
    return status, output


def edit_line(path: Path, line: int, change: Callable[[str], str]) -> None:
    """Replace 1-based ``line`` of ``path`` by ``change(old line)``."""
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[line - 1] = change(lines[line - 1])
    path.write_text("\n".join(lines), encoding="utf-8")


def delete_lines(path: Path, first: int, last: int) -> None:
    """Delete 1-based lines ``first..last`` of ``path``."""
    lines = path.read_text(encoding="utf-8").split("\n")
    del lines[first - 1 : last]
    path.write_text("\n".join(lines), encoding="utf-8")


def record_span(seed: LoadedSeed, file: str, index: int, count: int) -> tuple[int, int]:
    """First and last line of record ``index`` (the next record starts after a blank line)."""
    first = seed.locations.line(file, index)
    following = seed.locations.line(file, index + 1) if index + 1 < count else None
    assert first is not None
    return first, (following - 2 if following else first)


def split_street_index(seed: LoadedSeed) -> int:
    """Index of the first link of a street split into two 'all' ranges that follow each other."""
    links = seed.gazetteer.links
    for i, (a, b) in enumerate(itertools.pairwise(links)):
        if a.place_id != b.place_id or a.houses is None or b.houses is None:
            continue
        both_all = a.houses.parity == b.houses.parity == "all"
        if both_all and a.houses.end and a.houses.end + 1 == b.houses.start:
            return i
    raise AssertionError("the seed has no split street")


def test_real_seed_validates_and_prints_counts(
    reference: Path, capsys: pytest.CaptureFixture[str], real_seed: LoadedSeed
) -> None:
    status, output = run_cli(REAL_SEED, reference, capsys)
    assert status == 0, output
    assert "seed OK" in output
    assert f"sectors (fictional): {len(real_seed.gazetteer.sectors)}" in output
    assert len(real_seed.gazetteer.sectors) >= 60


def test_real_seed_keeps_every_shared_id_when_shared_file_is_present(
    real_seed: LoadedSeed,
) -> None:
    shared = PROJECT_ROOT.parent / "shared" / "gazetteer" / "places.jsonl"
    if not shared.is_file():
        pytest.skip("../shared/gazetteer/places.jsonl is not in this checkout")
    ids = {json.loads(line)["id"] for line in shared.read_text("utf-8").splitlines() if line}
    assert validate(real_seed.gazetteer, ids) == []


def test_cli_reports_duplicate_place_id(
    seed_copy: Path, reference: Path, real_seed: LoadedSeed, capsys: pytest.CaptureFixture[str]
) -> None:
    line = real_seed.locations.line(PLACES_FILE, 1, "id")
    assert line is not None
    edit_line(seed_copy / PLACES_FILE, line, lambda text: text.replace("dyu-0002", "dyu-0001"))
    status, output = run_cli(seed_copy, reference, capsys)
    assert status == 1
    first = real_seed.locations.line(PLACES_FILE, 0)
    assert f"places.yaml:{line}: dyu-0001.id: duplicate id; first used on line {first}" in output
    assert "places.yaml: dyu-0002.id: id of the shared gazetteer is missing" in output


def test_cli_reports_missing_shared_id(
    seed_copy: Path, reference: Path, real_seed: LoadedSeed, capsys: pytest.CaptureFixture[str]
) -> None:
    places = real_seed.gazetteer.places
    index = next(i for i, p in enumerate(places) if p.id.startswith("dyu-") and i > 10)
    delete_lines(seed_copy / PLACES_FILE, *record_span(real_seed, PLACES_FILE, index, len(places)))
    status, output = run_cli(seed_copy, reference, capsys)
    assert status == 1
    assert f"places.yaml: {places[index].id}.id: id of the shared gazetteer is missing" in output


def test_cli_reports_unlinked_place(
    seed_copy: Path, reference: Path, real_seed: LoadedSeed, capsys: pytest.CaptureFixture[str]
) -> None:
    links = real_seed.gazetteer.links
    index = next(
        i
        for i, link in enumerate(links)
        if link.houses is None and sum(x.place_id == link.place_id for x in links) == 1
    )
    delete_lines(seed_copy / LINKS_FILE, *record_span(real_seed, LINKS_FILE, index, len(links)))
    status, output = run_cli(seed_copy, reference, capsys)
    place_index = next(
        i for i, p in enumerate(real_seed.gazetteer.places) if p.id == links[index].place_id
    )
    line = real_seed.locations.line(PLACES_FILE, place_index)
    assert status == 1
    assert f"places.yaml:{line}: {links[index].place_id}: not linked to any sector" in output


def test_cli_reports_overlapping_house_ranges(
    seed_copy: Path, reference: Path, real_seed: LoadedSeed, capsys: pytest.CaptureFixture[str]
) -> None:
    index = split_street_index(real_seed)
    first = real_seed.gazetteer.links[index]
    assert first.houses is not None and first.houses.end is not None
    end = first.houses.end
    end_line = real_seed.locations.line(LINKS_FILE, index, "houses.end")
    assert end_line is not None
    edit_line(seed_copy / LINKS_FILE, end_line, lambda _: f"    end: {end + 4}")
    status, output = run_cli(seed_copy, reference, capsys)
    line = real_seed.locations.line(LINKS_FILE, index + 1, "houses")
    assert status == 1
    expected = (
        f"links.yaml:{line}: {first.place_id}.houses: overlaps the range on line "
        f"{real_seed.locations.line(LINKS_FILE, index)}: house {first.houses.end + 1} is in both"
    )
    assert expected in output


def test_cli_reports_gap_between_house_ranges(
    seed_copy: Path, reference: Path, real_seed: LoadedSeed, capsys: pytest.CaptureFixture[str]
) -> None:
    index = split_street_index(real_seed)
    second = real_seed.gazetteer.links[index + 1]
    assert second.houses is not None
    start_line = real_seed.locations.line(LINKS_FILE, index + 1, "houses.start")
    assert start_line is not None
    gap = (second.houses.start, second.houses.start + 1)
    edit_line(seed_copy / LINKS_FILE, start_line, lambda _: f"    start: {gap[1] + 1}")
    status, output = run_cli(seed_copy, reference, capsys)
    line = real_seed.locations.line(LINKS_FILE, index + 1, "houses")
    assert status == 1
    assert (
        f"links.yaml:{line}: {second.place_id}.houses: gap: house(s) {gap[0]}, {gap[1]}" in output
    )


def test_cli_reports_sector_without_officer(
    seed_copy: Path, reference: Path, real_seed: LoadedSeed, capsys: pytest.CaptureFixture[str]
) -> None:
    first = real_seed.locations.line(SECTORS_FILE, 0, "officer")
    last = real_seed.locations.line(SECTORS_FILE, 0, "officer.fictional")
    assert first is not None and last is not None
    delete_lines(seed_copy / SECTORS_FILE, first, last)
    status, output = run_cli(seed_copy, reference, capsys)
    sector_id = real_seed.gazetteer.sectors[0].id
    line = real_seed.locations.line(SECTORS_FILE, 0)
    assert status == 1
    assert f"sectors.yaml:{line}: {sector_id}.officer: required field is missing" in output


def test_cli_reports_bad_phone(
    seed_copy: Path, reference: Path, real_seed: LoadedSeed, capsys: pytest.CaptureFixture[str]
) -> None:
    line = real_seed.locations.line(SECTORS_FILE, 2, "officer.phone")
    assert line is not None
    edit_line(seed_copy / SECTORS_FILE, line, lambda _: "    phone: +992 93 555 12 34")
    status, output = run_cli(seed_copy, reference, capsys)
    sector_id = real_seed.gazetteer.sectors[2].id
    assert status == 1
    assert f"sectors.yaml:{line}: {sector_id}.officer.phone: String should match pattern" in output


def test_cli_reports_coordinate_outside_dushanbe(
    seed_copy: Path, reference: Path, real_seed: LoadedSeed, capsys: pytest.CaptureFixture[str]
) -> None:
    index = next(i for i, p in enumerate(real_seed.gazetteer.places) if p.lat is not None)
    line = real_seed.locations.line(PLACES_FILE, index, "lat")
    assert line is not None
    edit_line(seed_copy / PLACES_FILE, line, lambda _: "  lat: 37.55")
    status, output = run_cli(seed_copy, reference, capsys)
    place_id = real_seed.gazetteer.places[index].id
    assert status == 1
    assert f"places.yaml:{line}: {place_id}.lat: 37.55 is outside Dushanbe" in output


def replace_geometry(seed: LoadedSeed, path: Path, sector_id: str, geometry: Any) -> int:
    """Give ``sector_id`` another geometry in the one-feature-per-line GeoJSON; return the line."""
    line = seed.locations.line("sectors.geojson", seed.locations.boundary_index[sector_id])
    assert line is not None

    def change(text: str) -> str:
        comma = "," if text.endswith(",") else ""
        feature = json.loads(text.rstrip(","))
        feature["geometry"] = geometry
        return json.dumps(feature) + comma

    edit_line(path, line, change)
    return line


def test_cli_reports_invalid_polygon(
    seed_copy: Path, reference: Path, real_seed: LoadedSeed, capsys: pytest.CaptureFixture[str]
) -> None:
    sector_id = real_seed.gazetteer.sectors[0].id
    geometry = real_seed.gazetteer.boundaries[sector_id]
    ring = geometry["coordinates"][0]  # type: ignore[index]
    bow_tie = [ring[0], ring[2], ring[1], ring[3], ring[0]]
    line = replace_geometry(
        real_seed,
        seed_copy / "sectors.geojson",
        sector_id,
        {"type": "Polygon", "coordinates": [bow_tie]},
    )
    status, output = run_cli(seed_copy, reference, capsys)
    assert status == 1
    assert f"sectors.geojson:{line}: {sector_id}.geometry: invalid polygon: " in output


def test_cli_reports_overlapping_polygons(
    seed_copy: Path, reference: Path, real_seed: LoadedSeed, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = (s.id for s in real_seed.gazetteer.sectors[:2])
    geometry = real_seed.gazetteer.boundaries[first]
    line = replace_geometry(real_seed, seed_copy / "sectors.geojson", second, geometry)
    status, output = run_cli(seed_copy, reference, capsys)
    assert status == 1
    assert f"sectors.geojson:{line}: {second}.geometry: overlaps the polygon of {first}" in output


def test_cli_reports_yaml_syntax_error(
    seed_copy: Path, reference: Path, real_seed: LoadedSeed, capsys: pytest.CaptureFixture[str]
) -> None:
    line = real_seed.locations.line(LINKS_FILE, 3, "sector_id")
    assert line is not None
    edit_line(seed_copy / LINKS_FILE, line, lambda text: text.replace(": ", ": [", 1))
    status, output = run_cli(seed_copy, reference, capsys)
    assert status == 1
    syntax = re.search(r"^links\.yaml:\d+: YAML syntax error: .*$", output, re.MULTILINE)
    assert syntax is not None, output
    assert f"starts on line {line})" in syntax.group()


def test_cli_reports_unknown_field(
    seed_copy: Path, reference: Path, real_seed: LoadedSeed, capsys: pytest.CaptureFixture[str]
) -> None:
    line = real_seed.locations.line(PLACES_FILE, 0, "kind")
    assert line is not None
    edit_line(seed_copy / PLACES_FILE, line, lambda text: text + "\n  colour: red")
    status, output = run_cli(seed_copy, reference, capsys)
    place_id = real_seed.gazetteer.places[0].id
    assert status == 1
    assert f"places.yaml:{line + 1}: {place_id}.colour: unknown field 'colour'" in output


def test_cli_notes_absent_reference_and_still_validates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, output = run_cli(REAL_SEED, tmp_path / "nowhere.jsonl", capsys)
    assert status == 0
    assert "not found; skipping the check that its ids are kept" in output


def test_reports_district_without_sectors(make_gazetteer: Callable[..., Gazetteer]) -> None:
    gazetteer = make_gazetteer()
    sectors = tuple(s for s in gazetteer.sectors if s.id != "SHM-01")
    errors = validate(
        make_gazetteer(sectors=sectors, boundaries=boundaries(without="SHM-01")), None
    )
    assert messages(errors) == [
        "sectors.yaml: district: district shohmansur has no sector; add one"
    ]


def test_reports_geojson_syntax_error_with_line() -> None:
    text = '{"type": "FeatureCollection",\n"features": [\n{"type": "Feature",}\n]}\n'
    errors = parse_errors(sectors_geojson=text)
    assert len(errors) == 1
    assert errors[0].startswith("sectors.geojson:3: JSON syntax error: ")


def test_reads_exponent_coordinates_as_numbers() -> None:
    ring = [[1e-5, 0], [1, 0], [1, 1], [0, 1], [1e-5, 0]]
    feature = {
        "type": "Feature",
        "properties": {"sector_id": "SOM-01"},
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }
    text = json.dumps({"type": "FeatureCollection", "features": [feature]})
    boundaries = parse_seed(MINIMAL_TEXTS | {"sectors.geojson": text}).gazetteer.boundaries
    assert boundaries["SOM-01"]["coordinates"] == [ring]
