"""The resolver: from a resident's free text to the right inspector, composed of its steps.

One pass, each step its own pure module::

    parse      resolver.text.parse   name, house number and address words (several when unsure)
    readings   resolver.readings     Cyrillic fold, Latin key, wrong-keyboard-layout fix
    searches   resolver.searches     one multi-search round trip; a second only when not clear
    rank       resolver.rank         score every hit against every reading
    decide     resolver.decide       resolved / ambiguous / not_found
    link       resolver.link         sector and inspector, by house number on split streets

The pipeline itself does no I/O: :meth:`Pipeline.steps` is a generator that yields the searches
it needs and receives their hits. Two drivers answer them, built the same way from a backend and
the pipeline: :class:`Resolver` with a blocking backend (CLI, benchmarks) and
:class:`AwaitingResolver` with an awaitable one (the bot, on its event loop). One pipeline, two
ways to wait.

Each resolution runs on one :class:`Pipeline`, built from one published version (a snapshot:
sector links, sectors, vocabulary). A driver takes its pipeline from a :class:`PipelineSource`
(a fixed pipeline, or :class:`resolver.snapshots.Snapshots` following the published version) at
the start, and if a search hit comes from another version (a swap happened meanwhile) it asks the
source for that version and runs again on it: an answer never mixes versions.
"""

from __future__ import annotations

import asyncio
from collections.abc import Generator, Iterable
from typing import Protocol

from resolver.backend import AsyncSearchBackend, Hit, SearchBackend, SearchQuery
from resolver.decide import Verdict, decide, is_doubtful, settle
from resolver.link import Linker
from resolver.models import AddressParts, HouseNumber, Resolution, Status
from resolver.published import PublishedData, VersionInfo
from resolver.rank import best_per_place, kind_fits, score_all, scored_readings
from resolver.readings import (
    Reading,
    display_language,
    morphology_for,
    read_text,
    vocabulary_for,
)
from resolver.searches import first_query, queries_for
from resolver.sectors import SectorDirectory
from resolver.text.fold import script_of
from resolver.text.morphology import NO_MORPHOLOGY, Morphology
from resolver.text.plus_code import find_plus_code
from resolver.text.vocabulary import Vocabulary

__all__ = [
    "AwaitingResolver",
    "Pipeline",
    "PipelineSource",
    "ResolveSteps",
    "Resolver",
    "vocabulary_for",
]

# The resolver's steps: yields the searches it needs, is sent their hits, returns the answer.
ResolveSteps = Generator[list[SearchQuery], list[list[Hit]], Resolution]
# Runs of one resolution at most: the first, and one per newer version met on the way.
MAX_RUNS = 3


class Pipeline:
    """The resolver's steps for free text and for button presses, without any search engine.

    A pipeline is also a :class:`PipelineSource` that never changes (tests, one-off tools).

    Args:
        data: One published version: sectors, links, place names.
        vocabulary: Street-type words and filler, from the published address terms.
    """

    def __init__(
        self,
        data: PublishedData,
        vocabulary: Vocabulary,
        *,
        morphology: Morphology = NO_MORPHOLOGY,
    ) -> None:
        self._vocabulary = vocabulary
        self._morphology = morphology
        self._linker = Linker(data)
        self.data = data

    @property
    def version(self) -> VersionInfo:
        """Which published version the pipeline links with."""
        return self.data.version

    @classmethod
    def of(cls, data: PublishedData) -> Pipeline:
        """The pipeline over ``data``: its address words and its Russian morphology."""
        return cls(data, vocabulary_for(data), morphology=morphology_for(data))

    def current(self) -> Pipeline:
        """A fixed pipeline is always the current one."""
        return self

    def follow(self, version: str) -> Pipeline | None:
        """A fixed pipeline knows no other version."""
        return self if version == self.version.version else None

    @property
    def directory(self) -> SectorDirectory:
        """The sectors, for location look-ups."""
        return self._linker.directory

    def steps(self, text: str) -> ResolveSteps:
        """The pipeline for ``text``, yielding each round of searches and receiving its hits.

        The likeliest reading is searched first, in the fields of the script the text is in; the
        other readings (the other script, other parses, a wrong-layout fix) are searched only
        when that first answer is not a clear win, so a clean query costs one search. The
        context parts of a composite address (a mahalla or district beside a street) are
        searched last, only when nothing else is found. Text in another town gets no search.
        """
        read = read_text(text, self._vocabulary, morphology=self._morphology)
        readings = [r for r in read.readings if r.stage == 1] or read.readings
        context = [r for r in read.readings if r not in readings]
        if read.parts.elsewhere or not readings:
            return self._located(text, read.parts, None)
        first = first_query(readings[0], script=script_of(text))
        hits = (yield [first])[0]
        scored = score_all(hits, readings[:1])
        verdict = decide(best_per_place(item for item, _ in scored))
        rest = [query for query in queries_for(readings) if query != first]
        if (verdict.status != "resolved" or is_doubtful(verdict)) and rest:
            hits = hits + [hit for result in (yield rest) for hit in result]
            scored = score_all(hits, readings)
            verdict = decide(best_per_place(item for item, _ in scored))
        if verdict.status == "not_found" and context:
            hits = [hit for result in (yield queries_for(context)) for hit in result]
            readings = context
            scored = score_all(hits, readings)
            verdict = decide(best_per_place(item for item, _ in scored))
        answer = self._resolution(text, verdict, dict(scored_readings(scored)), readings)
        return self._located(text, read.parts, answer)

    def _located(self, text: str, parts: AddressParts, answer: Resolution | None) -> Resolution:
        """Attach the address parts; a plus code inside Dushanbe decides the sector."""
        answer = answer or Resolution(query=text, status=Status.NOT_FOUND)
        if parts.elsewhere:
            return Resolution(query=text, status=Status.NOT_FOUND, parts=parts)
        if parts.plus_code and (point := find_plus_code(parts.plus_code)) is not None:
            answer = self._linker.at_point(answer, point.latitude, point.longitude, parts)
        return answer.model_copy(update={"parts": parts})

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
        candidates = self._linker.link_all(verdict.winners, top_reading.house, lang)
        return Resolution(
            query=text,
            status=settle(verdict, candidates, fallback=is_unsure(verdict, top_reading)),
            house=top_reading.house,
            candidates=tuple(candidates),
            reading=" ".join(top_reading.cyrillic),
        )

    def choose(
        self, choice_id: str, *, house: HouseNumber | None = None, lang: str = "ru"
    ) -> Resolution:
        """Resolve a button press: a place id, or a segment id of a split street."""
        return self._linker.choose(choice_id, house=house, lang=lang)


