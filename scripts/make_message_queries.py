"""Generate the labelled message set: ``tests/data/labelled_messages.jsonl``.

Whole addresses and resident-style messages (issue 12), one class per kind of failure: postcode
and country, district/mahalla context, building/floor/office units, plus codes, house-number
forms, Russian case forms, Tajik prepositions and izafat, requests, everyday names and addresses
in other Tajik cities (which must never resolve).

Each line: ``{"query", "place_id", "house", "noise", "lang"}`` and, where they apply, ``"accept"``
(other ids that are also right), ``"sector_id"`` (an answer in this sector is right: the sector
whose polygon holds a plus code's point) and ``"parts"`` (the address parts the text carries:
postcode, district (seed district key), microdistrict / mahalla (place id), building, block,
floor, office, flat, entrance, plus_code).

The generator reads ``seed/*.yaml`` with yaml directly and never imports the resolver: a set made
with the resolver's own folding and parsing could not catch the resolver's mistakes. Common
Russian nouns and adjectives are inflected with pymorphy3 (only words from ``INFLECTABLE``,
every form checked by the unit tests); proper names are never inflected, except the few
hand-written forms in ``NAME_FORMS``. Plus codes come from ``openlocationcode``; the sector of a
point from the sector polygons with shapely.

Decisions:
- ``с дома 1 по 77`` (a range of houses) is labelled with its FIRST house; the range is drawn
  inside one house segment of the street, so the sector is the same for every house in it.
- A building, block, floor, office, room, flat or entrance number is never the house.
- A message naming a street with a house and a building or landmark at that address is
  labelled with the street; the building is in ``accept``.

Run: ``python scripts/make_message_queries.py [--seed-dir PATH] [--out PATH] [--seed N]``.
"""

from __future__ import annotations

import argparse
import json
import random
import re
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import openlocationcode.openlocationcode as olc
import pymorphy3
import yaml
from shapely.geometry import Point, shape

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SEED = ROOT / "seed"
DEFAULT_OUT = ROOT / "tests" / "data" / "labelled_messages.jsonl"
PER_CLASS = 200
DUSHANBE = (38.5598, 68.7870)  # the reference point plus codes are shortened against

Place = dict[str, Any]
Label = dict[str, object]

TAJIK_TO_RUSSIAN_KEYS = str.maketrans("ҳқғҷӣӯҲҚҒҶӢӮ", "хкгчиуХКГЧИУ")
# Cyrillic -> the English-style Latin of signs and sites (х kh, ҳ h, қ q, ҷ j, ӣ i; "-": dropped).
CYRILLIC_LETTERS = (
    "а б в г ғ д е ё ж з и ӣ й к қ л м н о п р с т у ӯ ф х ҳ ч ҷ ш ъ э ю я ц ы ь щ « »"
)
LATIN_LETTERS = (
    "a b v g gh d e yo zh z i i y k q l m n o p r s t u u f kh h ch j sh - e yu ya ts y - sh - -"
)
LATIN = {
    cyr: ("" if lat == "-" else lat)
    for cyr, lat in zip(CYRILLIC_LETTERS.split(), LATIN_LETTERS.split(), strict=True)
}
TYPE_WORD = re.compile(
    r"^(кӯчаи|хиёбони|улица|проспект|маҳаллаи|махалля|шаҳраки)\s+|\s+(микрорайон|mahalla)$",
    re.IGNORECASE,
)
POSTCODES = (
    "734000",
    "734001",
    "734002",
    "734003",
    "734013",
    "734017",
    "734018",
    "734019",
    "734024",
    "734025",
    "734026",
    "734032",
    "734036",
    "734042",
    "734055",
    "734063",
)
DISTRICT_NAMES = {
    "somoni": {
        "ru": ("район Исмоили Сомони", "р-н И. Сомони", "район И. Сомони"),
        "tg": ("ноҳияи Исмоили Сомонӣ", "н. И. Сомонӣ", "нохияи Исмоили Сомони"),
        "en": ("Ismoili Somoni district", "I. Somoni district"),
    },
    "sino": {
        "ru": ("район Сино", "р-н Сино", "р-он Сино"),
        "tg": ("ноҳияи Сино", "н. Сино", "нохияи Сино"),
        "en": ("Sino district", "Sino District"),
    },
    "firdavsi": {
        "ru": ("район Фирдавси", "р-н Фирдавси", "Фирдавсинский район"),
        "tg": ("ноҳияи Фирдавсӣ", "н. Фирдавсӣ", "нохияи Фирдавси"),
        "en": ("Firdavsi district", "Firdavsi District"),
    },
    "shohmansur": {
        "ru": ("район Шохмансур", "р-н Шохмансур", "Шохмансурский район"),
        "tg": ("ноҳияи Шоҳмансур", "н. Шоҳмансур", "нохияи Шохмансур"),
        "en": ("Shohmansur district", "Shokhmansur district"),
    },
}
DISTRICT_PLACES = {
    "somoni": "dyu-0001",
    "sino": "dyu-0002",
    "firdavsi": "dyu-0003",
    "shohmansur": "dyu-0004",
}
CITY = {
    "ru": ("г. Душанбе", "Душанбе", "город Душанбе", "г.Душанбе"),
    "tg": ("ш. Душанбе", "шаҳри Душанбе", "шахри Душанбе", "Душанбе"),
    "en": ("Dushanbe", "Dushanbe city", "Dushanbe,"),
}
COUNTRY = {
    "ru": ("Республика Таджикистан", "Таджикистан", "РТ", "Республика Таджикистан,"),
    "tg": ("Ҷумҳурии Тоҷикистон", "Чумхурии Точикистон", "Тоҷикистон", "ҶТ"),
    "en": ("Republic of Tajikistan", "Tajikistan", "Tajikistan,"),
}


@dataclass
class Seed:
    """The seed files, read once, with the look-ups the classes need."""

    places: dict[str, Place]
    links: dict[str, list[dict[str, Any]]]
    sector_district: dict[str, str]
    polygons: list[tuple[str, Any]]
    aliases: dict[str, list[dict[str, str]]] = field(default_factory=dict)

    def of_kind(self, *kinds: str) -> list[Place]:
        """Places of these kinds, in file order."""
        return [p for p in self.places.values() if p["kind"] in kinds]

    def sector_of(self, place_id: str, house: int | None) -> str | None:
        """The sector a place (and house, for a split street) links to."""
        links = self.links.get(place_id, [])
        if len(links) == 1 and "houses" not in links[0]:
            return str(links[0]["sector_id"])
        for link in links:
            if house is not None and in_range(link.get("houses"), house):
                return str(link["sector_id"])
        return None

    def sector_at(self, lat: float, lon: float) -> str | None:
        """The sector whose polygon holds the point."""
        point = Point(lon, lat)
        hits = [sid for sid, poly in self.polygons if poly.covers(point)]
        return hits[0] if hits else None


def in_range(houses: dict[str, Any] | None, house: int) -> bool:
    """Whether a link's house range holds ``house``."""
    if not houses:
        return False
    end = houses.get("end")
    parity = houses.get("parity") or "all"
    odd_ok = parity == "all" or (parity == "odd") == (house % 2 == 1)
    return houses["start"] <= house and (end is None or house <= end) and odd_ok


def load_seed(seed_dir: Path) -> Seed:
    """Read places, links, sectors, polygons and aliases with yaml, not through the resolver."""
    read = lambda name: yaml.safe_load((seed_dir / name).read_text(encoding="utf-8"))  # noqa: E731
    places = {p["id"]: p for p in read("places.yaml")["places"]}
    links: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for link in read("links.yaml")["links"]:
        links[link["place_id"]].append(link)
    districts = {s["id"]: s["district"] for s in read("sectors.yaml")["sectors"]}
    geo = json.loads((seed_dir / "sectors.geojson").read_text(encoding="utf-8"))
    polygons = [(f["properties"]["sector_id"], shape(f["geometry"])) for f in geo["features"]]
    aliases: dict[str, list[dict[str, str]]] = defaultdict(list)
    for alias in read("aliases.yaml")["places"]:
        aliases[alias["place_id"]].append(alias)
    return Seed(places, dict(links), districts, polygons, dict(aliases))


# --- names ---------------------------------------------------------------------------------------


def clean(name: str) -> str:
    """Drop notes in parentheses and doubled spaces."""
    return re.sub(r"\s+", " ", re.sub(r"\([^)]*\)", " ", name)).strip()


def bare(name: str) -> str:
    """A street or mahalla name without its type word."""
    return TYPE_WORD.sub("", clean(name)).strip()


def russian_keyboard(text: str) -> str:
    """Tajik letters typed with their Russian-keyboard substitutes (ҳ→х, қ→к, ҷ→ч ...)."""
    return text.translate(TAJIK_TO_RUSSIAN_KEYS)


