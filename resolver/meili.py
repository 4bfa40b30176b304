"""Meilisearch adapters: one HTTP session, bounded retries, errors mapped at one choke point.

Search goes through ``POST /multi-search`` so that every reading of a query (Cyrillic fold,
Latin key, wrong-layout fix) costs one round trip. Low-level failures (connection refused,
timeouts, 5xx) become :class:`resolver.errors.MeiliUnavailable`; nothing else escapes.

Two adapters share the request, the answer's reading and the retry policy:

- :class:`MeiliBackend` blocks, over a urllib3 pool of keep-alive connections (thread-safe): the
  CLI, the benchmarks and anything synchronous. A search cost 0.69 ms of client CPU through
  urllib3 against 1.2 ms through httpx, and about 0.6 ms less wall time (loopback, 1,000 each).
- :class:`AsyncMeiliBackend` awaits, over an aiohttp session: the bot, which resolves on its
  event loop instead of in threads (0.4-0.6 ms of CPU a search; no thread hand-offs, and a
  query past its deadline is cancelled rather than left running).

:class:`MeiliPublishedReader` reads the published data (version, sectors, links, vocabulary) of
the live index, for :class:`resolver.snapshots.Snapshots`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import Any, Final

import aiohttp
import urllib3
from pydantic import ValidationError
from tenacity import (
    AsyncRetrying,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential,
)

from resolver.backend import Hit, SearchQuery
from resolver.errors import MeiliUnavailable
from resolver.index_schema import CYRILLIC_FIELDS, LATIN_FIELDS, RETURNED_FIELDS, PlaceDocument
from resolver.published import (
    MAX_DATA_DOCUMENTS,
    VERSION_ID,
    PublishedDataError,
    data_index_name,
)

# Connections kept per server: more than ever search at once (the bot handles 16 updates at a
# time by default); beyond it urllib3 opens extra ones and drops them after use, and aiohttp
# makes the extra requests wait for a free one.
POOL_SIZE: Final = 32
SEARCH_PATH: Final = "/multi-search"


class _TransientError(Exception):
    """A failure worth one more try: connection trouble or a 5xx answer."""


class MeiliSearchRequest:
    """What both adapters send and how they read the answer, for one server and index."""

    def __init__(self, url: str, *, api_key: str | None, index: str, timeout_s: float) -> None:
        self.url = url.rstrip("/")
        self.api_key = api_key
        self.index = index
        self.timeout_s = timeout_s
        # Uncompressed answers: on loopback, gzip bought nothing and a compressed body over ~1 KB
        # stalled about 40 ms on a delayed ACK (measured in bench/latency.py).
        self.headers = {"Accept-Encoding": "identity", "Content-Type": "application/json"}
        if api_key:
            self.headers["Authorization"] = f"Bearer {api_key}"

    @property
    def connect_timeout_s(self) -> float:
        """Connecting is quick or it is not happening: at most a second."""
        return min(self.timeout_s, 1.0)

    def body(self, queries: Sequence[SearchQuery]) -> bytes:
        """The multi-search request for ``queries``."""
        request = {"queries": [self.query_body(query) for query in queries]}
        return json.dumps(request, ensure_ascii=False, separators=(",", ":")).encode()

    def query_body(self, query: SearchQuery) -> dict[str, Any]:
        """One query: the fields of its script, the fields the resolver reads, one hit a place."""
        fields = LATIN_FIELDS if query.fields == "latin" else CYRILLIC_FIELDS
        return {
            "indexUid": self.index,
            "q": query.text,
            "limit": query.limit,
            "attributesToSearchOn": list(fields),
            "attributesToRetrieve": list(RETURNED_FIELDS),
            "showRankingScore": True,
            # One hit per place: a split street's segments would crowd out other places, and
            # the resolver links segments from the seed by house number anyway.
            "distinct": "place_id",
        }

    def read_answer(self, status: int, data: bytes) -> list[list[Hit]]:
        """The hits per query of a multi-search answer; 5xx is transient, 4xx is not."""
        if status >= 500:
            raise _TransientError(f"HTTP {status}")
        if status >= 400:
            raise MeiliUnavailable(describe_client_error(data))
        try:
            payload = json.loads(data)
        except ValueError as exc:
            raise MeiliUnavailable(f"{self.url} answered with something other than JSON") from exc
        if not isinstance(payload, dict):
            raise MeiliUnavailable(f"{self.url} answered with JSON that is not an object")
        return [parse_hits(result.get("hits", [])) for result in payload.get("results", [])]

    def retry_policy(self) -> dict[str, Any]:
        """One more try after a transient failure, within the timeout."""
        return {
            "retry": retry_if_exception_type(_TransientError),
            "stop": stop_after_attempt(2) | stop_after_delay(self.timeout_s),
            "wait": wait_exponential(multiplier=0.05, max=0.3),
            "reraise": True,
        }


def unavailable(exc: _TransientError) -> MeiliUnavailable:
    """What a transient failure becomes once the retries are spent."""
    return MeiliUnavailable(f"Meilisearch did not answer in time: {exc}")


class MeiliBackend:
    """Search a Meilisearch index over a pool of keep-alive connections (blocking)."""

    def __init__(
        self, url: str, *, api_key: str | None, index: str, timeout_s: float = 2.0
    ) -> None:
        self._request = MeiliSearchRequest(url, api_key=api_key, index=index, timeout_s=timeout_s)
        self._pool = urllib3.PoolManager(
            maxsize=POOL_SIZE,
            headers=self._request.headers,
            timeout=urllib3.Timeout(connect=self._request.connect_timeout_s, read=timeout_s),
            retries=False,  # tenacity retries, with the deadline in mind
        )

    def asynchronous(self) -> AsyncMeiliBackend:
        """An awaitable adapter for the same server, index, key and timeout."""
        request = self._request
        return AsyncMeiliBackend(
            request.url, api_key=request.api_key, index=request.index, timeout_s=request.timeout_s
        )

    def close(self) -> None:
        """Release the connections."""
        self._pool.clear()

    def search_many(self, queries: Sequence[SearchQuery]) -> list[list[Hit]]:
        """Run all queries in one multi-search request and parse their hits."""
        if not queries:
            return []
        body = self._request.body(queries)
        try:
            for attempt in Retrying(**self._request.retry_policy()):
                with attempt:
                    return self._post_once(body)
        except _TransientError as exc:
            raise unavailable(exc) from exc
        raise AssertionError("tenacity ends with an answer or an exception")  # pragma: no cover

    def search_once(self, queries: Sequence[SearchQuery], *, timeout_s: float) -> list[list[Hit]]:
        """One request, no retry, within ``timeout_s`` (the replica pool retries elsewhere).

        Raises:
            MeiliUnavailable: refused, reset, timed out, 5xx, or a refusal (4xx).
        """
        if not queries:
            return []
        timeout = urllib3.Timeout(connect=min(timeout_s, 1.0), read=timeout_s)
        try:
            return self._post_once(self._request.body(queries), timeout=timeout)
        except _TransientError as exc:
            raise unavailable(exc) from exc

    @property
    def url(self) -> str:
        """The server searched."""
        return self._request.url

    def _post_once(self, body: bytes, *, timeout: urllib3.Timeout | None = None) -> list[list[Hit]]:
        url = self._request.url + SEARCH_PATH
        try:
            if timeout is None:
                response = self._pool.request("POST", url, body=body)
            else:
                response = self._pool.request("POST", url, body=body, timeout=timeout)
        except urllib3.exceptions.HTTPError as exc:  # refused, reset, timed out
            raise _TransientError(type(exc).__name__) from exc
        return self._request.read_answer(response.status, response.data)


class AsyncMeiliBackend:
    """Search a Meilisearch index over an aiohttp session (awaitable).

    The session belongs to the event loop that first searches; :meth:`aclose` ends it, and a
    search from another loop later (tests run one loop each) opens a new one.
    """

    def __init__(
        self, url: str, *, api_key: str | None, index: str, timeout_s: float = 2.0
    ) -> None:
        self._request = MeiliSearchRequest(url, api_key=api_key, index=index, timeout_s=timeout_s)
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def search_many(self, queries: Sequence[SearchQuery]) -> list[list[Hit]]:
        """Run all queries in one multi-search request and parse their hits."""
        if not queries:
            return []
        body = self._request.body(queries)
        try:
            async for attempt in AsyncRetrying(**self._request.retry_policy()):
                with attempt:
                    return await self._post_once(body)
        except _TransientError as exc:
            raise unavailable(exc) from exc
        raise AssertionError("tenacity ends with an answer or an exception")  # pragma: no cover

    async def aclose(self) -> None:
        """Close the session and its connections (searching later opens a new one)."""
        session, self._session, self._loop = self._session, None, None
        if session is not None and not session.closed:
            await session.close()

    async def search_once(
        self, queries: Sequence[SearchQuery], *, timeout_s: float
    ) -> list[list[Hit]]:
        """One request, no retry, within ``timeout_s`` (the replica pool retries elsewhere).

        Raises:
            MeiliUnavailable: refused, reset, timed out, 5xx, or a refusal (4xx).
        """
        if not queries:
            return []
        timeout = aiohttp.ClientTimeout(total=timeout_s, sock_connect=min(timeout_s, 1.0))
        try:
            return await self._post_once(self._request.body(queries), timeout=timeout)
        except _TransientError as exc:
            raise unavailable(exc) from exc

    @property
    def url(self) -> str:
        """The server searched."""
        return self._request.url

    async def _post_once(
        self, body: bytes, *, timeout: aiohttp.ClientTimeout | None = None
    ) -> list[list[Hit]]:
        url = self._request.url + SEARCH_PATH
        session = self._session_here()
        try:
            post = (
                session.post(url, data=body, timeout=timeout)
                if timeout
                else session.post(url, data=body)
            )
            async with post as response:
                data = await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:  # refused, reset, timed out
            raise _TransientError(type(exc).__name__) from exc
        return self._request.read_answer(response.status, data)

    def _session_here(self) -> aiohttp.ClientSession:
        """The session of the running event loop, opened on first use."""
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._loop is not loop:
            timeout = aiohttp.ClientTimeout(
                total=self._request.timeout_s, sock_connect=self._request.connect_timeout_s
            )
            self._session = aiohttp.ClientSession(
                headers=self._request.headers,
                connector=aiohttp.TCPConnector(limit=POOL_SIZE),
                timeout=timeout,
                trust_env=False,  # Meilisearch is reached directly, as the blocking adapter does
            )
            self._loop = loop
        return self._session


def describe_client_error(body: bytes) -> str:
    """Explain a 4xx answer without echoing any key."""
    try:
        answer = json.loads(body)
        code = answer.get("code", "unknown") if isinstance(answer, dict) else "unknown"
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


class MeiliPublishedReader:
    """Read the published data of one live index with the search key (blocking).

    Both calls are one placeholder search on the data index (:mod:`resolver.published`): the
    version document alone (the cheap check a running resolver makes every few seconds), or
    every document (when the version changed).
    """

    def __init__(self, url: str, *, api_key: str | None, live: str, timeout_s: float = 2.0) -> None:
        self._request = MeiliSearchRequest(
            url, api_key=api_key, index=data_index_name(live), timeout_s=timeout_s
        )
        self._pool = urllib3.PoolManager(
            maxsize=2,
            headers=self._request.headers,
            timeout=urllib3.Timeout(connect=self._request.connect_timeout_s, read=timeout_s),
            retries=False,
        )

    @property
    def index(self) -> str:
        """The data index read."""
        return self._request.index

    def version(self) -> dict[str, Any] | None:
        """The version document of the live data index, or None when it has none."""
        found = self._search({"q": "", "filter": f"type = {VERSION_ID}", "limit": 1})
        return found[0] if found else None

    def documents(self) -> list[dict[str, Any]]:
        """Every document of the live data index, read in one search (one version whole)."""
        return self._search({"q": "", "limit": MAX_DATA_DOCUMENTS})

    def close(self) -> None:
        """Release the connections."""
        self._pool.clear()

    def _search(self, query: dict[str, Any]) -> list[dict[str, Any]]:
        url = f"{self._request.url}/indexes/{self.index}/search"
        body = json.dumps(query).encode()
        try:
            response = self._pool.request("POST", url, body=body)
        except urllib3.exceptions.HTTPError as exc:
            raise MeiliUnavailable(f"Meilisearch did not answer: {type(exc).__name__}") from exc
        if response.status >= 500:
            raise MeiliUnavailable(
                f"Meilisearch failed reading {self.index}: HTTP {response.status}"
            )
        if response.status >= 400:
            raise PublishedDataError(
                f"{self.index} cannot be read ({describe_client_error(response.data)})"
            )
        hits = json.loads(response.data).get("hits", [])
        return [hit for hit in hits if isinstance(hit, dict)]
