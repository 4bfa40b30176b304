"""The resolver's pipeline over the real seed, with a small fake search engine."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from index_builder.documents import build_documents
from index_builder.published import published_data, stamped
from index_builder.seed.load import load_gazetteer
from index_builder.seed.models import Gazetteer
from resolver.backend import Hit, SearchQuery
from resolver.decide import Verdict
from resolver.gazetteer import TermClass
from resolver.index_schema import PlaceDocument
from resolver.models import Status
from resolver.rank import Scored
from resolver.readings import Reading
from resolver.service import AwaitingResolver, Pipeline, Resolver, is_unsure
from search_platform.settings import PROJECT_ROOT


class FakeSearchBackend:
    """Finds documents sharing a 4-letter word start with the query; records every call."""

    def __init__(self, documents: Sequence[PlaceDocument]) -> None:
        self.documents = documents
        self.calls: list[list[SearchQuery]] = []

    def search_many(self, queries: Sequence[SearchQuery]) -> list[list[Hit]]:
        self.calls.append(list(queries))
        return [self.search(query) for query in queries]

    def search(self, query: SearchQuery) -> list[Hit]:
        starts = {word[:4] for word in query.text.split() if len(word) >= 3}
        hits = []
        for doc in self.documents:
            fields = (
                doc.names_latin + doc.aliases_latin
                if query.fields == "latin"
                else doc.names + doc.aliases
            )
            if any(word[:4] in starts for name in fields for word in name.split()):
                hits.append(Hit(document=doc, score=0.9))
        return hits[: query.limit]


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return load_gazetteer(PROJECT_ROOT / "seed")


@pytest.fixture(scope="module")
def documents(gazetteer: Gazetteer) -> list[PlaceDocument]:
    return build_documents(gazetteer)


@pytest.fixture
def backend(documents: list[PlaceDocument]) -> FakeSearchBackend:
    return FakeSearchBackend(documents)


@pytest.fixture
def resolver(backend: FakeSearchBackend, gazetteer: Gazetteer) -> Resolver:
    return Resolver(backend, Pipeline.of(published_data(gazetteer)))


def test_finds_ayni_avenue_segment_by_house_number(resolver: Resolver) -> None:
    resolution = resolver.resolve("кӯчаи Айнӣ 45")
    assert resolution.status is Status.RESOLVED
    best = resolution.best
    assert best is not None and best.place_id == "dyu-0014" and best.sector is not None
    assert best.house_start is not None and best.house_start <= 45


def test_clear_query_costs_one_search(resolver: Resolver, backend: FakeSearchBackend) -> None:
    resolver.resolve("Зелёный базар")
    assert len(backend.calls) == 1 and len(backend.calls[0]) == 1


def test_unclear_query_searches_the_other_readings_too(
    resolver: Resolver, backend: FakeSearchBackend
) -> None:
    resolver.resolve("helfrb 45")  # "рудаки 45" on the English layout
    assert len(backend.calls) == 2


@pytest.mark.parametrize("text", ["東京タワー", "שלום", "🙂🙂", "", "   ", "\x00\x07"])
def test_text_no_index_field_can_hold_is_not_searched(
    resolver: Resolver, backend: FakeSearchBackend, text: str
) -> None:
    assert resolver.resolve(text).status is Status.NOT_FOUND
    assert backend.calls == []


@pytest.mark.parametrize("text", ["Душанбе", "г. Душанбе", "12", "Рудаки 東京 45"])
def test_city_alone_a_bare_number_or_an_unreadable_word_never_settles(
    resolver: Resolver, text: str
) -> None:
    assert resolver.resolve(text).status is not Status.RESOLVED


@pytest.mark.parametrize(
    ("kind", "terms", "fallback", "unsure"),
    [
        ("microdistrict", {TermClass.MICRODISTRICT}, True, False),  # "91 мкр"
        ("microdistrict", set(), True, True),  # "91"
        ("street", {TermClass.MICRODISTRICT}, True, True),  # "мкр 12" read as a street
        ("landmark", set(), False, False),  # a name read for sure
    ],
)
def test_a_fallback_reading_is_sure_only_when_its_type_word_names_the_kind(
    kind: str, terms: set[TermClass], fallback: bool, unsure: bool
) -> None:
    document = PlaceDocument(id="dyu-0209", place_id="dyu-0209", kind=kind)
    verdict = Verdict("resolved", (Scored(document, 1.0, 1.0, ()),))
    reading = Reading(("91",), ("91",), None, frozenset(terms), fallback=fallback)
    assert is_unsure(verdict, reading) is unsure


def test_4096_character_paste_is_answered_from_its_start(resolver: Resolver) -> None:
    paste = "Зелёный базар, " + "x" * 4081
    resolution = resolver.resolve(paste)
    assert len(resolution.query) == 4096
    assert resolution.candidates == resolver.resolve(paste[:256]).candidates


def test_split_street_without_house_offers_its_segments(resolver: Resolver) -> None:
    resolution = resolver.resolve("проспект Рудаки")
    assert resolution.status is Status.AMBIGUOUS
    assert {c.place_id for c in resolution.candidates} == {"dyu-0013"}
    assert all(c.sector is not None for c in resolution.candidates)


def test_split_street_without_house_offers_every_house_range(
    resolver: Resolver, gazetteer: Gazetteer
) -> None:
    ranges = [link for link in gazetteer.links if link.place_id == "dyu-0013"]
    assert len(ranges) > 5
    resolution = resolver.resolve("проспект Рудаки")
    assert len(resolution.candidates) == len(ranges)


@pytest.mark.parametrize("text", ["ул. Ленина 45", "проспект Ленина", "Lenina 20"])
def test_a_candidate_found_by_an_old_name_tells_which(resolver: Resolver, text: str) -> None:
    resolution = resolver.resolve(text)
    assert resolution.candidates and resolution.candidates[0].place_id == "dyu-0013"
    assert resolution.candidates[0].matched_old_name == "Ленина"  # улица and проспект Ленина


def test_an_old_name_of_one_form_is_given_whole(resolver: Resolver) -> None:
    resolution = resolver.resolve("Железнодорожный район")
    assert resolution.candidates and resolution.candidates[0].place_id == "dyu-0004"
    assert resolution.candidates[0].matched_old_name == "Железнодорожный район"


@pytest.mark.parametrize("text", ["проспект Рудаки 45", "Rudaki 45", "ЦУМ"])
def test_a_candidate_found_by_its_current_name_has_no_old_name(
    resolver: Resolver, text: str
) -> None:
    resolution = resolver.resolve(text)
    assert resolution.candidates
    assert all(c.matched_old_name is None for c in resolution.candidates)


def test_choosing_a_segment_resolves_to_its_inspector(resolver: Resolver) -> None:
    resolution = resolver.choose("dyu-0013--2")
    assert resolution.status is Status.RESOLVED
    assert resolution.best is not None and resolution.best.document_id == "dyu-0013--2"


def test_choosing_an_unknown_id_is_not_found(resolver: Resolver) -> None:
    assert resolver.choose("dyu-9999").status is Status.NOT_FOUND


def test_wrong_layout_text_is_answered_in_the_language_meant(resolver: Resolver) -> None:
    resolution = resolver.resolve("helfrb 45")  # "рудаки 45" on the English layout
    assert resolution.best is not None
    assert resolution.best.name == resolution.best.name_ru


def test_latin_text_is_answered_with_latin_names(resolver: Resolver) -> None:
    resolution = resolver.resolve("Rudaki 45")
    assert resolution.best is not None
    assert resolution.best.name == resolution.best.name_en


class AwaitedBackend:
    """The fake engine behind an awaitable interface, as the bot's AsyncMeiliBackend is."""

    def __init__(self, inner: FakeSearchBackend) -> None:
        self.inner = inner
        self.closed = False

    async def search_many(self, queries: Sequence[SearchQuery]) -> list[list[Hit]]:
        await asyncio.sleep(0)  # really suspend, as a network call does
        return self.inner.search_many(queries)

    async def aclose(self) -> None:
        self.closed = True


