"""Score a resolver against the labelled query set (``tests/data/labelled_queries.jsonl``).

Pure: takes labelled rows and the resolutions produced for them, returns per-noise figures.
The exact-match baseline models the current Dushanbe bot: it answers only when the text equals a
place's Tajik name exactly.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from resolver.models import Resolution, Status
from resolver.published import PublishedPlace
from resolver.sectors import SectorDirectory

LABELLED_QUERIES = (
    Path(__file__).resolve().parent.parent / "tests" / "data" / "labelled_queries.jsonl"
)


class LabelledQuery(BaseModel):
    """One query with the place it means (None: text that names no Dushanbe place)."""

    model_config = ConfigDict(frozen=True)

    query: str
    place_id: str | None
    house: str | None = None
    noise: str


def load_labelled(path: Path = LABELLED_QUERIES) -> list[LabelledQuery]:
    """Read the labelled set."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [LabelledQuery.model_validate_json(line) for line in lines if line.strip()]


@dataclass
class Tally:
    """Counts for one kind of noise."""

    queries: int = 0
    found: int = 0  # resolved to it, or among the buttons
    resolved_right: int = 0
    wrong: int = 0  # resolved to another place or sector: the worst answer
    not_found: int = 0
    with_house: int = 0
    house_right: int = 0
    no_place_resolved: int = 0

    def share(self, count: int, of: int | None = None) -> float:
        """``count`` as a fraction of the queries (or of ``of``)."""
        total = self.queries if of is None else of
        return count / total if total else 1.0


@dataclass
class Report:
    """Per-noise tallies and the total."""

    by_noise: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    total: Tally = field(default_factory=Tally)
    misses: list[tuple[LabelledQuery, Resolution]] = field(default_factory=list)

    def as_dict(self) -> dict[str, dict[str, float | int]]:
        """Figures for JSON output."""
        return {
            name: tally_dict(t)
            for name, t in [*sorted(self.by_noise.items()), ("TOTAL", self.total)]
        }


def tally_dict(tally: Tally) -> dict[str, float | int]:
    """One tally as plain figures."""
    return {
        "queries": tally.queries,
        "found": round(tally.share(tally.found), 4),
        "resolved_right": round(tally.share(tally.resolved_right), 4),
        "confidently_wrong": round(tally.share(tally.wrong), 4),
        "not_found": round(tally.share(tally.not_found), 4),
        "house_right": round(tally.share(tally.house_right, tally.with_house), 4),
        "no_place_resolved": tally.no_place_resolved,
    }


def expected_sector(directory: SectorDirectory, row: LabelledQuery) -> str | None:
    """The sector the labelled place and house number belong to."""
    if row.place_id is None:
        return None
    number = house_number_of(row.house)
    sector = directory.sector_for_place(row.place_id, number)
    return sector.id if sector else None


def house_number_of(house: str | None) -> int | None:
    """The leading number of a house label (``45а/1`` -> 45)."""
    digits = ""
    for char in house or "":
        if not char.isdigit():
            break
        digits += char
    return int(digits) if digits else None


def judge(
    row: LabelledQuery, resolution: Resolution, directory: SectorDirectory, tally: Tally
) -> bool:
    """Count one answer into ``tally``; return True when it is a miss worth listing."""
    tally.queries += 1
    if row.place_id is None:
        resolved = resolution.status is Status.RESOLVED
        tally.no_place_resolved += int(resolved)
        tally.found += int(not resolved)
        tally.not_found += int(resolution.status is Status.NOT_FOUND)
        return resolved
    if row.house:
        tally.with_house += 1
        tally.house_right += int(
            resolution.house is not None and resolution.house.label() == row.house
        )
    ids = [c.place_id for c in resolution.candidates]
    tally.not_found += int(resolution.status is Status.NOT_FOUND)
    if resolution.status is Status.RESOLVED:
        best = resolution.candidates[0]
        right = best.place_id == row.place_id and (
            row.house is None
            or best.sector is None
            or best.sector.id == expected_sector(directory, row)
            or expected_sector(directory, row) is None
        )
        tally.resolved_right += int(right)
        tally.found += int(right)
        tally.wrong += int(not right)
        return not right
    found = row.place_id in ids
    tally.found += int(found)
    return not found


def evaluate(
    rows: Sequence[LabelledQuery], resolutions: Sequence[Resolution], directory: SectorDirectory
) -> Report:
    """Judge every answer, per noise kind and in total."""
    report = Report()
    for row, resolution in zip(rows, resolutions, strict=True):
        miss = judge(row, resolution, directory, report.by_noise[row.noise])
        judge(row, resolution, directory, report.total)
        if miss:
            report.misses.append((row, resolution))
    return report


def exact_key(text: str) -> str:
    """The baseline's notion of equality: NFC, trimmed, case-insensitive."""
    return unicodedata.normalize("NFC", text).strip().casefold()


def exact_match_baseline(rows: Iterable[LabelledQuery], places: Iterable[PublishedPlace]) -> Report:
    """How the current bot would do: found only when the text equals a Tajik name exactly."""
    by_name: dict[str, list[str]] = defaultdict(list)
    for place in places:
        if place.name_tg:
            by_name[exact_key(place.name_tg)].append(place.id)
    report = Report()
    for row in rows:
        ids = by_name.get(exact_key(row.query), [])
        for tally in (report.by_noise[row.noise], report.total):
            tally.queries += 1
            hit = row.place_id is not None and row.place_id in ids
            tally.found += int(hit if row.place_id else not ids)
            tally.resolved_right += int(hit)
            tally.wrong += int(bool(ids) and not hit)
            tally.not_found += int(not ids)
    return report
