"""The replica pool with fakes: turns, taking out, cool-down, one retry, the budget, versions."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pytest

from resolver.backend import Hit, SearchQuery
from resolver.errors import MeiliUnavailable
from resolver.index_schema import PlaceDocument
from resolver.published import PublishedDataError
from resolver.replicas import (
    AsyncReplicaBackend,
    ReplicaBackend,
    ReplicaPool,
    ReplicaReader,
    attempt_timeouts,
)

QUERY = [SearchQuery(text="рудаки")]


class FakeClock:
    """Seconds that pass only when told."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def make_hit(*, version: str | None = "v2", place: str = "p1") -> Hit:
    document = PlaceDocument(id=place, place_id=place, kind="street", version=version)
    return Hit(document=document, score=1.0)


class FakeReplica:
    """A replica that answers with one hit of its version, or fails, and counts its calls."""

    def __init__(self, clock: FakeClock, *, version: str | None = "v2") -> None:
        self.clock = clock
        self.version = version
        self.down = False
        self.takes_s = 0.0  # how long an answer takes (fake clock)
        self.calls: list[float] = []  # the timeout of each call

    def search_once(self, queries: Sequence[SearchQuery], *, timeout_s: float) -> list[list[Hit]]:
        self.calls.append(timeout_s)
        if self.takes_s > timeout_s:
            self.clock.now += timeout_s
            raise MeiliUnavailable("timed out")
        self.clock.now += self.takes_s
        if self.down:
            raise MeiliUnavailable("connection refused")
        return [[make_hit(version=self.version)] for _ in queries]

    def close(self) -> None:
        """Nothing to release."""


class AsyncFakeReplica(FakeReplica):
    """The same replica, awaitable."""

    async def search_once(  # type: ignore[override]
        self, queries: Sequence[SearchQuery], *, timeout_s: float
    ) -> list[list[Hit]]:
        return FakeReplica.search_once(self, queries, timeout_s=timeout_s)

    async def aclose(self) -> None:
        """Nothing to release."""


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_backend(
    clock: FakeClock,
) -> Callable[..., tuple[ReplicaBackend, list[FakeReplica]]]:
    def make(
        count: int = 2, *, served: str | None = None, versions: Sequence[str | None] = ()
    ) -> tuple[ReplicaBackend, list[FakeReplica]]:
        replicas = [
            FakeReplica(clock, version=(versions[i] if versions else "v2")) for i in range(count)
        ]
        pool = ReplicaPool([f"http://r{i}" for i in range(count)], cool_down_s=5.0, clock=clock)
        for i, replica in enumerate(replicas):
            pool.holds(i, replica.version)
        backend = ReplicaBackend(pool, replicas, timeout_s=2.0, served=lambda: served)
        return backend, replicas

    return make


def test_searches_take_turns_over_healthy_replicas(make_backend: Any) -> None:
    backend, replicas = make_backend(3)
    for _ in range(9):
        backend.search_many(QUERY)
    assert [len(replica.calls) for replica in replicas] == [3, 3, 3]


def test_a_failing_replica_is_retried_once_elsewhere_and_taken_out(make_backend: Any) -> None:
    backend, (first, second) = make_backend(2)
    first.down = True
    answers = [backend.search_many(QUERY) for _ in range(6)]
    assert all(answer[0][0].document.id == "p1" for answer in answers)
    assert len(first.calls) == 1  # out after its first failure
    assert len(second.calls) == 6


def test_a_replica_is_back_once_the_version_check_after_its_cool_down_reaches_it(
    make_backend: Any, clock: FakeClock
) -> None:
    backend, (first, _second) = make_backend(2)
    first.down = True
    backend.search_many(QUERY)
    first.down = False
    reader = ReplicaReader(backend.pool, [FakeDataReader("v2"), FakeDataReader("v2")])
    clock.now += 4.9
    reader.version()
    for _ in range(4):
        backend.search_many(QUERY)
    assert len(first.calls) == 1  # cooling down: neither searched nor probed
    clock.now += 5.0
    for _ in range(4):
        backend.search_many(QUERY)
    assert len(first.calls) == 1  # searches never re-probe: a hung replica would cost a timeout
    reader.version()
    for _ in range(4):
        backend.search_many(QUERY)
    assert len(first.calls) == 3  # back in the turns


def test_a_search_is_retried_at_most_once(make_backend: Any) -> None:
    backend, replicas = make_backend(3)
    for replica in replicas:
        replica.down = True
    with pytest.raises(MeiliUnavailable, match="no Meilisearch replica answered"):
        backend.search_many(QUERY)
    assert sum(len(replica.calls) for replica in replicas) == 2


def test_a_timeout_leaves_the_retry_the_rest_of_the_budget(make_backend: Any) -> None:
    backend, (first, second) = make_backend(2)
    first.takes_s = second.takes_s = 5.0
    with pytest.raises(MeiliUnavailable):
        backend.search_many(QUERY)
    calls = first.calls + second.calls
    assert calls == pytest.approx([1.0, 1.0])  # half the 2 s budget, then what is left
    assert sum(calls) <= 2.0


