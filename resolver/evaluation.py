"""Score a resolver against the labelled sets (``tests/data/labelled_*.jsonl``, real addresses).

Pure: takes labelled rows and the resolutions produced for them, returns per-noise (and
per-language) figures. The exact-match baseline models the current Dushanbe bot: it answers only
when the text equals a place's Tajik name exactly.

A candidate is right when its place is the labelled ``place_id`` or one of the ``accept`` ids, or
when the row carries a ``sector_id`` and the candidate's sector is that one (a plus code names a
point, and the inspector of the point's sector is the answer). A row with neither a place nor a
sector (another city, text naming no place) is right only when it is not resolved.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from resolver.link import LOCATION_ID
from resolver.models import Candidate, Resolution, Status
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
    lang: str | None = None  # ru / tg / en: the language the text is written in
    accept: tuple[str, ...] = ()  # other places that are also right (the building at the address)
    sector_id: str | None = None  # an answer in this sector is right (a plus code's point)
    parts: dict[str, str | int | None] | None = None  # postcode, district, floor, office ...
    source: str | None = None  # real addresses: where the text was copied from
    source_title: str | None = None
    missing: bool | str | None = None  # real addresses: why the place is not in the seed

    @property
    def right_ids(self) -> frozenset[str]:
        """Every place id that answers the row."""
        return frozenset(self.accept) | ({self.place_id} if self.place_id else set())

    @property
    def names_nothing(self) -> bool:
        """The text names no place or sector to find (another city, a greeting)."""
        return self.place_id is None and self.sector_id is None and not self.accept


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
    by_lang: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    total: Tally = field(default_factory=Tally)
    misses: list[tuple[LabelledQuery, Resolution]] = field(default_factory=list)

    def as_dict(self) -> dict[str, dict[str, float | int]]:
        """Figures for JSON output."""
        return {
            name: tally_dict(t)
            for name, t in [*sorted(self.by_noise.items()), ("TOTAL", self.total)]
        }

    def lang_dict(self) -> dict[str, dict[str, float | int]]:
        """Figures per language of the text."""
        return {name: tally_dict(t) for name, t in sorted(self.by_lang.items())}

    def combined(self, *, exclude: Iterable[str] = ()) -> Tally:
        """One tally over every noise class except ``exclude``."""
        left_out = set(exclude)
        total = Tally()
        for name, tally in self.by_noise.items():
            if name not in left_out:
                for key, value in vars(tally).items():
                    setattr(total, key, getattr(total, key) + value)
        return total


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


def is_right(row: LabelledQuery, candidate: Candidate, directory: SectorDirectory) -> bool:
    """Whether a resolved answer is right: a right place (in the house's sector), or the sector."""
    if in_labelled_sector(row, candidate):
        return True
    if candidate.place_id == LOCATION_ID:  # a plus code answered by its point: judge the sector
        expected = expected_sector(directory, row)
        return candidate.sector is not None and candidate.sector.id == expected
    if candidate.place_id not in row.right_ids:
        return False
    if candidate.place_id != row.place_id:
        return True  # an accepted place (the building at the address) has its own sector
    expected = expected_sector(directory, row)
    if row.house is None or candidate.sector is None or expected is None:
        return True
    return candidate.sector.id == expected


def in_labelled_sector(row: LabelledQuery, candidate: Candidate) -> bool:
    """Whether the row names a sector and the candidate lies in it."""
    return row.sector_id is not None and (
        candidate.sector is not None and candidate.sector.id == row.sector_id
    )


def is_offered(row: LabelledQuery, candidate: Candidate) -> bool:
    """Whether a button answers the row."""
    return candidate.place_id in row.right_ids or in_labelled_sector(row, candidate)


def judge(
    row: LabelledQuery, resolution: Resolution, directory: SectorDirectory, tally: Tally
) -> bool:
    """Count one answer into ``tally``; return True when it is a miss worth listing."""
    tally.queries += 1
    if row.names_nothing:
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
    tally.not_found += int(resolution.status is Status.NOT_FOUND)
    if resolution.status is Status.RESOLVED:
        right = is_right(row, resolution.candidates[0], directory)
        tally.resolved_right += int(right)
        tally.found += int(right)
        tally.wrong += int(not right)
        return not right
    found = any(is_offered(row, c) for c in resolution.candidates)
    tally.found += int(found)
    return not found


def evaluate(
    rows: Sequence[LabelledQuery], resolutions: Sequence[Resolution], directory: SectorDirectory
) -> Report:
    """Judge every answer, per noise kind and in total."""
    report = Report()
    for row, resolution in zip(rows, resolutions, strict=True):
        miss = judge(row, resolution, directory, report.by_noise[row.noise])
        judge(row, resolution, directory, report.by_lang[row.lang or "?"])
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
        for tally in (report.by_noise[row.noise], report.by_lang[row.lang or "?"], report.total):
            tally.queries += 1
            hit = bool(row.right_ids & set(ids))
            tally.found += int(not ids if row.names_nothing else hit)
            tally.resolved_right += int(hit)
            tally.wrong += int(bool(ids) and not hit)
            tally.not_found += int(not ids)
    return report
