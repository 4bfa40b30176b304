"""How every command reaches Meilisearch: one admin role, one search role.

Two ways to connect, chosen by the settings (:class:`~search_platform.settings.MeiliSettings`):

- ``MEILI_URL`` set: use that server. The admin role sends ``MEILI_MASTER_KEY``; the search role
  sends ``MEILI_SEARCH_KEY`` (or, if unset, the key the last ``index_builder build`` saved).
- ``MEILI_URLS`` set (comma-separated): several replicas of the same data. Every replica runs
  with the SAME master key (``MEILI_MASTER_KEY``); the builder creates the search key on each with
  the same fixed uid, and Meilisearch derives a key's value from its uid and the master key, so the
  one ``MEILI_SEARCH_KEY`` (or saved key) opens every replica. :func:`admin_endpoints` and
  :func:`search_endpoints` yield one endpoint per replica (``MEILI_URL`` alone is one replica).
- ``MEILI_URL`` unset: start or reuse the embedded server (:mod:`search_platform.server`). The admin
  role reads the generated master key from ``<data_dir>/master.key``; the search role reads only
  ``<data_dir>/search.key``, which the index builder writes with :func:`save_search_key`.

Usage::

    with admin_endpoint(settings) as endpoint:        # index builder
        client = meilisearch.Client(endpoint.url, endpoint.api_key.get_secret_value())
    with search_endpoint(settings) as endpoint:       # resolver, bot
        ...

Leaving the ``with`` block stops the embedded server if this block started it; keep the block
open for as long as the process serves (the bot holds it for its whole life).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from resolver.errors import MissingSearchKey
from search_platform.files import Role, data_paths, read_private_file, write_private_file
from search_platform.server import embedded_server
from search_platform.settings import MeiliSettings


@dataclass(frozen=True)
class Endpoint:
    """A Meilisearch server and the key to send to it.

    Attributes:
        url: Base URL without a trailing slash, e.g. ``http://127.0.0.1:7700``.
        api_key: The key for the ``Authorization: Bearer`` header; ``None`` for a server that
            runs without a master key.
    """

    url: str
    api_key: SecretStr | None

    def __repr__(self) -> str:
        """Show the URL and whether a key is set, never the key."""
        return f"Endpoint(url={self.url!r}, api_key={'set' if self.api_key else None})"


def external_urls(settings: MeiliSettings) -> list[str]:
    """Return the replicas of ``MEILI_URLS`` (else ``MEILI_URL``), without trailing slashes.

    Empty when neither is set (embedded mode). A URL listed twice counts once.
    """
    listed = (settings.meili_urls or settings.meili_url or "").split(",")
    urls = [url.strip().rstrip("/") for url in listed if url.strip()]
    return list(dict.fromkeys(urls))


def external_url(settings: MeiliSettings) -> str | None:
    """Return the first external server (``MEILI_URLS`` or ``MEILI_URL``), or ``None``."""
    urls = external_urls(settings)
    return urls[0] if urls else None


@contextmanager
def admin_endpoints(settings: MeiliSettings) -> Iterator[list[Endpoint]]:
    """Yield one master-key endpoint per replica (the embedded server is one replica)."""
    urls = external_urls(settings)
    if len(urls) > 1:
        yield [Endpoint(url=url, api_key=settings.meili_master_key) for url in urls]
        return
    with admin_endpoint(settings) as endpoint:
        yield [endpoint]


@contextmanager
def search_endpoints(settings: MeiliSettings) -> Iterator[list[Endpoint]]:
    """Yield one search-key endpoint per replica (the embedded server is one replica)."""
    urls = external_urls(settings)
    if len(urls) > 1:
        key = search_key(settings)
        yield [Endpoint(url=url, api_key=key) for url in urls]
        return
    with search_endpoint(settings) as endpoint:
        yield [endpoint]


@contextmanager
def admin_endpoint(settings: MeiliSettings) -> Iterator[Endpoint]:
    """Yield an endpoint with the master key, for building indexes and managing keys.

    With ``MEILI_URL`` the key is ``MEILI_MASTER_KEY``; otherwise the embedded server is started
    (or reused) and its generated master key is used, created on first use.

    Raises:
        SetupError: Meilisearch is not installed (embedded mode).
        MeiliUnavailable: the embedded server did not start.
    """
    url = external_url(settings)
    if url is not None:
        yield Endpoint(url=url, api_key=settings.meili_master_key)
        return
    with embedded_server(settings, role=Role.ADMIN) as server:
        master_key = read_private_file(data_paths(settings).master_key)
        yield Endpoint(url=server.url, api_key=SecretStr(master_key))


@contextmanager
def search_endpoint(settings: MeiliSettings) -> Iterator[Endpoint]:
    """Yield an endpoint with a search-only key, for the resolver and the bot.

    The key is ``MEILI_SEARCH_KEY`` if set, else the one saved in ``<data_dir>/search.key``.
    This role never reads the master key, even when it starts the embedded server.

    Raises:
        MissingSearchKey: no search key exists yet: run ``python -m index_builder build``.
        SetupError: Meilisearch is not installed or was never set up (embedded mode).
        MeiliUnavailable: the embedded server did not start.
    """
    key = search_key(settings)
    url = external_url(settings)
    if url is not None:
        yield Endpoint(url=url, api_key=key)
        return
    with embedded_server(settings, role=Role.SEARCH) as server:
        yield Endpoint(url=server.url, api_key=key)


def search_key_path(settings: MeiliSettings) -> Path:
    """Return the file that holds the saved search-only key."""
    return data_paths(settings).search_key


def search_key(settings: MeiliSettings) -> SecretStr:
    """Return ``MEILI_SEARCH_KEY``, or the saved key, or say how to create one."""
    if settings.meili_search_key is not None and settings.meili_search_key.get_secret_value():
        return settings.meili_search_key
    path = search_key_path(settings)
    if path.is_file():
        return SecretStr(read_private_file(path))
    raise MissingSearchKey(
        f"no search key: {path} does not exist and MEILI_SEARCH_KEY is not set. "
        "Run `python -m index_builder build` to build the index and create the key."
    )


def save_search_key(settings: MeiliSettings, key: str) -> Path:
    """Save the search-only key for the search role, as a 0600 file; return its path.

    The index builder calls this after creating or rotating the key.
    """
    return write_private_file(search_key_path(settings), key.strip() + "\n")
