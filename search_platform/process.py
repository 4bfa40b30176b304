"""The Meilisearch process: a free loopback port, spawn, health, and stop.

No state, no files but the log (0600): :mod:`search_platform.server` decides when to start and
stop. The binary is checked right before every spawn (:meth:`ResolvedBinary.checked`: the pinned
sha256 for the installed one), and the server runs with umask 077, so the database it writes is
readable by the owner only.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import time
from pathlib import Path

import httpx

from resolver.errors import MeiliUnavailable
from search_platform.files import open_private
from search_platform.install import ResolvedBinary

LOGGER = logging.getLogger(__name__)
LOOPBACK = "127.0.0.1"
STARTUP_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
PORT_ATTEMPTS = 3
CHILD_UMASK = 0o077


def free_port() -> int:
    """Ask the kernel for a free TCP port on loopback."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        port: int = probe.getsockname()[1]
        return port


def child_environment() -> dict[str, str]:
    """Return this environment without MEILI_* variables, which would override the config."""
    return {name: value for name, value in os.environ.items() if not name.startswith("MEILI_")}


def spawn(binary: Path, *, config: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    """Start ``meilisearch`` in its own session, logging to ``log``."""
    command = [str(binary), "--config-file-path", str(config)]
    command += ["--http-addr", f"{LOOPBACK}:{port}", "--no-analytics"]
    with os.fdopen(open_private(log, os.O_WRONLY | os.O_TRUNC), "wb") as output:
        return subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            cwd=config.parent,
            env=child_environment(),
            start_new_session=True,
            umask=CHILD_UMASK,
        )


def is_healthy(url: str, *, timeout_s: float = 1.0) -> bool:
    """Tell whether Meilisearch at ``url`` answers ``/health`` with ``available``."""
    try:
        response = httpx.get(f"{url}/health", timeout=timeout_s, trust_env=False)
    except httpx.HTTPError:
        return False
    return response.status_code == httpx.codes.OK and '"available"' in response.text


def log_tail(log: Path, *, count: int = 12) -> str:
    """Return the last lines of the server's log, for error messages."""
    try:
        lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        return "(no log)"
    return "\n".join(line for line in lines[-count:] if line.strip())


def port_was_taken(log: Path) -> bool:
    """Tell whether the server died because its port was taken meanwhile."""
    return "Address already in use" in log_tail(log, count=40)


def wait_until_healthy(
    process: subprocess.Popen[bytes], url: str, *, log: Path, timeout_s: float
) -> None:
    """Poll ``/health`` until the server answers, it exits, or ``timeout_s`` passes."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise MeiliUnavailable(
                f"Meilisearch exited with status {process.returncode} while starting. "
                f"Its log ({log}) ends with:\n{log_tail(log)}"
            )
        if is_healthy(url):
            return
        time.sleep(0.05)
    stop_process(process)
    raise MeiliUnavailable(
        f"Meilisearch did not answer {url}/health within {timeout_s:.0f} s; it was stopped. "
        f"See {log}; a slow disk may need a longer start-up timeout."
    )


def start_process(
    binary: ResolvedBinary, *, config: Path, log: Path, timeout_s: float = STARTUP_TIMEOUT_S
) -> tuple[subprocess.Popen[bytes], int]:
    """Start a healthy server on a free loopback port; return it and its port.

    Raises:
        ChecksumMismatch: the installed binary is no longer the pinned one (checked before each
            spawn, retries included).
        MeiliUnavailable: it exited or did not become healthy within ``timeout_s``.
    """
    for attempt in range(1, PORT_ATTEMPTS + 1):
        port = free_port()
        process = spawn(binary.checked(), config=config, port=port, log=log)
        try:
            wait_until_healthy(process, f"http://{LOOPBACK}:{port}", log=log, timeout_s=timeout_s)
        except MeiliUnavailable:
            if attempt < PORT_ATTEMPTS and port_was_taken(log):
                continue
            raise
        return process, port
    raise AssertionError("unreachable: the last attempt raises")  # pragma: no cover


def stop_process(process: subprocess.Popen[bytes], *, timeout_s: float = STOP_TIMEOUT_S) -> None:
    """Stop a server gracefully (SIGTERM), killing it if it does not exit in time."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