def latin(text: str) -> str:
    """Cyrillic written in the English-style Latin most signs and sites use."""
    out = [LATIN.get(c.lower(), c) for c in text]
    return "".join(o.capitalize() if c.isupper() else o for c, o in zip(text, out, strict=True))


def russian_street(place: Place) -> str | None:
    """The Russian name of a street, or the derived Russian spelling."""
    names = [place.get("name_ru"), *(place.get("derived_names") or [])]
    found = [clean(n) for n in names if n and re.match(r"(улица|проспект)\s", n)]
    return found[0] if found else None


def tajik_street(place: Place) -> str | None:
    """The Tajik name of a street (kӯчаи / хиёбони ...)."""
    names = [place.get("name_tg"), *(place.get("derived_names") or [])]
    found = [clean(n) for n in names if n and re.match(r"(кӯчаи|хиёбони)\s", n)]
    return found[0] if found else None


def english_street(place: Place) -> str:
    """The English name of a street, or a transliteration with Street / Avenue."""
    if place.get("name_en"):
        return clean(place["name_en"])
    source = tajik_street(place) or russian_street(place) or ""
    kind = "Avenue" if place["kind"] == "avenue" else "Street"
    return f"{latin(bare(source))} {kind}"


def street_in(rng: random.Random, place: Place, lang: str) -> str:
    """The street as written in one language, with one of the usual type words."""
    if lang == "en":
        name = english_street(place)
        return rng.choice((name, name.replace(" Street", " str."), name.replace(" Street", " st.")))
    if lang == "tg" and (tg := tajik_street(place)):
        short = {"кӯчаи": ("кӯчаи", "кӯч.", "к.", "кучаи"), "хиёбони": ("хиёбони", "хиёб.")}
        word, rest = tg.split(" ", 1)
        return f"{rng.choice(short.get(word, (word,)))} {rest}"
    ru = russian_street(place) or russian_keyboard(tajik_street(place) or "")
    word, rest = ru.split(" ", 1)
    short = {"улица": ("ул.", "улица", "ул"), "проспект": ("пр.", "проспект", "пр-т")}
    return f"{rng.choice(short.get(word, (word,)))} {rest}"


def lang_of_street(
    rng: random.Random, place: Place, langs: Sequence[str] = ("ru", "tg", "en")
) -> str:
    """A language the street has a name in: Russian most often, English least."""
    usable = [
        lg for lg in langs if lg == "en" or (tajik_street if lg == "tg" else russian_street)(place)
    ]
    weights = {"ru": 45, "tg": 35, "en": 20}
    return rng.choices(usable, weights=[weights[lg] for lg in usable])[0] if usable else "ru"


# --- houses --------------------------------------------------------------------------------------


def plausible_house(rng: random.Random, seed: Seed, place: Place) -> int:
    """A house number the street plausibly has: inside a link's range, else 1-90."""
    ranges = [link["houses"] for link in seed.links.get(place["id"], []) if link.get("houses")]
    if not ranges:
        return rng.choice((rng.randint(1, 30), rng.randint(1, 90)))
    chosen = rng.choice(ranges)
    end = chosen.get("end") or chosen["start"] + 40
    number = rng.randint(chosen["start"], end)
    parity = chosen.get("parity") or "all"
    if parity != "all" and (number % 2 == 1) != (parity == "odd"):
        number = number + 1 if number < end else number - 1
    return number


def street_places(seed: Seed) -> list[Place]:
    """Streets and avenues that have a Russian or Tajik name."""
    return [p for p in seed.of_kind("street", "avenue") if russian_street(p) or tajik_street(p)]


def district_of(seed: Seed, place_id: str, house: int | None) -> str | None:
    """The district of the sector the place (and house) links to."""
    sector = seed.sector_of(place_id, house)
    return seed.sector_district.get(sector) if sector else None


def label(
    query: str,
    place_id: str | None,
    noise: str,
    lang: str,
    house: str | None = None,
    **extra: object,
) -> Label:
    """One labelled row; empty optional fields are left out."""
    row: Label = {
        "query": query,
        "place_id": place_id,
        "house": house,
        "noise": noise,
        "lang": lang,
    }
    row.update({k: v for k, v in extra.items() if v})
    return row


def tidy(text: str) -> str:
    """Collapse the spaces and stray commas a template leaves."""
    text = re.sub(r"\s+", " ", text).strip()
    return re.sub(r"\s+([,.!?:])", r"\1", re.sub(r",\s*,", ",", text)).strip(" ,")


# --- class: postcode and country -----------------------------------------------------------------

POSTCODE_TEMPLATES = {
    "ru": (
        "{postcode}, {city}, {street}, {house}",
        "{postcode}, {city}, {street}, {house}, офис {office}",
        "{country}, {postcode}, {city}, {street}, д. {house}",
        "{country}, {city}, {street} {house}",
        "{street}, {house}, {city}, {postcode}",
        "{postcode} {city} {street} {house}",
    ),
    "tg": (
        "{country}, {city}, {street} {house}",
        "{postcode}, {city}, {street}, {house}",
        "{country}, {postcode}, {city}, {street} {house}",
        "{city}, {street} {house}, {postcode}",
    ),
    "en": (
        "{country}, {city}, {street} {house}",
        "{street} {house}, {city} {postcode}, {country}",
        "{house} {street}, {postcode} {city}",
        "{postcode}, {city}, {street} {house}, office {office}",
    ),
}


def make_postcode_country(rng: random.Random, seed: Seed) -> Iterator[Label]:
    """Postcode, country and city around a street and house, in the three languages."""
    streets = street_places(seed)
    while True:
        place = rng.choice(streets)
        lang = lang_of_street(rng, place)
        number = plausible_house(rng, seed, place)
        template = rng.choice(POSTCODE_TEMPLATES[lang])
        postcode, office = rng.choice(POSTCODES), str(rng.randint(2, 420))
        parts: dict[str, str] = {}
        if "{postcode}" in template:
            parts["postcode"] = postcode
        if "{office}" in template:
            parts["office"] = office
        text = template.format(
            postcode=postcode,
            city=rng.choice(CITY[lang]).rstrip(","),
            country=rng.choice(COUNTRY[lang]).rstrip(","),
            street=street_in(rng, place, lang),
            house=number,
            office=office,
        )
        yield label(tidy(text), place["id"], "postcode_country", lang, str(number), parts=parts)


# --- class: district, mahalla or microdistrict beside the street ---------------------------------

DISTRICT_TEMPLATES = {
    "ru": (
        "{city}, {district}, {street} {house}",
        "{district}, {street}, {house}",
        "{street} {house}, {district}",
        "{city}, {street}, {house} ({district})",
    ),
    "tg": (
        "{district} {street} {house}",
        "{city}, {district}, {street} {house}",
        "{street} {house}, {district}, {city}",
    ),
    "en": ("{street} {house}, {district}, {city}", "{district}, {street} {house}"),
}
AREA_TEMPLATES = {
    "ru": (
        "{city} {area} {street} {house}",
        "{area}, {street}, {house}",
        "{street} {house}, {area}",
        "{city}, {area}, {street}, д. {house}",
    ),
    "tg": (
        "{area}, {street} {house}",
        "{area} {street} {house}",
        "{city}, {area}, {street} {house}",
    ),
    "en": ("{street} {house}, {area}, {city}",),
}


def area_names(place: Place, lang: str) -> list[str]:
    """How a microdistrict or mahalla is written before or after a street."""
    names = [
        clean(n)
        for n in (place.get("name_tg"), place.get("name_ru"), *(place.get("alt_names") or []))
        if n
    ]
    core = bare(names[0]) if names else ""
    number = re.fullmatch(r"№?(\d+[А-Яа-я]?)", core.replace("№", ""))
    if number:
        n = number.group(1)
        forms = {
            "ru": [f"{n} мкр.", f"мкр. {n}", f"{n}-й микрорайон", f"{n} мкр"],
            "tg": [f"маҳаллаи {n}", f"шаҳраки {n}", f"махаллаи {n}"],
            "en": [f"{n} microdistrict", f"microdistrict {n}"],
        }
        return forms[lang]
    word = {
        "mahalla": {"ru": "махалля", "tg": "маҳаллаи", "en": "mahalla"},
        "microdistrict": {"ru": "мкр.", "tg": "шаҳраки", "en": "microdistrict"},
    }
    ru_core = bare(clean(place.get("name_ru") or "")) or russian_keyboard(core)
    text = {
        "ru": f"{word[place['kind']]['ru']} {ru_core}",
        "tg": f"{word[place['kind']]['tg']} {core}",
        "en": f"{latin(core)} {word[place['kind']]['en']}",
    }
    return [text[lang]]


