"""A deterministic synthetic Dushanbe of N places, to measure index builds at 10k and 100k.

Same RNG seed, same city: names are built from Tajik name parts (given names, surnames, nouns
of place names), in Tajik Cyrillic with the six Tajik letters; the Russian spelling is the folded
form (what a Russian keyboard types) and the English one the Latin key, both from the resolver's
own functions. Kinds follow the real gazetteer's mix; streets and avenues are split into 2-4
house ranges over neighbouring sectors as on the real long avenues. Ids are ``syn-NNNNNNN``;
sectors and inspectors are fictional, as in the seed.

Places, links and aliases are built with ``model_construct`` (no validation): at 100k places
pydantic would be a fifth of the generation time, and the values are valid by construction —
``tests/unit/test_documents.py`` re-validates a generated city to keep it that way.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from itertools import accumulate

from index_builder.documents import fold, latin_key
from index_builder.seed.models import Address, Aliases, AliasKind, Gazetteer, Place, PlaceAlias
from resolver.gazetteer import District, HouseRange, Link, Officer, PlaceKind, Sector

GIVEN_NAMES = (
    "Абдулло", "Бобоҷон", "Ғафур", "Ҷаббор", "Қодир", "Раҳим", "Саъдӣ", "Неъмат", "Мирзо",
    "Ҳусейн", "Шариф", "Фирӯз", "Зайнаб", "Гулчеҳра", "Нусратулло", "Маҳмуд", "Ӯлмас", "Ҳайдар",
    "Зиёратшоҳ", "Лоиқ", "Турсун", "Қурбон", "Мӯминшо", "Ҷалол", "Исмоил", "Аҳмад", "Бахтиёр",
)  # fmt: skip
SURNAMES = (
    "Ғафуров", "Қаробоев", "Раҳимов", "Ҷӯраев", "Назриев", "Шарипов", "Мирзоев", "Ҳақназаров",
    "Турсунзода", "Айнӣ", "Лоҳутӣ", "Сомонӣ", "Рӯдакӣ", "Қаҳҳоров", "Шерозӣ", "Ҳисорӣ", "Бобоев",
    "Ҷалилов", "Маҳсумов", "Ҳайдаров", "Ғаниев", "Ҳусейнзода", "Қурбонов", "Абдуллоев", "Шоҳтемур",
)  # fmt: skip
PLACE_WORDS = (
    "Гулистон", "Баҳор", "Ваҳдат", "Меҳргон", "Ҷавонон", "Зарафшон", "Навобод", "Обшорон",
    "Чорбоғ", "Сабз", "Ситора", "Бунёдкор", "Ҳаёти Нав", "Саодат", "Истиқлол", "Дӯстӣ", "Кӯҳистон",
    "Ободкорон", "Қароқум", "Фароғат", "Шодмонӣ", "Ҳамкорон", "Ӯзбакон", "Наврӯз",
)  # fmt: skip
BUILDING_WORDS = {
    PlaceKind.MARKET: ("бозори", "рынок"),
    PlaceKind.MALL: ("маркази савдои", "торговый центр"),
    PlaceKind.OFFICE: ("идораи", "офис"),
    PlaceKind.UNIVERSITY: ("донишгоҳи", "университет"),
    PlaceKind.HOSPITAL: ("беморхонаи", "больница"),
    PlaceKind.HOTEL: ("меҳмонхонаи", "гостиница"),
    PlaceKind.LANDMARK: ("боғи", "парк"),
}
AREA_WORDS = {PlaceKind.MAHALLA: ("маҳаллаи", "махалля"), PlaceKind.MICRODISTRICT: ("", "мкр.")}
# Share of each kind, close to the real gazetteer's (streets a third, buildings a third).
KIND_WEIGHTS: dict[PlaceKind, int] = {
    PlaceKind.STREET: 32,
    PlaceKind.AVENUE: 3,
    PlaceKind.SQUARE: 2,
    PlaceKind.MAHALLA: 15,
    PlaceKind.MICRODISTRICT: 10,
    PlaceKind.MARKET: 3,
    PlaceKind.MALL: 4,
    PlaceKind.OFFICE: 14,
    PlaceKind.UNIVERSITY: 3,
    PlaceKind.HOSPITAL: 2,
    PlaceKind.HOTEL: 2,
    PlaceKind.LANDMARK: 10,
}
SECTOR_PREFIX = {
    District.SOMONI: "SOM",
    District.SINO: "SIN",
    District.FIRDAVSI: "FIR",
    District.SHOHMANSUR: "SHM",
}
OLD_NAMES = (
    "Ленина",
    "Кирова",
    "Пушкина",
    "Гагарина",
    "Титова",
    "Чкалова",
    "Фрунзе",
    "Карла Маркса",
)
KINDS = list(KIND_WEIGHTS)
KIND_CUMULATIVE_WEIGHTS = list(accumulate(KIND_WEIGHTS.values()))
PLACES_PER_SECTOR = 250
MAX_SECTORS_PER_DISTRICT = 999
SPLIT_SHARE = 0.3
# Dushanbe's bounding box, roughly.
LAT_RANGE = (38.50, 38.62)
LON_RANGE = (68.70, 68.86)
RANKS = ("lieutenant", "senior_lieutenant", "captain", "major")


def synthetic_gazetteer(count: int, *, seed: int = 42) -> Gazetteer:
    """Generate a city of ``count`` places (same ``seed``, same city)."""
    rng = random.Random(seed)
    sectors = make_sectors(sector_count(count), rng)
    places = [make_place(number, rng) for number in range(1, count + 1)]
    links = [link for place in places for link in make_links(place, sectors, rng)]
    aliases = [alias for place in places if (alias := make_alias(place, rng)) is not None]
    return Gazetteer(
        places=tuple(places),
        aliases=Aliases(places=tuple(aliases)),
        sectors=tuple(sectors),
        links=tuple(links),
    )


def sector_count(places: int) -> int:
    """Return how many sectors a city of ``places`` gets (at least one per district)."""
    wanted = max(len(District), places // PLACES_PER_SECTOR)
    return min(wanted, len(District) * MAX_SECTORS_PER_DISTRICT)


def make_sectors(count: int, rng: random.Random) -> list[Sector]:
    """Return ``count`` fictional sectors spread over the four districts."""
    districts = list(District)
    return [
        make_sector(districts[n % len(districts)], n // len(districts) + 1, rng)
        for n in range(count)
    ]


def make_sector(district: District, number: int, rng: random.Random) -> Sector:
    """Return one fictional sector with a fictional inspector."""
    given, surname = rng.choice(GIVEN_NAMES), rng.choice(SURNAMES)
    officer = Officer(
        name_tg=f"{given} {surname}",
        name_ru=fold(f"{given} {surname}").title(),
        name_en=latin_key(f"{given} {surname}").title(),
        rank=rng.choice(RANKS),
        phone=fictional_phone(rng),
        reception_hours="Tue, Thu 17:00-20:00; Sat 10:00-13:00",
    )
    street = f"{rng.choice(GIVEN_NAMES)} {rng.choice(SURNAMES)}"
    house_tg, house_ru = rng.randint(1, 150), rng.randint(1, 150)
    return Sector(
        id=f"{SECTOR_PREFIX[district]}-{number:03d}",
        district=district,
        name=f"{SECTOR_PREFIX[district]} {number}",
        office_address_tg=f"кӯчаи {street} {house_tg}",
        office_address_ru=f"ул. {fold(street).title()} {house_ru}",
        office_address_en=f"{latin_key(street).title()} Street, {house_ru}",
        officer=officer,
    )


def fictional_phone(rng: random.Random) -> str:
    """Return a number in +992 00, a block no Tajik operator uses."""
    return f"+992 00 {rng.randrange(1000):03d} {rng.randrange(100):02d} {rng.randrange(100):02d}"


def make_place(number: int, rng: random.Random) -> Place:
    """Return place ``syn-<number>`` of a kind drawn by :data:`KIND_WEIGHTS`."""
    kind = rng.choices(KINDS, cum_weights=KIND_CUMULATIVE_WEIGHTS)[0]
    name_tg, name_ru = place_names(kind, rng)
    has_geo = rng.random() < 0.5
    return Place.model_construct(
        id=f"syn-{number:07d}",
        kind=kind,
        name_tg=name_tg,
        name_ru=name_ru,
        name_en=latin_key(name_tg).title(),
        districts=(rng.choice(list(District)),),
        address=building_address(kind, rng),
        lat=round(rng.uniform(*LAT_RANGE), 6) if has_geo else None,
        lon=round(rng.uniform(*LON_RANGE), 6) if has_geo else None,
        confidence=rng.choice(("high", "medium", "low")),
    )


def place_names(kind: PlaceKind, rng: random.Random) -> tuple[str, str]:
    """Return a (Tajik, Russian) name pair for a place of ``kind``."""
    person = f"{rng.choice(GIVEN_NAMES)} {rng.choice(SURNAMES)}"
    if kind is PlaceKind.STREET:
        return f"кӯчаи {person}", f"улица {fold(person).title()}"
    if kind is PlaceKind.AVENUE:
        return f"хиёбони {person}", f"проспект {fold(person).title()}"
    if kind is PlaceKind.SQUARE:
        return f"майдони {person}", f"площадь {fold(person).title()}"
    if kind in AREA_WORDS:
        return area_names(kind, rng)
    tg_word, ru_word = BUILDING_WORDS.get(kind, ("", ""))
    word = rng.choice(PLACE_WORDS)
    return f"{tg_word} {word}".strip(), f"{ru_word} «{fold(word).title()}»".strip()


def area_names(kind: PlaceKind, rng: random.Random) -> tuple[str, str]:
    """Return names of a mahalla (a word) or a numbered microdistrict."""
    tg_word, ru_word = AREA_WORDS[kind]
    if kind is PlaceKind.MICRODISTRICT:
        number = rng.randint(1, 200)
        return f"{number} мкр.", f"{number} {ru_word}"
    word = rng.choice(PLACE_WORDS)
    return f"{tg_word} {word}", f"{ru_word} {fold(word).title()}"


def building_address(kind: PlaceKind, rng: random.Random) -> Address | None:
    """Return a street address for buildings (markets, malls, offices ...), else ``None``."""
    if kind not in BUILDING_WORDS:
        return None
    street = f"кӯчаи {rng.choice(GIVEN_NAMES)} {rng.choice(SURNAMES)}"
    return Address.model_construct(street=street, house=f"{rng.randint(1, 200)}")


def make_links(place: Place, sectors: Sequence[Sector], rng: random.Random) -> list[Link]:
    """Link a place to one sector, or split a street over 2-4 neighbouring sectors."""
    first = rng.randrange(len(sectors))
    linear = place.kind in (PlaceKind.STREET, PlaceKind.AVENUE)
    if not linear or len(sectors) < 2 or rng.random() >= SPLIT_SHARE:
        return [Link.model_construct(place_id=place.id, sector_id=sectors[first].id)]
    parts = rng.randint(2, min(4, len(sectors)))
    return [
        Link.model_construct(
            place_id=place.id, sector_id=sectors[(first + n) % len(sectors)].id, houses=houses
        )
        for n, houses in enumerate(house_ranges(parts, rng))
    ]


def house_ranges(parts: int, rng: random.Random) -> list[HouseRange]:
    """Split house numbers 1.. into ``parts`` consecutive ranges, the last one open-ended."""
    bounds = sorted(rng.sample(range(10, 300), parts - 1))
    starts = [1, *(bound + 1 for bound in bounds)]
    ends: list[int | None] = [*bounds, None]
    pairs = zip(starts, ends, strict=True)
    return [HouseRange.model_construct(start=start, end=end) for start, end in pairs]


def make_alias(place: Place, rng: random.Random) -> PlaceAlias | None:
    """Give about one street in four an old (Soviet-style) name."""
    if place.kind not in (PlaceKind.STREET, PlaceKind.AVENUE) or rng.random() >= 0.25:
        return None
    old = f"улица {rng.choice(OLD_NAMES)}"
    return PlaceAlias.model_construct(place_id=place.id, alias=old, kind=AliasKind.OLD)
