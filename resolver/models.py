"""Values the resolver returns: what the bot, the CLI and the benchmarks consume."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from resolver.gazetteer import Officer, Sector


class Status(StrEnum):
    """The resolver's verdict."""

    RESOLVED = "resolved"  # one place clearly wins: show its inspector
    AMBIGUOUS = "ambiguous"  # several could be meant: ask with buttons
    NOT_FOUND = "not_found"  # nothing fits: say so and help


class HouseNumber(BaseModel):
    """A house number as the resident wrote it, split into parts."""

    model_config = ConfigDict(frozen=True)

    number: int
    letter: str | None = None  # 45а -> "а"
    building: str | None = None  # 45/1 -> "1", корп. 2 -> "2"
    flat: str | None = None  # кв 12 -> "12"

    def label(self) -> str:
        """Render the house the way Dushanbe addresses write it: ``45а/1``."""
        text = f"{self.number}{self.letter or ''}"
        return f"{text}/{self.building}" if self.building else text


class AddressParts(BaseModel):
    """The parts of an address other than the place and its house number.

    The resolver reads them so they never pass for a house number or a place name ("каб. 314",
    "подъезд 1", "734025"); the card may show them. Only what the text holds is set.
    """

    model_config = ConfigDict(frozen=True)

    postcode: str | None = None  # 734025
    district: str | None = None  # the district the text names (sino, somoni, ...), as context
    area: str | None = None  # a mahalla or microdistrict named beside the street, as typed
    building: str | None = None  # a named building: БЦ «Созидание», ЖК «Пойтахт-90»
    block: str | None = None  # Блок А, корпус 2
    floor: str | None = None  # 5-й этаж, ошёнаи 2
    office: str | None = None  # офис 207, каб. 314, ҳуҷраи 5
    flat: str | None = None  # кв. 43
    entrance: str | None = None  # подъезд 1
    plus_code: str | None = None  # GPHX+CPX
    landmark: str | None = None  # what "рядом с ...", "назди ..." pointed at, as typed
    elsewhere: str | None = None  # another town the text names (Худжанд): not Dushanbe's

    def is_empty(self) -> bool:
        """Tell whether the text held none of these parts."""
        return not any(self.model_dump().values())


class Candidate(BaseModel):
    """One place the text may mean, with the sector it links to."""

    model_config = ConfigDict(frozen=True)

    place_id: str
    document_id: str
    name: str  # display name in the query's script (Tajik, Russian or English)
    name_tg: str | None = None
    name_ru: str | None = None
    name_en: str | None = None
    kind: str
    district: list[str] = Field(default_factory=list)
    sector: Sector | None = None  # None: a split street whose segment the house number did not pick
    house_start: int | None = None
    house_end: int | None = None
    house_parity: str | None = None
    score: float
    reasons: tuple[str, ...] = ()
    matched_old_name: str | None = None  # the former name the text was read by ("улица Ленина")

    @property
    def officer(self) -> Officer | None:
        """The linked inspector, if the sector is known."""
        return self.sector.officer if self.sector else None


class Resolution(BaseModel):
    """The answer to one query."""

    model_config = ConfigDict(frozen=True)

    query: str
    status: Status
    house: HouseNumber | None = None
    candidates: tuple[Candidate, ...] = ()
    parts: AddressParts = Field(default_factory=AddressParts)
    reading: str = ""  # the normalised text that was searched, for logs and debugging

    @property
    def best(self) -> Candidate | None:
        """The winning candidate when resolved."""
        return self.candidates[0] if self.status is Status.RESOLVED and self.candidates else None
