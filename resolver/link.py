"""Step 6 of the resolver: link the chosen places to their sectors and inspectors.

A split street (one place, several sectors by house range) links by the house number; without a
usable one it offers each segment as its own candidate (document id :func:`segment_id`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from resolver.gazetteer import LINEAR_KINDS, AliasKind, Link
from resolver.index_schema import segment_id, split_choice_id
from resolver.models import AddressParts, Candidate, HouseNumber, Resolution, Status
from resolver.published import PublishedData, PublishedPlace
from resolver.rank import Scored
from resolver.sectors import SectorDirectory
from resolver.text.fold import fold
from resolver.text.latin import latin_key

MAX_CANDIDATES = 5
LOCATION_ID = "location"  # the place id of an answer given by a point, not a named place


@dataclass(frozen=True)
class Pick:
    """Why a place is offered: its score, the reasons, and the language to name it in."""

    score: float
    reasons: tuple[str, ...]
    lang: str
    matched_alias: str | None = None  # the indexed alias the query matched (rank.Scored)

    def lowered(self, by: float) -> Pick:
        """The same pick, ranked slightly lower (later segments of one street)."""
        return Pick(self.score - by, self.reasons, self.lang, self.matched_alias)


class Linker:
    """Link places of one published version to its sectors.

    Args:
        gazetteer: The published data, for sectors, links and place names.
    """

    def __init__(self, gazetteer: PublishedData) -> None:
        self.directory = SectorDirectory(gazetteer)
        self._places = {place.id: place for place in gazetteer.places}
        self._old_names = old_names_by_place(gazetteer)

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

    def at_point(
        self, answer: Resolution, lat: float, lon: float, parts: AddressParts
    ) -> Resolution:
        """Answer from a point (a plus code) and what the text names, asking when they disagree.

        The point's sector (the polygon holding it) answers alone when the text names nothing
        that was found; a named candidate in that sector is the answer (its card reads better);
        when the names found lie in other sectors, the resident chooses between the point and
        them. A point outside Dushanbe is not answered.
        """
        sector = self.directory.sector_at(lat, lon)
        if sector is None:
            if self.directory.is_in_dushanbe(lat, lon):
                return answer
            return answer.model_copy(update={"status": Status.NOT_FOUND, "candidates": ()})
        named = [c for c in answer.candidates if c.sector is not None and c.sector.id == sector.id]
        if named:
            return answer.model_copy(update={"status": Status.RESOLVED, "candidates": named[:1]})
        point = Candidate(
            place_id=LOCATION_ID,
            document_id=LOCATION_ID,
            name=parts.plus_code or f"{lat:.5f}, {lon:.5f}",
            kind="location",
            sector=sector,
            score=1.0,
            reasons=("plus code",),
        )
        others = answer.candidates[: MAX_CANDIDATES - 1]
        status = Status.AMBIGUOUS if others else Status.RESOLVED
        return answer.model_copy(update={"status": status, "candidates": (point, *others)})

    def link_all(
        self, winners: Sequence[Scored], house: HouseNumber | None, lang: str
    ) -> list[Candidate]:
        """Link each winner; with several winners a split street stays one (unlinked) button."""
        candidates: list[Candidate] = []
        for item in winners:
            place = self._places.get(item.document.place_id)
            if place is None:
                continue
            pick = Pick(item.score, item.reasons, lang, item.matched_alias)
            linked = self.link_place(place, house, pick)
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
        # One split street keeps every house range: each must stay reachable.
        return candidates if len(winners) == 1 else candidates[:MAX_CANDIDATES]

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
            matched_old_name=self.old_name_matched(place.id, pick.matched_alias),
        )

    def old_name_matched(self, place_id: str, alias: str | None) -> str | None:
        """The old name (as the seed writes it) whose words the matched alias consists of.

        When several old names share those words ("улица Ленина", "проспект Ленина" for the
        alias "ленина"), only the shared words are returned ("Ленина"): the resident's own type
        word may be either.
        """
        if alias is None:
            return None
        words = set(alias.split())
        found = [old for old in self._old_names.get(place_id, ()) if holds_words(old, words)]
        if len(found) > 1:
            shared = [w for w in found[0].split() if fold(w) in words or latin_key(w) in words]
            return " ".join(shared) or found[0]
        return found[0] if found else None


def holds_words(name: str, words: set[str]) -> bool:
    """Tell whether ``name``, folded or as a Latin key, has every one of ``words``."""
    return words <= set(fold(name).split()) or words <= set(latin_key(name).split())


def old_names_by_place(gazetteer: PublishedData) -> dict[str, tuple[str, ...]]:
    """Every former name of each place: its ``old_names`` and its aliases of kind ``old``."""
    names = {place.id: list(place.old_names) for place in gazetteer.places}
    for alias in gazetteer.aliases.places:
        if alias.kind is AliasKind.OLD:
            names.setdefault(alias.place_id, []).append(alias.alias)
    return {place_id: tuple(dict.fromkeys(found)) for place_id, found in names.items() if found}
