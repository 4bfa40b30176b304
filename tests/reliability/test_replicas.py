"""Replicated search on real Meilisearch servers (``MEILI_URLS``): build, kill, come back, sync.

Every replica is a server of this test's own (a testcontainers container from the local image, or
the binary as a plain process outside CI), all with the same master key, each on a port the OS
picked, each killable (SIGKILL) and restartable on its port and database.
"""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from pydantic import SecretStr

from index_builder.__main__ import main
from index_builder.admin import MeiliAdmin
from index_builder.keys import ensure_search_key
from resolver.bootstrap import open_awaiting_resolver, open_resolver
from resolver.published import VERSION_ID
from resolver.replicas import ReplicaBackend
from resolver.service import Resolver
from search_platform.settings import MeiliSettings
from tests.integration.conftest import (
    candidate_images,
    docker_engine,
    fallback_reason,
    find_binary_or_fail,
    image_exists,
)
from tests.reliability.building import SEED_DIR, admin_for
from tests.reliability.killable import ContainerMeili, ProcessMeili, running

Server = ProcessMeili | ContainerMeili
TEXTS = ("проспект Рудаки 83", "Айни 12", "улица Бохтар", "Sino 5", "Гуломов")
REPLY_DEADLINE_S = 2.5


@pytest.fixture
def replica_meili(tmp_path: Path) -> Iterator[Callable[[int], list[Server]]]:
    """Start ``n`` killable Meilisearch servers that share one master key."""
    master_key = secrets.token_urlsafe(24)
    client = docker_engine()
    images = [image for image in candidate_images() if client and image_exists(client, image)]
    if not images:
        fallback_reason(client)  # fails where Docker is required
    with ExitStack() as stack:

        def start(count: int) -> list[Server]:
            servers: list[Server] = []
            for number in range(count):
                workdir = tmp_path / f"replica{number}"
                workdir.mkdir()
                server: Server = (
                    ContainerMeili(images[0], master_key)
                    if images
                    else ProcessMeili(find_binary_or_fail(), master_key, workdir)
                )
                servers.append(stack.enter_context(running(server)))
            return servers

        yield start


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch) -> Callable[[list[Server]], None]:
    """Point ``python -m index_builder`` at the replicas (MEILI_URLS + the shared master key)."""

    def point(servers: list[Server]) -> None:
        key = servers[0].endpoint.api_key
        assert key is not None
        monkeypatch.delenv("MEILI_URL", raising=False)
        monkeypatch.setenv("MEILI_URLS", ",".join(server.endpoint.url for server in servers))
        monkeypatch.setenv("MEILI_MASTER_KEY", key.get_secret_value())

    return point


def live_version(admin: MeiliAdmin, live: str) -> str | None:
    """The version id a replica serves."""
    document = admin.get_document(f"{live}_meta", VERSION_ID)
    return str(document["version"]) if document else None


def build(live: str) -> int:
    """Run ``python -m index_builder build`` on the seed, in-process."""
    return main(["build", str(SEED_DIR), "--index", live, "--quiet"])


def resolver_settings(servers: list[Server], key: SecretStr, live: str) -> MeiliSettings:
    """The resolver's settings for the replicas."""
    return MeiliSettings(
        _env_file=None,  # type: ignore[call-arg]
        meili_url=None,
        meili_urls=",".join(server.endpoint.url for server in servers),
        meili_search_key=key,
        meili_index=live,
        noziri_version_check_s=0.3,
    )


def until(condition: Callable[[], bool], *, within_s: float) -> bool:
    """Wait for ``condition`` (polling); tell whether it came true in time."""
    deadline = time.monotonic() + within_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def answers(resolver: Resolver) -> tuple[list[str], float]:
    """Resolve every text; return the first candidate of each and the slowest time, s."""
    found, slowest = [], 0.0
    for text in TEXTS:
        started = time.perf_counter()
        resolution = resolver.resolve(text)
        slowest = max(slowest, time.perf_counter() - started)
        top = resolution.candidates[0].place_id if resolution.candidates else "-"
        found.append(f"{resolution.status.value}:{top}")
    return found, slowest