def streets_by_sector(seed: Seed) -> dict[str, list[Place]]:
    """Streets grouped by each sector they link to."""
    grouped: dict[str, list[Place]] = defaultdict(list)
    for place in street_places(seed):
        for link in seed.links.get(place["id"], []):
            grouped[link["sector_id"]].append(place)
    return grouped


def shares_a_word(a: str, b: str) -> bool:
    """Whether two names share a word of 4+ letters (a mahalla named after the street)."""
    words = lambda s: {w for w in re.findall(r"\w{4,}", russian_keyboard(s.lower()))}  # noqa: E731
    return bool(words(a) & words(b))


def district_row(rng: random.Random, seed: Seed, place: Place) -> Label | None:
    """A street and house beside the district its house's sector lies in."""
    lang = lang_of_street(rng, place)
    number = plausible_house(rng, seed, place)
    district = district_of(seed, place["id"], number)
    if district is None:
        return None
    text = rng.choice(DISTRICT_TEMPLATES[lang]).format(
        city=rng.choice(CITY[lang]).rstrip(","),
        district=rng.choice(DISTRICT_NAMES[district][lang]),
        street=street_in(rng, place, lang),
        house=number,
    )
    return label(
        tidy(text), place["id"], "district_context", lang, str(number), parts={"district": district}
    )


def area_row(
    rng: random.Random, seed: Seed, area: Place, by_sector: dict[str, list[Place]]
) -> Label | None:
    """A street and house beside a microdistrict or mahalla that shares its sector."""
    sectors = [link["sector_id"] for link in seed.links.get(area["id"], [])]
    area_text = " ".join(filter(None, (area.get("name_tg"), area.get("name_ru"))))
    streets = [
        s
        for sid in sectors
        for s in by_sector.get(sid, [])
        if not shares_a_word(area_text, (russian_street(s) or "") + " " + (tajik_street(s) or ""))
    ]
    if not streets:
        return None
    place = rng.choice(streets)
    lang = lang_of_street(rng, place)
    number = plausible_house(rng, seed, place)
    if seed.sector_of(place["id"], number) not in sectors:
        return None  # a split street whose house lies in another sector
    text = rng.choice(AREA_TEMPLATES[lang]).format(
        city=rng.choice(CITY[lang]).rstrip(","),
        area=rng.choice(area_names(area, lang)),
        street=street_in(rng, place, lang),
        house=number,
    )
    return label(
        tidy(text),
        place["id"],
        "district_context",
        lang,
        str(number),
        parts={str(area["kind"]): area["id"]},
    )


def make_district_context(rng: random.Random, seed: Seed) -> Iterator[Label]:
    """Half district + street, half microdistrict / mahalla + street."""
    streets, areas = street_places(seed), seed.of_kind("mahalla", "microdistrict")
    by_sector = streets_by_sector(seed)
    while True:
        row = (
            district_row(rng, seed, rng.choice(streets))
            if rng.random() < 0.5
            else area_row(rng, seed, rng.choice(areas), by_sector)
        )
        if row:
            yield row


# --- class: building, block, floor, office, room, flat, entrance ---------------------------------

ORDINAL_TG = {1: "якум", 2: "дуюм", 3: "сеюм", 4: "чорум", 5: "панҷум", 6: "шашум", 7: "ҳафтум"}
ORDINAL_EN = {1: "1st", 2: "2nd", 3: "3rd"}


def unit_phrases(rng: random.Random, lang: str) -> tuple[str, dict[str, str]]:
    """One to three unit phrases after the house, with the parts they carry."""
    floor, room, flat = rng.randint(1, 9), rng.randint(1, 60), rng.randint(1, 120)
    office = f"{floor}{rng.randint(0, 2)}{rng.randint(1, 9)}"
    block, entrance = rng.choice("ABC" if lang == "en" else "АБВ"), rng.randint(1, 6)
    choices = {
        "ru": [
            (f"{floor}-й этаж", {"floor": str(floor)}),
            (f"{floor} этаж", {"floor": str(floor)}),
            (f"офис {office}", {"office": office}),
            (f"оф. {office}", {"office": office}),
            (f"каб. {office}", {"office": office}),
            (f"кабинет {office}", {"office": office}),
            (f"кв. {flat}", {"flat": str(flat)}),
            (f"кв {flat}", {"flat": str(flat)}),
            (f"подъезд {entrance}", {"entrance": str(entrance)}),
            (f"{entrance} подъезд", {"entrance": str(entrance)}),
            (f"Блок {block}", {"block": block}),
            (f"блок «{block}»", {"block": block}),
            (f"{floor} этаж, {office}", {"floor": str(floor), "office": office}),
        ],
        "tg": [
            (f"ошёнаи {floor}", {"floor": str(floor)}),
            (f"ошёнаи {ORDINAL_TG.get(floor, floor)}", {"floor": str(floor)}),
            (f"ҳуҷраи {room}", {"office": str(room)}),
            (f"хучраи № {room}", {"office": str(room)}),
            (f"ҳуҷраи №{room}", {"office": str(room)}),
            (f"кв. {flat}", {"flat": str(flat)}),
            (f"даромадгоҳи {entrance}", {"entrance": str(entrance)}),
            (f"блоки {block}", {"block": block}),
        ],
        "en": [
            (f"office {office}", {"office": office}),
            (f"{ORDINAL_EN.get(floor, f'{floor}th')} floor", {"floor": str(floor)}),
            (f"floor {floor}", {"floor": str(floor)}),
            (f"apt. {flat}", {"flat": str(flat)}),
            (f"apartment {flat}", {"flat": str(flat)}),
            (f"block {block}", {"block": block}),
            (f"entrance {entrance}", {"entrance": str(entrance)}),
            (f"room {room}", {"office": str(room)}),
        ],
    }[lang]
    picked = rng.sample(choices, k=rng.choice((1, 1, 2, 2, 3)))
    parts: dict[str, str] = {}
    phrases = []
    for text, carried in picked:
        clash = set(carried) | (
            {"office"} if "flat" in carried else {"flat"} if "office" in carried else set()
        )
        if not clash & set(parts):  # one floor, one office ... per message; a flat or an office
            parts.update(carried)
            phrases.append(text)
    return ", ".join(phrases) if rng.random() < 0.7 else " ".join(phrases), parts


BUSINESS_CENTRE = {
    "ru": ("БЦ «{}»", "бизнес-центр «{}»", "БЦ {}"),
    "mall": ("ТЦ «{}»", "ТЦ {}", "ТРЦ «{}»"),
    "tg": ("маркази тиҷоратии «{}»", "бинои «{}»"),
    "en": ("{} Business Centre", "{} building"),
}


def sourced_addresses(seed: Seed) -> list[tuple[Place, Place, str]]:
    """(place, its street, house) from seed addresses with a house like 12, 12/3 or 12а."""
    found = []
    for place in seed.places.values():
        address = place.get("address") or {}
        street = seed.places.get(address.get("street_place_id", ""))
        house = str(address.get("house") or "")
        if street and re.fullmatch(r"\d+(/\d+)?|\d+[абв]", house) and street in street_places(seed):
            found.append((place, street, house))
    return found


def building_name(place: Place) -> str | None:
    """A short name for a building to put in quotes (Созидание, Душанбе Плаза)."""
    name = clean(place.get("name_ru") or place.get("name_tg") or "")
    short = re.sub(r"^(Бизнес-центр|ТЦ|ТРЦ|торговый центр|маркази савдои)\s+", "", name)
    return short if short != name else None


def make_units(rng: random.Random, seed: Seed) -> Iterator[Label]:
    """Units after the house: the house stays the house, the units become parts."""
    streets, sourced = street_places(seed), sourced_addresses(seed)
    while True:
        lang = rng.choice(("ru", "ru", "tg", "en"))
        building, accept = None, []
        if rng.random() < 0.35:
            place, street, house = rng.choice(sourced)
            building, accept = building_name(place), [place["id"]]
        else:
            street = rng.choice(streets)
            house = str(plausible_house(rng, seed, street))
        lang = (
            lang
            if lang == "en" or (tajik_street if lang == "tg" else russian_street)(street)
            else "ru"
        )
        units, parts = unit_phrases(rng, lang)
        if lang == "tg" and rng.random() < 0.2:
            units = russian_keyboard(units).upper()  # ОШЁНАИ 2, ХУЧРАИ № 5: typed in capitals
        where = (
            f"{street_in(rng, street, lang)}, {house}"
            if rng.random() < 0.6
            else f"{street_in(rng, street, lang)} {house}"
        )
        if building:
            frames = BUSINESS_CENTRE[
                "mall"
                if accept and seed.places[accept[0]]["kind"] == "mall" and lang == "ru"
                else lang
            ]
            units = f"{rng.choice(frames).format(building)}, {units}"
            parts["building"] = building
        city = rng.choice(CITY[lang]).rstrip(",") + ", " if rng.random() < 0.4 else ""
        yield label(
            tidy(f"{city}{where}, {units}"),
            street["id"],
            "units",
            lang,
            house_label(house),
            accept=accept,
            parts=parts,
        )


