"""``python -m index_builder validate [SEED_DIR] [--coverage]``: check the seed, print its counts.

Reading errors (YAML syntax, unknown or missing fields, bad values) come from
:mod:`index_builder.seed.load`; this module adds the rules that span records: unique ids, every
id of the shared gazetteer kept, every place linked to a sector, house ranges of a split street
neither overlapping nor leaving gaps, phones unique, coordinates inside Dushanbe, sector polygons
valid, disjoint and one per sector, places inside their sector's polygon, aliases naming places.

Every problem is printed as ``file:line: record_id.field: message``; the exit status is 1 when
there is any, 0 (with a summary of counts) when the seed is sound.
"""

from __future__ import annotations

import argparse
import itertools
import json
from collections import Counter
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import shapely
from rich.console import Console
from rich.table import Table
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry

from index_builder.seed.coverage import count_coverage, coverage_tables
from index_builder.seed.load import (
    ALIASES_FILE,
    BOUNDARIES_FILE,
    LINKS_FILE,
    PLACES_FILE,
    SECTORS_FILE,
    SeedError,
    SeedLoadError,
    SeedLocations,
    load_seed,
)
from index_builder.seed.models import Gazetteer, Place
from index_builder.settings import BuilderSettings
from resolver.gazetteer import LINEAR_KINDS, District, HouseRange, Link
from resolver.sectors import EDGE_TOLERANCE
from search_platform.settings import PROJECT_ROOT

DEFAULT_REFERENCE = PROJECT_ROOT.parent / "shared" / "gazetteer" / "places.jsonl"
# Dushanbe's extent (degrees). Coordinates outside it are typos (swapped lat/lon, lost digit).
LAT_RANGE = (38.50, 38.64)
LON_RANGE = (68.68, 68.88)
# Polygons may touch; an overlap larger than this (square degrees, about 1 m2) is an error.
OVERLAP_EPSILON = 1e-10
MAX_LISTED = 6


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------
def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Describe ``validate``'s arguments and bind :func:`run`."""
    parser.add_argument(
        "seed_dir",
        nargs="?",
        type=Path,
        default=None,
        metavar="SEED_DIR",
        help="the seed directory (default: NOZIRI_SEED_DIR or the repository's seed/)",
    )
    parser.add_argument(
        "--reference",
        type=Path,
        default=DEFAULT_REFERENCE,
        metavar="PATH",
        help="the shared places.jsonl whose ids must all be kept (skipped if absent)",
    )
    parser.add_argument(
        "--coverage",
        action="store_true",
        help="also print what the seed covers: places by kind and district, coordinates, "
        "houses, old names, names in tg/ru/en, and sector or district fields missing a language",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, settings: BuilderSettings) -> int:
    """Validate the seed; print errors (exit 1) or a summary of counts (exit 0)."""
    console = Console(highlight=False, soft_wrap=True)
    seed_dir: Path = args.seed_dir or settings.seed_dir
    try:
        loaded = load_seed(seed_dir)
    except SeedLoadError as exc:
        return report_errors(console, list(exc.errors))
    shared_ids = read_reference_ids(args.reference, console)
    errors = validate(loaded.gazetteer, shared_ids, locations=loaded.locations)
    if errors:
        return report_errors(console, errors)
    print_summary(console, loaded.gazetteer, seed_dir=seed_dir, checked_shared=shared_ids)
    if args.coverage:
        for item in coverage_tables(count_coverage(loaded.gazetteer)):
            console.print(item)
    return 0


def report_errors(console: Console, errors: Sequence[SeedError]) -> int:
    """Print each error on its own line, then how many; return the exit status 1."""
    for error in errors:
        console.print(str(error), markup=False)
    console.print(f"[bold red]{len(errors)} error(s)[/] in the seed; fix them and run again.")
    return 1


def read_reference_ids(path: Path, console: Console) -> set[str] | None:
    """Return the ids of the shared gazetteer, or None (with a note) when it is absent."""
    if not path.is_file():
        console.print(f"note: {path} not found; skipping the check that its ids are kept")
        return None
    ids = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            ids.add(str(json.loads(line)["id"]))
    return ids