@pytest.mark.parametrize(
    "text", ["кӯчаи Айнӣ 45", "Зелёный базар", "Rudaki 45", "helfrb 45", "Айни", "Душанбе", "zzzz"]
)
async def test_awaiting_the_searches_gives_the_same_answer_as_blocking(
    resolver: Resolver, documents: list[PlaceDocument], text: str
) -> None:
    awaited = AwaitedBackend(FakeSearchBackend(documents))
    assert await AwaitingResolver(awaited, resolver.pipeline).resolve(text) == resolver.resolve(
        text
    )


async def test_awaiting_a_clear_query_costs_one_search(
    resolver: Resolver, documents: list[PlaceDocument]
) -> None:
    awaited = AwaitedBackend(FakeSearchBackend(documents))
    await AwaitingResolver(awaited, resolver.pipeline).resolve("Зелёный базар")
    assert len(awaited.inner.calls) == 1 and len(awaited.inner.calls[0]) == 1


# --- one published version per answer --------------------------------------------------------


class TwoVersions:
    """A pipeline source serving version ``a`` until asked to follow ``b``."""

    def __init__(self, old: Pipeline, new: Pipeline | None) -> None:
        self.served = old
        self.new = new
        self.followed: list[str] = []

    def current(self) -> Pipeline:
        return self.served

    def follow(self, version: str) -> Pipeline | None:
        self.followed.append(version)
        if self.new is not None and version == self.new.version.version:
            self.served = self.new
            return self.new
        return None


