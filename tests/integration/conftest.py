"""Fixtures for tests against a real Meilisearch.

``meili`` (session): an :class:`~search_platform.connection.Endpoint` with the master key, served by
a testcontainers ``DockerContainer`` started from ``MEILI_TEST_IMAGE`` (default: the official
``getmeili/meilisearch:v1.21.0``; ``.ci/run`` sets the locally built ``noziri/meilisearch:1.21.0``),
on the host network at 127.0.0.1 and a free port. The image must already exist locally: a test
never pulls. Only where no Docker engine is reachable (or, outside CI, the image is missing) does
the fixture run the binary as a plain process, and the test summary says so. With ``CI=true`` or
``NOZIRI_REQUIRE_DOCKER=1`` that fallback is an error.

``meili_client`` (session): a ``meilisearch.Client`` with the master key.
``index_uid`` (function): a fresh index name per test, deleted afterwards.
``meili_binary`` (session): the Meilisearch executable, for tests of the embedded server.
"""

from __future__ import annotations

import os
import re
import secrets
import time
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import meilisearch
import pytest
from pydantic import SecretStr

from resolver.errors import NoziriError
from search_platform.connection import Endpoint
from search_platform.files import MAX_INDEXING_MEMORY, write_server_config
from search_platform.install import MEILISEARCH, BinarySource, ResolvedBinary, resolve_binary
from search_platform.process import LOOPBACK, free_port, start_process, stop_process
from search_platform.settings import MeiliSettings

OFFICIAL_IMAGE = f"getmeili/meilisearch:v{MEILISEARCH.version}"
LOCAL_IMAGE = f"noziri/meilisearch:{MEILISEARCH.version}"
BUILD_HINT = "build it with `bash scripts/build_meili_image.sh` and set MEILI_TEST_IMAGE=" + (
    LOCAL_IMAGE
)
HEALTH_TIMEOUT_S = 30.0
SOURCE_NOTE = pytest.StashKey[str]()


def docker_required() -> bool:
    """Tell whether the tests must run through testcontainers (CI or NOZIRI_REQUIRE_DOCKER)."""
    ci = os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}
    return ci or os.environ.get("NOZIRI_REQUIRE_DOCKER", "").strip() == "1"


def docker_engine() -> Any | None:
    """Return a Docker SDK client if an engine answers, else ``None``."""
    import docker
    from docker.errors import DockerException

    try:
        client = docker.from_env(timeout=10)  # type: ignore[attr-defined]
        client.ping()
    except DockerException:
        return None
    return client


def image_exists(client: Any, image: str) -> bool:
    """Tell whether ``image`` is present locally (``docker image inspect``), never pulling."""
    from docker.errors import ImageNotFound

    try:
        client.images.get(image)
    except ImageNotFound:
        return False
    return True


def candidate_images() -> list[str]:
    """Return the images to try: ``MEILI_TEST_IMAGE`` alone, or the official then local tag."""
    chosen = os.environ.get("MEILI_TEST_IMAGE", "").strip()
    return [chosen] if chosen else [OFFICIAL_IMAGE, LOCAL_IMAGE]