# --------------------------------------------------------------------------------------------
# Locating errors
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Where:
    """Builds errors that point at a record's line in its file."""

    gazetteer: Gazetteer
    locations: SeedLocations

    def place(self, index: int, field: str | None, message: str) -> SeedError:
        """An error about ``places[index]``."""
        place_id = self.gazetteer.places[index].id
        return self._error(PLACES_FILE, index, place_id, field, message)

    def sector(self, index: int, field: str | None, message: str) -> SeedError:
        """An error about ``sectors[index]``."""
        sector_id = self.gazetteer.sectors[index].id
        return self._error(SECTORS_FILE, index, sector_id, field, message)

    def link(self, index: int, field: str | None, message: str) -> SeedError:
        """An error about ``links[index]``."""
        place_id = self.gazetteer.links[index].place_id
        return self._error(LINKS_FILE, index, place_id, field, message)

    def alias(self, index: int, field: str | None, message: str) -> SeedError:
        """An error about ``aliases.places[index]``."""
        place_id = self.gazetteer.aliases.places[index].place_id
        return self._error(ALIASES_FILE, index, place_id, field, message)

    def boundary(self, sector_id: str, field: str | None, message: str) -> SeedError:
        """An error about the polygon of ``sector_id`` in the GeoJSON file."""
        index = self.locations.boundary_index.get(sector_id)
        line = None if index is None else self.locations.line(BOUNDARIES_FILE, index, field or "")
        return SeedError(BOUNDARIES_FILE, line, sector_id, field, message)

    def line_of_link(self, index: int) -> int | None:
        """The line where ``links[index]`` starts."""
        return self.locations.line(LINKS_FILE, index)

    def _error(
        self, file: str, index: int, record_id: str, field: str | None, message: str
    ) -> SeedError:
        line = self.locations.line(file, index, field or "")
        return SeedError(file, line, record_id, field, message)


Check = Callable[[Where], Iterator[SeedError]]


def validate(
    gazetteer: Gazetteer,
    shared_ids: Collection[str] | None,
    *,
    locations: SeedLocations | None = None,
) -> list[SeedError]:
    """Return every cross-record problem of the seed (an empty list when it is sound).

    Args:
        gazetteer: the loaded seed.
        shared_ids: ids of ``../shared/gazetteer/places.jsonl`` that must all be present;
            None skips that check.
        locations: line numbers from :func:`index_builder.seed.load.load_seed`; without them errors
            name the record id only.
    """
    where = Where(gazetteer, locations or SeedLocations())
    errors = list(check_shared_ids(where, shared_ids or ()))
    for check in CHECKS:
        errors.extend(check(where))
    return errors


# --------------------------------------------------------------------------------------------
# Ids and references
# --------------------------------------------------------------------------------------------
def check_unique_place_ids(where: Where) -> Iterator[SeedError]:
    """Each place id is used once."""
    first: dict[str, int] = {}
    for index, place in enumerate(where.gazetteer.places):
        if place.id in first:
            line = where.locations.line(PLACES_FILE, first[place.id])
            yield where.place(index, "id", f"duplicate id; first used {at_line(line)}")
        first.setdefault(place.id, index)


def check_unique_sector_ids(where: Where) -> Iterator[SeedError]:
    """Each sector id is used once."""
    first: dict[str, int] = {}
    for index, sector in enumerate(where.gazetteer.sectors):
        if sector.id in first:
            line = where.locations.line(SECTORS_FILE, first[sector.id])
            yield where.sector(index, "id", f"duplicate sector id; first used {at_line(line)}")
        first.setdefault(sector.id, index)


def check_shared_ids(where: Where, shared_ids: Collection[str]) -> Iterator[SeedError]:
    """Every id of the shared gazetteer is still in places.yaml."""
    present = {place.id for place in where.gazetteer.places}
    for place_id in sorted(set(shared_ids) - present):
        message = "id of the shared gazetteer is missing; restore the record (ids are kept)"
        yield SeedError(PLACES_FILE, None, place_id, "id", message)


def check_link_targets(where: Where) -> Iterator[SeedError]:
    """Every link names an existing place and an existing sector."""
    place_ids = {place.id for place in where.gazetteer.places}
    sector_ids = {sector.id for sector in where.gazetteer.sectors}
    for index, link in enumerate(where.gazetteer.links):
        if link.place_id not in place_ids:
            yield where.link(index, "place_id", "no place has this id")
        if link.sector_id not in sector_ids:
            yield where.link(index, "sector_id", f"no sector {link.sector_id} in sectors.yaml")


def check_alias_targets(where: Where) -> Iterator[SeedError]:
    """Every alias points at an existing place."""
    place_ids = {place.id for place in where.gazetteer.places}
    for index, alias in enumerate(where.gazetteer.aliases.places):
        if alias.place_id not in place_ids:
            yield where.alias(index, "place_id", f"no place has this id (alias {alias.alias!r})")