def versioned(gazetteer: Gazetteer, version: str, *, phone_suffix: str = "") -> Pipeline:
    """The seed as published version ``version``, every inspector's phone ending in a suffix."""
    data = stamped(published_data(gazetteer), version=version, built_at=datetime.now(UTC))
    if phone_suffix:
        sectors = tuple(
            s.model_copy(
                update={
                    "officer": s.officer.model_copy(
                        update={"phone": s.officer.phone[:-2] + phone_suffix}
                    )
                }
            )
            for s in data.sectors
        )
        data = data.model_copy(update={"sectors": sectors})
    return Pipeline.of(data)


def stamped_backend(documents: list[PlaceDocument], version: str) -> FakeSearchBackend:
    return FakeSearchBackend([d.model_copy(update={"version": version}) for d in documents])


def test_a_hit_of_a_newer_version_is_answered_wholly_from_that_version(
    gazetteer: Gazetteer, documents: list[PlaceDocument]
) -> None:
    old, new = (
        versioned(gazetteer, "a", phone_suffix="11"),
        versioned(gazetteer, "b", phone_suffix="00"),
    )
    source = TwoVersions(old, new)
    resolver = Resolver(stamped_backend(documents, "b"), source)
    best = resolver.resolve("Зелёный базар").best
    assert source.followed == ["b"]
    assert best is not None and best.officer is not None and best.officer.phone.endswith("00")


def test_a_hit_of_a_refused_version_is_linked_with_the_version_served(
    gazetteer: Gazetteer, documents: list[PlaceDocument]
) -> None:
    old = versioned(gazetteer, "a", phone_suffix="11")
    resolver = Resolver(stamped_backend(documents, "x"), TwoVersions(old, None))
    best = resolver.resolve("Зелёный базар").best
    assert best is not None and best.officer is not None and best.officer.phone.endswith("11")


def test_hits_of_the_served_version_never_ask_for_another(
    gazetteer: Gazetteer, documents: list[PlaceDocument]
) -> None:
    source = TwoVersions(versioned(gazetteer, "a"), versioned(gazetteer, "b"))
    Resolver(stamped_backend(documents, "a"), source).resolve("Зелёный базар")
    assert source.followed == []
