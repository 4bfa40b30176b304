"""A throwaway PostgreSQL server for the tests, from the machine's own binaries (never an image).

``initdb`` into a fresh temporary directory, ``pg_ctl start`` on a free 127.0.0.1 port with the
unix socket in that directory and password authentication, ``pg_ctl stop`` at the end. Run as
root (CI is), the server runs as an unprivileged user (``postgres`` if it exists, else
``nobody``): PostgreSQL refuses to run as root.

The binaries are found as :mod:`deploy.postgres` finds them: ``NOZIRI_PG_BINDIR``, then
``pg_config --bindir``, then the newest ``/usr/lib/postgresql/*/bin``.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from deploy.postgres import server_account

START_TIMEOUT_S = 60
# Durability is not what these tests measure.
FAST_OPTIONS = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class PostgresServer:
    """A running server: where it listens and how to log in."""

    root: Path
    port: int
    password: str
    user: str = "noziri"

    def url(self, database: str = "postgres") -> str:
        """The SQLAlchemy URL of one database."""
        return f"postgresql+psycopg://{self.user}:{self.password}@127.0.0.1:{self.port}/{database}"


class PostgresCluster:
    """Runs the binaries of ``bindir`` as the right user inside ``root``."""

    def __init__(self, bindir: Path, root: Path) -> None:
        self.bindir = bindir
        self.root = root
        self.account = server_account()

    def run(self, *command: str) -> None:
        """Run a PostgreSQL binary, as the server's user; raise with its output on failure."""
        kwargs = {}
        if self.account is not None:
            kwargs = {
                "user": self.account.pw_uid,
                "group": self.account.pw_gid,
                "extra_groups": [],  # none of root's groups
            }
        done = subprocess.run(
            [str(self.bindir / command[0]), *command[1:]],
            capture_output=True,
            text=True,
            cwd=self.root,
            timeout=START_TIMEOUT_S,
            check=False,
            **kwargs,  # type: ignore[arg-type]
        )
        if done.returncode != 0:
            raise RuntimeError(f"{command[0]} failed:\n{done.stdout}\n{done.stderr}")

    def give_away(self, path: Path) -> None:
        """Hand a path to the server's user."""
        if self.account is not None:
            os.chown(path, self.account.pw_uid, self.account.pw_gid)

    def init(self, password: str) -> None:
        """initdb with password authentication for the one superuser."""
        self.give_away(self.root)
        pwfile = self.root / "pwfile"
        pwfile.write_text(password + "\n", encoding="utf-8")
        pwfile.chmod(0o600)
        self.give_away(pwfile)
        self.run(
            "initdb", "-D", str(self.root / "data"), "-U", "noziri", "--pwfile", str(pwfile),
            "-A", "scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync",
        )  # fmt: skip
        pwfile.unlink()

    def start(self, port: int) -> None:
        """pg_ctl start on 127.0.0.1:port, socket in the root, waiting until it answers."""
        options = f"-c listen_addresses=127.0.0.1 -p {port} -k {self.root} {FAST_OPTIONS}"
        data, log = str(self.root / "data"), str(self.root / "server.log")
        self.run("pg_ctl", "-D", data, "-o", options, "-l", log, "-w", "start")

    def stop(self) -> None:
        """pg_ctl stop, fast (rolls back what is open)."""
        with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
            self.run("pg_ctl", "-D", str(self.root / "data"), "-m", "fast", "-w", "stop")


@contextlib.contextmanager
def running_postgres(bindir: Path) -> Iterator[PostgresServer]:
    """Start a fresh server for the block, and stop and remove it after."""
    root = Path(tempfile.mkdtemp(prefix="noziri-pg-"))  # under /tmp: the server's user reaches it
    cluster = PostgresCluster(bindir, root)
    password = secrets.token_urlsafe(16)
    try:
        cluster.init(password)
        port = free_port()
        cluster.start(port)
        try:
            yield PostgresServer(root=root, port=port, password=password)
        finally:
            cluster.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)