def check_street_references(where: Where) -> Iterator[SeedError]:
    """An address's ``street_place_id`` names a street or avenue."""
    by_id = {place.id: place for place in where.gazetteer.places}
    for index, place in enumerate(where.gazetteer.places):
        street_id = place.address.street_place_id if place.address else None
        if street_id is None:
            continue
        street = by_id.get(street_id)
        if street is None or street.kind not in LINEAR_KINDS:
            message = f"{street_id} is not a street or avenue of places.yaml"
            yield where.place(index, "address.street_place_id", message)


# --------------------------------------------------------------------------------------------
# Links and house ranges
# --------------------------------------------------------------------------------------------
def links_by_place(links: Sequence[Link]) -> dict[str, list[int]]:
    """Indexes of the links of each place, in file order."""
    grouped: dict[str, list[int]] = {}
    for index, link in enumerate(links):
        grouped.setdefault(link.place_id, []).append(index)
    return grouped


def check_every_place_linked(where: Where) -> Iterator[SeedError]:
    """Every place belongs to a sector."""
    linked = links_by_place(where.gazetteer.links)
    for index, place in enumerate(where.gazetteer.places):
        if place.id not in linked:
            yield where.place(index, None, "not linked to any sector; add it to links.yaml")


def check_link_shapes(where: Where) -> Iterator[SeedError]:
    """One whole-place link, or house ranges only (and only for streets and avenues)."""
    kinds = {place.id: place.kind for place in where.gazetteer.places}
    for place_id, indexes in links_by_place(where.gazetteer.links).items():
        links = [where.gazetteer.links[i] for i in indexes]
        whole = [i for i, link in zip(indexes, links, strict=True) if link.houses is None]
        ranged = [i for i, link in zip(indexes, links, strict=True) if link.houses is not None]
        if ranged and place_id in kinds and kinds[place_id] not in LINEAR_KINDS:
            message = f"house ranges are only for streets and avenues, not a {kinds[place_id]}"
            yield where.link(ranged[0], "houses", message)
        elif len(whole) > 1 or (whole and ranged):
            first = at_line(where.line_of_link(indexes[0]))
            message = f"place linked again (first link {first}); split it by house ranges only"
            yield where.link((whole + ranged)[1] if len(whole) > 1 else whole[0], None, message)


def check_house_ranges(where: Where) -> Iterator[SeedError]:
    """The ranges of a split street neither overlap nor leave gaps (parity-aware)."""
    for indexes in links_by_place(where.gazetteer.links).values():
        ranged = [i for i in indexes if where.gazetteer.links[i].houses is not None]
        if ranged:
            yield from check_one_street(where, ranged)


def check_one_street(where: Where, indexes: Sequence[int]) -> Iterator[SeedError]:
    """Check the house ranges of one street, given the indexes of its links."""
    ranges = [(i, houses_of(where.gazetteer.links[i])) for i in indexes]
    for index, houses in ranges:
        if houses.end is not None and houses.end < houses.start:
            yield where.link(index, "houses.end", f"end {houses.end} is before start")
    valid = [(i, h) for i, h in ranges if h.end is None or h.end >= h.start]
    limit = max(max(h.start, h.end or 0) for _, h in valid) + 2 if valid else 0
    holders = {n: [i for i, h in valid if h.contains(n)] for n in range(1, limit + 1)}
    yield from overlap_errors(where, holders)
    yield from gap_errors(where, holders, valid)


def houses_of(link: Link) -> HouseRange:
    """The house range of a ranged link."""
    assert link.houses is not None
    return link.houses


def overlap_errors(where: Where, holders: dict[int, list[int]]) -> Iterator[SeedError]:
    """One error per pair of ranges that share a house number."""
    reported: set[tuple[int, int]] = set()
    for number, indexes in holders.items():
        for earlier, later in itertools.pairwise(indexes):
            if (earlier, later) in reported:
                continue
            reported.add((earlier, later))
            other = at_line(where.line_of_link(earlier))
            message = f"overlaps the range {other}: house {number} is in both"
            yield where.link(later, "houses", message)


def gap_errors(
    where: Where, holders: dict[int, list[int]], ranges: Sequence[tuple[int, HouseRange]]
) -> Iterator[SeedError]:
    """An error when some house up to the highest covered number is in no range."""
    covered = [n for n, indexes in holders.items() if indexes]
    if not covered:
        return
    open_ended = any(h.end is None for _, h in ranges)
    top = max(holders) if open_ended else max(covered)
    missing = [n for n in range(1, top + 1) if not holders.get(n)]
    if missing:
        first_after = next((holders[n][0] for n in range(missing[0], top + 1) if holders[n]), None)
        index = first_after if first_after is not None else ranges[0][0]
        shown = ", ".join(str(n) for n in missing[:MAX_LISTED])
        more = ", …" if len(missing) > MAX_LISTED else ""
        message = f"gap: house(s) {shown}{more} in no range; extend a range or add one"
        yield where.link(index, "houses", message)


