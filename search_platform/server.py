"""The embedded Meilisearch: the project's own server when ``MEILI_URL`` is not set.

Everything lives in the data directory (``NOZIRI_DATA_DIR``, default ``.noziri/``)::

    master.key   generated master key (0600); read only by the admin role
    meili.toml   the server's config file (0600): database path and master key
    meili/       the database
    meili.json   state of the running instance: pid, port, url
    meili.log    the server's output
    clients/     one lease file per process using the server (named by pid)
    search.key   search-only key saved by the index builder (0600)

The server listens on 127.0.0.1 only, on a free port, always with ``--no-analytics``. The master
key reaches it through ``meili.toml`` (not the command line, which other users can read), so a
process that only searches can start the server without ever reading the key. An instance that
is already running (state file, live pid, healthy ``/health``) is reused, and only an instance
this process started is stopped: when its context exits, at interpreter exit, or on SIGTERM. Each
process using the server leaves a lease file in ``clients/``; the starter leaves the server
running while another live process still holds a lease (``python -m search_platform.server stop``
ends such a leftover, and the next command reuses it).
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import fcntl
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from pydantic import BaseModel, ConfigDict, ValidationError

from resolver.errors import MeiliUnavailable, NoziriError
from search_platform.files import (
    PRIVATE_DIR_MODE,
    DataPaths,
    Role,
    data_paths,
    open_private,
    prepare_config,
    secure_data_dir,
    touch_private,
    write_private_file,
)
from search_platform.install import resolve_binary
from search_platform.process import (
    LOOPBACK,
    STARTUP_TIMEOUT_S,
    STOP_TIMEOUT_S,
    is_healthy,
    start_process,
    stop_process,
)
from search_platform.settings import MeiliSettings

LOGGER = logging.getLogger(__name__)


class ServerState(BaseModel):
    """What ``meili.json`` records about the running instance."""

    model_config = ConfigDict(frozen=True)

    pid: int
    port: int
    url: str


@dataclass(frozen=True)
class EmbeddedServer:
    """A reachable embedded instance, and whether this process started it."""

    url: str
    pid: int
    started_here: bool


# ---------------------------------------------------------------- state and reuse


def read_state(paths: DataPaths) -> ServerState | None:
    """Return the recorded instance, or ``None`` if there is no readable state file."""
    try:
        return ServerState.model_validate_json(paths.state.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValidationError):
        return None


def write_state(paths: DataPaths, state: ServerState) -> None:
    """Record the running instance."""
    write_private_file(paths.state, state.model_dump_json() + "\n")


def forget_state(paths: DataPaths) -> None:
    """Remove the state file."""
    paths.state.unlink(missing_ok=True)


def runs_our_server(pid: int, paths: DataPaths) -> bool:
    """Tell whether ``pid`` is a live server started with this data directory's config file."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"--config-file-path" in command and str(paths.config).encode() in command


def running_instance(paths: DataPaths) -> EmbeddedServer | None:
    """Return the already running instance of this data directory, if there is a healthy one.

    Raises:
        MeiliUnavailable: our server process is alive but does not answer.
    """
    state = read_state(paths)
    if state is None:
        return None
    if not runs_our_server(state.pid, paths):
        forget_state(paths)
        return None
    if not is_healthy(state.url, timeout_s=3.0):
        raise MeiliUnavailable(
            f"the embedded Meilisearch (pid {state.pid}) is running but does not answer at "
            f"{state.url}: stop it with `kill {state.pid}` and retry. See {paths.log}."
        )
    return EmbeddedServer(url=state.url, pid=state.pid, started_here=False)


@contextlib.contextmanager
def locked(paths: DataPaths) -> Iterator[None]:
    """Hold an exclusive lock on the data directory while starting or stopping."""
    secure_data_dir(paths.root)
    with os.fdopen(open_private(paths.lock, os.O_WRONLY | os.O_APPEND), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# ---------------------------------------------------------------- shutdown safety

_STARTED: dict[int, tuple[subprocess.Popen[bytes], DataPaths]] = {}
_LEASES: dict[DataPaths, int] = {}


def lease_file(paths: DataPaths, pid: int) -> Path:
    """Return the file that says process ``pid`` uses the server of ``paths``."""
    return paths.clients / str(pid)


def take_lease(paths: DataPaths) -> None:
    """Record that this process uses the server (the caller holds the lock)."""
    _LEASES[paths] = _LEASES.get(paths, 0) + 1
    paths.clients.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR_MODE)
    touch_private(lease_file(paths, os.getpid()))


def drop_lease(paths: DataPaths) -> None:
    """Record that one use by this process ended (the caller holds the lock)."""
    _LEASES[paths] = _LEASES.get(paths, 1) - 1
    if _LEASES[paths] <= 0:
        del _LEASES[paths]
        lease_file(paths, os.getpid()).unlink(missing_ok=True)


