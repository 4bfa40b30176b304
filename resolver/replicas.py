"""Search several Meilisearch replicas (``MEILI_URLS``): spread, take out, retry once elsewhere.

::

    ReplicaPool            which replicas are in (not cooling down) and which version each
                           serves; hands out the replicas to try for one search, round robin
    ReplicaBackend         a SearchBackend over one MeiliBackend per replica (blocking)
    AsyncReplicaBackend    the same, awaitable (the bot)
    ReplicaReader          a PublishedReader: reads each replica's version document, follows the
                           newest, reads the published data from a replica that holds it

A search goes to the next replica in turn among those that are in and serve the version the
resolver's snapshot links with (``served``); the others in are the fallback. A connection error,
a timeout, a 5xx or a refusal takes that replica out for ``cool_down_s`` and the search is sent
ONCE more, to the next replica, within the same budget (``timeout_s``: the first try gets half of
it when there is a second replica to try). Once the cool-down is over, the next version check
(every ``NOZIRI_VERSION_CHECK_S``, in the background) asks the replica again: answering, it is
back in the turns; failing, it is out for another cool-down. So a dead or hung replica costs a
user's search at most once, and re-probing it costs no search a timeout.

Why route by version: for the few seconds a build takes to reach every replica, replicas serve
different versions. Spreading searches over all of them would make consecutive answers flip
between versions, and a hit of an old version would be linked with the new version's data. The
pool learns each replica's version from the version checks and from the version stamped on every
hit (:class:`resolver.index_schema.PlaceDocument`), so a search is answered by a replica of the
snapshot's version whenever one is in; a hit of another version (no such replica left) makes the
resolver follow that version first (:mod:`resolver.service`), so an answer never mixes versions.
Filtering by version inside Meilisearch instead would answer "not found" from a replica of
another version.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Protocol

from resolver.backend import Hit, SearchQuery
from resolver.errors import MeiliUnavailable
from resolver.published import PublishedDataError

logger = logging.getLogger(__name__)

COOL_DOWN_S = 5.0
TRIES = 2  # the first replica, and one more


class ReplicaPool:
    """The health and version of each replica, and the order to try them in (thread-safe).

    Args:
        urls: The replicas, for messages.
        cool_down_s: How long a replica that failed stays out before it is tried again.
        clock: Seconds, monotonic (tests pass a fake).
    """

    def __init__(
        self,
        urls: Sequence[str],
        *,
        cool_down_s: float = COOL_DOWN_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not urls:
            raise ValueError("a replica pool needs at least one replica")
        self.urls = tuple(urls)
        self.cool_down_s = cool_down_s
        self.clock = clock
        self._lock = threading.Lock()
        self._turn = itertools.count()
        self._out_until = [0.0] * len(urls)
        self._versions: list[str | None] = [None] * len(urls)

    def is_in(self, replica: int) -> bool:
        """Tell whether searches may go to the replica (no failure since it last answered)."""
        return not self._out_until[replica]

    def may_probe(self, replica: int) -> bool:
        """Tell whether the version check may ask the replica (in, or its cool-down is over)."""
        return self._out_until[replica] <= self.clock()

    def version_of(self, replica: int) -> str | None:
        """The version the replica was last seen serving (None: not known yet, or none)."""
        return self._versions[replica]

    def candidates(self, served: str | None) -> list[int]:
        """The replicas to try for one search, best first.

        In turn among those in and of the ``served`` version, then the others in; when every
        replica is out, all of them, the one back soonest first (better a try than no answer).
        """
        with self._lock:
            start = next(self._turn)
            ready = [replica for replica in range(len(self.urls)) if self.is_in(replica)]
            if not ready:
                return sorted(range(len(self.urls)), key=lambda replica: self._out_until[replica])
            same = [r for r in ready if served is None or self._versions[r] == served]
            rest = [replica for replica in ready if replica not in same]
            return in_turn(same, start) + in_turn(rest, start)

    def succeeded(self, replica: int, version: str | None = None) -> None:
        """Record an answer (and the version it was of, if known): the replica is in."""
        with self._lock:
            if self._out_until[replica]:
                logger.info("Meilisearch replica %s answers again", self.urls[replica])
            self._out_until[replica] = 0.0
            if version is not None:
                self._versions[replica] = version

    def failed(self, replica: int, error: Exception) -> None:
        """Take the replica out for the cool-down."""
        with self._lock:
            if self.is_in(replica):
                logger.warning(
                    "Meilisearch replica %s taken out for %.0f s: %s",
                    self.urls[replica],
                    self.cool_down_s,
                    error,
                )
            self._out_until[replica] = self.clock() + self.cool_down_s

    def holds(self, replica: int, version: str | None) -> None:
        """Record the version a replica's data index holds (None: it holds none)."""
        with self._lock:
            self._versions[replica] = version