# --------------------------------------------------------------------------------------------
# Sectors and inspectors
# --------------------------------------------------------------------------------------------
def check_unique_phones(where: Where) -> Iterator[SeedError]:
    """No two inspectors share a phone number."""
    owner: dict[str, str] = {}
    for index, sector in enumerate(where.gazetteer.sectors):
        phone = sector.officer.phone
        if phone in owner:
            yield where.sector(index, "officer.phone", f"phone already used by {owner[phone]}")
        owner.setdefault(phone, sector.id)


def check_districts_have_sectors(where: Where) -> Iterator[SeedError]:
    """Each of the four districts has at least one sector."""
    present = {sector.district for sector in where.gazetteer.sectors}
    for district in District:
        if district not in present:
            message = f"district {district.value} has no sector; add one"
            yield SeedError(SECTORS_FILE, None, None, "district", message)


def check_link_districts(where: Where) -> Iterator[SeedError]:
    """A link's sector lies in one of the districts its place lists (when it lists any)."""
    places = {place.id: place for place in where.gazetteer.places}
    sectors = {sector.id: sector for sector in where.gazetteer.sectors}
    for index, link in enumerate(where.gazetteer.links):
        place, sector = places.get(link.place_id), sectors.get(link.sector_id)
        if place and sector and place.districts and sector.district not in place.districts:
            listed = ", ".join(d.value for d in place.districts)
            message = f"{sector.id} is in {sector.district.value}; the place lists {listed}"
            yield where.link(index, "sector_id", message)


# --------------------------------------------------------------------------------------------
# Coordinates and polygons
# --------------------------------------------------------------------------------------------
def check_coordinates(where: Where) -> Iterator[SeedError]:
    """Coordinates come in pairs and lie inside Dushanbe."""
    for index, place in enumerate(where.gazetteer.places):
        if (place.lat is None) != (place.lon is None):
            field = "lon" if place.lon is None else "lat"
            yield where.place(index, field, "give both lat and lon, or neither")
        elif place.lat is not None and place.lon is not None:
            yield from coordinate_errors(where, index, place)


def coordinate_errors(where: Where, index: int, place: Place) -> Iterator[SeedError]:
    """Errors for a latitude or longitude outside Dushanbe."""
    assert place.lat is not None and place.lon is not None
    if not LAT_RANGE[0] <= place.lat <= LAT_RANGE[1]:
        message = f"{place.lat} is outside Dushanbe (lat {LAT_RANGE[0]}-{LAT_RANGE[1]})"
        yield where.place(index, "lat", message)
    if not LON_RANGE[0] <= place.lon <= LON_RANGE[1]:
        message = f"{place.lon} is outside Dushanbe (lon {LON_RANGE[0]}-{LON_RANGE[1]})"
        yield where.place(index, "lon", message)


def sector_geometries(where: Where) -> dict[str, BaseGeometry]:
    """Shapely geometries of the polygons that could be read."""
    geometries = {}
    for sector_id, geometry in where.gazetteer.boundaries.items():
        try:
            geometries[sector_id] = shape(geometry)
        except (ValueError, TypeError, AttributeError, IndexError, shapely.errors.ShapelyError):
            continue
    return geometries


def check_polygons(where: Where) -> Iterator[SeedError]:
    """One polygon per sector, each readable and valid."""
    sector_ids = {sector.id for sector in where.gazetteer.sectors}
    geometries = sector_geometries(where)
    for index, sector in enumerate(where.gazetteer.sectors):
        if sector.id not in where.gazetteer.boundaries:
            yield where.sector(index, None, "has no polygon in sectors.geojson; draw one")
    for sector_id in where.gazetteer.boundaries:
        if sector_id not in sector_ids:
            yield where.boundary(sector_id, "properties.sector_id", "no such sector")
        elif sector_id not in geometries:
            yield where.boundary(sector_id, "geometry", "coordinates are not a readable polygon")
        elif not geometries[sector_id].is_valid:
            reason = shapely.is_valid_reason(geometries[sector_id])
            yield where.boundary(sector_id, "geometry", f"invalid polygon: {reason}")


