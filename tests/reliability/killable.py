"""A Meilisearch of its own for fault tests: SIGKILL it, then bring it back on the same port.

The session's shared server must not be killed, so fault tests get their own instance, started
the same way as the ``meili`` fixture: a testcontainers container from the local image (killed
with ``docker kill``, restarted with ``docker start``), or, only where no container can be used,
the binary as a plain process (SIGKILL, then re-spawned on the same port and database).
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from pydantic import SecretStr

from search_platform.connection import Endpoint
from search_platform.files import MAX_INDEXING_MEMORY, write_server_config
from search_platform.process import LOOPBACK, free_port, spawn, stop_process
from tests.integration.conftest import HEALTH_TIMEOUT_S, wait_for_health


class Killable(Protocol):
    """A Meilisearch that can die and come back."""

    endpoint: Endpoint

    def kill(self) -> None:
        """Kill the server abruptly (SIGKILL)."""

    def restart(self) -> None:
        """Start it again on the same address and database; return once healthy."""


class ProcessMeili:
    """The binary as a child process with a fixed port and database."""

    def __init__(self, binary: Path, master_key: str, workdir: Path) -> None:
        self.binary = binary
        self.port = free_port()
        self.log = workdir / "meili.log"
        self.config = write_server_config(
            workdir / "meili.toml", db=workdir / "db", master_key=master_key
        )
        self.endpoint = Endpoint(
            url=f"http://{LOOPBACK}:{self.port}", api_key=SecretStr(master_key)
        )
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Spawn the server and wait for ``/health``."""
        self.process = spawn(self.binary, config=self.config, port=self.port, log=self.log)
        wait_for_health(self.endpoint.url, timeout_s=HEALTH_TIMEOUT_S, describe_failure=self.tail)

    def tail(self) -> str:
        """Return the server's log, for a failure message."""
        return self.log.read_text(encoding="utf-8", errors="replace")[-3000:]

    def kill(self) -> None:
        """SIGKILL the server and reap it."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def restart(self) -> None:
        """Spawn it again on the same port and database."""
        self.start()

    def stop(self) -> None:
        """Stop it for good."""
        if self.process is not None:
            stop_process(self.process)


class ContainerMeili:
    """A testcontainers container on the host network with a fixed port."""

    def __init__(self, image: str, master_key: str) -> None:
        os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")
        from testcontainers.core.container import DockerContainer

        self.port = free_port()
        self.container = (
            DockerContainer(image)
            .with_env("MEILI_HTTP_ADDR", f"{LOOPBACK}:{self.port}")
            .with_env("MEILI_MASTER_KEY", master_key)
            .with_env("MEILI_NO_ANALYTICS", "true")
            .with_env("MEILI_MAX_INDEXING_MEMORY", MAX_INDEXING_MEMORY)
            .with_env("MEILI_ENV", "development")
            .with_kwargs(network_mode="host")
        )
        self.endpoint = Endpoint(
            url=f"http://{LOOPBACK}:{self.port}", api_key=SecretStr(master_key)
        )

    def start(self) -> None:
        """Start the container and wait for ``/health``."""
        self.container.start()
        self.wait()

    def wait(self) -> None:
        """Wait for ``/health``, failing with the container's logs."""
        wait_for_health(
            self.endpoint.url, timeout_s=HEALTH_TIMEOUT_S, describe_failure=self.container.get_logs
        )

    def kill(self) -> None:
        """``docker kill`` (SIGKILL) the container."""
        wrapped: Any = self.container.get_wrapped_container()
        wrapped.kill()
        wrapped.wait(timeout=30)

    def restart(self) -> None:
        """``docker start`` the same container again (same port, same database)."""
        self.container.get_wrapped_container().start()
        self.wait()

    def stop(self) -> None:
        """Remove the container."""
        self.container.stop()


@contextmanager
def running(server: ProcessMeili | ContainerMeili) -> Iterator[ProcessMeili | ContainerMeili]:
    """Start ``server`` and stop it afterwards, whatever happened."""
    server.start()
    try:
        yield server
    finally:
        server.stop()
