"""The search seam: what the resolver needs from a search engine, as a small Protocol.

``resolver.meili.MeiliBackend`` implements it over HTTP (``AsyncMeiliBackend`` is its awaitable
twin); tests use ``FakeSearchBackend``-style objects that return prepared hits. Nothing outside
the adapters sees Meilisearch's JSON.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict

from resolver.index_schema import PlaceDocument

Field = Literal["cyrillic", "latin"]


class SearchQuery(BaseModel):
    """One reading of the resident's text, aimed at the Cyrillic or the Latin search fields."""

    model_config = ConfigDict(frozen=True)

    text: str
    fields: Field = "cyrillic"
    limit: int = 10


class Hit(BaseModel):
    """One document found, with the engine's score; the resolver re-scores it (resolver.rank)."""

    model_config = ConfigDict(frozen=True)

    document: PlaceDocument
    score: float  # the engine's ranking score, 0..1


class SearchBackend(Protocol):
    """Runs several queries in one round trip and returns hits per query, in order."""

    def search_many(self, queries: Sequence[SearchQuery]) -> list[list[Hit]]:
        """Return the hits of each query, best first."""
        ...


class AsyncSearchBackend(Protocol):
    """The same, awaitable: for callers on an event loop (the bot)."""

    async def search_many(self, queries: Sequence[SearchQuery]) -> list[list[Hit]]:
        """Return the hits of each query, best first."""
        ...

    async def aclose(self) -> None:
        """Release the connections."""
        ...