def test_a_lone_replica_gets_the_whole_budget(make_backend: Any) -> None:
    backend, (only,) = make_backend(1)
    only.takes_s = 1.5
    assert backend.search_many(QUERY)
    assert only.calls == [2.0]


@pytest.mark.parametrize(
    ("tries", "expected"), [(1, [2.0]), (2, [1.0, 2.0])], ids=["alone", "with a retry"]
)
def test_attempt_timeouts(tries: int, expected: list[float]) -> None:
    assert attempt_timeouts(tries, 2.0) == expected


def test_when_every_replica_is_out_the_one_back_soonest_is_tried(
    make_backend: Any, clock: FakeClock
) -> None:
    backend, (first, second) = make_backend(2)
    first.down = second.down = True
    with pytest.raises(MeiliUnavailable):
        backend.search_many(QUERY)
    first.down = second.down = False
    assert backend.search_many(QUERY)  # both still cooling down: tried anyway


def test_searches_go_to_replicas_of_the_served_version(make_backend: Any) -> None:
    backend, (old, new, also_new) = make_backend(3, served="v2", versions=["v1", "v2", "v2"])
    for _ in range(6):
        assert backend.search_many(QUERY)[0][0].document.version == "v2"
    assert (len(old.calls), len(new.calls), len(also_new.calls)) == (0, 3, 3)


def test_a_replica_of_another_version_answers_when_none_of_the_served_one_is_in(
    make_backend: Any,
) -> None:
    backend, (_old, new) = make_backend(2, served="v2", versions=["v1", "v2"])
    new.down = True
    answer = backend.search_many(QUERY)
    assert answer[0][0].document.version == "v1"  # the resolver then follows v1 (service.py)


def test_a_hit_tells_the_pool_the_replica_s_version(clock: FakeClock) -> None:
    pool = ReplicaPool(["http://a"], clock=clock)
    backend = ReplicaBackend(pool, [FakeReplica(clock, version="v3")], timeout_s=2.0)
    assert pool.version_of(0) is None
    backend.search_many(QUERY)
    assert pool.version_of(0) == "v3"


async def test_the_awaitable_backend_retries_once_elsewhere(clock: FakeClock) -> None:
    replicas = [AsyncFakeReplica(clock), AsyncFakeReplica(clock)]
    replicas[0].down = True
    pool = ReplicaPool(["http://a", "http://b"], clock=clock)
    backend = AsyncReplicaBackend(pool, replicas, timeout_s=2.0)
    assert (await backend.search_many(QUERY))[0][0].document.id == "p1"
    assert (await backend.search_many(QUERY))[0][0].document.id == "p1"
    assert (len(replicas[0].calls), len(replicas[1].calls)) == (1, 2)
    await backend.aclose()


class FakeDataReader:
    """One replica's data index: a version document, or down, or none."""

    def __init__(self, version: str | None, *, down: bool = False) -> None:
        self.held = version
        self.down = down
        self.reads = 0

    def version(self) -> Mapping[str, Any] | None:
        if self.down:
            raise MeiliUnavailable("connection refused")
        if self.held == "missing":
            raise PublishedDataError("no data index")
        return {"id": "version", "version": self.held} if self.held else None

    def documents(self) -> list[dict[str, Any]]:
        self.reads += 1
        return [{"id": "version", "version": self.held}]


def test_the_reader_follows_the_newest_version_and_reads_it_from_a_replica_holding_it(
    clock: FakeClock,
) -> None:
    readers = [FakeDataReader("v1"), FakeDataReader("v2"), FakeDataReader("missing")]
    pool = ReplicaPool(["a", "b", "c"], clock=clock)
    reader = ReplicaReader(pool, readers)
    assert reader.documents() == [{"id": "version", "version": "v2"}]
    assert [pool.version_of(i) for i in range(3)] == ["v1", "v2", None]
    assert readers[1].reads == 1 and readers[0].reads == 0


def test_the_reader_skips_a_replica_that_is_down_and_fails_when_all_are(
    clock: FakeClock,
) -> None:
    readers = [FakeDataReader("v2", down=True), FakeDataReader("v1")]
    pool = ReplicaPool(["a", "b"], clock=clock)
    reader = ReplicaReader(pool, readers)
    assert reader.version() == {"id": "version", "version": "v1"}
    assert not pool.is_in(0)
    readers[1].down = True
    with pytest.raises(MeiliUnavailable, match="no Meilisearch replica answered"):
        reader.version()


def test_the_version_check_brings_a_replica_back_after_its_cool_down(clock: FakeClock) -> None:
    readers = [FakeDataReader("v2", down=True), FakeDataReader("v1")]
    pool = ReplicaPool(["a", "b"], cool_down_s=5.0, clock=clock)
    reader = ReplicaReader(pool, readers)
    reader.version()
    readers[0].down = False
    assert reader.version() == {"id": "version", "version": "v1"}  # still cooling down
    clock.now += 5.0
    assert reader.version() == {"id": "version", "version": "v2"}
    assert pool.is_in(0) and pool.version_of(0) == "v2"