def house_label(house: str) -> str:
    """A house as HouseNumber.label() writes it: 45а, 45/1."""
    return house.replace("-", "").lower()


# --- class: plus codes ---------------------------------------------------------------------------


def short_plus_code(lat: float, lon: float, length: int) -> str:
    """The code of the point without its first four digits (recovered relative to Dushanbe)."""
    full = olc.encode(lat, lon, length)
    short = full[4:]
    recovered = olc.recoverNearest(short, *DUSHANBE)
    if recovered != full:
        raise ValueError(f"{short} does not recover to {full} near Dushanbe")
    return short


def code_centre(short: str) -> tuple[float, float]:
    """The centre of a short code's area, recovered relative to Dushanbe."""
    area = olc.decode(olc.recoverNearest(short, *DUSHANBE))
    return area.latitudeCenter, area.longitudeCenter


def place_name(rng: random.Random, place: Place, lang: str) -> str | None:
    """A place's name in one language (or the nearest one it has)."""
    order = {
        "ru": ("name_ru", "name_tg", "name_en"),
        "tg": ("name_tg", "name_ru", "name_en"),
        "en": ("name_en", "name_ru", "name_tg"),
    }[lang]
    names = [clean(place[key]) for key in order if place.get(key)]
    return names[0] if names else None


def make_plus_code(rng: random.Random, seed: Seed) -> Iterator[Label]:
    """Map-app addresses (code, street house, city) and bare short codes of seed coordinates."""
    located = [p for p in seed.places.values() if p.get("lat") and p.get("lon")]
    while True:
        place = rng.choice(located)
        short = short_plus_code(place["lat"], place["lon"], rng.choice((10, 11, 11)))
        sector = seed.sector_at(*code_centre(short))
        lang = rng.choice(("ru", "tg", "en"))
        address = place.get("address") or {}
        street = seed.places.get(address.get("street_place_id", ""))
        house = str(address.get("house") or "")
        city = {"ru": "Душанбе", "tg": rng.choice(("Душанбе", "ш. Душанбе")), "en": "Dushanbe"}[
            lang
        ]
        parts = {"plus_code": short}
        if (
            street
            and re.fullmatch(r"\d+(/\d+)?|\d+[абв]", house)
            and street in street_places(seed)
            and rng.random() < 0.7
        ):
            text = f"{short}, {street_in(rng, street, lang)} {house}, {city}"
            yield label(
                text,
                street["id"],
                "plus_code",
                lang,
                house_label(house),
                accept=[place["id"]],
                sector_id=sector,
                parts=parts,
            )
        elif (name := place_name(rng, place, lang)) and rng.random() < 0.4:
            lang = (
                "tg"
                if re.search(r"[ҳқғҷӣӯ]", name)
                else "en"
                if re.fullmatch(r"[\x00-\x7f]+", name)
                else "ru"
            )
            city = {"ru": "Душанбе", "tg": "ш. Душанбе", "en": "Dushanbe"}[lang]
            yield label(
                f"{short} {name}, {city}",
                place["id"],
                "plus_code",
                lang,
                sector_id=sector,
                parts=parts,
            )
        else:
            text = rng.choice((f"{short} {city}", f"{short}, {city}", f"{city} {short}"))
            if lang == "ru" and rng.random() < 0.5:
                text = f"{short} {city}, Таджикистан"
            yield label(text, place["id"], "plus_code", lang, sector_id=sector, parts=parts)


# --- class: house-number forms -------------------------------------------------------------------


def house_form(rng: random.Random, number: int, lang: str) -> tuple[str, str, dict[str, str]]:
    """A house number as people write it, its HouseNumber label and the parts it carries.

    English text writes the house letter а in Latin (``109-A``, as the seed's US embassy address
    does); its label keeps the Cyrillic letter of the Dushanbe address.
    """
    letter = rng.choice("Aa") if lang == "en" else rng.choice("АБВабв")
    label_letter = "а" if lang == "en" else letter.lower()
    sub = rng.randint(1, 6)
    forms = [
        (f"{number}-{letter}", f"{number}{label_letter}", {}),
        (f"{number}{letter}", f"{number}{label_letter}", {}),
        (f"{number}-{sub}", f"{number}/{sub}", {}),
        (f"{number} / {sub}", f"{number}/{sub}", {}),
        (f"{number}/{sub}", f"{number}/{sub}", {}),
        (f"{number} /{sub}", f"{number}/{sub}", {}),
    ]
    forms += {
        "ru": [
            (f"д. {number}, корп. {sub}", f"{number}/{sub}", {}),
            (f"дом {number} корпус {sub}", f"{number}/{sub}", {}),
            (f"дом №{number}", str(number), {}),
            (f"дом № {number}", str(number), {}),
            (f"д.{number}", str(number), {}),
            (f"д. {number}{letter.lower()}", f"{number}{label_letter}", {}),
        ],
        "tg": [
            (f"хонаи {number}", str(number), {}),
            (f"хонаи №{number}", str(number), {}),
            (f"№ {number}", str(number), {}),
        ],
        "en": [
            (f"No. {number}", str(number), {}),
            (f"house {number}", str(number), {}),
            (f"bldg {number}/{sub}", f"{number}/{sub}", {}),
        ],
    }[lang]
    return rng.choice(forms)


def segment_of(seed: Seed, place: Place, number: int) -> tuple[int, int]:
    """The first and last house of the link segment that holds ``number``."""
    for link in seed.links.get(place["id"], []):
        houses = link.get("houses")
        if houses and in_range(houses, number):
            return houses["start"], houses.get("end") or houses["start"] + 60
    return 1, max(number + 60, 80)


def house_range_row(rng: random.Random, seed: Seed, place: Place, lang: str) -> Label:
    """``с дома 1 по 77``: labelled with the first house, drawn inside one segment."""
    first = plausible_house(rng, seed, place)
    _, end = segment_of(seed, place, first)
    last = rng.randint(first + 1, max(end, first + 1))
    text = {
        "ru": rng.choice(
            (
                f"{street_in(rng, place, lang)} с дома {first} по {last}",
                f"{street_in(rng, place, lang)}, дома {first}-{last}",
                f"{street_in(rng, place, lang)} от {first} до {last} дома",
            )
        ),
        "tg": f"{street_in(rng, place, lang)} аз хонаи {first} то {last}",
        "en": f"{street_in(rng, place, lang)}, houses {first} to {last}",
    }[lang]
    return label(text, place["id"], "house_forms", lang, str(first))


def make_house_forms(rng: random.Random, seed: Seed) -> Iterator[Label]:
    """Letters, slashes, dashes, корпус, №, and house ranges after a street."""
    streets = street_places(seed)
    while True:
        place = rng.choice(streets)
        lang = lang_of_street(rng, place)
        if rng.random() < 0.12:
            yield house_range_row(rng, seed, place, lang)
            continue
        number = plausible_house(rng, seed, place)
        written, house, parts = house_form(rng, number, lang)
        street = street_in(rng, place, lang)
        text = f"{street} {written}" if rng.random() < 0.6 else f"{street}, {written}"
        if rng.random() < 0.3:
            text = f"{rng.choice(CITY[lang]).rstrip(',')}, {text}"
        yield label(text, place["id"], "house_forms", lang, house, parts=parts)


# --- class: Russian case forms -------------------------------------------------------------------

COMMON_WORDS = """
цирк базар рынок сад библиотека больница университет площадь парк улица проспект вокзал
автовокзал театр драмтеатр музей стадион озеро гостиница центр мечеть суд памятник дворец
аэропорт зоопарк универмаг посольство институт канал завод мемориал комплекс супермаркет
зелёный ботанический национальный американский центральный республиканский молодёжный
комсомольский столичный привокзальный русский городской детский инфекционный медицинский
клинический кардиологический большой кабельный западный верховный государственный таджикский
славянский российский оптовый культурный родильный дом
"""
INFLECTABLE = frozenset(word.replace("ё", "е") for word in COMMON_WORDS.split())
ABBREVIATED_HEADS = ("ТЦ", "ТРЦ", "БЦ", "Кохи")  # heads Russian does not decline
NAME_FORMS = {  # hand-written forms of names Russian does decline
    "ЦУМ": {"gent": "ЦУМа", "datv": "ЦУМу", "ablt": "ЦУМом"},
    "Шохмансур": {"gent": "Шохмансура", "datv": "Шохмансуру", "ablt": "Шохмансуром"},
}
PREPOSITIONS = (
    ("рядом с", "ablt"),
    ("за", "ablt"),
    ("перед", "ablt"),
    ("возле", "gent"),
    ("у", "gent"),
    ("напротив", "gent"),
    ("около", "gent"),
    ("недалеко от", "gent"),
    ("в районе", "gent"),
    ("со стороны", "gent"),
    ("к", "datv"),
    ("по дороге к", "datv"),
)
RU_FRAMES = (
    "{x}",
    "живу {x}",
    "кто участковый {x}?",
    "я живу {x}, подскажите участкового",
    "дом {x}",
    "мы живём {x}",
    "{x}, Душанбе",
    "участковый {x} кто?",
    "Здравствуйте, живу {x}",
)
TOWARDS_FRAMES = ("как пройти {x}?", "иду {x}, кто там участковый?", "дом {x}, за поворотом")