def is_unsure(verdict: Verdict, reading: Reading) -> bool:
    """A fallback reading is a guess, unless the text's type word names the winner's kind.

    "12" or "Душанбе" alone stay a question; "91 мкр" is microdistrict 91, not a guess.
    """
    if not reading.fallback:
        return False
    return not verdict.winners or kind_fits(verdict.winners[0].document, reading.terms) is not True


class PipelineSource(Protocol):
    """Where drivers take the pipeline of the published version from."""

    def current(self) -> Pipeline:
        """The pipeline of the version being served."""
        ...

    def follow(self, version: str) -> Pipeline | None:
        """The pipeline of ``version`` if it is now the served one (blocking I/O), else None."""
        ...


def newer_version(pipeline: Pipeline, results: Iterable[list[Hit]]) -> str | None:
    """The version of a hit that is not the pipeline's (None: every hit is of its version)."""
    mine = pipeline.version.version
    for hits in results:
        for hit in hits:
            if hit.document.version is not None and hit.document.version != mine:
                return hit.document.version
    return None


def run_blocking(
    pipeline: Pipeline, backend: SearchBackend, text: str
) -> tuple[Resolution, str | None]:
    """Run the steps, answering the searches with ``backend``; also return a foreign version."""
    steps = pipeline.steps(text)
    foreign = None
    try:
        searches = next(steps)
        while True:
            results = backend.search_many(searches)
            foreign = foreign or newer_version(pipeline, results)
            searches = steps.send(results)
    except StopIteration as done:
        return done.value, foreign


async def run_awaiting(
    pipeline: Pipeline, backend: AsyncSearchBackend, text: str
) -> tuple[Resolution, str | None]:
    """The same as :func:`run_blocking`, awaiting the backend."""
    steps = pipeline.steps(text)
    foreign = None
    try:
        searches = next(steps)
        while True:
            results = await backend.search_many(searches)
            foreign = foreign or newer_version(pipeline, results)
            searches = steps.send(results)
    except StopIteration as done:
        return done.value, foreign


class Resolver:
    """Resolve free text to places and their inspectors, waiting on a blocking backend.

    Args:
        backend: The search engine (``MeiliBackend`` in production).
        pipeline: Where the steps come from: a :class:`Pipeline`, or the published versions
            (:class:`resolver.snapshots.Snapshots`), shareable with an :class:`AwaitingResolver`.
    """

    def __init__(self, backend: SearchBackend, pipeline: PipelineSource) -> None:
        self._backend = backend
        self.pipeline = pipeline

    @property
    def directory(self) -> SectorDirectory:
        """The sectors of the version being served, for location look-ups."""
        return self.pipeline.current().directory

    def resolve(self, text: str) -> Resolution:
        """Read ``text`` and return the verdict with up to five linked candidates (blocking)."""
        pipeline = self.pipeline.current()
        for _ in range(MAX_RUNS):
            resolution, foreign = run_blocking(pipeline, self._backend, text)
            newer = self.pipeline.follow(foreign) if foreign else None
            if newer is None or newer is pipeline:
                break
            pipeline = newer
        return resolution

    def choose(
        self, choice_id: str, *, house: HouseNumber | None = None, lang: str = "ru"
    ) -> Resolution:
        """Resolve a button press: a place id, or a segment id of a split street."""
        return self.pipeline.current().choose(choice_id, house=house, lang=lang)


class AwaitingResolver:
    """The same as :class:`Resolver`, awaiting an awaitable backend (the bot's event loop).

    Args:
        backend: The awaitable search engine (``AsyncMeiliBackend`` in production).
        pipeline: Where the steps come from (see :class:`Resolver`).
    """

    def __init__(self, backend: AsyncSearchBackend, pipeline: PipelineSource) -> None:
        self._backend = backend
        self.pipeline = pipeline

    @property
    def directory(self) -> SectorDirectory:
        """The sectors of the version being served, for location look-ups."""
        return self.pipeline.current().directory

    async def resolve(self, text: str) -> Resolution:
        """Read ``text`` and return the verdict, awaiting the backend for the searches."""
        pipeline = self.pipeline.current()
        for _ in range(MAX_RUNS):
            resolution, foreign = await run_awaiting(pipeline, self._backend, text)
            # Following a version reads the published data (blocking): off the event loop.
            newer = await asyncio.to_thread(self.pipeline.follow, foreign) if foreign else None
            if newer is None or newer is pipeline:
                break
            pipeline = newer
        return resolution

    def choose(
        self, choice_id: str, *, house: HouseNumber | None = None, lang: str = "ru"
    ) -> Resolution:
        """Resolve a button press: a place id, or a segment id of a split street."""
        return self.pipeline.current().choose(choice_id, house=house, lang=lang)

    async def aclose(self) -> None:
        """Release the backend's connections."""
        await self._backend.aclose()
