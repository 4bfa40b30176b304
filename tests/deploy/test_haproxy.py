"""HAProxy as deploy/ renders it: a valid config, users pinned to workers, dead workers avoided.

The backends are small real aiohttp servers (tests/deploy/conftest.py) and HAProxy is Debian's
real binary, over real TLS with the certificate deploy makes.
"""

from __future__ import annotations

import asyncio
import itertools
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from deploy.haproxy import Backend, FrontConfig, HAProxy, check_config, front_config, write_config
from deploy.plan import ProxySpec, free_ports, make_plan
from deploy.tls import make_certificate
from tests.deploy.conftest import EchoBackend

pytestmark = pytest.mark.usefixtures("haproxy")
PATH = "telegram-test-path"
USERS = range(1001, 1041)
_update_ids = itertools.count(1)


def message_from(user: int) -> dict[str, Any]:
    """A text message update from ``user``."""
    return {
        "update_id": next(_update_ids),
        "message": {"message_id": 1, "from": {"id": user}, "chat": {"id": user}, "text": "hi"},
    }


def press_from(user: int) -> dict[str, Any]:
    """A button press update from ``user``."""
    return {
        "update_id": next(_update_ids),
        "callback_query": {"id": "1", "from": {"id": user}, "data": "x"},
    }


@asynccontextmanager
async def running_front(tmp_path: Path, backends: Iterable[EchoBackend]) -> AsyncIterator[Any]:
    """HAProxy over ``backends``, all seen up; yields (haproxy, client)."""
    proxy = ProxySpec(front_port=free_ports(1)[0], data_dir=tmp_path / "haproxy")
    make_certificate(proxy)
    servers = tuple(Backend(name=b.name, port=b.port) for b in backends)
    config = FrontConfig(
        front_port=proxy.front_port,
        pem=proxy.pem,
        stats_socket=proxy.stats_socket,
        webhook_path=PATH,
        servers=servers,
    )
    write_config(config, proxy.config)
    haproxy = HAProxy(proxy.config, proxy.stats_socket, proxy.log)
    haproxy.start()
    try:
        haproxy.wait_for([s.name for s in servers], up=True, timeout_s=10)
        context = ssl.create_default_context(cafile=str(proxy.cert))
        base = proxy.front_url.rstrip("/")
        async with httpx.AsyncClient(base_url=base, verify=context, trust_env=False) as client:
            yield haproxy, client
    finally:
        haproxy.stop()


async def served_by(client: httpx.AsyncClient, update: dict[str, Any]) -> str:
    """Post one update to the webhook path; return the name of the backend that answered."""
    response = await client.post(f"/{PATH}", json=update, timeout=5)
    assert response.status_code == 200, response.text
    return str(response.json()["server"])


async def owners(
    client: httpx.AsyncClient, make_update: Callable[[int], dict[str, Any]]
) -> dict[int, str]:
    """Which backend each of USERS lands on."""
    return {user: await served_by(client, make_update(user)) for user in USERS}


@pytest.mark.parametrize("workers", [1, 3, 8])
def test_rendered_config_passes_haproxy_check(tmp_path: Path, workers: int) -> None:
    plan = make_plan(workers=workers, replicas=1, database="sqlite", run_dir=tmp_path)
    make_certificate(plan.proxy)
    write_config(front_config(plan), plan.proxy.config)
    assert "Configuration file is valid" in check_config(plan.proxy.config)
    rendered = plan.proxy.config.read_text(encoding="utf-8")
    assert rendered.count("    server worker") == workers
    assert "$" not in rendered.replace("'$.", "")


async def test_routes_each_user_to_one_worker_whatever_the_update_kind(
    tmp_path: Path, make_backends: Callable[[int], Awaitable[list[EchoBackend]]]
) -> None:
    backends = await make_backends(3)
    async with running_front(tmp_path, backends) as (_, client):
        first = await owners(client, message_from)
        assert await owners(client, message_from) == first
        assert await owners(client, press_from) == first
    assert set(first.values()) == {b.name for b in backends}, "the hash spreads users"


async def test_killed_worker_loses_its_users_to_healthy_ones_without_a_failed_update(
    tmp_path: Path, make_backends: Callable[[int], Awaitable[list[EchoBackend]]]
) -> None:
    backends = await make_backends(3)
    async with running_front(tmp_path, backends) as (haproxy, client):
        before = await owners(client, message_from)
        victim = backends[0]
        await victim.kill()
        killed_at = time.monotonic()
        during = await owners(client, message_from)  # before the checks noticed: retried
        await asyncio.to_thread(haproxy.wait_for, [victim.name], up=False, timeout_s=3)
        noticed_s = time.monotonic() - killed_at
        after = await owners(client, message_from)
    assert victim.name not in set(during.values()) | set(after.values())
    moved = {user for user, name in before.items() if name == victim.name}
    assert moved, "some users belonged to the killed worker"
    assert {u: n for u, n in after.items() if u not in moved} == {
        u: n for u, n in before.items() if u not in moved
    }, "consistent hashing keeps the other users where they were"
    assert noticed_s < 1.5


async def test_restarted_worker_gets_its_users_back(
    tmp_path: Path, make_backends: Callable[[int], Awaitable[list[EchoBackend]]]
) -> None:
    backends = await make_backends(2)
    async with running_front(tmp_path, backends) as (haproxy, client):
        before = await owners(client, message_from)
        await backends[1].kill()
        await asyncio.to_thread(haproxy.wait_for, ["worker1"], up=False, timeout_s=3)
        assert set((await owners(client, message_from)).values()) == {"worker0"}
        await backends[1].start()
        await asyncio.to_thread(haproxy.wait_for, ["worker1"], up=True, timeout_s=3)
        assert await owners(client, message_from) == before


async def test_update_without_a_sender_is_still_served(
    tmp_path: Path, make_backends: Callable[[int], Awaitable[list[EchoBackend]]]
) -> None:
    backends = await make_backends(2)
    channel_post = {"channel_post": {"message_id": 1, "chat": {"id": -5}, "text": "news"}}
    async with running_front(tmp_path, backends) as (_, client):
        names = {await served_by(client, {"update_id": n, **channel_post}) for n in range(20)}
        assert await served_by(client, channel_post) in {"worker0", "worker1"}
    assert names == {"worker0", "worker1"}, "updates without a sender spread by update_id"


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", f"/{PATH}"), ("POST", "/other"), ("GET", "/healthz"), ("POST", f"/{PATH}x")],
)
async def test_front_passes_only_posts_to_the_webhook_path(
    tmp_path: Path,
    make_backends: Callable[[int], Awaitable[list[EchoBackend]]],
    method: str,
    path: str,
) -> None:
    backends = await make_backends(1)
    async with running_front(tmp_path, backends) as (_, client):
        response = await client.request(method, path, json=message_from(1))
    assert response.status_code == 404
    assert backends[0].received == []


async def test_status_counts_sessions_per_worker(
    tmp_path: Path, make_backends: Callable[[int], Awaitable[list[EchoBackend]]]
) -> None:
    backends = await make_backends(2)
    async with running_front(tmp_path, backends) as (haproxy, client):
        mapping = await owners(client, message_from)
        states = {state.name: state for state in haproxy.servers()}
    assert set(states) == {"worker0", "worker1"}
    assert all(state.up for state in states.values()), states
    counts = {name: list(mapping.values()).count(name) for name in states}
    assert {name: s.total_sessions for name, s in states.items()} == counts
