"""The gazetteer's data model: places, aliases, sectors, inspectors and place-to-sector links.

These pydantic models are the boundary for everything read from ``seed/``. They are pure values:
reading the files lives in :mod:`resolver.seed`, cross-record checks in
:mod:`index_builder.validate`.

Sectors and inspectors are FICTIONAL: police sectors are not public. Every sector and officer
carries ``fictional: true`` and phone numbers come from a range no operator uses.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

PLACE_ID_PATTERN = r"^(dyu|nzr|syn)-[0-9]{4,7}$"
SECTOR_ID_PATTERN = r"^(SOM|SIN|FIR|SHM)-[0-9]{2,3}$"
# +992 is Tajikistan; the 00 block after it is assigned to no operator, so no real phone rings.
PHONE_PATTERN = r"^\+992 00 [0-9]{3} [0-9]{2} [0-9]{2}$"


class Frozen(BaseModel):
    """Base for immutable records that reject unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class PlaceKind(StrEnum):
    """What a place is; streets and avenues may be split across sectors."""

    STREET = "street"
    AVENUE = "avenue"
    SQUARE = "square"
    MAHALLA = "mahalla"
    MICRODISTRICT = "microdistrict"
    MARKET = "market"
    MALL = "mall"
    OFFICE = "office"
    UNIVERSITY = "university"
    HOSPITAL = "hospital"
    HOTEL = "hotel"
    LANDMARK = "landmark"
    DISTRICT = "district"


LINEAR_KINDS = frozenset({PlaceKind.STREET, PlaceKind.AVENUE})


class District(StrEnum):
    """The four districts (ноҳия) of Dushanbe, by a short stable code."""

    SOMONI = "somoni"
    SINO = "sino"
    FIRDAVSI = "firdavsi"
    SHOHMANSUR = "shohmansur"


DISTRICT_NAMES: dict[District, dict[str, str]] = {
    District.SOMONI: {"tg": "Исмоили Сомонӣ", "ru": "Исмоили Сомони", "en": "Ismoili Somoni"},
    District.SINO: {"tg": "Сино", "ru": "Сино", "en": "Sino"},
    District.FIRDAVSI: {"tg": "Фирдавсӣ", "ru": "Фирдавси", "en": "Firdavsi"},
    District.SHOHMANSUR: {"tg": "Шоҳмансур", "ru": "Шохмансур", "en": "Shohmansur"},
}


class Address(Frozen):
    """A building's postal address as the source wrote it."""

    street: str | None = None
    house: str | None = None
    street_place_id: str | None = Field(default=None, pattern=PLACE_ID_PATTERN)
    note: str | None = None


class Place(Frozen):
    """One real place of Dushanbe (or a synthetic one, ids ``syn-``)."""

    id: str = Field(pattern=PLACE_ID_PATTERN)
    kind: PlaceKind
    name_tg: str | None = None
    name_ru: str | None = None
    name_en: str | None = None
    old_names: tuple[str, ...] = ()
    alt_names: tuple[str, ...] = ()
    # Variants produced by the rules of tajik_text.md, not seen in a source.
    derived_names: tuple[str, ...] = ()
    qualifier: str | None = None  # text that was in parentheses or quotes in the source name
    districts: tuple[District, ...] = ()
    address: Address | None = None
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    coord_confidence: Literal["high", "medium", "low"] | None = None
    confidence: Literal["high", "medium", "low"] = "medium"
    note: str | None = None
    sources: tuple[str, ...] = ()

    def display_name(self, lang: str) -> str:
        """Return the best name for a reader of ``lang`` (tg, ru or en), falling back sensibly."""
        order = {"tg": ("tg", "ru", "en"), "ru": ("ru", "tg", "en"), "en": ("en", "ru", "tg")}
        for code in order.get(lang, ("ru", "tg", "en")):
            name = getattr(self, f"name_{code}")
            if name:
                return str(name)
        return self.id


class AliasKind(StrEnum):
    """Why an alias exists."""

    OLD = "old"  # a former (often Soviet) official name
    INFORMAL = "informal"  # what residents call it: Зелёный базар, ЦУМ, Путовский
    ABBREVIATION = "abbreviation"
    SPELLING = "spelling"  # a spelling or transcription variant


class PlaceAlias(Frozen):
    """Another name residents use for one place."""

    place_id: str = Field(pattern=PLACE_ID_PATTERN)
    alias: str = Field(min_length=1)
    kind: AliasKind
    lang: Literal["tg", "ru", "en", "latn"] | None = None
    source: str | None = None


