"""Compose settings -> endpoint -> backend -> resolver for every entry point."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from resolver.meili import MeiliBackend
from resolver.seed import load_gazetteer
from resolver.service import Resolver, vocabulary_for
from search_platform.connection import Endpoint, search_endpoint
from search_platform.settings import MeiliSettings


def build_resolver(settings: MeiliSettings, endpoint: Endpoint) -> tuple[Resolver, MeiliBackend]:
    """Load the seed and connect a resolver to ``endpoint`` (the caller closes the backend)."""
    gazetteer = load_gazetteer(settings.seed_dir)
    backend = MeiliBackend(
        endpoint.url,
        api_key=endpoint.api_key.get_secret_value() if endpoint.api_key else None,
        index=settings.meili_index,
        timeout_s=settings.meili_timeout_s,
    )
    return Resolver(backend, gazetteer, vocabulary_for(gazetteer)), backend


@contextmanager
def open_search(settings: MeiliSettings) -> Iterator[tuple[Resolver, MeiliBackend]]:
    """Start or reach Meilisearch with the search key; yield the resolver and its backend."""
    with search_endpoint(settings) as endpoint:
        resolver, backend = build_resolver(settings, endpoint)
        try:
            yield resolver, backend
        finally:
            backend.close()


@contextmanager
def open_resolver(settings: MeiliSettings) -> Iterator[Resolver]:
    """Start or reach Meilisearch with the search key and yield a ready resolver."""
    with open_search(settings) as (resolver, _backend):
        yield resolver
