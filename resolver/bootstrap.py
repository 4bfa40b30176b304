"""Compose settings -> endpoint -> backend -> resolver for every entry point."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from resolver.meili import AsyncMeiliBackend, MeiliBackend
from resolver.seed import load_gazetteer
from resolver.service import AwaitingResolver, Pipeline, Resolver
from search_platform.connection import Endpoint, search_endpoint
from search_platform.settings import MeiliSettings


def load_pipeline(settings: MeiliSettings) -> Pipeline:
    """Load the seed and build the resolver's steps over it."""
    return Pipeline.of(load_gazetteer(settings.seed_dir))


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
def open_resolver(settings: MeiliSettings) -> Iterator[Resolver]:
    """Start or reach Meilisearch with the search key and yield a ready blocking resolver.

    The seed is read first: a typo in it is reported before any server starts.
    """
    pipeline = load_pipeline(settings)
    with search_endpoint(settings) as endpoint:
        backend = meili_backend(settings, endpoint)
        try:
            yield Resolver(backend, pipeline)
        finally:
            backend.close()


@contextmanager
def open_awaiting_resolver(settings: MeiliSettings) -> Iterator[AwaitingResolver]:
    """Start or reach Meilisearch and yield an awaiting resolver (await its ``aclose``).

    The embedded server, if this call started it, stops when the block exits. The seed is read
    first: a typo in it is reported before any server starts.
    """
    pipeline = load_pipeline(settings)
    with search_endpoint(settings) as endpoint:
        yield AwaitingResolver(async_meili_backend(settings, endpoint), pipeline)