def wait_for_health(url: str, *, timeout_s: float, describe_failure: Any) -> None:
    """Poll ``/health`` until it answers ``available``; fail with the server's logs otherwise."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=1.0, trust_env=False).is_success:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    pytest.fail(f"Meilisearch at {url} not healthy in {timeout_s:.0f} s:\n{describe_failure()}")


@contextmanager
def container_meili(image: str, master_key: str) -> Iterator[Endpoint]:
    """Run Meilisearch from ``image`` in a testcontainers container on the host network."""
    os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")
    from testcontainers.core.container import DockerContainer

    port = free_port()
    container = (
        DockerContainer(image)
        .with_env("MEILI_HTTP_ADDR", f"{LOOPBACK}:{port}")
        .with_env("MEILI_MASTER_KEY", master_key)
        .with_env("MEILI_NO_ANALYTICS", "true")
        .with_env("MEILI_MAX_INDEXING_MEMORY", MAX_INDEXING_MEMORY)
        .with_env("MEILI_ENV", "development")
        .with_kwargs(network_mode="host")
    )
    container.start()
    try:
        url = f"http://{LOOPBACK}:{port}"
        wait_for_health(url, timeout_s=HEALTH_TIMEOUT_S, describe_failure=container.get_logs)
        yield Endpoint(url=url, api_key=SecretStr(master_key))
    finally:
        container.stop()


@contextmanager
def process_meili(binary: Path, master_key: str, workdir: Path) -> Iterator[Endpoint]:
    """Run the binary as a plain process with its own database under ``workdir``."""
    config = write_server_config(workdir / "meili.toml", db=workdir / "db", master_key=master_key)
    named = ResolvedBinary(binary, BinarySource.MEILI_BINARY)  # as if named by MEILI_BINARY
    process, port = start_process(named, config=config, log=workdir / "meili.log")
    try:
        yield Endpoint(url=f"http://{LOOPBACK}:{port}", api_key=SecretStr(master_key))
    finally:
        stop_process(process)


def find_binary_or_fail() -> Path:
    """Return the Meilisearch executable, or fail (CI) / skip (elsewhere) with the fix."""
    try:
        return resolve_binary(MeiliSettings()).path
    except NoziriError as exc:
        if docker_required():
            pytest.fail(f"no Meilisearch binary: {exc}", pytrace=False)
        pytest.skip(f"no Meilisearch binary: {exc}")


def fallback_reason(client: Any | None) -> str:
    """Explain why no container can be used, failing outright where Docker is required."""
    if client is None:
        reason = "no Docker engine"
        hint = "start dockerd (see .ci/run) or unset CI/NOZIRI_REQUIRE_DOCKER"
    else:
        reason = f"image {' / '.join(candidate_images())} not present locally"
        hint = BUILD_HINT
    if docker_required():
        pytest.fail(
            f"integration tests must run through testcontainers, but: {reason}; {hint}",
            pytrace=False,
        )
    return reason


@pytest.fixture(scope="session")
def meili(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Endpoint]:
    """Serve a real Meilisearch for the whole session; yield its URL and master key."""
    master_key = secrets.token_urlsafe(24)
    client = docker_engine()
    images = [image for image in candidate_images() if client and image_exists(client, image)]
    if images:
        request.config.stash[SOURCE_NOTE] = f"meilisearch: testcontainers image {images[0]}"
        with container_meili(images[0], master_key) as endpoint:
            yield endpoint
        return
    reason = fallback_reason(client)
    note = f"meilisearch: FALLBACK plain process ({reason})"
    request.config.stash[SOURCE_NOTE] = note
    warnings.warn(note, stacklevel=1)
    workdir = tmp_path_factory.mktemp("meili")
    with process_meili(find_binary_or_fail(), master_key, workdir) as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def meili_client(meili: Endpoint) -> meilisearch.Client:
    """Return a Meilisearch client holding the master key."""
    assert meili.api_key is not None
    return meilisearch.Client(meili.url, meili.api_key.get_secret_value(), timeout=30)


@pytest.fixture
def index_uid(request: pytest.FixtureRequest, meili_client: meilisearch.Client) -> Iterator[str]:
    """Give this test its own index name; delete it and its companions (data, previous) after."""
    slug = re.sub(r"[^A-Za-z0-9_]+", "_", request.node.name)[:40].strip("_")
    uid = f"t_{slug}_{uuid.uuid4().hex[:8]}"
    yield uid
    for name in (uid, f"{uid}_meta", f"{uid}_previous", f"{uid}_meta_previous"):
        meili_client.wait_for_task(meili_client.delete_index(name).task_uid, timeout_in_ms=30_000)


@pytest.fixture(scope="session")
def meili_binary() -> Path:
    """Return the Meilisearch executable (for tests that start the embedded server)."""
    return find_binary_or_fail()


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """Say where Meilisearch came from: testcontainers or the plain-process fallback."""
    note = config.stash.get(SOURCE_NOTE, None)
    if note is not None:
        terminalreporter.write_line(note)
