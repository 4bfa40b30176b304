"""Factories shared by the offline unit tests of the seed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from resolver.gazetteer import Officer, Sector


@pytest.fixture
def make_sector() -> Callable[..., Sector]:
    """Build a fictional sector: ``phone`` sets its officer's phone, ``area`` gives it an area
    name in all three languages, other keywords override its fields."""

    def make(
        sector_id: str = "SOM-01",
        *,
        phone: str = "+992 00 101 00 01",
        area: bool = False,
        **overrides: Any,
    ) -> Sector:
        officer = Officer(
            name_tg="Ҷамшед Раҳимов",
            name_ru="Джамшед Рахимов",
            name_en="Jamshed Rahimov",
            rank="captain",
            phone=phone,
            reception_hours="Tue 17:00-19:00",
        )
        names = {"name_tg": "Зарафшон", "name_ru": "Зарафшон", "name_en": "Zarafshon"}
        values: dict[str, Any] = {
            "id": sector_id,
            "district": "somoni",
            "name": f"участок {sector_id}",
            "office_address_tg": "кӯчаи Бохтар 1",
            "office_address_ru": "улица Бохтар, 1",
            "office_address_en": "Bokhtar Street, 1",
            "officer": officer,
            **(names if area else {}),
        }
        return Sector.model_validate(values | overrides)

    return make
