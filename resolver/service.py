"""The resolver: from a resident's free text to the right inspector.

A pipeline of small steps, pure except the one search call::

    parse (normalise + read house number and type words, several readings when unsure)
      -> readings (Cyrillic fold, Latin key, wrong-keyboard-layout fix)
      -> search (one multi-search round trip; a second only when the first is not a clear win)
      -> score every hit against every reading (resolver.rank)
      -> decide (resolved / ambiguous / not_found)
      -> link (sector and inspector, by house number on split streets)

The pipeline itself does no I/O: :meth:`Resolver.steps` is a generator that yields the searches
it needs and receives their hits. :meth:`Resolver.resolve` answers them with the blocking
backend; :meth:`Resolver.resolve_async` with an awaitable one (the bot, on its event loop). One
pipeline, two ways to wait.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass, replace

from resolver.backend import AsyncSearchBackend, Hit, SearchBackend, SearchQuery
from resolver.gazetteer import LINEAR_KINDS, Gazetteer, Link, Place, TermClass
from resolver.models import Candidate, HouseNumber, Resolution, Status
from resolver.rank import Scored, Verdict, best_per_place, decide, score_hit
from resolver.sectors import SectorDirectory
from resolver.text.fold import fold, script_of
from resolver.text.latin import latin_key
from resolver.text.layout import fix_layout
from resolver.text.parse import ParsedQuery, parse_query, truncate_input
from resolver.text.vocabulary import Vocabulary, numbered_names_from

SEARCH_LIMIT = 10
# An address is short; a 4096-character paste costs parse time for nothing past this.
MAX_TEXT_CHARS = 256
MAX_QUERY_WORDS = 10
SEGMENT_MARK = "--"

# The resolver's steps: yields the searches it needs, is sent their hits, returns the answer.
ResolveSteps = Generator[list[SearchQuery], list[list[Hit]], Resolution]


@dataclass(frozen=True)
class Reading:
    """One way to read the text: the name's words in both scripts and the house number."""

    cyrillic: tuple[str, ...]
    latin: tuple[str, ...]
    house: HouseNumber | None
    terms: frozenset[TermClass]
    extra: tuple[str, ...] = ()  # words of the text set aside by the parser (type words, initials)
    # A fallback reading of text the parser took for filler alone ("Душанбе"): it may offer
    # places named so, but never settles on one.
    fallback: bool = False
    # Text typed with the wrong keyboard layout: the resident meant Cyrillic, so names are shown
    # in the language of that text, not in the Latin letters that reached us.
    typed_as: str | None = None


@dataclass(frozen=True)
class Pick:
    """Why a place is offered: its score, the reasons, and the language to name it in."""

    score: float
    reasons: tuple[str, ...]
    lang: str

    def lowered(self, by: float) -> Pick:
        """The same pick, ranked slightly lower (later segments of one street)."""
        return Pick(self.score - by, self.reasons, self.lang)


def is_searchable(word: str) -> bool:
    """Tell whether a word can match the index: it has a Latin or Cyrillic letter or a digit.

    Dushanbe's names are indexed in Cyrillic and Latin only. Words in other scripts (東京, שלום,
    سلام) can match nothing, and a Chinese, Japanese or Korean word would make Meilisearch load a
    dictionary on first use (seconds, past the resolver's timeout), so they are not searched.
    """
    return any(char.isdigit() or ("a" <= char <= "z") or ("а" <= char <= "я") for char in word)


def names_only_home(words: Sequence[str], vocabulary: Vocabulary) -> bool:
    """Tell whether ``words`` are just the home city or country ("Душанбе", "г. Душанбе")."""
    found = vocabulary.match(words, 0) if words else None
    return found is not None and found.home_name and found.size == len(words)


def readings_of(parsed: ParsedQuery, vocabulary: Vocabulary) -> list[Reading]:
    """Turn a parse and its alternatives into distinct readings."""
    readings: list[Reading] = []
    all_words = fold(parsed.original).split()
    for option in (parsed, *parsed.alternatives):
        named = option.name.split()
        words = tuple(w for w in named if is_searchable(w))[:MAX_QUERY_WORDS]
        set_aside = [w for w in dict.fromkeys(all_words) if w not in words and not w.isdigit()]
        extra = tuple(dict.fromkeys([*set_aside, *latin_key(" ".join(set_aside)).split()]))
        reading = Reading(
            words,
            tuple(latin_key(option.name).split())[:MAX_QUERY_WORDS],
            option.house,
            frozenset(option.term_classes),
            extra[:MAX_QUERY_WORDS],
            fallback=not parsed.name
            or len(words) < min(len(named), MAX_QUERY_WORDS)  # a word no index field can hold
            or parsed.name.replace(" ", "").isdigit()  # "12": a number alone names nothing
            or names_only_home(parsed.name.split(), vocabulary),
        )
        if words and reading not in readings:
            readings.append(reading)
    return readings


