"""Bootstrap ``seed/`` from the shared gazetteer: places, aliases, fictional sectors and links.

Run once (``python scripts/build_seed.py``); afterwards the YAML files are the source of truth
and maintainers edit them by hand. The script refuses to overwrite an existing seed unless
``--force`` is given. Its output is deterministic: the same input gives byte-identical files.

What it does:
- places.yaml: every record of ``../shared/gazetteer/places.jsonl`` with its id; names cleaned
  (parenthesised notes -> ``qualifier``, «quotes» dropped around brand names), districts mapped
  to codes, messy addresses split into street/house/note and matched to street place ids,
  sources split, and missing Russian/Tajik names of streets and areas derived by the rules of
  tajik_text.md (kept apart in ``derived_names``). A few well-known landmarks with no record
  are added as ``nzr-`` places, each citing its source.
- aliases.yaml: old names (from the records' ``old_names`` and tajik_text.md section 5.2),
  informal names (5.3), abbreviations and Latin spellings seen in sources.
- sectors.yaml, sectors.geojson, links.yaml: FICTIONAL inspector sectors. Each district gets a
  rough fictional outline; sector centres come from k-means over the district, sector polygons
  are their Voronoi cells clipped to the district. A place with coordinates links to the
  sector whose polygon holds it; long streets follow a fictional centre line and are split
  into house ranges where they cross sectors (odd/even sides apart where a street runs along
  a district boundary); other places link by their street, else by a stable hash of their id
  within their district (or within the city when no district is known).
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import math
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import shapely
import yaml
from shapely.geometry import MultiPoint, Point, Polygon, mapping
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = REPO.parent / "shared" / "gazetteer" / "places.jsonl"
GRID = 1e-6  # coordinates are rounded to 6 decimals (about 0.1 m)

FICTION_NOTE = (
    "Sectors, inspectors, phone numbers and sector boundaries are FICTIONAL: police sectors are"
    " not public. Phones use +992 00, a block no operator uses."
)
HEADERS = {
    "places.yaml": (
        "Real places of Dushanbe (from ../shared/gazetteer/places.jsonl; nzr- ids added here,"
        " each with its source). Edit by hand; `python -m index_builder validate` checks it."
        " derived_names are spellings made by the rules of tajik_text.md, not seen in a source."
    ),
    "aliases.yaml": (
        "Other names residents use for a place: old (Soviet) names, informal names,"
        " abbreviations and spelling variants. Each entry points at a place id."
    ),
    "sectors.yaml": "Inspector sectors of the four districts, one fictional inspector each.",
    "links.yaml": (
        "Which sector each place belongs to. Streets crossing sectors are split into house"
        " ranges (start..end inclusive, end omitted = to the end; parity odd/even/all)."
    ),
}

DISTRICT_CODES = {
    "Исмоили Сомонӣ": "somoni",
    "Сино": "sino",
    "Фирдавсӣ": "firdavsi",
    "Шоҳмансур": "shohmansur",
}
DISTRICT_PREFIX = {"somoni": "SOM", "sino": "SIN", "firdavsi": "FIR", "shohmansur": "SHM"}
DISTRICT_RU = {
    "somoni": "Исмоили Сомони",
    "sino": "Сино",
    "firdavsi": "Фирдавси",
    "shohmansur": "Шохмансур",
}
SECTORS_PER_DISTRICT = {"sino": 22, "somoni": 18, "firdavsi": 14, "shohmansur": 16}
LINEAR = {"street", "avenue"}
DERIVABLE_KINDS = {"street", "avenue", "square", "mahalla", "microdistrict", "market"}

# --------------------------------------------------------------------------------------------
# Corrections decided by hand, each with its reason.
# --------------------------------------------------------------------------------------------
PLACE_OVERRIDES: dict[str, dict[str, Any]] = {
    # tajik_text.md 5.2 [S42]: the lake's current names; the record has only the Soviet one.
    "dyu-0459": {
        "name_tg": "Кӯли ҷавонон",
        "name_ru": "Молодёжное озеро",
        "name_en": "Youth Lake",
        "old_names": ["Комсомольское озеро", "Komsomolskoe Lake"],
        "note_add": "current names from tajik_text.md 5.2 [S42]; the source gave the Soviet name",
    },
    # The US Embassy (dyu-0360) stands at Ismoili Somoni Avenue 109-A in Sino district.
    "dyu-0010": {
        "districts": ["somoni", "sino"],
        "note_add": "the western end reaches Sino district (US Embassy, 109-A, dyu-0360)",
    },
}

# Streets in addresses that the automatic matcher cannot place (Latin, or ambiguous).
STREET_OVERRIDES = {
    "Tolstoy Street": "dyu-0149",
    "Rudaki": "dyu-0013",
    "Adkhamova": "dyu-0128",
    "Somoni Street": "dyu-0010",
    "Shotemur": "dyu-0111",
    "Mirzo Tursunzoda": "dyu-0055",
    "Ayni Street": "dyu-0014",
    "Aini Street": "dyu-0014",
    "Bahovuddinov St.": "dyu-0131",
    "Bokhtar Street": "dyu-0028",
    "Ismoili Somoni Avenue": "dyu-0010",
    "Сомони": "dyu-0010",
    "кӯчаи Сомонӣ": "dyu-0010",
    "ул. Сомони": "dyu-0010",
    "кӯч. 50-солагӣ": "dyu-0018",
    "ул. Сино": "dyu-0007",
    "ул. Абу Али ибн Сино": "dyu-0007",
    "ул. Ибн Сино": "dyu-0007",
    "проспект Ибн Сино": "dyu-0007",
    "хиёбони академик Раҷабов": "dyu-0008",
    "ул. Раджабова": "dyu-0008",
    "кӯчаи Раҷабовҳо": "dyu-0008",
    "ул. Шарифджона Хусейнзаде": "dyu-0118",
    "ул. Н. Хисрав": "dyu-0066",
    "ул. Н. Хусрав": "dyu-0066",
    "ул. Мухаммадиев": "dyu-0154",
    "ул. Н. Мухаммадиева": "dyu-0154",
    "Repina 1st lane": "dyu-0164",
    "ул. Сохили": "dyu-0167",
    "ул. Н. Каробоев": "dyu-0006",
    "ул. Аини": "dyu-0014",
    "ул. Н. Хувайдуллаева": "dyu-0101",
}

# Landmarks residents name (tajik_text.md 5.3) that have no record in the shared file.
ADDED_PLACES: list[dict[str, Any]] = [
    {
        "id": "nzr-0001",
        "kind": "landmark",
        "name_ru": "Цементзавод",
        "name_en": "Tsementzavod",
        "alt_names": ["Цементный завод"],
        "districts": ["somoni"],
        "address": {"street": "хиёбони Рӯдакӣ", "street_place_id": "dyu-0013"},
        "confidence": "medium",
        "note": "cement plant at the north end of Rudaki Avenue; shared-taxi stand",
        "sources": ["tajik_text.md 5.3 [S49][S28]"],
        "_link_house": 231,
    },
    {
        "id": "nzr-0002",
        "kind": "landmark",
        "name_tg": "Кохи Борбад",
        "name_ru": "Кохи Борбад",
        "name_en": "Kohi Borbad",
        "alt_names": ["дворец Борбад"],
        "districts": ["sino"],
        "address": {"street": "кӯчаи Борбад", "street_place_id": "dyu-0005"},
        "confidence": "medium",
        "note": "Borbad palace / concert hall; events 'напротив «Кохи Борбад»'",
        "sources": ["tajik_text.md 5.3 [S50]"],
        "_link_house": 1,
    },
    {
        "id": "nzr-0003",
        "kind": "landmark",
        "name_ru": "Молодёжный театр им. М. Вохидова",
        "name_en": "Youth Theatre named after M. Vohidov",
        "alt_names": ["Молодёжный театр"],
        "address": {
            "street": "хиёбони Неъмат Қарабоев",
            "house": "23",
            "street_place_id": "dyu-0006",
            "note": "corner of Jami avenue",
        },
        "confidence": "medium",
        "sources": ["tajik_text.md 5.3 [S51]"],
    },
    {
        "id": "nzr-0004",
        "kind": "landmark",
        "name_tg": "Дарвозаи Ҳисор",
        "name_ru": "Западные ворота",
        "name_en": "Western Gate bus terminal",
        "alt_names": ["Терминали Ғарбӣ", "Дарвозаи Хисор"],
        "districts": ["sino"],
        "confidence": "medium",
        "note": "western city gate and bus terminal",
        "sources": ["tajik_text.md 5.3 [S85][S84]"],
    },
]

# Long streets: a fictional centre line as (house number, lon, lat) anchors, numbers rising
# along it. Where buildings of the street have coordinates, the anchors pass through them.
STREET_LINES: dict[str, list[tuple[int, float, float]]] = {
    "dyu-0013": [  # Rudaki: from the railway station north to the cement plant
        (1, 68.7995, 38.5550),
        (3, 68.798, 38.558),
        (30, 68.793071, 38.568346),
        (60, 68.7875, 38.5733),
        (105, 68.782045, 38.575678),
        (140, 68.786833, 38.592556),
        (200, 68.7835, 38.6130),
        (240, 68.7810, 38.6280),
    ],
    "dyu-0010": [  # Ismoili Somoni: from Rudaki west to Zarafshon
        (1, 68.7860, 38.5822),
        (3, 68.783325, 38.582746),
        (30, 68.7700, 38.5860),
        (60, 68.7520, 38.5830),
        (90, 68.7300, 38.5800),
        (109, 68.71194, 38.57889),
        (115, 68.7060, 38.5786),
    ],
    "dyu-0014": [  # Ayni: from Aini square east through Shohmansur
        (1, 68.7995, 38.5615),
        (40, 68.8150, 38.5570),
        (100, 68.8350, 38.5520),
        (180, 68.8600, 38.5480),
    ],
    "dyu-0015": [  # Saadi Sherozi: runs along the Sino/Firdavsi boundary
        (1, 68.7700, 38.5340),
        (80, 68.7500, 38.5380),
        (120, 68.7350, 38.538429),
    ],
    "dyu-0007": [  # Abuali ibni Sino: west side, south to north
        (1, 68.7580, 38.5480),
        (50, 68.7560, 38.5680),
        (100, 68.7520, 38.5880),
        (150, 68.7500, 38.6080),
    ],
    "dyu-0005": [  # Borbad: from the centre-west south to Giprozem
        (1, 68.7620, 38.5560),
        (40, 68.7570, 38.5430),
        (80, 68.749995, 38.527546),
        (139, 68.7420, 38.5200),
        (180, 68.7350, 38.5120),
    ],
    "dyu-0006": [  # N. Qaroboev: from the circus south-west
        (1, 68.7760, 38.5520),
        (30, 68.7720, 38.5410),
        (60, 68.7660, 38.5325),
        (120, 68.7580, 38.5200),
        (180, 68.7500, 38.5100),
    ],
    "dyu-0009": [(1, 68.7450, 38.5750), (60, 68.7330, 38.5650), (120, 68.7200, 38.5550)],
    "dyu-0012": [(1, 68.7600, 38.5750), (100, 68.7400, 38.5850), (200, 68.7200, 38.5920)],
    "dyu-0017": [(1, 68.7620, 38.5600), (60, 68.7450, 38.5550), (120, 68.7300, 38.5500)],
    "dyu-0055": [
        (1, 68.7970, 38.5680),
        (12, 68.795793, 38.571361),
        (30, 68.792997, 38.5754399),
        (45, 68.794018, 38.580629),
        (90, 68.7920, 38.5950),
    ],
    "dyu-0111": [
        (1, 68.7800, 38.5785),
        (42, 68.790611, 38.579107),
        (60, 68.80185, 38.579469),
        (70, 68.8025, 38.5797),
    ],
    "dyu-0029": [(1, 68.7950, 38.5775), (60, 68.8120, 38.5760)],
    "dyu-0046": [(1, 68.7480, 38.5950), (50, 68.7520, 38.6070)],
    "dyu-0039": [(1, 68.7350, 38.5480), (60, 68.7300, 38.5300)],
    "dyu-0167": [(1, 68.7860, 38.5505), (40, 68.7840, 38.5380), (60, 68.7830, 38.5320)],
}
SIDE_OFFSET = 0.00025  # degrees from the centre line to the odd (left) / even (right) side

# Fictional district layout (lon, lat). Dushanbe's outline, then the boundary lines.
CITY_OUTLINE = [
    (68.690, 38.520), (68.720, 38.505), (68.770, 38.500), (68.820, 38.505), (68.860, 38.520),
    (68.875, 38.550), (68.870, 38.585), (68.845, 38.615), (68.810, 38.635), (68.770, 38.640),
    (68.730, 38.632), (68.700, 38.615), (68.683, 38.585), (68.682, 38.550),
]  # fmt: skip
EAST_LINE = [  # Shohmansur lies east of it (and takes the railway station area)
    (68.805, 38.700), (68.805, 38.585), (68.800, 38.570), (68.790, 38.562),
    (68.786, 38.548), (68.795, 38.450),
]  # fmt: skip
SOUTH_LINE = [  # Firdavsi lies south of it
    (68.600, 38.540), (68.680, 38.540), (68.750, 38.538), (68.770, 38.534),
    (68.778, 38.535), (68.782, 38.5415), (68.786, 38.548),
]  # fmt: skip
SOMONI_LINE = [  # Somoni lies north-east of it (from the south line's end, westwards)
    (68.782, 38.5415), (68.778, 38.556), (68.770, 38.566), (68.7675, 38.5795),
    (68.7675, 38.5835), (68.7654, 38.5835), (68.7640, 38.5815), (68.755, 38.595),
    (68.740, 38.610), (68.700, 38.625), (68.600, 38.630),
]  # fmt: skip

# Fictional inspectors: given names and surnames as (Tajik, Russian, English) spellings.
GIVEN_NAMES = [
    ("Ҷамшед", "Джамшед", "Jamshed"), ("Фирдавс", "Фирдавс", "Firdavs"),
    ("Бахтиёр", "Бахтиёр", "Bakhtiyor"), ("Фарҳод", "Фарход", "Farhod"),
    ("Суҳроб", "Сухроб", "Suhrob"), ("Далер", "Далер", "Daler"),
    ("Шаҳром", "Шахром", "Shahrom"), ("Комрон", "Комрон", "Komron"),
    ("Рустам", "Рустам", "Rustam"), ("Аброр", "Аброр", "Abror"),
    ("Илҳом", "Илхом", "Ilhom"), ("Парвиз", "Парвиз", "Parviz"),
    ("Манучеҳр", "Манучехр", "Manuchehr"), ("Умед", "Умед", "Umed"),
    ("Зафар", "Зафар", "Zafar"), ("Нозим", "Нозим", "Nozim"),
    ("Беҳрӯз", "Бехруз", "Behruz"), ("Шуҳрат", "Шухрат", "Shuhrat"),
    ("Хуршед", "Хуршед", "Khurshed"), ("Сорбон", "Сорбон", "Sorbon"),
    ("Азамат", "Азамат", "Azamat"), ("Исфандиёр", "Исфандиёр", "Isfandiyor"),
    ("Маҳмуд", "Махмуд", "Mahmud"),
]  # fmt: skip
SURNAMES = [
    ("Раҳимов", "Рахимов", "Rahimov"), ("Назаров", "Назаров", "Nazarov"),
    ("Саидов", "Саидов", "Saidov"), ("Ҷӯраев", "Джураев", "Juraev"),
    ("Қодиров", "Кодиров", "Qodirov"), ("Шарипов", "Шарипов", "Sharipov"),
    ("Ҳакимов", "Хакимов", "Hakimov"), ("Мирзоев", "Мирзоев", "Mirzoev"),
    ("Сафаров", "Сафаров", "Safarov"), ("Холов", "Холов", "Kholov"),
    ("Раҷабов", "Раджабов", "Rajabov"), ("Ғафуров", "Гафуров", "Ghafurov"),
    ("Исмоилов", "Исмоилов", "Ismoilov"), ("Азизов", "Азизов", "Azizov"),
    ("Каримов", "Каримов", "Karimov"), ("Юсуфов", "Юсуфов", "Yusufov"),
    ("Давлатов", "Давлатов", "Davlatov"), ("Бобоев", "Бобоев", "Boboev"),
    ("Ашуров", "Ашуров", "Ashurov"), ("Нуров", "Нуров", "Nurov"),
    ("Қурбонов", "Курбонов", "Qurbonov"), ("Ҳасанов", "Хасанов", "Hasanov"),
    ("Маҳмудов", "Махмудов", "Mahmudov"), ("Шоев", "Шоев", "Shoev"),
    ("Зоиров", "Зоиров", "Zoirov"), ("Олимов", "Олимов", "Olimov"),
    ("Тоҳиров", "Тохиров", "Tohirov"), ("Валиев", "Валиев", "Valiev"),
    ("Латифов", "Латифов", "Latifov"),
]  # fmt: skip
RANKS = ["lieutenant", "senior_lieutenant", "captain", "senior_lieutenant", "major", "captain"]
HOURS = [
    "Tue, Thu 17:00-20:00; Sat 10:00-13:00",
    "Mon, Wed 18:00-20:00; Sat 09:00-12:00",
    "Wed, Fri 16:00-19:00; Sun 10:00-12:00",
    "Mon, Thu 17:00-19:00; Sat 10:00-12:00",
]

# --------------------------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------------------------
PAREN = re.compile(r"\s*\(([^()]*)\)")
# Parentheses inside a name are part of it; only trailing ones are notes.
INNER_PAREN = re.compile(r"\s*\(([^()]*)\)\s*(?=\w)")
QUOTES = re.compile(r"[«»\"“”„]")


def clean_name(raw: str | None) -> tuple[str | None, list[str], list[str]]:
    """Split a source name into ``(display name, extra names after ' / ', qualifiers)``."""
    if not raw:
        return None, [], []
    first, *others = [part.strip() for part in raw.split(" / ")]
    first = INNER_PAREN.sub(r" \1 ", first)  # "Российско-Таджикский (Славянский) университет"
    qualifiers = [squash(QUOTES.sub("", q)) for q in PAREN.findall(first)]
    name = squash(QUOTES.sub("", PAREN.sub("", first)))
    return name, [squash(QUOTES.sub("", PAREN.sub("", o))) for o in others], qualifiers


def squash(text: str) -> str:
    """Collapse runs of spaces and trim stray punctuation at the ends."""
    return re.sub(r"\s+", " ", text).strip(" ,;—-")


def clean_list(items: Iterable[str], notes: list[str]) -> list[str]:
    """Clean names of a list; parenthesised remarks go to ``notes``."""
    out: list[str] = []
    for item in items:
        remarks = PAREN.findall(item)
        name = squash(QUOTES.sub("", PAREN.sub("", item)))
        if not name:
            notes.append(item.strip("()"))
            continue
        notes.extend(f"{name!r}: {remark}" for remark in remarks)
        if name not in out:
            out.append(name)
    return out


TG_TO_RU_LETTERS = str.maketrans(
    {"ҳ": "х", "Ҳ": "Х", "қ": "к", "Қ": "К", "ғ": "г", "Ғ": "Г", "ӣ": "и", "Ӣ": "И",
     "ӯ": "у", "Ӯ": "У", "ҷ": "дж", "Ҷ": "Дж"}
)  # fmt: skip
TG_GENERIC_TO_RU = [
    ("кӯчаи ", "улица "),
    ("хиёбони ", "проспект "),
    ("маҳаллаи ", "махалля "),
    ("бозори ", "рынок "),
    ("майдони ", "площадь "),
]
RU_GENERIC_TO_TG = [
    ("улица ", "кӯчаи "),
    ("проспект ", "хиёбони "),
    ("махалля ", "маҳаллаи "),
    ("рынок ", "бозори "),
    ("базар ", "бозори "),
    ("площадь ", "майдони "),
]
NUMBERED_AREA_TG = re.compile(r"^(?:маҳаллаи|шаҳраки)\s+№?\s*(\d+\S*)$")
NUMBERED_AREA_RU = re.compile(r"^(\d+\S*)\s+микрорайон$")


def derive_ru(name_tg: str) -> str:
    """Russian rendering of a Tajik name: generic word, letters, -обод -> -абад (tajik_text 2.4)."""
    numbered = NUMBERED_AREA_TG.match(name_tg)
    if numbered:
        return f"{numbered.group(1)} микрорайон"
    text = name_tg
    for tg, ru in TG_GENERIC_TO_RU:
        if text.lower().startswith(tg):
            text = ru + text[len(tg) :]
    text = re.sub(r"обод\b", "абад", text)
    return text.translate(TG_TO_RU_LETTERS)


def derive_tg(name_ru: str) -> str:
    """Tajik rendering of a Russian name: generic word, дж -> ҷ, -абад -> -обод, no genitive."""
    numbered = NUMBERED_AREA_RU.match(name_ru)
    if numbered:
        return f"маҳаллаи {numbered.group(1)}"
    text = name_ru
    generic = ""
    for ru, tg in RU_GENERIC_TO_TG:
        if text.lower().startswith(ru):
            generic, text = tg, text[len(ru) :]
    text = re.sub(r"абад\b", "обод", text.replace("дж", "ҷ").replace("Дж", "Ҷ"))
    words = text.split()
    if generic and (len(words) == 1 or (len(words) == 2 and words[0].endswith("."))):
        words[-1] = nominative(words[-1])  # only "улица Гагарина": a given name may be female
    return generic + " ".join(words)


def nominative(word: str) -> str:
    """Undo the Russian genitive of a surname street (Гагарина -> Гагарин, Абдуллоева -> ...ев)."""
    if re.search(r"(ов|ев|ёв|ин)а$", word):
        return word[:-1]
    return word


def derived_names(record: dict[str, Any]) -> list[str]:
    """Add the missing Russian or Tajik name of a street or area, derived by rule."""
    if record["kind"] not in DERIVABLE_KINDS:
        return []
    tg, ru = record.get("name_tg"), record.get("name_ru")
    if tg and not ru:
        candidate = derive_ru(tg)
    elif ru and not tg:
        candidate = derive_tg(ru)
    else:
        return []
    known = {tg, ru, *record.get("alt_names", ()), *record.get("old_names", ())}
    return [] if candidate in known else [candidate]


# --------------------------------------------------------------------------------------------
# Addresses
# --------------------------------------------------------------------------------------------
FOLD = str.maketrans({"ҳ": "х", "қ": "к", "ғ": "г", "ҷ": "ч", "ӣ": "и", "ӯ": "у", "ё": "е"})
GENERIC_WORDS = re.compile(
    r"\b(кӯчаи|кучаи|кӯч|куч|улица|ул|проспект|пр|п|хиёбони|хиёб|street|st|avenue|ave|пос)\b\.?",
    re.IGNORECASE,
)
HOUSE = re.compile(r"^\s*(\d+[а-яa-zА-ЯA-Z]?(?:[/-]\d*[а-яa-zА-ЯA-Z]?)?)\s*(.*)$")


def fold_street(text: str) -> str:
    """A matching key for a street name: folded letters, no generic words or initials."""
    text = GENERIC_WORDS.sub(" ", text.lower().replace("дж", "ч"))
    text = re.sub(r"\b\w{1,2}\.\s*", " ", text.translate(FOLD))
    words = [nominative(word) for word in re.findall(r"\w+", text)]
    return " ".join(words)


def street_index(records: Sequence[dict[str, Any]]) -> dict[str, set[str]]:
    """Map the folded full names and last words of every street and avenue to place ids."""
    index: dict[str, set[str]] = {}
    for record in records:
        if record["kind"] not in LINEAR:
            continue
        names = [record.get(f"name_{lang}") for lang in ("tg", "ru", "en")]
        for name in [*names, *record.get("alt_names", ())]:
            key = fold_street(name or "")
            if key:
                index.setdefault(key, set()).add(record["id"])
                index.setdefault(key.split()[-1], set()).add(record["id"])
    return index


def match_street(street: str, index: dict[str, set[str]]) -> str | None:
    """Find the place id of an address street by its full name, then by its last word."""
    if street in STREET_OVERRIDES:
        return STREET_OVERRIDES[street]
    key = fold_street(street)
    for candidate in (key, key.split()[-1] if key else ""):
        ids = index.get(candidate, set())
        if len(ids) == 1:
            return next(iter(ids))
    return None


def clean_address(raw: dict[str, Any] | None, index: dict[str, set[str]]) -> dict[str, Any] | None:
    """Split a source address into street, house, street place id and note."""
    if not raw:
        return None
    notes: list[str] = []
    street_parts = [part.strip() for part in (raw.get("street") or "").split(" / ")]
    street = street_parts[0]
    notes.extend(PAREN.findall(street))
    street = squash(PAREN.sub("", street))
    if len(street_parts) > 1:
        notes.append("also written " + "; ".join(street_parts[1:]))
    house, house_note = split_house(raw.get("house"))
    if house_note:
        notes.append(house_note)
    street_id = next(
        (sid for part in street_parts if (sid := match_street(squash(PAREN.sub("", part)), index))),
        None,
    )
    address = {"street": street or None, "house": house, "street_place_id": street_id}
    address["note"] = "; ".join(notes) or None
    return {key: value for key, value in address.items() if value}


def split_house(raw: str | None) -> tuple[str | None, str | None]:
    """Split '63 (branch list) / 36 (ATM list)' into the house '63' and a note."""
    if not raw:
        return None, None
    match = HOUSE.match(raw)
    if not match:
        return None, raw
    rest = match.group(2).strip(" ,")
    return match.group(1), (f"as written: {raw}" if rest else None)


def house_number(house: str | None) -> int | None:
    """The leading number of a house label."""
    match = re.match(r"\d+", house or "")
    return int(match.group()) if match else None


# --------------------------------------------------------------------------------------------
# Places
# --------------------------------------------------------------------------------------------
def build_place(record: dict[str, Any], index: dict[str, set[str]]) -> dict[str, Any]:
    """Map one shared record onto the fields of ``resolver.gazetteer.Place``."""
    notes: list[str] = [record["note"]] if record.get("note") else []
    place: dict[str, Any] = {"id": record["id"], "kind": record["kind"]}
    alt_names: list[str] = []
    qualifiers: list[str] = []
    for lang in ("tg", "ru", "en"):
        name, extra, quals = clean_name(record.get(f"name_{lang}"))
        place[f"name_{lang}"] = name
        alt_names.extend(extra)
        qualifiers.extend(q for q in quals if q not in qualifiers)
    place["qualifier"] = "; ".join(qualifiers) or None
    old_names = clean_list(record.get("old_names", ()), notes)
    names = {place["name_tg"], place["name_ru"], place["name_en"], *old_names}
    alt_names = clean_list([*alt_names, *record.get("alt_names", ())], notes)
    place["old_names"] = old_names
    place["alt_names"] = [name for name in alt_names if name not in names]
    place["districts"] = districts_of(record.get("district"))
    place["address"] = clean_address(record.get("address"), index)
    place.update({key: record.get(key) for key in ("lat", "lon", "coord_confidence")})
    place["confidence"] = record.get("confidence", "medium")
    place["note"] = " ; ".join(notes) or None
    place["sources"] = [part.strip() for part in record["source"].split(" | ") if part.strip()]
    apply_override(place)
    place["derived_names"] = derived_names(place)
    return place


def apply_override(place: dict[str, Any]) -> None:
    """Apply the hand correction for this place, if any."""
    override = dict(PLACE_OVERRIDES.get(place["id"], {}))
    note_add = override.pop("note_add", None)
    place.update(override)
    if note_add:
        place["note"] = " ; ".join(filter(None, [place.get("note"), note_add]))


def districts_of(raw: str | None) -> list[str]:
    """Map 'Сино / Фирдавсӣ (boundary)' to ['sino', 'firdavsi']."""
    if not raw:
        return []
    parts = [squash(PAREN.sub("", part)) for part in raw.split(" / ")]
    return [DISTRICT_CODES[part] for part in parts]


PLACE_ORDER = [
    "id", "kind", "name_tg", "name_ru", "name_en", "qualifier", "old_names", "alt_names",
    "derived_names", "districts", "address", "lat", "lon", "coord_confidence", "confidence",
    "note", "sources",
]  # fmt: skip


def tidy(record: dict[str, Any], order: Sequence[str]) -> dict[str, Any]:
    """Order the fields and drop empty ones, so the YAML stays short and diffs stay small."""
    return {key: record[key] for key in order if record.get(key) not in (None, [], {}, "")}


# --------------------------------------------------------------------------------------------
# Geometry: districts, sectors
# --------------------------------------------------------------------------------------------
def side_polygon(line: Sequence[tuple[float, float]], corners: Sequence[tuple[float, float]]):
    """A polygon bounded by ``line`` and closed through far-away ``corners``."""
    return Polygon([*line, *corners])


def district_shapes() -> dict[str, BaseGeometry]:
    """The fictional outline of each district, together covering the city without overlap.

    Every overlay runs on the 6-decimal grid (snap rounding), so neighbours share edges exactly.
    """
    city = Polygon(CITY_OUTLINE)
    east = side_polygon(EAST_LINE, [(69.0, 38.45), (69.0, 38.70)])
    south = side_polygon(SOUTH_LINE, [(68.795, 38.450), (68.600, 38.450)])
    south = south.difference(east, grid_size=GRID)
    north_line = [*SOMONI_LINE, (68.600, 38.700), (68.805, 38.700)]
    north = Polygon([*north_line, *EAST_LINE[1:-1]]).difference(east, grid_size=GRID)
    shapes = {
        "shohmansur": city.intersection(east, grid_size=GRID),
        "firdavsi": city.intersection(south, grid_size=GRID),
        "somoni": city.intersection(north, grid_size=GRID),
    }
    others = shapely.union_all(list(shapes.values()), grid_size=GRID)
    shapes["sino"] = largest_part(city.difference(others, grid_size=GRID))
    return shapes


def sample_points(shape: BaseGeometry, step: float = 0.0012) -> list[tuple[float, float]]:
    """A regular grid of points inside ``shape``."""
    minx, miny, maxx, maxy = shape.bounds
    points = []
    for i in range(int((maxx - minx) / step) + 1):
        for j in range(int((maxy - miny) / step) + 1):
            x, y = minx + i * step, miny + j * step
            if shape.contains(Point(x, y)):
                points.append((x, y))
    return points


def kmeans(points: Sequence[tuple[float, float]], k: int) -> list[tuple[float, float]]:
    """Deterministic k-means: start from evenly spaced points, 60 Lloyd iterations."""
    ordered = sorted(points, key=lambda p: (round(p[1], 4), p[0]))
    centres = [ordered[int((i + 0.5) * len(ordered) / k)] for i in range(k)]
    for _ in range(60):
        groups: list[list[tuple[float, float]]] = [[] for _ in centres]
        for point in points:
            nearest = min(range(k), key=lambda i: math.dist(point, centres[i]))
            groups[nearest].append(point)
        centres = [mean(group) if group else centres[i] for i, group in enumerate(groups)]
    return centres


def mean(points: Sequence[tuple[float, float]]) -> tuple[float, float]:
    """The centroid of a set of points."""
    return sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points)


def sector_cells(shape: BaseGeometry, centres: Sequence[tuple[float, float]]) -> list[Polygon]:
    """Voronoi cells of ``centres`` clipped to ``shape``; stray pieces join a neighbour."""
    cells = shapely.voronoi_polygons(MultiPoint(list(centres)), extend_to=shape)
    by_centre: list[BaseGeometry] = []
    for centre in centres:
        cell = next(c for c in cells.geoms if c.covers(Point(centre)))
        by_centre.append(cell.intersection(shape, grid_size=GRID))
    return merge_strays(by_centre)


def merge_strays(cells: list[BaseGeometry]) -> list[Polygon]:
    """Keep each cell's largest part; give smaller parts to the cell they share most edge with."""
    kept = [largest_part(cell) for cell in cells]
    for i, cell in enumerate(cells):
        for part in getattr(cell, "geoms", [cell]):
            if part.equals(kept[i]) or part.area == 0:
                continue
            j = max(range(len(kept)), key=lambda n: -1 if n == i else shared_edge(kept[n], part))
            kept[j] = largest_part(kept[j].union(part, grid_size=GRID))
    return kept