@cache
def morph() -> pymorphy3.MorphAnalyzer:
    """The Russian analyser (loaded once: it takes a second)."""
    return pymorphy3.MorphAnalyzer()


def is_common(word: str) -> bool:
    """Whether the word is one of the common nouns / adjectives we let pymorphy3 inflect."""
    return any(p.is_known and yo(p.normal_form) in INFLECTABLE for p in morph().parse(word.lower()))


def yo(text: str) -> str:
    """ё written as е (the word lists keep one spelling)."""
    return text.replace("ё", "е")


def inflect_word(word: str, case: str, agree: Any = None) -> str | None:
    """A common Russian word in ``case`` (agreeing with the noun ``agree``), or None."""
    parses = [
        p
        for p in morph().parse(word.lower())
        if p.is_known and p.tag.POS in ("NOUN", "ADJF") and yo(p.normal_form) in INFLECTABLE
    ]
    if not parses:
        return None
    parse = parses[0]
    grams = {case}
    if parse.tag.POS == "ADJF" and agree is not None:
        grams |= {"plur"} if agree.tag.number == "plur" else {agree.tag.gender, "sing"}
    form = parse.inflect(grams)
    if form is None:
        return None
    text = form.word if "ё" in word.lower() else yo(form.word)
    return text.capitalize() if word[0].isupper() else text


def head_noun(words: Sequence[str]) -> tuple[int, Any] | None:
    """Index and parse of the first common noun of a phrase led by common words."""
    for i, word in enumerate(words):
        parses = [
            p
            for p in morph().parse(word.lower())
            if p.is_known and yo(p.normal_form) in INFLECTABLE
        ]
        if not parses:
            return None
        if parses[0].tag.POS == "NOUN":
            return i, parses[0]
    return None


def inflect_phrase(phrase: str, case: str) -> str | None:
    """Inflect the leading common words up to the head noun; the rest (names) stays as it is.

    None when the phrase cannot be put in ``case`` safely (it starts with a name we would have
    to inflect blindly).
    """
    words = phrase.split()
    if words[0] in NAME_FORMS:
        return " ".join([NAME_FORMS[words[0]][case], *words[1:]])
    if words[0] in ABBREVIATED_HEADS:
        return phrase
    head = head_noun(words)
    if head is None:
        return None
    index, noun = head
    forms = [inflect_word(w, case, noun) for w in words[: index + 1]]
    if any(f is None for f in forms):
        return None
    return " ".join([*(f for f in forms if f), *words[index + 1 :]])


def lower_generic(phrase: str) -> str:
    """A phrase led by a common noun is written in lower case mid-sentence (рядом с цирком)."""
    first, *rest = phrase.split(" ", 1)
    parses = morph().parse(first.lower())
    if (
        first[:1].isupper()
        and first[1:].islower()
        and parses[0].tag.POS == "NOUN"
        and is_common(first)
    ):
        return " ".join([first.lower(), *rest])
    return phrase


def with_preposition(preposition: str, phrase: str) -> str:
    """``с`` becomes ``со`` before с/з/ш/ж + consonant (со Столичным парком), ``к`` ``ко``
    before вс/вт/мн (ко второму)."""
    before_cluster = re.match(r"[сзшжСЗШЖ][^аеёиоуыэюяАЕЁИОУЫЭЮЯ]|[вВ][сСзЗ]", phrase)
    if (preposition.endswith(" с") or preposition == "с") and before_cluster:
        preposition = preposition[:-1] + "со"
    if preposition.endswith("к") and re.match(r"(вс|вт|мн)", phrase.lower()):
        preposition = preposition[:-1] + "ко"  # ко второму, ко всем
    return f"{preposition} {phrase}"


def russian_names(seed: Seed, place: Place) -> list[str]:
    """A place's Russian name, alternative names and Russian aliases."""
    names = [place.get("name_ru"), *(place.get("alt_names") or [])]
    names += [
        a["alias"]
        for a in seed.aliases.get(place["id"], [])
        if a.get("lang") == "ru" and a.get("kind") != "spelling"
    ]
    return [
        clean(n) for n in names if n and re.search(r"[а-яА-Я]", n) and not re.search(r"[ҳқғҷӣӯ]", n)
    ]


def morphology_landmarks(seed: Seed) -> list[tuple[Place, str]]:
    """(place, Russian name) pairs whose names can be put in every case safely."""
    kinds = ("landmark", "mall", "market", "hospital", "university", "hotel", "square", "office")
    return [
        (p, name)
        for p in seed.of_kind(*kinds)
        for name in russian_names(seed, p)
        if all(inflect_phrase(name, case) for _, case in PREPOSITIONS)
    ]


FEATURED = (
    "dyu-0492",
    "dyu-0314",
    "dyu-0445",
    "dyu-0348",
    "dyu-0331",
    "dyu-0309",
    "dyu-0479",
    "dyu-0459",
    "dyu-0442",
    "dyu-0460",
)  # the landmarks residents name most (issue 12)


def make_ru_morphology(rng: random.Random, seed: Seed) -> Iterator[Label]:
    """Landmarks after Russian prepositions, streets after по/на, districts after в районе."""
    landmarks, streets = morphology_landmarks(seed), street_places(seed)
    featured = [(p, n) for p, n in landmarks if p["id"] in FEATURED]
    while True:
        roll = rng.random()
        if roll < 0.6:
            place, name = rng.choice(featured if rng.random() < 0.35 else landmarks)
            preposition, case = rng.choice(PREPOSITIONS)
            phrase = with_preposition(
                preposition, lower_generic(inflect_phrase(name, case) or name)
            )
            text = rng.choice(TOWARDS_FRAMES if case == "datv" else RU_FRAMES).format(x=phrase)
            yield label(text[0].upper() + text[1:], place["id"], "ru_morphology", "ru")
        elif roll < 0.9:
            yield street_case_row(rng, seed, rng.choice([s for s in streets if russian_street(s)]))
        else:
            yield district_case_row(rng)


def street_case_row(rng: random.Random, seed: Seed, place: Place) -> Label:
    """``по улице Джаббора Расулова``, ``на проспекте Рудаки 45``."""
    name = russian_street(place) or ""
    word, rest = name.split(" ", 1)
    number = plausible_house(rng, seed, place)
    if rng.random() < 0.5:
        frame = rng.choice(("живу", "я живу", "дом"))
        text = f"{frame} на {inflect_word(word, 'loct')} {rest} {number}"
        return label(text, place["id"], "ru_morphology", "ru", str(number))
    frame = rng.choice(
        (
            "по {x} {n}",
            "живу по {x}, дом {n}",
            "кто участковый по {x} {n}?",
            "участковый по {x}, д. {n}",
        )
    )
    text = frame.format(x=f"{inflect_word(word, 'datv')} {rest}", n=number)
    return label(text[0].upper() + text[1:], place["id"], "ru_morphology", "ru", str(number))


DISTRICT_CASES = {  # district names in Russian case forms (the names themselves hand-checked)
    "dyu-0004": ("в районе Шохмансура", "в Шохмансурском районе", "в районе Шохмансур"),
    "dyu-0002": ("в районе Сино", "в Синойском районе"),
    "dyu-0003": ("в районе Фирдавси", "в Фирдавсинском районе"),
    "dyu-0001": ("в районе Исмоили Сомони", "в районе И. Сомони"),
}


def district_case_row(rng: random.Random) -> Label:
    """``в районе Шохмансура``: the district, in a Russian case form."""
    place_id = rng.choice(sorted(DISTRICT_CASES))
    phrase = rng.choice(DISTRICT_CASES[place_id])
    text = rng.choice(
        ("живу {x}", "кто участковый {x}?", "участковый {x}", "{x}, где участковый?")
    ).format(x=phrase)
    return label(text[0].upper() + text[1:], place_id, "ru_morphology", "ru")


# --- class: Tajik prepositions, izafat and questions ---------------------------------------------

