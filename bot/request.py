"""python-telegram-bot's HTTP requests over one aiohttp session.

python-telegram-bot talks to the Bot API through :class:`telegram.request.BaseRequest`; its default,
``HTTPXRequest``, spent about 2 ms of CPU per request on loopback (2.9 ms with 16 requests in
flight), against 0.4-0.6 ms for aiohttp (measured while profiling ``python -m bench.bot``). Every
update costs at least one request, so at 100 updates a second that difference is a fifth of a
core. :class:`AiohttpRequest` is a drop-in ``BaseRequest``: same parameters on the wire (a form
body, multipart when a file is uploaded), same timeouts, and the same ``TimedOut`` /
``NetworkError`` for python-telegram-bot to handle.

The request URL holds the bot token (``/bot<token>/<method>``), and aiohttp quotes it in some of
its errors (an invalid URL, a connection timeout, a response error). Errors are re-raised with the
token redacted and without their cause (``from None``), so no traceback can carry it either.
"""

from __future__ import annotations

import urllib.request
from functools import lru_cache
from typing import Final
from urllib.parse import urlsplit

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

from bot.security import redact, token_of_url

DEFAULT_TIMEOUT_S: Final = 5.0
DEFAULT_POOL_TIMEOUT_S: Final = 1.0


class AiohttpRequest(BaseRequest):
    """A :class:`~telegram.request.BaseRequest` with a keep-alive aiohttp session.

    Args:
        connection_pool_size: connections kept open at most (requests beyond wait for one).
        read_timeout, write_timeout, connect_timeout, pool_timeout: the defaults used when a
            Bot API call does not pass its own, as in ``HTTPXRequest`` (seconds; None = no limit).
    """

    __slots__ = ("_connect", "_pool", "_pool_size", "_read", "_session", "_write")

    def __init__(
        self,
        *,
        connection_pool_size: int = 16,
        read_timeout: float | None = DEFAULT_TIMEOUT_S,
        write_timeout: float | None = DEFAULT_TIMEOUT_S,
        connect_timeout: float | None = DEFAULT_TIMEOUT_S,
        pool_timeout: float | None = DEFAULT_POOL_TIMEOUT_S,
    ) -> None:
        if connection_pool_size < 1:
            raise ValueError("connection_pool_size must be at least 1")
        self._pool_size = connection_pool_size
        self._read = read_timeout
        self._write = write_timeout
        self._connect = connect_timeout
        self._pool = pool_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        """The read timeout used when a call does not pass one."""
        return self._read

    async def initialize(self) -> None:
        """Open the session (idempotent); it must be opened inside the running event loop."""
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size, limit_per_host=0)
            # Not trust_env: with it aiohttp reads ~/.netrc in a thread on every request.
            # Environment proxies are still honoured, through env_proxy().
            self._session = aiohttp.ClientSession(connector=connector, trust_env=False)

    async def shutdown(self) -> None:
        """Close the session and its connections."""
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(  # noqa: PLR0917 (the signature of BaseRequest.do_request)
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Send one Bot API request; return the HTTP status and the body."""
        if self._session is None or self._session.closed:
            raise RuntimeError("AiohttpRequest is not initialized: call initialize() first")
        timeout = self._timeout(read_timeout, write_timeout, connect_timeout, pool_timeout)
        try:
            async with self._session.request(
                method,
                url,
                data=request_body(request_data),
                headers={"User-Agent": self.USER_AGENT},
                timeout=timeout,
                proxy=env_proxy(url),
            ) as response:
                return response.status, await response.read()
        except TimeoutError:  # asyncio's and aiohttp's ServerTimeoutError alike
            raise TimedOut from None
        except (aiohttp.ClientError, ValueError) as err:  # yarl raises ValueError on bad URLs
            text = redact(str(err), token_of_url(url))
            raise NetworkError(f"aiohttp.{type(err).__name__}: {text}") from None

    def _timeout(
        self,
        read: ODVInput[float],
        write: ODVInput[float],
        connect: ODVInput[float],
        pool: ODVInput[float],
    ) -> aiohttp.ClientTimeout:
        """Map python-telegram-bot's four timeouts onto aiohttp's.

        aiohttp has no write timeout and counts waiting for a free connection as part of
        connecting, so the pool and connect timeouts add up, and a request may take at most
        connect + write + read in all.
        """
        read_s = pick(read, self._read)
        connect_s = pick(connect, self._connect)
        pool_s = pick(pool, self._pool)
        write_s = pick(write, self._write)
        waiting = None if connect_s is None or pool_s is None else connect_s + pool_s
        total = None
        if waiting is not None and write_s is not None and read_s is not None:
            total = waiting + write_s + read_s
        return aiohttp.ClientTimeout(
            total=total, connect=waiting, sock_connect=connect_s, sock_read=read_s
        )


def pick(value: ODVInput[float], default: float | None) -> float | None:
    """A call's own timeout, or the request's default when the call left it unset."""
    if isinstance(value, DefaultValue):
        return default
    return value


def env_proxy(url: str) -> str | None:
    """The proxy HTTPS_PROXY / HTTP_PROXY / ALL_PROXY name for ``url``, unless NO_PROXY exempts it.

    Read once per scheme and host, as httpx (python-telegram-bot's default) reads them.
    """
    parts = urlsplit(url)
    return proxy_for(parts.scheme, parts.hostname or "")


@lru_cache(maxsize=64)
def proxy_for(scheme: str, host: str) -> str | None:
    """The environment's proxy for a scheme and host (cached: the environment is read once)."""
    proxies = urllib.request.getproxies_environment()
    # proxy_bypass_environment (NO_PROXY) is in every CPython 3, though typeshed omits it.
    bypass = urllib.request.proxy_bypass_environment  # type: ignore[attr-defined]
    if not host or bypass(host, proxies):
        return None
    return proxies.get(scheme) or proxies.get("all")


def request_body(request_data: RequestData | None) -> aiohttp.FormData | dict[str, str] | None:
    """The parameters as a form, or a multipart form when the request uploads files."""
    if request_data is None:
        return None
    fields = request_data.json_parameters
    files = request_data.multipart_data
    if not files:
        return fields
    form = aiohttp.FormData(fields)
    for name, (filename, content, mimetype) in files.items():
        form.add_field(name, content, filename=filename, content_type=mimetype)
    return form
