"""The shared reports database: PostgreSQL from the machine's own binaries, or a SQLite file.

PostgreSQL runs as a supervised child (``postgres -D …`` in the foreground, not ``pg_ctl``'s
daemon), listening on 127.0.0.1 only, its unix socket in its own directory, password
authentication for the one user ``noziri``. Run as root, it runs as ``postgres`` (or ``nobody``):
PostgreSQL refuses root. The binaries are found in ``NOZIRI_PG_BINDIR``, then
``pg_config --bindir``, then the newest ``/usr/lib/postgresql/*/bin`` (Debian's layout).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

import psycopg
from pydantic import SecretStr

from deploy.plan import DATABASE_NAME, DATABASE_USER, LOOPBACK, DatabaseSpec
from deploy.processes import Child, DeployError

NEEDED = ("initdb", "postgres")
START_TIMEOUT_S = 60.0


def has_binaries(directory: Path) -> bool:
    """Tell whether a directory holds the PostgreSQL server binaries."""
    return all((directory / name).is_file() for name in NEEDED)


def find_bindir() -> Path | None:
    """Where initdb and postgres are, or ``None``."""
    candidates: list[Path] = []
    if configured := os.environ.get("NOZIRI_PG_BINDIR"):
        candidates.append(Path(configured))
    if pg_config := shutil.which("pg_config"):
        with contextlib.suppress(OSError, subprocess.CalledProcessError):
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, check=True
            )
            candidates.append(Path(out.stdout.strip()))
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    return next((path for path in candidates if has_binaries(path)), None)


def server_account() -> pwd.struct_passwd | None:
    """The user to run the server as when we are root; ``None`` means ourselves."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise DeployError("running as root, and no 'postgres' or 'nobody' user to run PostgreSQL as")


@dataclass
class Postgres:
    """One PostgreSQL cluster in the plan's database directory."""

    spec: DatabaseSpec
    password: SecretStr
    child: Child | None = None

    @property
    def bindir(self) -> Path:
        """The server binaries."""
        assert self.spec.bindir is not None, "a PostgreSQL spec has its binaries"
        return self.spec.bindir

    @property
    def account(self) -> pwd.struct_passwd | None:
        """Who the server runs as."""
        return server_account()

    def give_away(self, path: Path) -> None:
        """Hand a path to the server's user."""
        if (account := self.account) is not None:
            os.chown(path, account.pw_uid, account.pw_gid)

    def check_reachable(self) -> None:
        """Make sure the server's user can enter every directory above its own."""
        account = self.account
        if account is None:
            return
        for parent in self.spec.data_dir.parents:
            info = parent.stat()
            if not info.st_mode & 0o001 and info.st_uid != account.pw_uid:
                raise DeployError(
                    f"PostgreSQL runs as {account.pw_name!r}, which cannot enter {parent}: "
                    "use a run directory it can reach (the default one under /tmp is), or "
                    "--database sqlite"
                )

    def init(self) -> None:
        """``initdb`` with password authentication, once (a second launch reuses the data)."""
        root = self.spec.data_dir
        if (root / "data" / "PG_VERSION").is_file():
            return
        self.check_reachable()
        root.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.give_away(root)
        pwfile = root / "pwfile"
        pwfile.write_text(self.password.get_secret_value() + "\n", encoding="utf-8")
        pwfile.chmod(0o600)
        self.give_away(pwfile)
        try:
            self.run_as_server(
                "initdb", "-D", str(root / "data"), "-U", DATABASE_USER, "--pwfile", str(pwfile),
                "-A", "scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync",
            )  # fmt: skip
        finally:
            pwfile.unlink(missing_ok=True)

    def run_as_server(self, binary: str, *args: str) -> None:
        """Run one PostgreSQL binary as the server's user; raise with its output on failure."""
        account = self.account
        done = subprocess.run(
            [str(self.bindir / binary), *args],
            capture_output=True,
            text=True,
            cwd=self.spec.data_dir,
            timeout=START_TIMEOUT_S,
            check=False,
            user=account.pw_uid if account else None,
            group=account.pw_gid if account else None,
            extra_groups=[] if account else None,
        )
        if done.returncode != 0:
            raise DeployError(f"PostgreSQL's {binary} failed:\n{done.stdout}\n{done.stderr}")

    def command(self) -> list[str]:
        """The server in the foreground on the plan's port, loopback only."""
        data, socket_dir = self.spec.data_dir / "data", self.spec.data_dir
        return [
            str(self.bindir / "postgres"), "-D", str(data),
            "-c", f"listen_addresses={LOOPBACK}", "-p", str(self.spec.port),
            "-c", f"unix_socket_directories={socket_dir}",
            "-c", "max_connections=200", "-c", "fsync=off", "-c", "synchronous_commit=off",
        ]  # fmt: skip

    def start(self) -> None:
        """Start the server, wait until it takes logins, create the database if missing."""
        self.init()
        account = self.account
        self.child = Child(
            "PostgreSQL",
            self.command(),
            self.spec.log,
            cwd=self.spec.data_dir,
            user=account.pw_uid if account else None,
            group=account.pw_gid if account else None,
        )
        self.spec.log.touch()
        self.give_away(self.spec.log)
        self.child.start()
        self.child.wait_until(self.takes_logins, timeout_s=START_TIMEOUT_S, what="taking logins")
        self.create_database()

    def connect(self, database: str) -> psycopg.Connection[tuple[object, ...]]:
        """Log in over TCP as the one user."""
        return psycopg.connect(
            host=LOOPBACK,
            port=self.spec.port,
            user=DATABASE_USER,
            password=self.password.get_secret_value(),
            dbname=database,
            connect_timeout=2,
            autocommit=True,
        )

    def takes_logins(self) -> bool:
        """Tell whether the server accepts a login now."""
        try:
            self.connect("postgres").close()
        except psycopg.OperationalError:
            return False
        return True

    def create_database(self) -> None:
        """``CREATE DATABASE noziri`` unless it exists."""
        with self.connect("postgres") as connection:
            found = connection.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE_NAME,)
            ).fetchone()
            if found is None:
                connection.execute(f"CREATE DATABASE {DATABASE_NAME}")

    def stop(self) -> None:
        """Fast shutdown (SIGINT: open transactions roll back), SIGKILL if it hangs."""
        if self.child is not None:
            self.child.stop(signum=signal.SIGINT)