def in_turn(replicas: list[int], turn: int) -> list[int]:
    """The replicas starting at the one whose turn it is (round robin)."""
    if not replicas:
        return []
    start = turn % len(replicas)
    return replicas[start:] + replicas[:start]


def hits_version(results: Iterable[list[Hit]]) -> str | None:
    """The version the first hit was stamped with (None: no hit, or an unstamped one)."""
    for hits in results:
        for hit in hits:
            return hit.document.version
    return None


def attempt_timeouts(tries: int, budget_s: float) -> list[float]:
    """The first try's timeout: the whole budget alone, half of it when a retry may follow."""
    return [budget_s / 2, budget_s] if tries > 1 else [budget_s]


def attempts(pool: ReplicaPool, served: str | None, budget_s: float) -> Iterator[tuple[int, float]]:
    """The replicas one search tries, each with the seconds it may take: the best one, then one
    more (:data:`TRIES`), all within ``budget_s`` from the first try."""
    started = pool.clock()
    tries = pool.candidates(served)[:TRIES]
    for replica, limit in zip(tries, attempt_timeouts(len(tries), budget_s), strict=True):
        left = limit - (pool.clock() - started)
        if left <= 0:
            return
        yield replica, left


class OnceSearcher(Protocol):
    """One replica's adapter: one request within a timeout (``resolver.meili.MeiliBackend``)."""

    def search_once(self, queries: Sequence[SearchQuery], *, timeout_s: float) -> list[list[Hit]]:
        """Return the hits of each query, or raise MeiliUnavailable."""
        ...

    def close(self) -> None:
        """Release the connections."""
        ...


class AsyncOnceSearcher(Protocol):
    """The awaitable twin (``resolver.meili.AsyncMeiliBackend``)."""

    async def search_once(
        self, queries: Sequence[SearchQuery], *, timeout_s: float
    ) -> list[list[Hit]]:
        """Return the hits of each query, or raise MeiliUnavailable."""
        ...

    async def aclose(self) -> None:
        """Release the connections."""
        ...


def no_version() -> str | None:
    """The served version when nobody says (one-off tools): any replica will do."""
    return None


class ReplicaBackend:
    """A :class:`~resolver.backend.SearchBackend` over several replicas (blocking).

    Args:
        pool: The replicas' health and versions (shared with the reader and other backends).
        replicas: One adapter per replica, in the pool's order.
        timeout_s: The budget of one ``search_many``, the retry included.
        served: The version the resolver serves now (its snapshot's), read before each search.
    """

    def __init__(
        self,
        pool: ReplicaPool,
        replicas: Sequence[OnceSearcher],
        *,
        timeout_s: float,
        served: Callable[[], str | None] = no_version,
    ) -> None:
        self.pool = pool
        self._replicas = list(replicas)
        self._timeout_s = timeout_s
        self.served = served

    def search_many(self, queries: Sequence[SearchQuery]) -> list[list[Hit]]:
        """Search the best replica; on failure take it out and try one more, within budget."""
        if not queries:
            return []
        error: MeiliUnavailable | None = None
        for replica, left in attempts(self.pool, self.served(), self._timeout_s):
            try:
                results = self._replicas[replica].search_once(queries, timeout_s=left)
            except MeiliUnavailable as exc:
                self.pool.failed(replica, exc)
                error = exc
                continue
            self.pool.succeeded(replica, hits_version(results))
            return results
        raise no_replica_answered(error)

    def close(self) -> None:
        """Release every replica's connections."""
        for replica in self._replicas:
            replica.close()