def check_overlaps(where: Where) -> Iterator[SeedError]:
    """Valid polygons do not overlap (touching along an edge is fine)."""
    geometries = {k: g for k, g in sector_geometries(where).items() if g.is_valid}
    ids = sorted(geometries)
    if not ids:  # nothing to compare (missing polygons are reported by their own check)
        return
    tree = shapely.STRtree([geometries[k] for k in ids])
    for i, j in zip(*tree.query([geometries[k] for k in ids], predicate="intersects"), strict=True):
        if i >= j:
            continue
        area = geometries[ids[i]].intersection(geometries[ids[j]]).area
        if area > OVERLAP_EPSILON:
            square_metres = area * 111_320 * 87_000  # degrees2 at Dushanbe's latitude
            message = f"overlaps the polygon of {ids[i]} (about {square_metres:,.0f} m2)"
            yield where.boundary(ids[j], "geometry", message)


def check_places_in_polygons(where: Where) -> Iterator[SeedError]:
    """A place with coordinates lies inside its sector's polygon (or one of them)."""
    geometries = sector_geometries(where)
    links = links_by_place(where.gazetteer.links)
    for index, place in enumerate(where.gazetteer.places):
        if place.lat is None or place.lon is None or place.id not in links:
            continue
        point = Point(place.lon, place.lat)
        sector_ids = {where.gazetteer.links[i].sector_id for i in links[place.id]}
        known = [geometries[s] for s in sorted(sector_ids) if s in geometries]
        if known and all(g.distance(point) > EDGE_TOLERANCE for g in known):
            holder = next((k for k, g in sorted(geometries.items()) if g.covers(point)), None)
            inside = f"; it lies in {holder}" if holder else ""
            message = f"outside the polygon of {', '.join(sorted(sector_ids))}{inside}"
            yield where.place(index, "lat", message)


def at_line(line: int | None) -> str:
    """'on line 12', or 'earlier' when lines are unknown."""
    return f"on line {line}" if line else "earlier"


CHECKS: tuple[Check, ...] = (
    check_unique_place_ids,
    check_unique_sector_ids,
    check_link_targets,
    check_every_place_linked,
    check_link_shapes,
    check_house_ranges,
    check_unique_phones,
    check_districts_have_sectors,
    check_link_districts,
    check_coordinates,
    check_polygons,
    check_overlaps,
    check_places_in_polygons,
    check_alias_targets,
    check_street_references,
)


# --------------------------------------------------------------------------------------------
# Summary
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SeedCounts:
    """What the seed holds, for the summary."""

    places_by_kind: dict[str, int]
    aliases_by_kind: dict[str, int]
    sectors_by_district: dict[str, int]
    links: int
    split_streets: int
    segments: int
    polygons: int
    terms: int


def count_seed(gazetteer: Gazetteer) -> SeedCounts:
    """Count places by kind, aliases by kind, sectors by district, links and segments."""
    ranged = [link for link in gazetteer.links if link.houses is not None]
    return SeedCounts(
        places_by_kind=dict(Counter(p.kind.value for p in gazetteer.places).most_common()),
        aliases_by_kind=dict(Counter(a.kind.value for a in gazetteer.aliases.places)),
        sectors_by_district=dict(Counter(s.district.value for s in gazetteer.sectors)),
        links=len(gazetteer.links),
        split_streets=len({link.place_id for link in ranged}),
        segments=len(ranged),
        polygons=len(gazetteer.boundaries),
        terms=len(gazetteer.aliases.terms),
    )


def print_summary(
    console: Console, gazetteer: Gazetteer, *, seed_dir: Path, checked_shared: set[str] | None
) -> None:
    """Print the counts of a sound seed as small tables."""
    counts = count_seed(gazetteer)
    console.print(f"[bold green]seed OK[/]: {seed_dir}")
    if checked_shared is not None:
        console.print(f"all {len(checked_shared)} ids of the shared gazetteer are present")
    console.print(counts_table(f"places: {len(gazetteer.places)}", counts.places_by_kind))
    aliases_title = f"aliases: {len(gazetteer.aliases.places)}"
    console.print(counts_table(aliases_title, counts.aliases_by_kind))
    sectors_title = f"sectors (fictional): {len(gazetteer.sectors)}"
    console.print(counts_table(sectors_title, counts.sectors_by_district))
    console.print(
        f"links: {counts.links}; split streets: {counts.split_streets} "
        f"in {counts.segments} house-range segments; polygons: {counts.polygons}; "
        f"address terms: {counts.terms}"
    )


def counts_table(title: str, counts: dict[str, int]) -> Table:
    """A two-column table of counts."""
    table = Table(title=title, title_justify="left", show_header=False)
    table.add_column("what")
    table.add_column("count", justify="right")
    for name, count in counts.items():
        table.add_row(name, str(count))
    return table
