"""The judge of the accuracy report (accepted ids, sector-only rows, other cities, set fields)
and the report's per-set output."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from bench.accuracy import lang_rows, miss_line, set_figures
from index_builder.published import published_data
from index_builder.seed.models import Aliases, Gazetteer, Place
from resolver.evaluation import LabelledQuery, Report, evaluate, judge
from resolver.gazetteer import HouseRange, Link
from resolver.models import Candidate, HouseNumber, Resolution, Status
from resolver.sectors import SectorDirectory
from tests.bot.fakes import make_sector

SECTORS = {sid: make_sector(id=sid, name=sid) for sid in ("SOM-01", "SOM-02", "SOM-03")}


@pytest.fixture(scope="module")
def directory() -> SectorDirectory:
    """Street dyu-0100 split at house 20 (SOM-01 / SOM-02); building dyu-0200 in SOM-03."""
    gazetteer = Gazetteer(
        places=(
            Place(id="dyu-0100", kind="street", name_ru="улица Айни"),
            Place(id="dyu-0200", kind="office", name_ru="Бизнес-центр Созидание"),
            Place(id="dyu-0300", kind="square", name_ru="площадь Айни"),
        ),
        aliases=Aliases(),
        sectors=tuple(SECTORS.values()),
        links=(
            Link(place_id="dyu-0100", sector_id="SOM-01", houses=HouseRange(start=1, end=20)),
            Link(place_id="dyu-0100", sector_id="SOM-02", houses=HouseRange(start=21)),
            Link(place_id="dyu-0200", sector_id="SOM-03"),
            Link(place_id="dyu-0300", sector_id="SOM-02"),
        ),
    )
    return SectorDirectory(published_data(gazetteer))


@pytest.fixture
def make_resolution() -> Callable[..., Resolution]:
    """A resolution with candidates given as (place id, sector id) pairs."""

    def make(
        *candidates: tuple[str, str | None], status: Status = Status.RESOLVED, **overrides: Any
    ) -> Resolution:
        values: dict[str, Any] = {
            "query": "q",
            "status": status,
            "candidates": tuple(
                Candidate(
                    place_id=place_id,
                    document_id=place_id,
                    name=place_id,
                    kind="street",
                    sector=SECTORS[sector] if sector else None,
                    score=1.0,
                )
                for place_id, sector in candidates
            ),
        }
        return Resolution(**(values | overrides))

    return make


def row(**fields: Any) -> LabelledQuery:
    """A labelled row: a street with a house unless told otherwise."""
    values: dict[str, Any] = {"query": "q", "place_id": "dyu-0100", "house": "45", "noise": "x"}
    return LabelledQuery(**(values | fields))


def outcome(labelled: LabelledQuery, resolution: Resolution, directory: SectorDirectory) -> str:
    """Judge one answer: right / wrong (resolved to the wrong answer) / offered / missed."""
    report = evaluate([labelled], [resolution], directory)
    tally = report.total
    if tally.wrong:
        return "wrong"
    if tally.resolved_right:
        return "right"
    return "offered" if tally.found else "missed"


@pytest.mark.parametrize(
    ("labelled", "candidates", "status", "expected"),
    [
        # the labelled street in the sector of its house
        (row(), [("dyu-0100", "SOM-02")], Status.RESOLVED, "right"),
        (row(), [("dyu-0100", "SOM-01")], Status.RESOLVED, "wrong"),
        # an accepted id (the building at the address) is right, in its own sector
        (row(accept=("dyu-0200",)), [("dyu-0200", "SOM-03")], Status.RESOLVED, "right"),
        (row(accept=("dyu-0200",)), [("dyu-0300", "SOM-02")], Status.RESOLVED, "wrong"),
        (
            row(accept=("dyu-0200",)),
            [("dyu-0300", None), ("dyu-0200", None)],
            Status.AMBIGUOUS,
            "offered",
        ),
        (row(), [("dyu-0300", None), ("dyu-0200", None)], Status.AMBIGUOUS, "missed"),
        # a row with a sector: an answer in that sector is right, another sector is wrong
        (
            row(place_id="dyu-0200", house=None, sector_id="SOM-02"),
            [("dyu-0300", "SOM-02")],
            Status.RESOLVED,
            "right",
        ),
        (
            row(place_id="dyu-0200", house=None, sector_id="SOM-02"),
            [("dyu-0200", "SOM-03")],
            Status.RESOLVED,
            "right",
        ),
        # only a sector: judged by the sector alone
        (
            row(place_id=None, house=None, sector_id="SOM-01"),
            [("dyu-0100", "SOM-01")],
            Status.RESOLVED,
            "right",
        ),
        (
            row(place_id=None, house=None, sector_id="SOM-01"),
            [("dyu-0200", "SOM-03")],
            Status.RESOLVED,
            "wrong",
        ),
        (
            row(place_id=None, house=None, sector_id="SOM-01"),
            [("dyu-0200", "SOM-03"), ("dyu-0100", "SOM-01")],
            Status.AMBIGUOUS,
            "offered",
        ),
        (row(place_id=None, house=None, sector_id="SOM-01"), [], Status.NOT_FOUND, "missed"),
    ],
)
def test_judges_places_accepted_ids_and_sectors(  # noqa: PLR0917 (a parametrised table)
    make_resolution: Callable[..., Resolution],
    directory: SectorDirectory,
    labelled: LabelledQuery,
    candidates: list[tuple[str, str | None]],
    status: Status,
    expected: str,
) -> None:
    resolution = make_resolution(*candidates, status=status)
    assert outcome(labelled, resolution, directory) == expected


@pytest.mark.parametrize(
    ("status", "resolved_count", "found"),
    [(Status.RESOLVED, 1, 0), (Status.AMBIGUOUS, 0, 1), (Status.NOT_FOUND, 0, 1)],
)
def test_an_address_in_another_city_is_right_only_when_not_resolved(
    make_resolution: Callable[..., Resolution],
    directory: SectorDirectory,
    status: Status,
    resolved_count: int,
    found: int,
) -> None:
    other_city = row(place_id=None, house=None, noise="other_city", lang="ru")
    candidates = [] if status is Status.NOT_FOUND else [("dyu-0100", "SOM-01")]
    report = evaluate([other_city], [make_resolution(*candidates, status=status)], directory)
    assert report.by_noise["other_city"].no_place_resolved == resolved_count
    assert report.by_noise["other_city"].found == found
    assert report.by_noise["other_city"].wrong == 0


def test_house_is_read_right_only_when_its_label_matches(
    make_resolution: Callable[..., Resolution], directory: SectorDirectory
) -> None:
    labelled = row(house="45а/1")
    tally = Report().total
    for house in (HouseNumber(number=45, letter="а", building="1"), HouseNumber(number=1)):
        judge(labelled, make_resolution(("dyu-0100", "SOM-02"), house=house), directory, tally)
    assert (tally.with_house, tally.house_right) == (2, 1)


def test_figures_are_kept_per_language_and_combined_without_excluded_classes(
    make_resolution: Callable[..., Resolution], directory: SectorDirectory
) -> None:
    rows = [row(lang="tg"), row(lang="en", noise="missing_place", place_id="dyu-0300")]
    answers = [make_resolution(("dyu-0100", "SOM-02")), make_resolution(("dyu-0100", "SOM-02"))]
    report = evaluate(rows, answers, directory)
    assert set(report.lang_dict()) == {"tg", "en"}
    assert report.by_lang["en"].wrong == 1
    kept = report.combined(exclude=["missing_place"])
    assert (kept.queries, kept.resolved_right, kept.wrong) == (1, 1, 0)


def test_reads_the_optional_fields_of_every_set() -> None:
    line = (
        '{"query": "ул. Айни 48, БЦ «Созидание», 5-й этаж", "place_id": "dyu-0100", '
        '"house": "48", "noise": "units", "lang": "ru", "accept": ["dyu-0200"], '
        '"sector_id": "SOM-03", "parts": {"floor": "5", "building": "Созидание"}, '
        '"source": "https://example.org/contacts", "source_title": "Контакты", "missing": false}'
    )
    labelled = LabelledQuery.model_validate_json(line)
    assert labelled.right_ids == {"dyu-0100", "dyu-0200"}
    assert labelled.parts == {"floor": "5", "building": "Созидание"}
    assert (labelled.lang, labelled.sector_id, labelled.source_title) == (
        "ru",
        "SOM-03",
        "Контакты",
    )
    assert not labelled.names_nothing
    assert row(place_id=None, house=None).names_nothing


def test_accuracy_report_has_language_rows_only_for_sets_that_label_languages(
    make_resolution: Callable[..., Resolution], directory: SectorDirectory
) -> None:
    answer = make_resolution(("dyu-0100", "SOM-02"))
    labelled = evaluate([row(lang="ru"), row(lang="tg")], [answer, answer], directory)
    unlabelled = evaluate([row()], [answer], directory)
    assert set(lang_rows(labelled)) == {"lang ru", "lang tg"}
    assert lang_rows(unlabelled) == {}
    assert set(set_figures(labelled, unlabelled)) == {"resolver", "resolver_by_lang", "baseline"}
    line = json.loads(miss_line("labelled_messages", row(accept=("dyu-0200",)), answer))
    assert line["set"] == "labelled_messages"
    assert line["label"]["accept"] == ["dyu-0200"]
    assert line["got"] == [["dyu-0100", "SOM-02", 1.0]]
