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
import json
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from types import FrameType

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError

from resolver.errors import MeiliUnavailable, NoziriError, SetupError
from search_platform.install import resolve_binary
from search_platform.settings import MeiliSettings

LOGGER = logging.getLogger(__name__)
LOOPBACK = "127.0.0.1"
STARTUP_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
PORT_ATTEMPTS = 3
PRIVATE_FILE_MODE = 0o600


class Role(StrEnum):
    """Who asks for the server: the admin may create the master key, the search role may not."""

    ADMIN = "admin"
    SEARCH = "search"


@dataclass(frozen=True)
class DataPaths:
    """The files of the embedded server inside the data directory."""

    root: Path

    @property
    def db(self) -> Path:
        """Return the database directory."""
        return self.root / "meili"

    @property
    def master_key(self) -> Path:
        """Return the master key file."""
        return self.root / "master.key"

    @property
    def search_key(self) -> Path:
        """Return the search-only key file."""
        return self.root / "search.key"

    @property
    def config(self) -> Path:
        """Return the server's TOML config file."""
        return self.root / "meili.toml"

    @property
    def state(self) -> Path:
        """Return the running-instance state file."""
        return self.root / "meili.json"

    @property
    def log(self) -> Path:
        """Return the server's log file."""
        return self.root / "meili.log"

    @property
    def clients(self) -> Path:
        """Return the directory of lease files, one per process using the server."""
        return self.root / "clients"

    @property
    def lock(self) -> Path:
        """Return the lock file that serialises start and stop."""
        return self.root / "meili.lock"


def data_paths(settings: MeiliSettings) -> DataPaths:
    """Return the embedded server's files for these settings."""
    return DataPaths(settings.noziri_data_dir.expanduser().resolve())


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


# ---------------------------------------------------------------- private files


def write_private_file(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` atomically, readable by the owner only (0600)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    with contextlib.suppress(FileNotFoundError):
        partial.unlink()
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
        stream.write(text)
        stream.flush()
        os.fsync(stream.fileno())
    os.replace(partial, path)
    return path


def read_private_file(path: Path) -> str:
    """Read a key file, tightening its mode to 0600 if others could read it."""
    if path.stat().st_mode & 0o077:
        path.chmod(PRIVATE_FILE_MODE)
    return path.read_text(encoding="utf-8").strip()


def ensure_master_key(paths: DataPaths) -> str:
    """Return the master key, generating it (256 random bits, 0600 file) the first time."""
    if not paths.master_key.exists():
        write_private_file(paths.master_key, secrets.token_urlsafe(32) + "\n")
    return read_private_file(paths.master_key)


MAX_INDEXING_MEMORY = "1 GiB"


def toml_string(value: str | Path) -> str:
    """Quote a value as a TOML basic string."""
    return json.dumps(str(value))


def server_config(*, db: Path, master_key: str, dumps: Path, snapshots: Path) -> str:
    """Render the Meilisearch config file for one database."""
    entries = {
        "db_path": toml_string(db),
        "dump_dir": toml_string(dumps),
        "snapshot_dir": toml_string(snapshots),
        "env": toml_string("production"),
        "master_key": toml_string(master_key),
        "no_analytics": "true",
        "log_level": toml_string("WARN"),
        # Without a cap Meilisearch reserves two thirds of RAM and every indexing batch pays
        # seconds of set-up (measured: a 1-document add 3.5 s by default, 0.2-0.3 s with 1 GiB);
        # the 100k-place city indexes as fast with the cap.
        "max_indexing_memory": toml_string(MAX_INDEXING_MEMORY),
    }
    return "".join(f"{name} = {value}\n" for name, value in entries.items())


def write_server_config(config: Path, *, db: Path, master_key: str) -> Path:
    """Write a private config file that keeps the database and dumps next to it."""
    text = server_config(
        db=db, master_key=master_key, dumps=db.parent / "dumps", snapshots=db.parent / "snapshots"
    )
    return write_private_file(config, text)


def prepare_config(paths: DataPaths, role: Role) -> Path:
    """Return the config file to start with; only the admin role may create the master key."""
    if role is Role.ADMIN:
        return write_server_config(paths.config, db=paths.db, master_key=ensure_master_key(paths))
    if not paths.config.exists():
        raise SetupError(
            f"the embedded Meilisearch in {paths.root} has never been set up: "
            "run `python -m index_builder build` first (or set MEILI_URL)."
        )
    return paths.config


# ---------------------------------------------------------------- processes


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
    with log.open("wb") as output:
        return subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            cwd=config.parent,
            env=child_environment(),
            start_new_session=True,
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
    binary: Path, *, config: Path, log: Path, timeout_s: float = STARTUP_TIMEOUT_S
) -> tuple[subprocess.Popen[bytes], int]:
    """Start a healthy server on a free loopback port; return it and its port.

    Raises:
        MeiliUnavailable: it exited or did not become healthy within ``timeout_s``.
    """
    for attempt in range(1, PORT_ATTEMPTS + 1):
        port = free_port()
        process = spawn(binary, config=config, port=port, log=log)
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
    paths.root.mkdir(parents=True, exist_ok=True, mode=0o700)
    with paths.lock.open("a") as handle:
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
    paths.clients.mkdir(parents=True, exist_ok=True)
    lease_file(paths, os.getpid()).touch()


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
    binary = resolve_binary(settings).path
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
