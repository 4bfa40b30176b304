"""The generated message set (``scripts/make_message_queries.py``) and what it promises.

The generator must not use the resolver's text code; these tests may, to check its labels from
the other side (the sector directory, the house-number model).
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from collections import Counter
from functools import cache
from types import ModuleType
from typing import Any

import openlocationcode.openlocationcode as olc
import pytest

from index_builder.published import published_data
from index_builder.seed.load import load_gazetteer
from resolver.evaluation import LabelledQuery
from resolver.sectors import SectorDirectory
from search_platform.settings import PROJECT_ROOT

SCRIPT = PROJECT_ROOT / "scripts" / "make_message_queries.py"
MESSAGES = PROJECT_ROOT / "tests" / "data" / "labelled_messages.jsonl"
HOUSE_LABEL = re.compile(r"\d+[а-яё]?(/\d+)?")
UNIT_WORDS = re.compile(
    r"этаж|офис|оф\.|каб\.|кабинет|кв\.?\s|подъезд|блок|ош[ёе]наи|[ҳх]у[ҷч]раи|даромадго[ҳх]и|"
    r"office|floor|apt\.|apartment|block|entrance|room|БЦ|бизнес|ТЦ|ТРЦ|маркази|бинои|business|building",
    re.IGNORECASE,
)


@cache
def generator() -> ModuleType:
    """The generator script, imported as a module."""
    spec = importlib.util.spec_from_file_location("make_message_queries", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@cache
def rows() -> tuple[dict[str, Any], ...]:
    """The committed set."""
    lines = MESSAGES.read_text(encoding="utf-8").splitlines()
    return tuple(json.loads(line) for line in lines if line)


@cache
def directory() -> SectorDirectory:
    return SectorDirectory(published_data(load_gazetteer(PROJECT_ROOT / "seed")))


def of_class(noise: str) -> list[dict[str, Any]]:
    return [r for r in rows() if r["noise"] == noise]


def test_generator_reads_the_seed_itself_and_never_imports_the_resolver() -> None:
    source = SCRIPT.read_text(encoding="utf-8")
    assert not re.search(r"^\s*(from|import)\s+(resolver|index_builder)\b", source, re.MULTILINE)


def test_committed_set_is_what_the_generator_writes_for_its_default_seed() -> None:
    module = generator()
    fresh = module.generate(module.load_seed(PROJECT_ROOT / "seed"), rng_seed=20261201)
    assert fresh == list(rows())


def test_same_seed_gives_the_same_rows_and_another_seed_other_rows() -> None:
    module = generator()
    seed = module.load_seed(PROJECT_ROOT / "seed")
    first = module.generate(seed, rng_seed=7, per_class=20)
    assert first == module.generate(seed, rng_seed=7, per_class=20)
    assert first != module.generate(seed, rng_seed=8, per_class=20)


def test_every_class_has_at_least_100_rows_and_the_set_1500() -> None:
    counts = Counter(r["noise"] for r in rows())
    assert set(counts) == set(generator().CLASSES)
    assert min(counts.values()) >= 100
    assert sum(counts.values()) >= 1500


@pytest.mark.parametrize(
    "noise",
    [
        "postcode_country",
        "district_context",
        "units",
        "plus_code",
        "house_forms",
        "requests",
        "everyday_names",
        "other_city",
    ],
)
def test_mixed_classes_are_written_in_russian_tajik_and_english(noise: str) -> None:
    langs = Counter(r["lang"] for r in of_class(noise))
    assert set(langs) == {"ru", "tg", "en"}
    assert min(langs.values()) >= 20


def test_every_row_reads_as_a_labelled_query_with_known_ids() -> None:
    places = {p.id for p in load_gazetteer(PROJECT_ROOT / "seed").places}
    queries = [r["query"].lower() for r in rows()]
    assert len(set(queries)) == len(queries)
    for raw in rows():
        labelled = LabelledQuery.model_validate(raw)
        assert labelled.right_ids <= places, raw
        assert labelled.sector_id is None or directory().sector(labelled.sector_id), raw
        assert labelled.house is None or HOUSE_LABEL.fullmatch(labelled.house), raw


def test_only_other_cities_name_no_place_and_they_name_a_city() -> None:
    cities = {name for city in generator().OTHER_CITIES for name in city}
    for raw in rows():
        assert (raw["place_id"] is None) == (raw["noise"] == "other_city"), raw
        if raw["noise"] == "other_city":
            assert any(re.search(rf"\b{re.escape(c)}\b", raw["query"]) for c in cities), raw


def test_a_split_street_with_a_house_links_to_one_sector() -> None:
    for raw in rows():
        links = directory().links_for(raw["place_id"] or "")
        if raw["house"] and len(links) > 1:
            number = int(re.match(r"\d+", raw["house"]).group())  # type: ignore[union-attr]
            assert directory().sector_for_place(raw["place_id"], number), raw


def test_the_house_comes_before_every_unit_and_is_not_a_unit_number() -> None:
    for raw in of_class("units"):
        first_unit = UNIT_WORDS.search(raw["query"])
        assert first_unit is not None, raw
        before = raw["query"][: first_unit.start()]
        assert re.search(rf"(?<![\d/]){re.escape(raw['house'])}(?![\d/])", before.lower()), raw
        assert raw["parts"], raw


def test_a_district_beside_a_street_is_the_district_of_the_street_and_house() -> None:
    checked = 0
    for raw in of_class("district_context"):
        district = (raw.get("parts") or {}).get("district")
        if district:
            number = int(raw["house"])
            sector = directory().sector_for_place(raw["place_id"], number)
            assert sector is not None and sector.district.value == district, raw
            checked += 1
    assert checked >= 50


def test_a_mahalla_beside_a_street_shares_a_sector_with_the_street() -> None:
    for raw in of_class("district_context"):
        parts = raw.get("parts") or {}
        area = parts.get("mahalla") or parts.get("microdistrict")
        if area:
            sector = directory().sector_for_place(raw["place_id"], int(raw["house"]))
            area_sectors = {link.sector_id for link in directory().links_for(area)}
            assert sector is not None and sector.id in area_sectors, raw


def test_a_plus_code_decodes_near_dushanbe_to_its_place_and_labelled_sector() -> None:
    gazetteer = load_gazetteer(PROJECT_ROOT / "seed")
    located = {p.id: (p.lat, p.lon) for p in gazetteer.places if p.lat is not None}
    for raw in of_class("plus_code"):
        code = raw["parts"]["plus_code"]
        assert code in raw["query"] and olc.isShort(code), raw
        area = olc.decode(olc.recoverNearest(code, 38.5598, 68.787))
        lat, lon = area.latitudeCenter, area.longitudeCenter
        near = [
            pid
            for pid in (raw["place_id"], *raw.get("accept", ()))
            if pid in located and max(abs(lat - located[pid][0]), abs(lon - located[pid][1])) < 2e-4
        ]
        assert near, raw  # the code's point is within about 20 m of a labelled place
        sector = directory().sector_at(lat, lon)
        assert sector is not None and sector.id == raw["sector_id"], raw


@pytest.mark.parametrize(
    ("phrase", "case", "expected"),
    [
        ("Цирк", "ablt", "Цирком"),
        ("Зелёный базар", "gent", "Зелёного базара"),
        ("Зеленый базар", "gent", "Зеленого базара"),
        ("Ботанический сад", "gent", "Ботанического сада"),
        ("Национальная библиотека Таджикистана", "ablt", "Национальной библиотекой Таджикистана"),
        ("Молодёжное озеро", "datv", "Молодёжному озеру"),
        ("Привокзальная площадь", "ablt", "Привокзальной площадью"),
        ("Памятник Исмоилу Сомони", "gent", "Памятника Исмоилу Сомони"),
        ("Парк имени Рудаки", "ablt", "Парком имени Рудаки"),
        ("рынок Корвон", "gent", "рынка Корвон"),
        ("улица", "datv", "улице"),
        ("проспект", "loct", "проспекте"),
        ("ЦУМ", "gent", "ЦУМа"),
        ("ТЦ Ватан", "ablt", "ТЦ Ватан"),
        ("Кохи Навруз", "gent", "Кохи Навруз"),
        ("Садбарг", "gent", None),  # a name alone: never inflected blindly
        ("Душанбинская ТЭЦ-2", "gent", None),
    ],
)
def test_inflects_common_words_and_leaves_names_alone(
    phrase: str, case: str, expected: str | None
) -> None:
    assert generator().inflect_phrase(phrase, case) == expected


@pytest.mark.parametrize(
    ("preposition", "phrase", "expected"),
    [
        ("рядом с", "Столичным парком", "рядом со Столичным парком"),
        ("рядом с", "цирком", "рядом с цирком"),
        ("к", "Кабельному заводу", "к Кабельному заводу"),
        ("к", "второму роддому", "ко второму роддому"),
        ("возле", "Зелёного базара", "возле Зелёного базара"),
    ],
)
def test_preposition_takes_its_euphonic_form(preposition: str, phrase: str, expected: str) -> None:
    assert generator().with_preposition(preposition, phrase) == expected


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("бозор", "бозори"),
        ("хона", "хонаи"),
        ("савдо", "савдои"),
        ("миллӣ", "миллии"),
        ("рӯ", "рӯйи"),
        ("музей", "музейи"),
    ],
)
def test_izafat_endings(word: str, expected: str) -> None:
    assert generator().izafat(word) == expected


def test_russian_case_forms_are_in_the_set() -> None:
    queries = " ".join(r["query"] for r in of_class("ru_morphology"))
    for form in ("Ботанического сада", "базара", "ЦУМ", "цирк", "по улице", "на улице", "в районе"):
        assert form in queries


def test_tajik_prepositions_are_in_the_set_with_and_without_tajik_letters() -> None:
    queries = [r["query"].lower() for r in of_class("tajik_forms")]
    for word in (
        "назди",
        "паҳлӯи",
        "рӯ ба рӯи",
        "қафои",
        "дар бари",
        "воқеъ дар",
        "нозири минтақавии",
    ):
        assert any(word in q for q in queries), word
    assert any("пахлуи" in q or "кафои" in q or "нозири минтакавии" in q for q in queries)
