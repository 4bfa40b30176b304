"""Meilisearch adapter: one HTTP session, bounded retries, errors mapped at one choke point.

Search goes through ``POST /multi-search`` so that every reading of a query (Cyrillic fold,
Latin key, wrong-layout fix) costs one round trip. Low-level failures (connection refused,
timeouts, 5xx) become :class:`resolver.errors.MeiliUnavailable`; nothing else escapes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx
from pydantic import ValidationError
from tenacity import (
    retry,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential,
)

from resolver.backend import Hit, SearchQuery
from resolver.errors import MeiliUnavailable
from resolver.index_schema import CYRILLIC_FIELDS, LATIN_FIELDS, RETURNED_FIELDS, PlaceDocument


class _TransientError(Exception):
    """A failure worth one more try: connection trouble or a 5xx answer."""


class MeiliBackend:
    """Search a Meilisearch index over one keep-alive HTTP session."""

    def __init__(
        self,
        url: str,
        *,
        api_key: str | None,
        index: str,
        timeout_s: float = 2.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        # Uncompressed answers: on loopback, gzip bought nothing and a compressed body over ~1 KB
        # stalled about 40 ms on a delayed ACK (measured in bench/latency.py).
        headers = {"Accept-Encoding": "identity"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self._index = index
        self._deadline_s = timeout_s
        self._client = httpx.Client(
            base_url=url.rstrip("/"),
            headers=headers,
            timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 1.0)),
            transport=transport,
        )

    def close(self) -> None:
        """Release the HTTP session."""
        self._client.close()

    def search_many(self, queries: Sequence[SearchQuery]) -> list[list[Hit]]:
        """Run all queries in one multi-search request and parse their hits."""
        if not queries:
            return []
        body = {"queries": [self._query_body(query) for query in queries]}
        payload = self._post_with_retries("/multi-search", body)
        return [parse_hits(result.get("hits", [])) for result in payload.get("results", [])]

    def is_healthy(self) -> bool:
        """Tell whether the server answers ``/health`` right now."""
        try:
            return self._client.get("/health").status_code == 200
        except httpx.HTTPError:
            return False

    def _query_body(self, query: SearchQuery) -> dict[str, Any]:
        fields = LATIN_FIELDS if query.fields == "latin" else CYRILLIC_FIELDS
        return {
            "indexUid": self._index,
            "q": query.text,
            "limit": query.limit,
            "attributesToSearchOn": list(fields),
            "attributesToRetrieve": list(RETURNED_FIELDS),
            "showRankingScore": True,
            # One hit per place: a split street's segments would crowd out other places, and
            # the resolver links segments from the seed by house number anyway.
            "distinct": "place_id",
        }

    def _post_with_retries(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        try:
            return self._retrying_post(path, body)
        except _TransientError as exc:
            raise MeiliUnavailable(f"Meilisearch did not answer in time: {exc}") from exc

    def _retrying_post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        @retry(
            retry=retry_if_exception_type(_TransientError),
            stop=stop_after_attempt(2) | stop_after_delay(self._deadline_s),
            wait=wait_exponential(multiplier=0.05, max=0.3),
            reraise=True,
        )
        def attempt() -> dict[str, Any]:
            return self._post_once(path, body)

        return attempt()

    def _post_once(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        try:
            response = self._client.post(path, json=body)
        except httpx.TransportError as exc:  # refused, reset, timed out
            raise _TransientError(type(exc).__name__) from exc
        if response.status_code >= 500:
            raise _TransientError(f"HTTP {response.status_code}")
        if response.status_code >= 400:
            raise MeiliUnavailable(describe_client_error(response))
        result: dict[str, Any] = response.json()
        return result


def describe_client_error(response: httpx.Response) -> str:
    """Explain a 4xx answer without echoing any key."""
    try:
        code = response.json().get("code", "unknown")
    except ValueError:
        code = "unknown"
    hint = {
        "index_not_found": "build the index first: python -m index_builder build",
        "invalid_api_key": "set MEILI_SEARCH_KEY to the key the index builder created",
        "missing_authorization_header": "set MEILI_SEARCH_KEY (the server has a master key)",
    }.get(code, "check the server and the index settings")
    return f"Meilisearch refused the search ({code}): {hint}"


def parse_hits(raw_hits: list[dict[str, Any]]) -> list[Hit]:
    """Turn Meilisearch hits into :class:`Hit` values, skipping documents of another shape."""
    hits = []
    for raw in raw_hits:
        try:
            hits.append(parse_hit(raw))
        except ValidationError:
            continue
    return hits


def parse_hit(raw: dict[str, Any]) -> Hit:
    """Read one hit and the engine's ranking score."""
    return Hit(
        document=PlaceDocument.model_validate(raw),
        score=float(raw.get("_rankingScore", 0.0)),
    )
