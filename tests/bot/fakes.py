"""Small fakes for the bot's ports and factories for resolver values."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from bot.ports import ServiceUnavailableError
from resolver.gazetteer import Officer, Sector
from resolver.models import Candidate, HouseNumber, Resolution, Status


def make_officer(**overrides: Any) -> Officer:
    """An inspector with plausible fictional values."""
    values: dict[str, Any] = {
        "name_tg": "Раҳимов Ҷамшед",
        "name_ru": "Рахимов Джамшед",
        "name_en": "Jamshed Rahimov",
        "rank": "captain",
        "phone": "+992 00 123 45 67",
        "reception_hours": "Tue, Thu 17:00-20:00; Sat 10:00-13:00",
    }
    return Officer(**(values | overrides))


def make_sector(**overrides: Any) -> Sector:
    """A fictional sector of the Somoni district."""
    values: dict[str, Any] = {
        "id": "SOM-01",
        "district": "somoni",
        "name": "Rudaki North",
        "office_address_tg": "хиёбони Рӯдакӣ 80",
        "office_address_ru": "проспект Рудаки 80",
        "office_address_en": "Rudaki Avenue, 80",
        "officer": make_officer(),
    }
    return Sector(**(values | overrides))


def make_candidate(**overrides: Any) -> Candidate:
    """A candidate place linked to :func:`make_sector`."""
    values: dict[str, Any] = {
        "place_id": "dyu-0001",
        "document_id": "dyu-0001",
        "name": "хиёбони Рӯдакӣ",
        "name_tg": "хиёбони Рӯдакӣ",
        "name_ru": "проспект Рудаки",
        "name_en": "Rudaki Avenue",
        "kind": "avenue",
        "district": ["somoni"],
        "sector": make_sector(),
        "score": 0.9,
    }
    return Candidate(**(values | overrides))


def resolved(query: str, candidate: Candidate, house: int | None = None) -> Resolution:
    """A resolution that settles on ``candidate``."""
    number = HouseNumber(number=house) if house else None
    return Resolution(query=query, status=Status.RESOLVED, house=number, candidates=(candidate,))


def ambiguous(query: str, *candidates: Candidate) -> Resolution:
    """A resolution that asks between ``candidates``."""
    return Resolution(query=query, status=Status.AMBIGUOUS, candidates=candidates)


@dataclass
class FakeResolver:
    """Answers from tables; anything else is not found. ``down`` simulates Meilisearch down."""

    answers: dict[str, Resolution] = field(default_factory=dict)
    choices: dict[str, Resolution] = field(default_factory=dict)
    # (street place id, house label) -> the answer for a house typed after "which house?"
    houses: dict[tuple[str, str], Resolution] = field(default_factory=dict)
    down: bool = False
    delay_s: float = 0.0
    asked: list[str] = field(default_factory=list)
    closed: bool = False

    async def resolve(self, text: str) -> Resolution:
        """Look ``text`` up in the table."""
        self.asked.append(text)
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if self.down:
            raise ServiceUnavailableError("Meilisearch is down (fake)")
        return self.answers.get(text, Resolution(query=text, status=Status.NOT_FOUND))

    async def choose(
        self, choice_id: str, *, house: HouseNumber | None = None, lang: str = "ru"
    ) -> Resolution:
        """Look a pressed choice, or a house on a street, up in ``choices`` / ``houses``."""
        if self.down:
            raise ServiceUnavailableError("Meilisearch is down (fake)")
        if house is not None and (choice_id, house.label()) in self.houses:
            return self.houses[(choice_id, house.label())]
        return self.choices.get(choice_id, Resolution(query=choice_id, status=Status.NOT_FOUND))

    async def aclose(self) -> None:
        """Note that the bot closed its resolver."""
        self.closed = True


@dataclass
class FakeSectors:
    """A rectangular city with one rectangular sector per entry."""

    city: tuple[float, float, float, float] = (38.45, 68.65, 38.65, 68.90)
    boxes: dict[tuple[float, float, float, float], Sector] = field(default_factory=dict)

    def is_in_dushanbe(self, lat: float, lon: float) -> bool:
        """Tell whether the point is in the city box."""
        return inside(self.city, lat, lon)

    def sector_at(self, lat: float, lon: float) -> Sector | None:
        """Return the sector whose box holds the point."""
        return next((s for box, s in self.boxes.items() if inside(box, lat, lon)), None)


def inside(box: tuple[float, float, float, float], lat: float, lon: float) -> bool:
    """Tell whether ``(lat, lon)`` lies in ``(south, west, north, east)``."""
    south, west, north, east = box
    return south <= lat <= north and west <= lon <= east