def queries_for(readings: Sequence[Reading]) -> list[SearchQuery]:
    """One Cyrillic and one Latin search per reading, without repeats."""
    queries: list[SearchQuery] = []
    for reading in readings:
        for query in (
            SearchQuery(text=" ".join(reading.cyrillic), fields="cyrillic", limit=SEARCH_LIMIT),
            SearchQuery(text=" ".join(reading.latin), fields="latin", limit=SEARCH_LIMIT),
        ):
            if query.text and query not in queries:
                queries.append(query)
    return queries


def first_query(reading: Reading, *, script: str) -> SearchQuery:
    """The one search tried first: the main reading, in the fields of the text's script."""
    if script == "latin" and reading.latin:
        return SearchQuery(text=" ".join(reading.latin), fields="latin", limit=SEARCH_LIMIT)
    return SearchQuery(text=" ".join(reading.cyrillic), fields="cyrillic", limit=SEARCH_LIMIT)


def scored_readings(scored: Sequence[tuple[Scored, Reading]]) -> Iterator[tuple[str, Reading]]:
    """Pair each document id with the reading that scored it best."""
    for item, reading in scored:
        yield item.document.id, reading


def score_all(hits: Sequence[Hit], readings: Sequence[Reading]) -> list[tuple[Scored, Reading]]:
    """Score each distinct document against each reading and keep its best reading."""
    best: dict[str, tuple[Scored, Reading]] = {}
    for hit in hits:
        for reading in readings:
            scored = score_hit(
                hit,
                cyrillic=[reading.cyrillic],
                latin=[reading.latin],
                terms=reading.terms,
                extra=reading.extra,
            )
            current = best.get(hit.document.id)
            if current is None or scored.score > current[0].score:
                best[hit.document.id] = (scored, reading)
    return list(best.values())


def vocabulary_for(gazetteer: Gazetteer) -> Vocabulary:
    """The address words of the seed, knowing which place names take a number (Испечак 2)."""
    names = [
        name
        for place in gazetteer.places
        for name in (
            place.name_tg,
            place.name_ru,
            place.name_en,
            *place.alt_names,
            *place.old_names,
        )
        if name
    ]
    return Vocabulary(gazetteer.aliases.terms, numbered_names=numbered_names_from(names))


def display_language(text: str) -> str:
    """Show names in the script the resident typed: Latin -> en, Tajik letters -> tg, else ru."""
    if script_of(text) == "latin":
        return "en"
    return "tg" if any(char in "ҳқғҷӣӯҲҚҒҶӢӮ" for char in text) else "ru"


def segment_id(place_id: str, index: int) -> str:
    """The id of the ``index``-th (1-based) house-range segment of a split street."""
    return f"{place_id}{SEGMENT_MARK}{index}"


def split_choice_id(choice_id: str) -> tuple[str, int | None]:
    """Split a choice id into place id and segment number."""
    place_id, _, segment = choice_id.partition(SEGMENT_MARK)
    return place_id, int(segment) if segment.isdigit() else None