TAJIK_NAMES = {  # Tajik names for seed places that have none in the seed (common generic words)
    "dyu-0492": ("Сирк", "сирки Душанбе"),
    "dyu-0453": ("боғи ҳайвонот",),
    "dyu-0445": ("боғи ботаникӣ",),
    "dyu-0348": ("Китобхонаи миллӣ",),
    "dyu-0473": ("Осорхонаи миллӣ",),
    "dyu-0491": ("варзишгоҳи марказӣ",),
    "dyu-0360": ("сафорати Амрико", "сафорати ИМА"),
    "dyu-0359": ("сафорати Русия",),
    "dyu-0314": ("бозори Зелёный",),
    "dyu-0442": ("автовокзал",),
}
TAJIK_HEADS = {  # a Russian generic word and its Tajik noun (the izafat is added by rule)
    "рынок": "бозор",
    "базар": "бозор",
    "парк": "боғ",
    "площадь": "майдон",
    "гостиница": "меҳмонхона",
    "ТЦ": "маркази савдо",
    "театр": "театр",
    "музей": "осорхона",
    "супермаркет": "супермаркет",
}
TAJIK_NEAR = (
    "назди {x}",
    "паҳлӯи {x}",
    "рӯ ба рӯи {x}",
    "қафои {x}",
    "дар бари {x}",
    "дар наздикии {x}",
    "рӯбарӯи {x}",
)
TAJIK_NEAR_FRAMES = (
    "{x}",
    "хонаи ман {x}",
    "ман {x} зиндагӣ мекунам",
    "нозири минтақавӣ {x} кист?",
    "{x}, ш. Душанбе",
    "салом, мо {x} истиқомат дорем",
)
TAJIK_ADDRESS_FRAMES = (
    "воқеъ дар {a}",
    "суроғаи ман: {a}",
    "суроғаам {a}",
    "нозири минтақавии {a} кист",
    "нозири минтақавии {a} кист?",
    "ман дар {a} зиндагӣ мекунам",
    "суроғаи мо {a}, нозир кист",
    "{a} - нозири минтақавӣ кист",
)


def izafat(word: str) -> str:
    """The izafat ending: -йи after ӯ (рӯйи), ӣ shortened before it (миллӣ → миллии), else -и
    (хонаи, савдои as the seed writes ``маркази савдои``, бозори)."""
    if word.endswith("ӯ"):
        return word + "йи"
    if word.endswith("ӣ"):
        return word[:-1] + "ии"
    return word + "и"


def izafat_name(name: str) -> str | None:
    """``рынок Корвон`` → ``бозори Корвон``; None when the head has no Tajik word here."""
    head, _, rest = name.partition(" ")
    tajik = TAJIK_HEADS.get(head) or TAJIK_HEADS.get(head.lower())
    if not tajik or not rest or rest.startswith(("им.", "имени")):
        return None
    words = tajik.split()
    return " ".join([*words[:-1], izafat(words[-1]), rest])


def tajik_names(seed: Seed, place: Place) -> list[str]:
    """A place's Tajik names: the seed's, Tajik aliases, izafat forms of its Russian name."""
    names = [place.get("name_tg"), *TAJIK_NAMES.get(place["id"], ())]
    names += [a["alias"] for a in seed.aliases.get(place["id"], []) if a.get("lang") == "tg"]
    names += [
        n for n in (place.get("derived_names") or []) if re.match(r"(бозори|майдони|боғи)\s", n)
    ]
    names += [izafat_name(clean(place.get("name_ru") or "")) or ""]
    return [
        clean(n)
        for n in dict.fromkeys(names)
        if n and len(clean(n).split()) <= 5 and not RUSSIAN_GENITIVE.search(n)
    ]


# A Russian genitive left inside a Tajik izafat (``майдони Победы``) is no Tajik anyone writes.
RUSSIAN_GENITIVE = re.compile(r"\b\w+(ы|ого|его|ова|ева|ского|летия)\b")


def make_tajik_forms(rng: random.Random, seed: Seed) -> Iterator[Label]:
    """Tajik prepositions before a landmark; address frames around a street and house."""
    kinds = ("landmark", "mall", "market", "hospital", "university", "hotel", "square", "office")
    landmarks = [(p, n) for p in seed.of_kind(*kinds) for n in tajik_names(seed, p)]
    streets = [s for s in street_places(seed) if tajik_street(s)]
    while True:
        if rng.random() < 0.5:
            place, name = rng.choice(landmarks)
            near = rng.choice(TAJIK_NEAR).format(x=name)
            row = label(
                rng.choice(TAJIK_NEAR_FRAMES).format(x=near), place["id"], "tajik_forms", "tg"
            )
        else:
            place = rng.choice(streets)
            number = plausible_house(rng, seed, place)
            address = (
                f"{street_in(rng, place, 'tg')} {number}"
                if rng.random() < 0.8
                else street_in(rng, place, "tg")
            )
            house = str(number) if address[-1].isdigit() else None
            row = label(
                rng.choice(TAJIK_ADDRESS_FRAMES).format(a=address),
                place["id"],
                "tajik_forms",
                "tg",
                house,
            )
        if rng.random() < 0.35:
            row["query"] = russian_keyboard(str(row["query"]))
        row["query"] = (
            str(row["query"])[0].upper() + str(row["query"])[1:]
            if rng.random() < 0.5
            else row["query"]
        )
        yield row


# --- class: requests and questions ---------------------------------------------------------------

REQUESTS = {
    "ru": (
        "Здравствуйте! Подскажите участкового по адресу {a}",
        "Кто участковый на {a}?",
        "кто участковый {a}",
        "Добрый день. Мой адрес: {a}. Кто наш участковый?",
        "Здравствуйте, я живу по адресу {a}, как связаться с участковым?",
        "Подскажите пожалуйста, кто участковый инспектор по {a}",
        "Салам! Участковый {a} кто?",
        "Добрый вечер! Нужен участковый. Адрес {a}. Спасибо",
        "помогите найти участкового, адрес: {a}",
    ),
    "tg": (
        "Салом! Нозири минтақавии {a} кист?",
        "салом, нозири минтақавии {a} кист?",
        "Ассалому алейкум. Суроғаи ман {a}. Нозири минтақавӣ кист?",
        "Салом алейкум, ман дар {a} зиндагӣ мекунам. Нозир кист?",
        "Рақами нозири минтақавии {a}-ро диҳед, илтимос",
        "Салом. Нозири {a} кист? Ташаккур",
    ),
    "en": (
        "Hello, who is the police officer for {a}?",
        "who is the local police inspector for {a}",
        "Hi! I live at {a}. Who is my neighbourhood police officer?",
        "Good afternoon. My address is {a}. Which inspector covers it?",
        "Please tell me the district police officer for {a}, thanks",
    ),
}
LANDMARK_REQUESTS = {
    "ru": (
        "{a}, ориентир — {l}. Кто участковый?",
        "Адрес: {a}, ориентир {l}",
        "{a} (ориентир: {l})",
    ),
    "tg": ("{a}, назди {l}. Нозир кист?", "Суроғаи ман {a}, паҳлӯи {l}"),
    "en": ("I live at {a}, near {l}. Who is the police officer?", "{a}, near the {l}"),
}
LANDMARK_ONLY = {
    "ru": ("Ориентир — {l}. Кто участковый?", "Здравствуйте, ориентир {l}, подскажите участкового"),
    "tg": ("Салом, назди {l}. Нозири минтақавӣ кист?",),
    "en": ("Hello, I live near the {l}. Who is the police officer here?",),
}


def landmark_name(seed: Seed, place: Place, lang: str) -> str | None:
    """A landmark's name as a writer of ``lang`` would give it, or None if it has none."""
    if lang == "tg":
        names = tajik_names(seed, place)
        return names[0] if names else None
    key = {"ru": "name_ru", "en": "name_en"}[lang]
    return clean(place[key]) if place.get(key) else None


def agree_ru(text: str) -> str:
    """After на / по a spelled-out street type takes its case (на улице, по проспекту)."""
    for nominative, locative, dative in (
        ("улица", "улице", "улице"),
        ("проспект", "проспекте", "проспекту"),
    ):
        text = re.sub(rf"\bна {nominative}\b", f"на {locative}", text)
        text = re.sub(rf"\bпо {nominative}\b", f"по {dative}", text)
    return text