def largest_part(geometry: BaseGeometry) -> Polygon:
    """The largest polygon of a (multi)polygon."""
    parts = [g for g in getattr(geometry, "geoms", [geometry]) if isinstance(g, Polygon)]
    return max(parts, key=lambda g: g.area)


def shared_edge(a: BaseGeometry, b: BaseGeometry) -> float:
    """Length of the boundary two polygons share."""
    return float(a.boundary.intersection(b.boundary).length)


@dataclass
class SectorDraft:
    """A sector while it is being built."""

    id: str
    district: str
    polygon: Polygon
    number: int


def build_sectors() -> list[SectorDraft]:
    """Cut every district into its sectors, numbered north-west to south-east."""
    drafts: list[SectorDraft] = []
    for district, shape in district_shapes().items():
        centres = kmeans(sample_points(shape), SECTORS_PER_DISTRICT[district])
        cells = sector_cells(shape, centres)
        cells.sort(key=lambda c: (-round(c.centroid.y, 2), c.centroid.x))
        prefix = DISTRICT_PREFIX[district]
        for number, cell in enumerate(cells, 1):
            drafts.append(SectorDraft(f"{prefix}-{number:02d}", district, cell, number))
    polygons = node_shared_edges([d.polygon for d in drafts])
    for draft, polygon in zip(drafts, polygons, strict=True):
        draft.polygon = orient(polygon, 1.0)  # RFC 7946: exterior counter-clockwise
    return drafts


