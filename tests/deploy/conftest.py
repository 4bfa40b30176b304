"""Fixtures for deploy/: small real aiohttp servers standing in for bot workers behind HAProxy.

An :class:`EchoBackend` answers ``GET /healthz`` with 200 and a POST with its own name and the
body's ``update_id``, so a test sees which backend HAProxy chose. ``kill()`` closes its listening
socket and connections (a dead worker: connection refused); ``start()`` listens on the same port
again.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web

from tests.conftest import integration_required
from tests.integration.conftest import find_binary_or_fail


def haproxy_missing() -> bool:
    """Tell whether Debian's HAProxy is absent."""
    return shutil.which("haproxy") is None and not Path("/usr/sbin/haproxy").is_file()


@pytest.fixture
def haproxy() -> None:
    """Skip without HAProxy, or fail where CI requires every test to run (.ci/run installs it)."""
    if not haproxy_missing():
        return
    message = "HAProxy is not installed: apt-get install -y haproxy"
    if integration_required():
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture
def deploy_meili(monkeypatch: pytest.MonkeyPatch) -> Path:
    """The Meilisearch binary deploy runs its replicas from (a real one: integration)."""
    binary = find_binary_or_fail()
    monkeypatch.setenv("MEILI_BINARY", str(binary))
    return binary


@dataclass
class EchoBackend:
    """One stand-in worker: an aiohttp server on 127.0.0.1 that says who answered."""

    name: str
    port: int = 0
    received: list[int] = field(default_factory=list)
    runner: web.AppRunner | None = None

    async def start(self) -> None:
        """Listen (on the same port as before, after a kill)."""
        app = web.Application()
        app.router.add_get("/healthz", self.health)
        app.router.add_post("/{path:.*}", self.echo)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", self.port, reuse_address=True)
        await site.start()
        self.port = int(self.runner.addresses[0][1])

    async def kill(self) -> None:
        """Stop listening and drop every connection."""
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None

    async def health(self, _: web.Request) -> web.Response:
        """Always ready."""
        return web.Response(text="ok")

    async def echo(self, request: web.Request) -> web.Response:
        """Record the update and name this backend."""
        update = json.loads(await request.read() or b"{}")
        self.received.append(int(update.get("update_id", 0)))
        return web.json_response({"server": self.name})


@pytest.fixture
async def make_backends() -> AsyncIterator[Callable[[int], Awaitable[list[EchoBackend]]]]:
    """Start ``count`` echo backends; all are stopped after the test."""
    started: list[EchoBackend] = []

    async def make(count: int) -> list[EchoBackend]:
        for index in range(count):
            backend = EchoBackend(name=f"worker{index}")
            await backend.start()
            started.append(backend)
        return started[-count:]

    yield make
    for backend in started:
        await backend.kill()