def test_a_build_publishes_the_same_version_and_key_to_every_replica(
    replica_meili: Callable[[int], list[Server]],
    cli_env: Callable[[list[Server]], None],
    capsys: pytest.CaptureFixture[str],
) -> None:
    servers = replica_meili(2)
    cli_env(servers)
    live = f"noziri_rep_{uuid.uuid4().hex[:8]}"
    assert build(live) == 0
    admins = [admin_for(server.endpoint) for server in servers]
    versions = {live_version(admin, live) for admin in admins}
    assert len(versions) == 1 and None not in versions
    keys = {ensure_search_key(admin, live=live).key.get_secret_value() for admin in admins}
    assert len(keys) == 1  # same uid, same master key: the same value on each replica
    out = capsys.readouterr().out
    assert "the same on 2 replicas" in out
    assert main(["status", "--index", live]) == 0
    assert f"all 2 replicas serve version {versions.pop()}" in capsys.readouterr().out


def test_searches_are_answered_while_a_replica_is_killed_and_sync_brings_it_back(
    replica_meili: Callable[[int], list[Server]],
    cli_env: Callable[[list[Server]], None],
    capsys: pytest.CaptureFixture[str],
) -> None:
    servers = replica_meili(2)
    cli_env(servers)
    live = f"noziri_rep_{uuid.uuid4().hex[:8]}"
    assert build(live) == 0
    first, second = (admin_for(server.endpoint) for server in servers)
    old = live_version(first, live)
    key = ensure_search_key(first, live=live).key
    with open_resolver(resolver_settings(servers, key, live)) as resolver:
        assert isinstance(resolver._backend, ReplicaBackend)
        pool = resolver._backend.pool
        expected, _ = answers(resolver)
        assert all(not answer.startswith("not_found") for answer in expected[:2]), expected

        servers[0].kill()
        during, slowest = answers(resolver)
        assert during == expected
        assert slowest < REPLY_DEADLINE_S
        assert not pool.is_in(0)

        capsys.readouterr()
        assert build(live) == 1  # the killed replica missed it
        err = capsys.readouterr().err
        assert "reached 1 of 2 replicas" in err and servers[0].endpoint.url in err
        new = live_version(second, live)
        assert new is not None and new != old
        assert main(["status", "--index", live]) == 1
        status = capsys.readouterr().out
        assert f"replica {servers[0].endpoint.url}: UNREACHABLE" in status

        servers[0].restart()  # back from its disk: the old version
        assert live_version(first, live) == old
        assert until(lambda: pool.is_in(0), within_s=pool.cool_down_s + 3)
        assert answers(resolver)[0] == expected
        assert resolver.pipeline.current().version.version == new
        assert pool.version_of(0) == old  # seen, and left out of the searches

        assert main(["status", "--index", live]) == 1
        assert "do not serve the newest version" in capsys.readouterr().out
        assert main(["sync", "--index", live]) == 0
        assert "all 2 replicas serve version" in capsys.readouterr().out
        assert live_version(first, live) == new
        assert until(lambda: pool.version_of(0) == new, within_s=3.0)
        assert answers(resolver)[0] == expected


async def test_the_bot_s_awaiting_resolver_answers_through_a_killed_replica(
    replica_meili: Callable[[int], list[Server]],
    cli_env: Callable[[list[Server]], None],
) -> None:
    servers = replica_meili(2)
    cli_env(servers)
    live = f"noziri_rep_{uuid.uuid4().hex[:8]}"
    assert build(live) == 0
    key = ensure_search_key(admin_for(servers[0].endpoint), live=live).key
    with open_awaiting_resolver(resolver_settings(servers, key, live)) as resolver:
        try:
            expected = [await resolver.resolve(text) for text in TEXTS]
            servers[1].kill()
            for text, before in zip(TEXTS, expected, strict=True):
                started = time.perf_counter()
                during = await resolver.resolve(text)
                assert time.perf_counter() - started < REPLY_DEADLINE_S
                assert during.candidates == before.candidates
        finally:
            await resolver.aclose()