def pid_alive(pid: int) -> bool:
    """Tell whether a process ``pid`` exists."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def other_clients(paths: DataPaths) -> list[int]:
    """Return the live processes other than this one that use the server; prune dead ones."""
    alive = []
    for lease in paths.clients.glob("*") if paths.clients.is_dir() else []:
        pid = int(lease.name) if lease.name.isdigit() else 0
        if pid == os.getpid():
            continue
        if pid and pid_alive(pid):
            alive.append(pid)
        else:
            lease.unlink(missing_ok=True)
    return alive


def stop_unless_shared(process: subprocess.Popen[bytes], paths: DataPaths) -> None:
    """Stop a server this process started, unless other processes still use it."""
    others = other_clients(paths)
    if others:
        LOGGER.info("leaving Meilisearch (pid %d) running for pids %s", process.pid, others)
        return
    state = read_state(paths)
    if state is not None and state.pid == process.pid:
        forget_state(paths)
    stop_process(process)


def release(server: EmbeddedServer, paths: DataPaths) -> None:
    """End one use of the server; stop it if this process started it and nobody else uses it."""
    with locked(paths):
        drop_lease(paths)
        entry = _STARTED.pop(server.pid, None) if server.started_here else None
        if entry is not None:
            stop_unless_shared(entry[0], paths)


def shutdown_all() -> None:
    """Drop this process's leases and stop the servers it started (registered with atexit)."""
    for paths in list(_LEASES):
        with locked(paths):
            _LEASES.pop(paths, None)
            lease_file(paths, os.getpid()).unlink(missing_ok=True)
    for pid in list(_STARTED):
        process, paths = _STARTED.pop(pid)
        with locked(paths):
            stop_unless_shared(process, paths)


def exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    """Turn SIGTERM into ``SystemExit`` so context managers and atexit stop the server."""
    raise SystemExit(128 + signum)


def register_shutdown() -> None:
    """Register the atexit hook that stops the servers this process started (once)."""
    atexit.unregister(shutdown_all)
    atexit.register(shutdown_all)


def exit_cleanly_on_sigterm() -> None:
    """Make SIGTERM exit through atexit, so an embedded server started here is stopped.

    Entry points call this once in ``main`` (connecting never installs a signal handler). It
    does nothing off the main thread or when another handler is already installed.
    """
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, exit_on_sigterm)


def start_embedded(
    settings: MeiliSettings, paths: DataPaths, *, role: Role, timeout_s: float
) -> EmbeddedServer:
    """Start a new instance for ``paths`` and record it (the caller holds the lock)."""
    config = prepare_config(paths, role)
    binary = resolve_binary(settings)
    process, port = start_process(binary, config=config, log=paths.log, timeout_s=timeout_s)
    url = f"http://{LOOPBACK}:{port}"
    _STARTED[process.pid] = (process, paths)
    register_shutdown()
    write_state(paths, ServerState(pid=process.pid, port=port, url=url))
    return EmbeddedServer(url=url, pid=process.pid, started_here=True)


def acquire(
    settings: MeiliSettings, *, role: Role, timeout_s: float = STARTUP_TIMEOUT_S
) -> EmbeddedServer:
    """Reuse the running embedded instance or start one, and take a lease on it."""
    paths = data_paths(settings)
    with locked(paths):
        server = running_instance(paths) or start_embedded(
            settings, paths, role=role, timeout_s=timeout_s
        )
        take_lease(paths)
        return server


@contextlib.contextmanager
def embedded_server(
    settings: MeiliSettings, *, role: Role = Role.ADMIN, timeout_s: float = STARTUP_TIMEOUT_S
) -> Iterator[EmbeddedServer]:
    """Run with the embedded Meilisearch reachable; stop it on exit if this call started it.

    Args:
        settings: Which data directory and binary to use.
        role: ``ADMIN`` creates the master key and config when missing; ``SEARCH`` needs them
            to exist already and never reads the master key.
        timeout_s: How long to wait for ``/health`` after starting.

    Raises:
        SetupError: no binary, or (search role) the server was never set up.
        MeiliUnavailable: the server did not start or a running one does not answer.
    """
    server = acquire(settings, role=role, timeout_s=timeout_s)
    try:
        yield server
    finally:
        release(server, data_paths(settings))


# ---------------------------------------------------------------- command line


def stop_recorded(paths: DataPaths, *, timeout_s: float = STOP_TIMEOUT_S) -> int | None:
    """Stop the recorded instance of ``paths`` (whoever started it); return its pid, if any."""
    with locked(paths):
        state = read_state(paths)
        if state is None or not runs_our_server(state.pid, paths):
            forget_state(paths)
            return None
        os.kill(state.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        while runs_our_server(state.pid, paths) and time.monotonic() < deadline:
            time.sleep(0.05)
        forget_state(paths)
        return state.pid


def serve_forever(settings: MeiliSettings) -> int:
    """Run the embedded server in the foreground until Ctrl-C, SIGTERM or its own exit."""
    with embedded_server(settings, role=Role.ADMIN) as server:
        if not server.started_here:
            print(f"already running at {server.url} (pid {server.pid})")
            return 0
        print(f"Meilisearch running at {server.url} (pid {server.pid}); Ctrl-C stops it")
        process = _STARTED[server.pid][0]
        with contextlib.suppress(KeyboardInterrupt):
            process.wait()
    return 0


def show_status(settings: MeiliSettings) -> int:
    """Print whether the embedded server runs; exit status 0 if it does."""
    paths = data_paths(settings)
    state = read_state(paths)
    if state is None or not runs_our_server(state.pid, paths):
        print(f"not running (data dir {paths.root})")
        return 1
    health = "healthy" if is_healthy(state.url) else "NOT answering"
    print(f"running at {state.url} (pid {state.pid}), {health}; log: {paths.log}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m search_platform.server {start,status,stop}``: run the embedded server by hand."""
    parser = argparse.ArgumentParser(prog="python -m search_platform.server", description=__doc__)
    parser.add_argument("command", choices=["start", "status", "stop"])
    command = parser.parse_args(argv).command
    settings = MeiliSettings()
    exit_cleanly_on_sigterm()
    try:
        if command == "start":
            return serve_forever(settings)
        if command == "status":
            return show_status(settings)
        pid = stop_recorded(data_paths(settings))
        print("not running" if pid is None else f"stopped pid {pid}")
        return 0
    except NoziriError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
