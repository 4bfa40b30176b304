"""What the gazetteer covers: the counts behind ``python -m index_builder validate --coverage``.

:func:`count_coverage` is pure (a loaded :class:`~index_builder.seed.models.Gazetteer` in, a
:class:`Coverage` out); :func:`coverage_tables` lays the counts out as tables for the console.
Places are counted by kind and by district (a place listing two districts counts in both, one
listing none in ``none``), and by what they carry: coordinates, a house number in their address,
house ranges in ``links.yaml``, old names (``old_names`` or an ``old`` alias) and a name in each
of Tajik, Russian and English. Sectors, their offices and the districts are checked for a form
in every language, since the answer cards show them in the reader's language.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from rich.table import Table

from index_builder.seed.models import Gazetteer, Place
from resolver.gazetteer import DISTRICT_NAMES, AliasKind, District, PlaceKind

LANGS = ("tg", "ru", "en")
NO_DISTRICT = "none"
DISTRICT_COLUMNS = (*(d.value for d in District), NO_DISTRICT)
# Rows of the by-district table: a label and the kinds it counts (None: every kind).
DISTRICT_ROWS: tuple[tuple[str, frozenset[PlaceKind] | None], ...] = (
    ("places", None),
    ("streets + avenues", frozenset({PlaceKind.STREET, PlaceKind.AVENUE})),
    ("mahallas + microdistricts", frozenset({PlaceKind.MAHALLA, PlaceKind.MICRODISTRICT})),
)


@dataclass(frozen=True)
class Coverage:
    """Counts of what the seed covers; the ``missing_*`` tuples name what lacks a language."""

    places: int
    by_kind: dict[str, int]
    by_district: dict[str, dict[str, int]]  # row label -> district column -> count
    with_coordinates: int
    with_house: int  # a house number in the place's address
    with_house_ranges: int  # streets split into house ranges in links.yaml
    with_old_names: int
    by_language: dict[str, int]  # lang -> places with a name in it
    in_all_languages: int
    sectors: int
    sectors_with_area_name: int  # the rest are known by their number only
    missing_sector_forms: tuple[str, ...]  # "SOM-01 office_address_en", …
    missing_district_forms: tuple[str, ...]  # "sino en", …


def count_coverage(gazetteer: Gazetteer) -> Coverage:
    """Count what ``gazetteer`` covers (pure)."""
    places = gazetteer.places
    ranged = {link.place_id for link in gazetteer.links if link.houses is not None}
    old_aliased = {a.place_id for a in gazetteer.aliases.places if a.kind is AliasKind.OLD}
    return Coverage(
        places=len(places),
        by_kind=dict(Counter(p.kind.value for p in places).most_common()),
        by_district={label: count_by_district(places, kinds) for label, kinds in DISTRICT_ROWS},
        with_coordinates=sum(p.lat is not None and p.lon is not None for p in places),
        with_house=sum(bool(p.address and p.address.house) for p in places),
        with_house_ranges=sum(p.id in ranged for p in places),
        with_old_names=sum(bool(p.old_names) or p.id in old_aliased for p in places),
        by_language={lang: sum(bool(names_of(p)[lang]) for p in places) for lang in LANGS},
        in_all_languages=sum(all(names_of(p).values()) for p in places),
        sectors=len(gazetteer.sectors),
        sectors_with_area_name=sum(s.name_tg is not None for s in gazetteer.sectors),
        missing_sector_forms=tuple(missing_sector_forms(gazetteer)),
        missing_district_forms=tuple(missing_district_forms(places)),
    )


def names_of(place: Place) -> dict[str, str | None]:
    """The place's official name in each language."""
    return {"tg": place.name_tg, "ru": place.name_ru, "en": place.name_en}


def count_by_district(
    places: Iterable[Place], kinds: frozenset[PlaceKind] | None
) -> dict[str, int]:
    """Places of ``kinds`` (every kind when None) per district column."""
    counts = dict.fromkeys(DISTRICT_COLUMNS, 0)
    for place in places:
        if kinds is None or place.kind in kinds:
            for column in place.districts or (NO_DISTRICT,):
                counts[column] += 1
    return counts


def missing_sector_forms(gazetteer: Gazetteer) -> Iterator[str]:
    """``"<sector> <field>"`` for each office address or inspector name left empty."""
    for sector in gazetteer.sectors:
        officer = sector.officer
        fields = {f"office_address_{lang}": sector.office_address(lang) for lang in LANGS}
        fields |= {"officer.name_tg": officer.name_tg, "officer.name_ru": officer.name_ru}
        fields["officer.name_en"] = officer.name_en
        yield from (f"{sector.id} {field}" for field, value in fields.items() if not value.strip())


def missing_district_forms(places: Iterable[Place]) -> Iterator[str]:
    """``"<district> <lang>"`` for each district without a name in that language."""
    records = {p.districts[0]: p for p in places if p.kind is PlaceKind.DISTRICT and p.districts}
    for district in District:
        record = records.get(district)
        for lang in LANGS:
            if not DISTRICT_NAMES[district].get(lang) or not (record and names_of(record)[lang]):
                yield f"{district.value} {lang}"


# --------------------------------------------------------------------------------------------
# Tables for the console
# --------------------------------------------------------------------------------------------
def coverage_tables(coverage: Coverage) -> list[Table | str]:
    """The coverage as tables and lines, in the order they are printed."""
    return [
        kind_table(coverage),
        district_table(coverage),
        contents_table(coverage),
        f"sectors (fictional): {coverage.sectors}, {coverage.sectors_with_area_name} known by an "
        f"area named in tg/ru/en, {coverage.sectors - coverage.sectors_with_area_name} by their "
        "number only",
        missing_line("sector fields without a form", coverage.missing_sector_forms),
        missing_line("district names missing", coverage.missing_district_forms),
    ]


def kind_table(coverage: Coverage) -> Table:
    """Places by kind."""
    table = Table(title=f"coverage: {coverage.places} places by kind", title_justify="left")
    table.add_column("kind")
    table.add_column("places", justify="right")
    for kind, count in coverage.by_kind.items():
        table.add_row(kind, str(count))
    streets = coverage.by_kind.get("street", 0) + coverage.by_kind.get("avenue", 0)
    table.add_row("streets + avenues", str(streets))
    return table


def district_table(coverage: Coverage) -> Table:
    """Places per district (a place may list two districts)."""
    table = Table(title="by district (a place may list two)", title_justify="left")
    table.add_column("")
    for column in DISTRICT_COLUMNS:
        table.add_column(column, justify="right")
    for label, counts in coverage.by_district.items():
        table.add_row(label, *(str(counts[column]) for column in DISTRICT_COLUMNS))
    return table


def contents_table(coverage: Coverage) -> Table:
    """How many places carry each kind of data."""
    table = Table(title="what the places carry", title_justify="left", show_header=False)
    table.add_column("what")
    table.add_column("places", justify="right")
    rows = {
        "coordinates": coverage.with_coordinates,
        "a house number in the address": coverage.with_house,
        "house ranges in links.yaml (split streets)": coverage.with_house_ranges,
        "old names": coverage.with_old_names,
        **{f"a name in {lang}": count for lang, count in coverage.by_language.items()},
        "names in all of tg, ru, en": coverage.in_all_languages,
    }
    for what, count in rows.items():
        table.add_row(what, f"{count} of {coverage.places}")
    return table


def missing_line(what: str, missing: tuple[str, ...]) -> str:
    """One line naming what is missing, or saying nothing is."""
    return f"{what}: {', '.join(missing)}" if missing else f"{what}: none"