def make_requests(rng: random.Random, seed: Seed) -> Iterator[Label]:
    """Greetings, questions and several sentences around an address or a landmark."""
    streets, sourced = street_places(seed), sourced_addresses(seed)
    while True:
        lang = rng.choice(("ru", "ru", "tg", "en"))
        roll = rng.random()
        if roll < 0.6:
            place = rng.choice(streets)
            lang = (
                lang
                if lang == "en" or (tajik_street if lang == "tg" else russian_street)(place)
                else "ru"
            )
            number = plausible_house(rng, seed, place)
            text = agree_ru(
                rng.choice(REQUESTS[lang]).format(a=f"{street_in(rng, place, lang)} {number}")
            )
            yield label(text, place["id"], "requests", lang, str(number))
            continue
        landmark, street, house = rng.choice(sourced)
        name = landmark_name(seed, landmark, lang)
        if not name:
            lang, name = "ru", landmark_name(seed, landmark, "ru")
        if not name:
            continue
        if roll < 0.85:
            lang = (
                lang
                if lang == "en" or (tajik_street if lang == "tg" else russian_street)(street)
                else "ru"
            )
            address = f"{street_in(rng, street, lang)} {house}"
            text = agree_ru(rng.choice(LANDMARK_REQUESTS[lang]).format(a=address, l=name))
            yield label(
                text, street["id"], "requests", lang, house_label(house), accept=[landmark["id"]]
            )
        else:
            yield label(
                rng.choice(LANDMARK_ONLY[lang]).format(l=name), landmark["id"], "requests", lang
            )


# --- class: everyday names -----------------------------------------------------------------------

EVERYDAY = (  # (place id, other right ids, names by language): generic words for ONE seed place
    (
        "dyu-0489",
        (),
        {
            "ru": ("аэропорт", "Аэропорт Душанбе"),
            "tg": ("фурудгоҳ", "фурудгохи Душанбе"),
            "en": ("airport", "Dushanbe airport"),
        },
    ),
    (
        "dyu-0180",
        (),
        {
            "ru": ("вокзал", "ж/д вокзал", "железнодорожный вокзал"),
            "tg": ("вокзал",),
            "en": ("railway station", "train station"),
        },
    ),
    (
        "dyu-0442",
        (),
        {"ru": ("автовокзал", "автостанция"), "tg": ("автовокзал",), "en": ("bus station",)},
    ),
    (
        "dyu-0492",
        (),
        {"ru": ("цирк", "Цирк"), "tg": ("сирк", "Сирк"), "en": ("circus", "the circus")},
    ),
    (
        "dyu-0453",
        (),
        {"ru": ("зоопарк", "Зоопарк"), "tg": ("боғи ҳайвонот",), "en": ("zoo", "Dushanbe zoo")},
    ),
    (
        "dyu-0360",
        (),
        {
            "ru": ("американское посольство", "посольство Америки", "посольство США"),
            "tg": ("сафорати Амрико", "сафорати ИМА"),
            "en": ("US embassy", "American embassy"),
        },
    ),
    (
        "dyu-0359",
        (),
        {
            "ru": ("российское посольство", "посольство России"),
            "tg": ("сафорати Русия",),
            "en": ("Russian embassy",),
        },
    ),
    (
        "dyu-0364",
        (),
        {
            "ru": ("немецкое посольство", "посольство Германии"),
            "tg": ("сафорати Олмон",),
            "en": ("German embassy",),
        },
    ),
    (
        "dyu-0363",
        (),
        {
            "ru": ("индийское посольство", "посольство Индии"),
            "tg": ("сафорати Ҳиндустон",),
            "en": ("Indian embassy",),
        },
    ),
    ("dyu-0357", (), {"ru": ("иранское посольство",), "en": ("Iranian embassy",)}),
    (
        "dyu-0361",
        (),
        {"ru": ("узбекское посольство", "посольство Узбекистана"), "en": ("Uzbek embassy",)},
    ),
    (
        "dyu-0358",
        (),
        {"ru": ("корейское посольство", "посольство Кореи"), "en": ("Korean embassy",)},
    ),
    (
        "dyu-0331",
        (),
        {
            "ru": ("ЦУМ", "цум", "универмаг"),
            "tg": ("Универмаги марказӣ", "универмаг"),
            "en": ("TsUM", "TSUM"),
        },
    ),
    (
        "dyu-0445",
        (),
        {
            "ru": ("ботсад", "ботанический сад", "Ботанический"),
            "tg": ("боғи ботаникӣ",),
            "en": ("botanical garden", "botanic garden"),
        },
    ),
    (
        "dyu-0348",
        (),
        {
            "ru": ("национальная библиотека", "Нацбиблиотека"),
            "tg": ("Китобхонаи миллӣ",),
            "en": ("National Library",),
        },
    ),
    (
        "dyu-0473",
        (),
        {
            "ru": ("национальный музей", "Нацмузей"),
            "tg": ("Осорхонаи миллӣ",),
            "en": ("National Museum",),
        },
    ),
    (
        "dyu-0488",
        (),
        {
            "ru": ("оперный театр", "театр оперы и балета", "опера и балет"),
            "tg": ("театри опера ва балет",),
            "en": ("opera house", "opera theatre"),
        },
    ),
    (
        "dyu-0491",
        (),
        {
            "ru": ("центральный стадион", "Республиканский стадион"),
            "tg": ("варзишгоҳи марказӣ",),
            "en": ("central stadium",),
        },
    ),
    (
        "dyu-0459",
        (),
        {
            "ru": ("Комсомольское озеро", "Молодёжное озеро"),
            "tg": ("Кӯли ҷавонон",),
            "en": ("Youth Lake", "Komsomol lake"),
        },
    ),
    (
        "dyu-0460",
        (),
        {"ru": ("Дворец нации",), "tg": ("Кохи Миллат",), "en": ("Palace of the Nation",)},
    ),
    (
        "dyu-0412",
        (),
        {"ru": ("роддом №2", "роддом 2", "второй роддом"), "en": ("maternity hospital No 2",)},
    ),
    ("dyu-0396", (), {"ru": ("политех", "Политехнический"), "en": ("Polytechnic",)}),
    (
        "dyu-0394",
        (),
        {
            "ru": ("мединститут", "медуниверситет"),
            "tg": ("донишгоҳи тиббӣ",),
            "en": ("medical university",),
        },
    ),
    (
        "dyu-0389",
        (),
        {"ru": ("Славянский университет", "Славянский", "РТСУ"), "en": ("Slavonic University",)},
    ),
    (
        "dyu-0339",
        ("dyu-0369",),
        {"ru": ("Верховный суд",), "tg": ("Суди Олӣ",), "en": ("Supreme Court",)},
    ),
    (
        "dyu-0417",
        (),
        {"ru": ("Хаятт", "гостиница Хаятт", "Хаят Ридженси"), "en": ("Hyatt", "the Hyatt")},
    ),
    ("dyu-0414", (), {"ru": ("Серена", "отель Серена"), "en": ("Serena", "Serena hotel")}),
    ("dyu-0422", (), {"ru": ("Шератон", "отель Шератон"), "en": ("Sheraton",)}),
    (
        "dyu-0479",
        (),
        {
            "ru": ("парк Рудаки", "Рудаки парк", "парк Ленина"),
            "tg": ("боғи Рӯдакӣ",),
            "en": ("Rudaki park",),
        },
    ),
)
CITY_IN_NAME = (  # a place whose name holds the city's name: that place, never another one
    (
        "dyu-0316",
        {
            "ru": ("ТЦ Душанбе Мол", "Душанбе Молл", "ТРЦ Душанбе Молл", "Душанбе Мол"),
            "tg": ("маркази савдои Душанбе Молл",),
            "en": ("Dushanbe Mall", "Dushanbe mall"),
        },
    ),
    (
        "dyu-0337",
        {
            "ru": ("Душанбе Плаза", "БЦ Душанбе Плаза", "бизнес-центр Душанбе Плаза"),
            "en": ("Dushanbe Plaza", "Dushanbe Plaza business center"),
        },
    ),
    (
        "dyu-0383",
        {
            "ru": ("Душанбе Сити Банк", "банк Душанбе Сити"),
            "tg": ("Бонки Душанбе Сити",),
            "en": ("Dushanbe City Bank",),
        },
    ),
    ("dyu-0421", {"ru": ("гостиница Душанбе",), "en": ("Hotel Dushanbe",)}),
    ("dyu-0474", {"ru": ("Небо Душанбе",)}),
    (
        "dyu-0370",
        {
            "ru": ("Суд города Душанбе", "горсуд Душанбе"),
            "tg": ("Суди шаҳри Душанбе",),
            "en": ("Dushanbe City Court",),
        },
    ),
    ("dyu-0340", {"ru": ("Умный город Душанбе",), "en": ("Dushanbe Smart City",)}),
    ("dyu-0414", {"en": ("Dushanbe Serena Hotel", "Serena Dushanbe")}),
    ("dyu-0417", {"en": ("Hyatt Regency Dushanbe",)}),
    ("dyu-0424", {"en": ("American Space Dushanbe",)}),
    ("dyu-0333", {"en": ("Dushanbe American Corner",)}),
    ("dyu-0485", {"ru": ("Столичный парк Душанбе",), "en": ("Capital Park Dushanbe",)}),
    ("dyu-0453", {"ru": ("Зоопарк Душанбе", "Душанбинский зоопарк")}),
)
EVERYDAY_FRAMES = {
    "ru": (
        "{x}",
        "{x}, кто участковый?",
        "участковый {x}",
        "ориентир {x}",
        "ориентир: {x}",
        "{x} Душанбе",
        "где {x}",
        "{x}!",
    ),
    "tg": ("{x}", "нозири минтақавии {x}", "{x} ш. Душанбе", "{x}, нозир кист?"),
    "en": ("{x}", "{x}, who is the police officer?", "near {x}", "{x} please"),
}
GENERIC_WORDS = (
    "площадь",
    "парк",
    "памятник",
    "имени",
    "им.",
    "Памятник",
    "Парк",
    "майдони",
    "боғи",
    "S.",
    "С.",
    "Square",
    "Park",
    "Monument",
    "to",
    "Sadriddin",
    "Садриддину",
)


