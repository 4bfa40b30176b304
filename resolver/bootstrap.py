"""Compose settings -> endpoint -> backend -> published data -> resolver for every entry point.

The resolver reads only the published data (:mod:`resolver.published`): a machine that runs it
needs ``MEILI_URL`` (or ``MEILI_URLS``: several replicas, :mod:`resolver.replicas`) and the
search key, and no ``seed/``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from resolver.meili import AsyncMeiliBackend, MeiliBackend, MeiliPublishedReader
from resolver.replicas import AsyncReplicaBackend, ReplicaBackend, ReplicaPool, ReplicaReader
from resolver.service import AwaitingResolver, Pipeline, Resolver
from resolver.snapshots import Snapshots
from search_platform.connection import Endpoint, search_endpoints
from search_platform.settings import MeiliSettings


def published_reader(settings: MeiliSettings, endpoint: Endpoint) -> MeiliPublishedReader:
    """The reader of the published data of ``settings.meili_index`` (the caller closes it)."""
    key = endpoint.api_key.get_secret_value() if endpoint.api_key else None
    return MeiliPublishedReader(
        endpoint.url, api_key=key, live=settings.meili_index, timeout_s=settings.meili_timeout_s
    )


@contextmanager
def open_snapshots(settings: MeiliSettings, endpoint: Endpoint) -> Iterator[Snapshots]:
    """Load the live published version and follow new ones while the block runs.

    Raises:
        PublishedDataError: nothing is published yet, or the live version cannot be served.
    """
    reader = published_reader(settings, endpoint)
    try:
        snapshots = Snapshots.load(reader)
        snapshots.watch(settings.noziri_version_check_s)
        try:
            yield snapshots
        finally:
            snapshots.close()
    finally:
        reader.close()


def load_pipeline(settings: MeiliSettings, endpoint: Endpoint) -> Pipeline:
    """The pipeline of the live published version, read once (tools and benchmarks).

    Raises:
        PublishedDataError: nothing is published yet, or the live version cannot be served.
    """
    reader = published_reader(settings, endpoint)
    try:
        return Snapshots.load(reader).current()
    finally:
        reader.close()


def meili_backend(settings: MeiliSettings, endpoint: Endpoint) -> MeiliBackend:
    """The blocking search adapter for ``endpoint`` (the caller closes it)."""
    key = endpoint.api_key.get_secret_value() if endpoint.api_key else None
    return MeiliBackend(
        endpoint.url, api_key=key, index=settings.meili_index, timeout_s=settings.meili_timeout_s
    )


def async_meili_backend(settings: MeiliSettings, endpoint: Endpoint) -> AsyncMeiliBackend:
    """The awaitable search adapter for ``endpoint`` (the caller awaits its ``aclose``)."""
    key = endpoint.api_key.get_secret_value() if endpoint.api_key else None
    return AsyncMeiliBackend(
        endpoint.url, api_key=key, index=settings.meili_index, timeout_s=settings.meili_timeout_s
    )


@contextmanager
def open_replica_snapshots(
    settings: MeiliSettings, endpoints: Sequence[Endpoint], pool: ReplicaPool
) -> Iterator[Snapshots]:
    """The same as :func:`open_snapshots`, reading whichever replica holds the newest version."""
    readers = [published_reader(settings, endpoint) for endpoint in endpoints]
    try:
        snapshots = Snapshots.load(ReplicaReader(pool, readers))
        snapshots.watch(settings.noziri_version_check_s)
        try:
            yield snapshots
        finally:
            snapshots.close()
    finally:
        for reader in readers:
            reader.close()


def served_by(snapshots: Snapshots) -> Callable[[], str | None]:
    """The version the snapshots serve now, for routing searches to replicas holding it."""
    return lambda: snapshots.current().version.version


@contextmanager
def open_resolver(settings: MeiliSettings) -> Iterator[Resolver]:
    """Start or reach Meilisearch with the search key and yield a ready blocking resolver."""
    with search_endpoints(settings) as endpoints:
        if len(endpoints) > 1:
            with open_replica_resolver(settings, endpoints) as resolver:
                yield resolver
            return
        with open_snapshots(settings, endpoints[0]) as snapshots:
            backend = meili_backend(settings, endpoints[0])
            try:
                yield Resolver(backend, snapshots)
            finally:
                backend.close()


@contextmanager
def open_replica_resolver(
    settings: MeiliSettings, endpoints: Sequence[Endpoint]
) -> Iterator[Resolver]:
    """A blocking resolver spreading its searches over the replicas."""
    pool = ReplicaPool([endpoint.url for endpoint in endpoints])
    with open_replica_snapshots(settings, endpoints, pool) as snapshots:
        backend = ReplicaBackend(
            pool,
            [meili_backend(settings, endpoint) for endpoint in endpoints],
            timeout_s=settings.meili_timeout_s,
            served=served_by(snapshots),
        )
        try:
            yield Resolver(backend, snapshots)
        finally:
            backend.close()


@contextmanager
def open_awaiting_resolver(settings: MeiliSettings) -> Iterator[AwaitingResolver]:
    """Start or reach Meilisearch and yield an awaiting resolver (await its ``aclose``).

    The embedded server, if this call started it, stops when the block exits. With several
    replicas the searches are spread over them (:mod:`resolver.replicas`).
    """
    with search_endpoints(settings) as endpoints:
        if len(endpoints) == 1:
            with open_snapshots(settings, endpoints[0]) as snapshots:
                yield AwaitingResolver(async_meili_backend(settings, endpoints[0]), snapshots)
            return
        pool = ReplicaPool([endpoint.url for endpoint in endpoints])
        with open_replica_snapshots(settings, endpoints, pool) as snapshots:
            backend = AsyncReplicaBackend(
                pool,
                [async_meili_backend(settings, endpoint) for endpoint in endpoints],
                timeout_s=settings.meili_timeout_s,
                served=served_by(snapshots),
            )
            yield AwaitingResolver(backend, snapshots)