class Resolver:
    """Resolve free text to places and their inspectors.

    Args:
        backend: The search engine (``MeiliBackend`` in production).
        gazetteer: The seed, for sectors, links and place names.
        vocabulary: Street-type words and filler, from ``seed/terms.yaml``.
    """

    def __init__(
        self, backend: SearchBackend, gazetteer: Gazetteer, vocabulary: Vocabulary
    ) -> None:
        self._backend = backend
        self._vocabulary = vocabulary
        self._directory = SectorDirectory(gazetteer)
        self._places = {place.id: place for place in gazetteer.places}

    @property
    def directory(self) -> SectorDirectory:
        """The sectors, for location look-ups."""
        return self._directory

    def resolve(self, text: str) -> Resolution:
        """Read ``text`` and return the verdict with up to five linked candidates (blocking)."""
        steps = self.steps(text)
        try:
            searches = next(steps)
            while True:
                searches = steps.send(self._backend.search_many(searches))
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]

    async def resolve_async(self, text: str, backend: AsyncSearchBackend) -> Resolution:
        """Like :meth:`resolve`, awaiting ``backend`` for the searches."""
        steps = self.steps(text)
        try:
            searches = next(steps)
            while True:
                searches = steps.send(await backend.search_many(searches))
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]

    def steps(self, text: str) -> ResolveSteps:
        """The pipeline for ``text``, yielding each round of searches and receiving its hits.

        The likeliest reading is searched first, in the fields of the script the text is in; the
        other readings (the other script, other parses, a wrong-layout fix) are searched only
        when that first answer is not a clear win, so a clean query costs one search.
        """
        readings = self._readings(text)
        if not readings:
            return Resolution(query=text, status=Status.NOT_FOUND)
        first = first_query(readings[0], script=script_of(text))
        hits = (yield [first])[0]
        scored = score_all(hits, readings[:1])
        verdict = decide(best_per_place(item for item, _ in scored))
        rest = [query for query in queries_for(readings) if query != first]
        if verdict.status != "resolved" and rest:
            hits = hits + [hit for result in (yield rest) for hit in result]
            scored = score_all(hits, readings)
            verdict = decide(best_per_place(item for item, _ in scored))
        return self._resolution(text, verdict, dict(scored_readings(scored)), readings)

    def _resolution(
        self, text: str, verdict: Verdict, reading_of: dict[str, Reading], readings: list[Reading]
    ) -> Resolution:
        """Link the verdict's places to sectors and package the answer."""
        if verdict.status == "not_found":
            return Resolution(
                query=text, status=Status.NOT_FOUND, reading=" ".join(readings[0].cyrillic)
            )
        top_reading = reading_of[verdict.winners[0].document.id]
        lang = top_reading.typed_as or display_language(text)
        candidates = self._link_all(verdict.winners, top_reading.house, lang)
        status = Status(verdict.status)
        unsettled = len(candidates) != 1 or candidates[0].sector is None or top_reading.fallback
        if status is Status.RESOLVED and unsettled:
            status = Status.AMBIGUOUS
        return Resolution(
            query=text,
            status=status,
            house=top_reading.house,
            candidates=tuple(candidates),
            reading=" ".join(top_reading.cyrillic),
        )

    def choose(
        self, choice_id: str, *, house: HouseNumber | None = None, lang: str = "ru"
    ) -> Resolution:
        """Resolve a button press: a place id, or a segment id of a split street."""
        place_id, segment = split_choice_id(choice_id)
        place = self._places.get(place_id)
        if place is None:
            return Resolution(query=choice_id, status=Status.NOT_FOUND)
        links = self._directory.links_for(place_id)
        if segment is not None and 1 <= segment <= len(links):
            candidates = [
                self._segment_candidate(place, segment, links[segment - 1], Pick(1.0, (), lang))
            ]
        else:
            candidates = self._link_place(place, house, Pick(1.0, ("chosen",), lang))
        status = (
            Status.RESOLVED if len(candidates) == 1 and candidates[0].sector else Status.AMBIGUOUS
        )
        return Resolution(query=choice_id, status=status, house=house, candidates=tuple(candidates))

    def _readings(self, text: str) -> list[Reading]:
        text = truncate_input(text, limit=MAX_TEXT_CHARS)
        readings = readings_of(parse_query(text, self._vocabulary), self._vocabulary)
        fixed = fix_layout(text)
        if fixed:
            language = display_language(fixed)
            readings += [
                replace(r, typed_as=language)
                for r in readings_of(parse_query(fixed, self._vocabulary), self._vocabulary)
                if r not in readings
            ]
        return readings

    def _link_all(
        self, winners: Sequence[Scored], house: HouseNumber | None, lang: str
    ) -> list[Candidate]:
        """Link each winner; with several winners a split street stays one (unlinked) button."""
        candidates: list[Candidate] = []
        for item in winners:
            place = self._places.get(item.document.place_id)
            if place is None:
                continue
            linked = self._link_place(place, house, Pick(item.score, item.reasons, lang))
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
        return candidates[:5]

    def _link_place(
        self,
        place: Place,
        house: HouseNumber | None,
        pick: Pick,
    ) -> list[Candidate]:
        """Link a place to its sector; a split street without a usable house gives its segments."""
        links = self._directory.links_for(place.id)
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
        place: Place,
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
            sector=self._directory.sector(link.sector_id),
            house_start=houses.start if houses else None,
            house_end=houses.end if houses else None,
            house_parity=houses.parity if houses else None,
            score=round(pick.score, 4),
            reasons=pick.reasons,
        )