def same_named_streets(seed: Seed) -> list[tuple[Place, Place, str]]:
    """(square / park / monument / area, street, name) pairs: ``Айни 45`` means the street."""
    kinds = ("square", "landmark", "microdistrict", "mahalla")
    pairs = []
    for other in seed.of_kind(*kinds):
        for name in filter(
            None, (other.get("name_ru"), other.get("name_en"), other.get("name_tg"))
        ):
            core = " ".join(w for w in clean(name).split() if w not in GENERIC_WORDS)
            if len(core) < 4 or not re.fullmatch(r"[А-ЯЁа-яё]+", core):
                continue
            for street in street_places(seed):
                ru = bare(russian_street(street) or "")
                if ru in (core, core + "а", core + "я") or bare(tajik_street(street) or "") == core:
                    pairs.append((other, street, ru))
    return pairs


def make_everyday_names(rng: random.Random, seed: Seed) -> Iterator[Label]:
    """Generic words for one place, city names inside names, and ``name + house`` for streets."""
    pairs = same_named_streets(seed)
    while True:
        roll = rng.random()
        if roll < 0.55:
            place_id, accept, names = rng.choice(EVERYDAY)
        elif roll < 0.85:
            (place_id, names), accept = rng.choice(CITY_IN_NAME), ()
        else:
            _, street, name = rng.choice(pairs)
            number = plausible_house(rng, seed, street)
            text = rng.choice(
                (f"{name} {number}", f"{name}, {number}", f"{name} {number}, Душанбе")
            )
            yield label(text, street["id"], "everyday_names", "ru", str(number))
            continue
        lang = rng.choice(sorted(names))
        text = rng.choice(EVERYDAY_FRAMES[lang]).format(x=rng.choice(names[lang]))
        yield label(text, place_id, "everyday_names", lang, accept=list(accept))


# --- class: other Tajik cities (never resolved) --------------------------------------------------

OTHER_CITIES = (  # ru, tg, en, ru locative
    ("Худжанд", "Хуҷанд", "Khujand", "Худжанде"),
    ("Бохтар", "Бохтар", "Bokhtar", "Бохтаре"),
    ("Куляб", "Кӯлоб", "Kulob", "Кулябе"),
    ("Истаравшан", "Истаравшан", "Istaravshan", "Истаравшане"),
    ("Турсунзаде", "Турсунзода", "Tursunzoda", "Турсунзаде"),
    ("Вахдат", "Ваҳдат", "Vahdat", "Вахдате"),
    ("Гиссар", "Ҳисор", "Hisor", "Гиссаре"),
    ("Пенджикент", "Панҷакент", "Panjakent", "Пенджикенте"),
    ("Исфара", "Исфара", "Isfara", "Исфаре"),
    ("Хорог", "Хоруғ", "Khorog", "Хороге"),
    ("Канибадам", "Конибодом", "Konibodom", "Канибадаме"),
    ("Нурек", "Норак", "Norak", "Нуреке"),
    ("Гулистон", "Гулистон", "Guliston", "Гулистоне"),
    ("Бустон", "Бӯстон", "Buston", "Бустоне"),
)
OTHER_CITY_TEMPLATES = {
    "ru": (
        "г. {c}, {s} {h}",
        "город {c}, {s}, д. {h}",
        "{c}, {s} {h}",
        "Я живу в {loc}, {s} {h}, кто участковый?",
        "Таджикистан, г. {c}, {s} {h}",
        "г.{c} {s} {h} кв {f}",
        "{s} {h}, г. {c}",
    ),
    "tg": (
        "ш. {c}, {s} {h}",
        "шаҳри {c}, {s} {h}",
        "{c}, {s} {h}",
        "Ман дар шаҳри {c} зиндагӣ мекунам, {s} {h}",
        "{s} {h}, ш. {c}",
    ),
    "en": ("{c}, {s} {h}", "{s} {h}, {c}", "{c} city, {s} {h}", "I live in {c}, {s} {h}"),
}
OLD_STREETS = {
    "ru": ("ул. Ленина", "ул. Кирова", "ул. Мира", "ул. Ленинградская"),
    "tg": ("кӯчаи Ленин",),
    "en": ("Lenin str.", "Lenin Street"),
}


def city_collides(seed: Seed, names: Sequence[str]) -> bool:
    """Whether a city's name is also the name (or part of the name) of a Dushanbe place."""
    words = {russian_keyboard(w.lower()) for n in names for w in n.split()}
    for place in seed.places.values():
        text = " ".join(str(place.get(k) or "") for k in ("name_tg", "name_ru", "name_en"))
        if words & {
            russian_keyboard(w.lower()).rstrip("аяий") for w in re.findall(r"\w+", text)
        } or any(russian_keyboard(w.lower()) in russian_keyboard(text.lower()) for w in words):
            return True
    return False


def make_other_city(rng: random.Random, seed: Seed) -> Iterator[Label]:
    """Addresses in other Tajik cities on street names Dushanbe has too: never a Dushanbe answer."""
    streets = street_places(seed)
    colliding = {c[0] for c in OTHER_CITIES if city_collides(seed, c[:3])}
    while True:
        ru, tg, en, loc = rng.choice(OTHER_CITIES)
        lang = rng.choice(("ru", "ru", "tg", "en"))
        templates = [
            t
            for t in OTHER_CITY_TEMPLATES[lang]
            if ru not in colliding or re.search(r"г\.|город|ш\.|шаҳри|city|live in|живу в", t)
        ]
        place = rng.choice(streets)
        use_old = rng.random() < 0.2
        street = (
            rng.choice(OLD_STREETS[lang])
            if use_old
            else street_in(rng, place, lang_of_street(rng, place, (lang,)))
        )
        text = rng.choice(templates).format(
            c={"ru": ru, "tg": tg, "en": en}[lang],
            loc=loc,
            s=street,
            h=rng.randint(1, 60),
            f=rng.randint(1, 40),
        )
        yield label(text, None, "other_city", lang)


# --- the whole set -------------------------------------------------------------------------------

ClassFn = Callable[[random.Random, Seed], Iterator[Label]]
CLASSES: dict[str, ClassFn] = {
    "postcode_country": make_postcode_country,
    "district_context": make_district_context,
    "units": make_units,
    "plus_code": make_plus_code,
    "house_forms": make_house_forms,
    "ru_morphology": make_ru_morphology,
    "tajik_forms": make_tajik_forms,
    "requests": make_requests,
    "everyday_names": make_everyday_names,
    "other_city": make_other_city,
}


def take_unique(
    rows: Iterator[Label], count: int, seen: set[str], *, tries: int = 50
) -> list[Label]:
    """The first ``count`` rows whose query has not been seen (give up after many repeats)."""
    taken: list[Label] = []
    misses = 0
    while len(taken) < count and misses < tries * count:
        row = next(rows)
        key = re.sub(r"\s+", " ", str(row["query"]).strip().lower())
        if key in seen:
            misses += 1
            continue
        seen.add(key)
        taken.append(row)
    return taken


def generate(seed: Seed, *, rng_seed: int, per_class: int = PER_CLASS) -> list[Label]:
    """Every class's rows, deterministic for one RNG seed (each class has its own stream)."""
    seen: set[str] = set()
    rows: list[Label] = []
    for index, make in enumerate(CLASSES.values()):
        rng = random.Random(rng_seed * 100 + index)
        rows += take_unique(make(rng, seed), per_class, seen)
    return rows


def main() -> None:
    """Write the labelled message set."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed-dir", type=Path, default=DEFAULT_SEED)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--seed", type=int, default=20261201)
    parser.add_argument("--per-class", type=int, default=PER_CLASS)
    args = parser.parse_args()
    rows = generate(load_seed(args.seed_dir), rng_seed=args.seed, per_class=args.per_class)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(rows)} labelled messages -> {args.out}")


if __name__ == "__main__":
    main()