class TermClass(StrEnum):
    """Generic address words, all spellings of one class match each other."""

    STREET = "street"
    AVENUE = "avenue"
    PASSAGE = "passage"
    SQUARE = "square"
    MAHALLA = "mahalla"
    MICRODISTRICT = "microdistrict"
    DISTRICT = "district"
    CITY = "city"
    HOUSE = "house"
    FLAT = "flat"
    BLOCK = "block"
    MARKET = "market"
    PARK = "park"
    MALL = "mall"
    NEAR = "near"
    FILLER = "filler"  # conversational words around an address: где, мне нужен, I live on
    FLOOR = "floor"  # этаж, ошёна, floor: the number with it is a floor, never the house
    ENTRANCE = "entrance"  # подъезд, даромадгоҳ, entrance
    OFFICE = "office"  # офис, каб., ҳуҷра, room, suite
    BUILDING = "building"  # БЦ, бизнес-центр, ЖК: the name after it is a building on the street
    OTHER_CITY = "other_city"  # Худжанд, Бохтар, Kulob: an address there is not Dushanbe's


class AddressTerm(Frozen):
    """A street-type word or abbreviation with all its spellings (Tajik, Russian, Latin)."""

    term_class: TermClass
    spellings: tuple[str, ...] = Field(min_length=1)


class Aliases(Frozen):
    """Place aliases (``seed/aliases.yaml``) and address words (``seed/terms.yaml``)."""

    places: tuple[PlaceAlias, ...] = ()
    terms: tuple[AddressTerm, ...] = ()


class Officer(Frozen):
    """A fictional neighbourhood inspector (нозири минтақавӣ / участковый)."""

    name_tg: str
    name_ru: str
    name_en: str
    rank: Literal["lieutenant", "senior_lieutenant", "captain", "major", "lieutenant_colonel"]
    phone: str = Field(pattern=PHONE_PATTERN)
    reception_hours: str = Field(description="e.g. 'Tue, Thu 17:00-20:00; Sat 10:00-13:00'")
    fictional: Literal[True] = True


class Sector(Frozen):
    """A fictional inspector's sector (участок), part of one district."""

    id: str = Field(pattern=SECTOR_ID_PATTERN)
    district: District
    name: str  # the Russian label of the source list ("Шохмансур, участок 8 (Бинокорон)")
    # The area the sector is known by, per language ("Бинокорон"); None when it has only a number.
    name_tg: str | None = None
    name_ru: str | None = None
    name_en: str | None = None
    office_address_tg: str
    office_address_ru: str
    office_address_en: str
    officer: Officer
    fictional: Literal[True] = True

    @model_validator(mode="after")
    def _named_in_every_language_or_none(self) -> Sector:
        forms = (self.name_tg, self.name_ru, self.name_en)
        if any(forms) and not all(forms):
            raise ValueError("give name_tg, name_ru and name_en together, or none of them")
        return self

    def area_name(self, lang: str) -> str | None:
        """Return the sector's area name in ``lang`` (tg, ru or en), None if it has none."""
        return {"tg": self.name_tg, "ru": self.name_ru}.get(lang, self.name_en)

    def office_address(self, lang: str) -> str:
        """Return the precinct office address in ``lang`` (tg, ru or en)."""
        by_lang = {"tg": self.office_address_tg, "ru": self.office_address_ru}
        return by_lang.get(lang, self.office_address_en)


class HouseRange(Frozen):
    """House numbers ``start..end`` (inclusive; ``end`` None means to the end of the street)."""

    start: int = Field(ge=1)
    end: int | None = Field(default=None, ge=1)
    parity: Literal["odd", "even", "all"] = "all"

    def contains(self, number: int) -> bool:
        """Tell whether house ``number`` falls in this range."""
        if number < self.start or (self.end is not None and number > self.end):
            return False
        if self.parity == "odd":
            return number % 2 == 1
        if self.parity == "even":
            return number % 2 == 0
        return True


class Link(Frozen):
    """Which sector a place (or a house range of a street) belongs to."""

    place_id: str = Field(pattern=PLACE_ID_PATTERN)
    sector_id: str = Field(pattern=SECTOR_ID_PATTERN)
    houses: HouseRange | None = None


class Gazetteer(Frozen):
    """The whole seed, as loaded from ``seed/``."""

    places: tuple[Place, ...]
    aliases: Aliases
    sectors: tuple[Sector, ...]
    links: tuple[Link, ...]
    # sector id -> GeoJSON Polygon/MultiPolygon geometry (kept as plain data; shapely in sectors.py)
    boundaries: dict[str, dict[str, object]] = Field(default_factory=dict)
