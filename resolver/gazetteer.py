"""The domain values of the gazetteer: kinds, districts, address terms, sectors, inspectors, links.

The index builder reads them from ``seed/`` (its own seed models in :mod:`index_builder.seed.models`
add places and aliases) and publishes them; the resolver reads them back from the published data
(:mod:`resolver.published`). Models are dumped and validated generically on both sides, so a new
field of a sector or an inspector passes through without a change to the publishing code.

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


NAME_ORDER = {"tg": ("tg", "ru", "en"), "ru": ("ru", "tg", "en"), "en": ("en", "ru", "tg")}


def display_name(names: dict[str, str | None], lang: str, *, fallback: str) -> str:
    """The best of a place's ``{"tg": …, "ru": …, "en": …}`` names for a reader of ``lang``."""
    for code in NAME_ORDER.get(lang, NAME_ORDER["ru"]):
        if name := names.get(code):
            return name
    return fallback


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


class Aliases(Frozen):
    """Place aliases (``seed/aliases.yaml``) and address words (``seed/terms.yaml``)."""

    places: tuple[PlaceAlias, ...] = ()
    terms: tuple[AddressTerm, ...] = ()


class AddressTerm(Frozen):
    """A street-type word or abbreviation with all its spellings (Tajik, Russian, Latin)."""

    term_class: TermClass
    spellings: tuple[str, ...] = Field(min_length=1)


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