def node_shared_edges(polygons: Sequence[Polygon], tolerance: float = 2 * GRID) -> list[Polygon]:
    """Insert each neighbour's vertices into the edges they touch.

    Rounding to the grid leaves a vertex of one polygon a fraction of a grid step off its
    neighbour's long edge: a sliver of overlap or gap. Snapping every edge to the vertices near
    it makes shared boundaries identical, so neighbours neither overlap nor leave slivers.
    """
    tree = shapely.STRtree(list(polygons))
    noded = []
    for k, polygon in enumerate(polygons):
        near = [n for n in tree.query(polygon.buffer(tolerance)) if n != k]
        vertices = MultiPoint([xy for n in near for xy in polygons[n].exterior.coords])
        noded.append(largest_part(shapely.snap(polygon, vertices, tolerance)))
    return noded


# --------------------------------------------------------------------------------------------
# Links
# --------------------------------------------------------------------------------------------
class Locator:
    """Find the sector at a point, and pick sectors by district."""

    def __init__(self, drafts: Sequence[SectorDraft]) -> None:
        self.drafts = list(drafts)
        self.tree = shapely.STRtree([d.polygon for d in self.drafts])

    def at(self, lon: float, lat: float) -> SectorDraft | None:
        """The sector whose polygon covers the point."""
        point = Point(lon, lat)
        hits = self.tree.query(point, predicate="intersects")
        if not len(hits):  # on a shared edge, floating point may miss both sides
            hits = self.tree.query_nearest(point, max_distance=GRID)
        return self.drafts[int(min(hits))] if len(hits) else None

    def by_hash(self, key: str, district: str | None) -> SectorDraft:
        """A stable choice of sector for ``key`` (within ``district`` when given)."""
        pool = [d for d in self.drafts if district is None or d.district == district]
        return pool[stable_hash(key) % len(pool)]


