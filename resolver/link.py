"""Step 6 of the resolver: link the chosen places to their sectors and inspectors.

A split street (one place, several sectors by house range) links by the house number; without a
usable one it offers each segment as its own candidate (document id :func:`segment_id`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from resolver.gazetteer import LINEAR_KINDS, Link
from resolver.index_schema import segment_id, split_choice_id
from resolver.models import Candidate, HouseNumber, Resolution, Status
from resolver.published import PublishedData, PublishedPlace
from resolver.rank import Scored
from resolver.sectors import SectorDirectory

MAX_CANDIDATES = 5


@dataclass(frozen=True)
class Pick:
    """Why a place is offered: its score, the reasons, and the language to name it in."""

    score: float
    reasons: tuple[str, ...]
    lang: str

    def lowered(self, by: float) -> Pick:
        """The same pick, ranked slightly lower (later segments of one street)."""
        return Pick(self.score - by, self.reasons, self.lang)


class Linker:
    """Link places of one published version to its sectors.

    Args:
        data: The published data, for sectors, links and place names.
    """

    def __init__(self, data: PublishedData) -> None:
        self.directory = SectorDirectory(data)
        self._places = {place.id: place for place in data.places}

    def choose(
        self, choice_id: str, *, house: HouseNumber | None = None, lang: str = "ru"
    ) -> Resolution:
        """Resolve a button press: a place id, or a segment id of a split street."""
        place_id, segment = split_choice_id(choice_id)
        place = self._places.get(place_id)
        if place is None:
            return Resolution(query=choice_id, status=Status.NOT_FOUND)
        links = self.directory.links_for(place_id)
        if segment is not None and 1 <= segment <= len(links):
            candidates = [
                self._segment_candidate(place, segment, links[segment - 1], Pick(1.0, (), lang))
            ]
        else:
            candidates = self.link_place(place, house, Pick(1.0, ("chosen",), lang))
        status = (
            Status.RESOLVED if len(candidates) == 1 and candidates[0].sector else Status.AMBIGUOUS
        )
        return Resolution(query=choice_id, status=status, house=house, candidates=tuple(candidates))

    def link_all(
        self, winners: Sequence[Scored], house: HouseNumber | None, lang: str
    ) -> list[Candidate]:
        """Link each winner; with several winners a split street stays one (unlinked) button."""
        candidates: list[Candidate] = []
        for item in winners:
            place = self._places.get(item.document.place_id)
            if place is None:
                continue
            linked = self.link_place(place, house, Pick(item.score, item.reasons, lang))
            if len(winners) > 1 and len(linked) > 1:
                linked = [
                    linked[0].model_copy(
                        update={
                            "document_id": place.id,
                            "sector": None,
                            "house_start": None,
                            "house_end": None,
                            "house_parity": None,
                        }
                    )
                ]
            candidates += linked
        return candidates[:MAX_CANDIDATES]

    def link_place(
        self,
        place: PublishedPlace,
        house: HouseNumber | None,
        pick: Pick,
    ) -> list[Candidate]:
        """Link a place to its sector; a split street without a usable house gives its segments."""
        links = self.directory.links_for(place.id)
        number = house.number if house and place.kind in LINEAR_KINDS else None
        for index, link in enumerate(links, 1):
            if len(links) == 1 or (
                number is not None and link.houses and link.houses.contains(number)
            ):
                return [
                    self._segment_candidate(place, index if len(links) > 1 else None, link, pick)
                ]
        return [
            self._segment_candidate(place, index, link, pick.lowered(0.001 * index))
            for index, link in enumerate(links, 1)
        ]

    def _segment_candidate(
        self,
        place: PublishedPlace,
        segment: int | None,
        link: Link,
        pick: Pick,
    ) -> Candidate:
        houses = link.houses
        return Candidate(
            place_id=place.id,
            document_id=segment_id(place.id, segment) if segment else place.id,
            name=place.display_name(pick.lang),
            name_tg=place.name_tg,
            name_ru=place.name_ru,
            name_en=place.name_en,
            kind=place.kind.value,
            district=[d.value for d in place.districts],
            sector=self.directory.sector(link.sector_id),
            house_start=houses.start if houses else None,
            house_end=houses.end if houses else None,
            house_parity=houses.parity if houses else None,
            score=round(pick.score, 4),
            reasons=pick.reasons,
        )