class AsyncReplicaBackend:
    """The same as :class:`ReplicaBackend`, awaitable (an :class:`AsyncSearchBackend`)."""

    def __init__(
        self,
        pool: ReplicaPool,
        replicas: Sequence[AsyncOnceSearcher],
        *,
        timeout_s: float,
        served: Callable[[], str | None] = no_version,
    ) -> None:
        self.pool = pool
        self._replicas = list(replicas)
        self._timeout_s = timeout_s
        self.served = served

    async def search_many(self, queries: Sequence[SearchQuery]) -> list[list[Hit]]:
        """Search the best replica; on failure take it out and try one more, within budget."""
        if not queries:
            return []
        error: MeiliUnavailable | None = None
        for replica, left in attempts(self.pool, self.served(), self._timeout_s):
            try:
                results = await self._replicas[replica].search_once(queries, timeout_s=left)
            except (TimeoutError, MeiliUnavailable) as exc:
                self.pool.failed(replica, exc)
                error = exc if isinstance(exc, MeiliUnavailable) else MeiliUnavailable(str(exc))
                continue
            self.pool.succeeded(replica, hits_version(results))
            return results
        raise no_replica_answered(error)

    async def aclose(self) -> None:
        """Release every replica's connections."""
        for replica in self._replicas:
            await replica.aclose()


def no_replica_answered(error: MeiliUnavailable | None) -> MeiliUnavailable:
    """The error of a search no replica answered in time."""
    return MeiliUnavailable(f"no Meilisearch replica answered in time ({error or 'budget spent'})")


class ReplicaDataReader(Protocol):
    """One replica's published-data reader (``resolver.meili.MeiliPublishedReader``)."""

    def version(self) -> Mapping[str, Any] | None:
        """The version document, or None."""
        ...

    def documents(self) -> list[dict[str, Any]]:
        """Every document of the data index."""
        ...


class ReplicaReader:
    """A :class:`~resolver.snapshots.PublishedReader` over several replicas.

    :meth:`version` asks every replica that is in for its version document (about a millisecond
    each), records what each holds in the pool, and returns the newest (version ids sort by build
    time): the version a build has reached on some replica is followed at once, and its searches
    go to the replicas that hold it. :meth:`documents` reads the data from a replica of that
    version.
    """

    def __init__(self, pool: ReplicaPool, readers: Sequence[ReplicaDataReader]) -> None:
        self.pool = pool
        self._readers = list(readers)

    def version(self) -> Mapping[str, Any] | None:
        """The newest version document among the replicas that answer (None: none holds one).

        Raises:
            MeiliUnavailable: no replica answered.
        """
        found = self._probe()
        return max(found, key=lambda document: str(document.get("version"))) if found else None

    def documents(self) -> list[dict[str, Any]]:
        """Every document of the newest version's data index, read from a replica holding it.

        Raises:
            MeiliUnavailable: no replica holding it answered.
        """
        newest = self.version()
        wanted = str(newest.get("version")) if newest else None
        error: Exception | None = None
        for replica in self.pool.candidates(wanted):
            try:
                return self._readers[replica].documents()
            except MeiliUnavailable as exc:
                self.pool.failed(replica, exc)
                error = exc
        raise MeiliUnavailable(f"no Meilisearch replica gave the published data ({error})")

    def _probe(self) -> list[Mapping[str, Any]]:
        """Each replica's version document (those that are in); record versions and health."""
        found: list[Mapping[str, Any]] = []
        answered = 0
        error: Exception | None = None
        for replica, reader in enumerate(self._readers):
            if not self.pool.may_probe(replica):
                continue
            try:
                document = reader.version()
            except MeiliUnavailable as exc:
                self.pool.failed(replica, exc)
                error = exc
                continue
            except PublishedDataError:  # no data index there (a replica never built)
                document = None
            answered += 1
            self.pool.succeeded(replica)
            self.pool.holds(replica, str(document.get("version")) if document else None)
            if document:
                found.append(document)
        if not answered:
            raise MeiliUnavailable(f"no Meilisearch replica answered ({error or 'all out'})")
        return found