def stable_hash(key: str) -> int:
    """A hash that does not change between runs."""
    return int(hashlib.sha256(key.encode()).hexdigest()[:12], 16)


def point_on_line(
    anchors: Sequence[tuple[int, float, float]], number: float, side: int
) -> tuple[float, float]:
    """The point of house ``number`` on a street line, ``side`` -1 left / +1 right / 0 centre."""
    number = min(max(number, anchors[0][0]), anchors[-1][0])
    for (h0, x0, y0), (h1, x1, y1) in itertools.pairwise(anchors):
        if h0 <= number <= h1:
            t = (number - h0) / (h1 - h0)
            x, y = x0 + t * (x1 - x0), y0 + t * (y1 - y0)
            length = math.hypot(x1 - x0, y1 - y0)
            nx, ny = -(y1 - y0) / length, (x1 - x0) / length  # left normal
            return x - side * SIDE_OFFSET * nx, y - side * SIDE_OFFSET * ny
    raise ValueError(number)


def street_ranges(place_id: str, locator: Locator) -> list[dict[str, Any]]:
    """Split a long street into house ranges by the sectors its two sides pass through."""
    anchors = STREET_LINES[place_id]
    last = anchors[-1][0]
    blocks = []
    for k in range(1, last // 2 + 2):
        odd = locator.at(*point_on_line(anchors, 2 * k - 1, -1))
        even = locator.at(*point_on_line(anchors, 2 * k, 1))
        centre = locator.at(*point_on_line(anchors, 2 * k - 0.5, 0))
        if odd is None or even is None or centre is None:
            raise SystemExit(f"{place_id}: house {2 * k} falls outside every sector")
        pair = (odd.id, even.id) if odd.district != even.district else (centre.id, centre.id)
        blocks.append(pair)
    return ranges_from_blocks(smooth(blocks))


def smooth(blocks: list[tuple[str, str]], minimum: int = 3) -> list[tuple[str, str]]:
    """Fold runs shorter than ``minimum`` blocks into the run before them."""
    runs: list[list[Any]] = []
    for pair in blocks:
        if runs and runs[-1][0] == pair:
            runs[-1][1] += 1
        else:
            runs.append([pair, 1])
    merged: list[list[Any]] = []
    for pair, count in runs:
        if merged and (count < minimum or merged[-1][0] == pair):
            merged[-1][1] += count
        else:
            merged.append([pair, count])
    return [pair for pair, count in merged for _ in range(count)]


def ranges_from_blocks(blocks: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """Turn per-block (odd sector, even sector) pairs into house ranges; the last is open."""
    ranges: list[dict[str, Any]] = []
    start = 0
    for k in range(1, len(blocks) + 1):
        if k < len(blocks) and blocks[k] == blocks[start]:
            continue
        odd, even = blocks[start]
        first, final = 2 * start + 1, 2 * k
        end = None if k == len(blocks) else final
        if odd == even:
            ranges.append({"sector_id": odd, "start": first, "end": end, "parity": "all"})
        else:
            ranges.append(
                {"sector_id": odd, "start": first, "end": end and end - 1, "parity": "odd"}
            )
            ranges.append({"sector_id": even, "start": first + 1, "end": end, "parity": "even"})
        start = k
    return merge_side_runs(ranges)


def merge_side_runs(ranges: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Join consecutive odd (or even) ranges of one sector that the other side split apart."""
    merged: list[dict[str, Any]] = []
    last_of_side: dict[str, dict[str, Any]] = {}
    for item in ranges:
        if item["parity"] == "all":
            last_of_side.clear()
        previous = last_of_side.get(item["parity"])
        if previous and previous["sector_id"] == item["sector_id"]:
            previous["end"] = item["end"]
            continue
        merged.append(dict(item))
        last_of_side[item["parity"]] = merged[-1]
    return merged


def sector_in_ranges(ranges: Sequence[dict[str, Any]], number: int) -> str | None:
    """The sector of house ``number`` on a split street."""
    for item in ranges:
        in_range = item["start"] <= number and (item["end"] is None or number <= item["end"])
        parity_ok = item["parity"] == "all" or (number % 2 == 1) == (item["parity"] == "odd")
        if in_range and parity_ok:
            return str(item["sector_id"])
    return None


def build_links(
    places: Sequence[dict[str, Any]], drafts: Sequence[SectorDraft]
) -> tuple[list[dict[str, Any]], list[str]]:
    """Link every place to one sector (long streets: house ranges). Returns links and problems."""
    locator = Locator(drafts)
    by_id = {d.id: d for d in drafts}
    splits = {pid: street_ranges(pid, locator) for pid in STREET_LINES}
    inferred = street_districts(places)
    links: list[dict[str, Any]] = []
    problems: list[str] = []
    for place in places:
        if place["id"] in splits:
            links.extend({"place_id": place["id"], **item} for item in splits[place["id"]])
            continue
        sector = choose_sector(place, locator, splits, by_id, inferred.get(place["id"]))
        links.append({"place_id": place["id"], "sector_id": sector.id})
        districts = place.get("districts") or []
        if districts and sector.district not in districts:
            problems.append(f"{place['id']}: sector {sector.id} is outside {districts}")
    for pid, ranges in splits.items():
        place = next(p for p in places if p["id"] == pid)
        outside = {r["sector_id"] for r in ranges} - {
            s.id for s in drafts if s.district in (place.get("districts") or [s.district])
        }
        if outside:
            problems.append(f"{pid}: ranges in sectors {sorted(outside)} outside its districts")
    return links, problems


def choose_sector(
    place: dict[str, Any],
    locator: Locator,
    splits: dict[str, list[dict[str, Any]]],
    by_id: dict[str, SectorDraft],
    inferred_district: str | None,
) -> SectorDraft:
    """Pick the sector of one place: its coordinates, its street, or a stable hash."""
    if place.get("lat") is not None:
        found = locator.at(place["lon"], place["lat"])
        if found:
            return found
    districts = place.get("districts") or []
    via_street = sector_by_street(place, splits, by_id)
    if via_street and (not districts or via_street.district in districts):
        return via_street
    district = districts[0] if districts else inferred_district
    return locator.by_hash(place["id"], district)


def sector_by_street(
    place: dict[str, Any], splits: dict[str, list[dict[str, Any]]], by_id: dict[str, SectorDraft]
) -> SectorDraft | None:
    """The sector of the place's street at its house number (or the given ``_link_house``)."""
    address = place.get("address") or {}
    street_id = address.get("street_place_id")
    if street_id not in splits:
        return None
    number = place.get("_link_house") or house_number(address.get("house"))
    sector_id = sector_in_ranges(splits[street_id], number) if number else None
    return by_id.get(sector_id) if sector_id else None


def link_non_split_streets_first(
    places: Sequence[dict[str, Any]], links: list[dict[str, Any]], drafts: Sequence[SectorDraft]
) -> list[dict[str, Any]]:
    """Let a building on a one-sector street share the street's sector, if its district fits."""
    whole = {link["place_id"]: link["sector_id"] for link in links if "start" not in link}
    district_of = {d.id: d.district for d in drafts}
    by_place = {p["id"]: p for p in places}
    result = []
    for link in links:
        place = by_place[link["place_id"]]
        street_id = (place.get("address") or {}).get("street_place_id") or ""
        street_sector = whole.get(street_id)
        fits = street_sector and district_of[street_sector] in (
            place.get("districts") or [district_of[street_sector]]
        )
        if "start" not in link and place.get("lat") is None and street_id in whole and fits:
            result.append({**link, "sector_id": street_sector})
        else:
            result.append(link)
    return result


def street_districts(places: Sequence[dict[str, Any]]) -> dict[str, str]:
    """For streets without a district: the district of the first building on them that has one."""
    found: dict[str, str] = {}
    for place in places:
        street_id = (place.get("address") or {}).get("street_place_id")
        if street_id and place.get("districts"):
            found.setdefault(street_id, place["districts"][0])
    return found


# --------------------------------------------------------------------------------------------
# Sectors and officers
# --------------------------------------------------------------------------------------------
def officer(serial: int, district_number: int, number: int) -> dict[str, Any]:
    """A fictional inspector; names combine deterministically, phones never repeat."""
    given = GIVEN_NAMES[serial % len(GIVEN_NAMES)]
    surname = SURNAMES[(serial * 7 + 3) % len(SURNAMES)]
    block = 100 + district_number * 100 + number
    phone = f"+992 00 {block:03d} {(serial * 37 + 11) % 100:02d} {(serial * 53 + 29) % 100:02d}"
    return {
        "name_tg": f"{given[0]} {surname[0]}",
        "name_ru": f"{given[1]} {surname[1]}",
        "name_en": f"{given[2]} {surname[2]}",
        "rank": RANKS[serial % len(RANKS)],
        "phone": phone,
        "reception_hours": HOURS[serial % len(HOURS)],
        "fictional": True,
    }


def office_streets(places: Sequence[dict[str, Any]], district: str) -> list[dict[str, Any]]:
    """Streets of ``district`` with both a Tajik and a Russian name, for office addresses."""
    return [
        p
        for p in places
        if p["kind"] in LINEAR
        and p.get("name_tg")
        and p.get("name_ru")
        and (p.get("districts") or [None])[0] == district
    ]


def sector_record(
    draft: SectorDraft, serial: int, places: Sequence[dict[str, Any]], label: str | None
) -> dict[str, Any]:
    """The YAML record of one sector."""
    streets = office_streets(places, draft.district)
    street = streets[stable_hash(draft.id) % len(streets)]
    house = 1 + stable_hash(draft.id + "house") % 120
    district_number = list(DISTRICT_PREFIX).index(draft.district)
    name = f"{DISTRICT_RU[draft.district]}, участок {draft.number}"
    return {
        "id": draft.id,
        "district": draft.district,
        "name": f"{name} ({label})" if label else name,
        "office_address_tg": f"{street['name_tg']} {house}",
        "office_address_ru": f"{street['name_ru']}, {house}",
        # name_tg/ru/en and office_address_en: scripts/add_sector_forms.py
        "officer": officer(serial, district_number, draft.number),
        "fictional": True,
    }


def sector_labels(
    places: Sequence[dict[str, Any]], links: Sequence[dict[str, Any]]
) -> dict[str, str]:
    """Name each sector after its first linked area (mahalla or microdistrict), if any."""
    by_id = {p["id"]: p for p in places}
    labels: dict[str, str] = {}
    for link in links:
        place = by_id[link["place_id"]]
        if place["kind"] in {"mahalla", "microdistrict"} and link["sector_id"] not in labels:
            labels[link["sector_id"]] = place.get("name_ru") or place.get("name_tg") or place["id"]
    return labels


# --------------------------------------------------------------------------------------------
# Aliases
# --------------------------------------------------------------------------------------------
def old_name_aliases(places: Sequence[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Every old name of a place, as an alias of kind ``old``."""
    for place in places:
        for name in place.get("old_names", ()):
            yield {
                "place_id": place["id"],
                "alias": name,
                "kind": "old",
                "lang": script_of(name),
                "source": OLD_NAMES_SOURCE,
            }


def script_of(text: str) -> str:
    """'latn' for Latin text, 'tg' when Tajik letters occur, else 'ru'."""
    if re.search(r"[a-zA-Z]", text) and not re.search(r"[а-яА-ЯёЁ]", text):
        return "latn"
    return "tg" if re.search(r"[ҳқғҷӣӯҲҚҒҶӢӮ]", text) else "ru"


OLD_NAMES_SOURCE = "places.jsonl old_names"


def load_curated_aliases(path: Path) -> list[dict[str, Any]]:
    """The hand-written aliases of an existing ``aliases.yaml`` (all but the generated ones)."""
    if not path.exists():
        return []
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return [a for a in data.get("places") or [] if a.get("source") != OLD_NAMES_SOURCE]


# --------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------
def dump_yaml(header: str, key: str, items: Sequence[dict[str, Any]]) -> str:
    """YAML with a comment header and one blank line between records."""
    lines = [f"# {line}" for line in wrap(header)] + [f"# {line}" for line in wrap(FICTION_NOTE)]
    body = yaml.safe_dump(
        {key: list(items)}, allow_unicode=True, sort_keys=False, width=100, default_flow_style=False
    )
    body = re.sub(r"\n- ", "\n\n- ", body)
    return "\n".join(lines) + "\n" + body


def wrap(text: str, width: int = 96) -> list[str]:
    """Wrap a comment to ``width`` columns."""
    lines, current = [], ""
    for word in text.split():
        if current and len(current) + len(word) + 1 > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}".strip()
    return [*lines, current] if current else lines


def dump_geojson(drafts: Sequence[SectorDraft]) -> str:
    """A FeatureCollection, one feature per line so that errors and diffs name a sector."""
    features = [
        json.dumps(
            {
                "type": "Feature",
                "properties": {"sector_id": d.id, "district": d.district, "fictional": True},
                "geometry": rounded_mapping(d.polygon),
            },
            ensure_ascii=False,
        )
        for d in drafts
    ]
    head = json.dumps(FICTION_NOTE, ensure_ascii=False)
    return (
        '{"type": "FeatureCollection",\n"fictional": true,\n'
        f'"note": {head},\n"features": [\n' + ",\n".join(features) + "\n]}\n"
    )


def rounded_mapping(polygon: Polygon) -> dict[str, Any]:
    """The GeoJSON geometry with coordinates written with at most 6 decimals."""
    geometry = mapping(polygon)
    rings = [[[round(x, 6), round(y, 6)] for x, y in ring] for ring in geometry["coordinates"]]
    return {"type": "Polygon", "coordinates": rings}


def link_record(link: dict[str, Any]) -> dict[str, Any]:
    """The YAML form of a link: a ``houses`` block for split streets."""
    record = {"place_id": link["place_id"], "sector_id": link["sector_id"]}
    if "start" in link:
        houses = {"start": link["start"], "end": link["end"], "parity": link["parity"]}
        record["houses"] = {k: v for k, v in houses.items() if v is not None}
    return record


SEED_FILES = ["places.yaml", "aliases.yaml", "sectors.yaml", "links.yaml", "sectors.geojson"]
ALIAS_ORDER = ["place_id", "alias", "kind", "lang", "source"]


def render_seed(records: Sequence[dict[str, Any]], curated: list[dict[str, Any]]) -> dict[str, str]:
    """Build every seed file's text from the shared records and the hand-written aliases."""
    index = street_index(records)
    places = [build_place(record, index) for record in records]
    places += [dict(item) for item in ADDED_PLACES]
    drafts = build_sectors()
    links, problems = build_links(places, drafts)
    links = link_non_split_streets_first(places, links, drafts)
    labels = sector_labels(places, links)
    sectors = [sector_record(d, i, places, labels.get(d.id)) for i, d in enumerate(drafts)]
    aliases = [tidy(a, ALIAS_ORDER) for a in [*old_name_aliases(places), *curated]]
    report_problems(places, problems)
    return {
        "places.yaml": dump_yaml(
            HEADERS["places.yaml"], "places", [tidy(p, PLACE_ORDER) for p in places]
        ),
        "aliases.yaml": dump_yaml(HEADERS["aliases.yaml"], "places", aliases),
        "sectors.yaml": dump_yaml(HEADERS["sectors.yaml"], "sectors", sectors),
        "links.yaml": dump_yaml(HEADERS["links.yaml"], "links", [link_record(x) for x in links]),
        "sectors.geojson": dump_geojson(drafts),
    }


def report_problems(places: Sequence[dict[str, Any]], problems: Sequence[str]) -> None:
    """Print district conflicts and address streets that match no street place."""
    for problem in problems:
        print("warning:", problem, file=sys.stderr)
    for place in places:
        address = place.get("address") or {}
        if address.get("street") and not address.get("street_place_id"):
            street = address["street"]
            print(f"note: {place['id']}: street {street!r} matches no place", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Write the seed files; see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--out", type=Path, default=REPO / "seed")
    parser.add_argument("--force", action="store_true", help="overwrite an existing seed")
    args = parser.parse_args(argv)
    existing = [name for name in SEED_FILES if (args.out / name).exists()]
    if existing and not args.force:
        print(f"{args.out} already has {', '.join(existing)}: edit them, or pass --force.")
        return 1
    curated = load_curated_aliases(args.out / "aliases.yaml")  # hand-written aliases survive
    records = [json.loads(line) for line in args.source.read_text("utf-8").splitlines() if line]
    texts = render_seed(records, curated)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, text in texts.items():
        (args.out / name).write_text(text, encoding="utf-8")
    print(f"wrote {', '.join(texts)} to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
