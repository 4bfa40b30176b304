"""The topology as values: which process listens where and keeps its files where (pure but ports).

A :class:`Plan` is made once, by :func:`make_plan`, with every port picked free on 127.0.0.1 at
that moment and every file under one run directory::

    <run>/replicas/<j>/     one Meilisearch replica: meili.toml, db/, meili.log
    <run>/builder/          the index builder's data dir (the search key it saves)
    <run>/postgres/         PostgreSQL: data/, the unix socket, server.log
    <run>/reports.sqlite3   the SQLite database instead, when there is no PostgreSQL
    <run>/workers/<i>/      one bot worker's NOZIRI_DATA_DIR and worker.log
    <run>/haproxy/          haproxy.cfg, the certificate (cert.pem, key.pem, front.pem), the
                            stats socket and haproxy.log

Secrets (master key, webhook secret, database password) are not part of the plan: see
:class:`Secrets`, made fresh for every launch.
"""

from __future__ import annotations

import secrets
import socket
import tempfile
from collections.abc import Mapping
from contextlib import ExitStack
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

LOOPBACK = "127.0.0.1"
DatabaseKind = Literal["postgresql", "sqlite"]
DATABASE_NAME = "noziri"
DATABASE_USER = "noziri"


class Frozen(BaseModel):
    """A frozen value with no unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class ReplicaSpec(Frozen):
    """One Meilisearch replica."""

    index: int = Field(ge=0)
    port: int = Field(gt=0, lt=65536)
    data_dir: Path

    @property
    def url(self) -> str:
        """Where it answers."""
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def log(self) -> Path:
        """Its output."""
        return self.data_dir / "meili.log"


class WorkerSpec(Frozen):
    """One bot worker (``python -m bot`` in webhook mode)."""

    index: int = Field(ge=0)
    port: int = Field(gt=0, lt=65536)
    data_dir: Path

    @property
    def name(self) -> str:
        """Its server name in HAProxy."""
        return f"worker{self.index}"

    @property
    def url(self) -> str:
        """Its own webhook server (plain HTTP on loopback)."""
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def log(self) -> Path:
        """Its output."""
        return self.data_dir / "worker.log"


class DatabaseSpec(Frozen):
    """The shared reports database: a PostgreSQL server, or one SQLite file."""

    kind: DatabaseKind
    data_dir: Path
    port: int = Field(default=0, ge=0, lt=65536, description="0 for SQLite")
    bindir: Path | None = Field(default=None, description="PostgreSQL's server binaries")

    @property
    def sqlite_file(self) -> Path:
        """The SQLite file (SQLite only)."""
        return self.data_dir / "reports.sqlite3"

    @property
    def log(self) -> Path:
        """The server's output (PostgreSQL only)."""
        return self.data_dir / "server.log"

    def url(self, password: SecretStr) -> str:
        """The SQLAlchemy URL the workers get as ``DATABASE_URL``."""
        if self.kind == "sqlite":
            return f"sqlite:///{self.sqlite_file}"
        secret = password.get_secret_value()
        return (
            f"postgresql+psycopg://{DATABASE_USER}:{secret}@{LOOPBACK}:{self.port}/{DATABASE_NAME}"
        )


class ProxySpec(Frozen):
    """HAProxy: the TLS front the Bot API posts to, and its files."""

    front_port: int = Field(gt=0, lt=65536)
    data_dir: Path

    @property
    def config(self) -> Path:
        """The rendered configuration."""
        return self.data_dir / "haproxy.cfg"

    @property
    def cert(self) -> Path:
        """The public self-signed certificate (uploaded with setWebhook, the clients' CA)."""
        return self.data_dir / "cert.pem"

    @property
    def key(self) -> Path:
        """The certificate's private key."""
        return self.data_dir / "key.pem"

    @property
    def pem(self) -> Path:
        """Certificate and key in one file, as ``bind … ssl crt`` wants."""
        return self.data_dir / "front.pem"

    @property
    def stats_socket(self) -> Path:
        """The admin socket (``show stat``, ``show servers state``)."""
        return self.data_dir / "haproxy.sock"

    @property
    def log(self) -> Path:
        """HAProxy's output (its log goes to stderr)."""
        return self.data_dir / "haproxy.log"

    @property
    def front_url(self) -> str:
        """The HTTPS root of the front."""
        return f"https://{LOOPBACK}:{self.front_port}/"


class Plan(Frozen):
    """The whole topology on one machine."""

    run_dir: Path
    replicas: tuple[ReplicaSpec, ...]
    workers: tuple[WorkerSpec, ...]
    database: DatabaseSpec
    proxy: ProxySpec
    webhook_path: str = Field(pattern=r"^[A-Za-z0-9_-]{8,128}$")
    # More BOT_* settings for every worker (e.g. a bench lifting BOT_MAX_SENDS_PER_SECOND).
    worker_settings: tuple[tuple[str, str], ...] = ()

    @property
    def builder_dir(self) -> Path:
        """The index builder's data dir."""
        return self.run_dir / "builder"

    @property
    def meili_urls(self) -> str:
        """``MEILI_URLS`` for the builder and the workers."""
        return ",".join(replica.url for replica in self.replicas)

    @property
    def webhook_url(self) -> str:
        """The URL the Bot API posts updates to: HAProxy's front and the webhook path."""
        return f"{self.proxy.front_url}{self.webhook_path}"


class Secrets(BaseModel):
    """What one launch makes up and gives only to the processes that need it."""

    model_config = ConfigDict(frozen=True)

    master_key: SecretStr = Field(default_factory=lambda: SecretStr(secrets.token_urlsafe(24)))
    webhook_secret: SecretStr = Field(default_factory=lambda: SecretStr(secrets.token_urlsafe(32)))
    database_password: SecretStr = Field(
        default_factory=lambda: SecretStr(secrets.token_urlsafe(16))
    )


def free_ports(count: int) -> list[int]:
    """Ask the kernel for ``count`` distinct free ports on loopback (held open until all known)."""
    with ExitStack() as stack:
        probes = [stack.enter_context(socket.socket()) for _ in range(count)]
        for probe in probes:
            probe.bind((LOOPBACK, 0))
        return [int(probe.getsockname()[1]) for probe in probes]


def make_run_dir(run_dir: Path | None) -> Path:
    """Return the run directory, made if needed (a fresh one under the temp dir by default)."""
    if run_dir is None:
        return Path(tempfile.mkdtemp(prefix="noziri-deploy-"))
    run_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    return run_dir.resolve()


def make_plan(
    *,
    workers: int,
    replicas: int,
    database: DatabaseKind,
    run_dir: Path | None = None,
    pg_bindir: Path | None = None,
    worker_settings: Mapping[str, str] | None = None,
) -> Plan:
    """Lay out the topology: free loopback ports for every listener, a directory for each process.

    Args:
        workers: Bot workers behind HAProxy (0 brings up everything else).
        replicas: Meilisearch replicas (at least 1).
        database: ``postgresql`` (needs ``pg_bindir``) or ``sqlite``.
        run_dir: Where everything lives; a fresh temporary directory by default.
        pg_bindir: PostgreSQL's server binaries; found by :func:`deploy.postgres.find_bindir`
            when not given.
        worker_settings: ``BOT_*`` settings given to every worker as well.
    """
    extra = dict(worker_settings or {})
    if any(not name.startswith("BOT_") for name in extra):
        raise ValueError("worker_settings take BOT_* settings only (the rest is the topology's)")
    if replicas < 1 or workers < 0:
        raise ValueError("a topology needs at least 1 replica and no negative worker count")
    root = make_run_dir(run_dir)
    ports = free_ports(replicas + workers + 2)
    return Plan(
        run_dir=root,
        replicas=tuple(
            ReplicaSpec(index=j, port=ports[j], data_dir=root / "replicas" / str(j))
            for j in range(replicas)
        ),
        workers=tuple(
            WorkerSpec(index=i, port=ports[replicas + i], data_dir=root / "workers" / str(i))
            for i in range(workers)
        ),
        database=database_spec(database, root, port=ports[-2], bindir=pg_bindir),
        proxy=ProxySpec(front_port=ports[-1], data_dir=root / "haproxy"),
        webhook_path=f"telegram-{secrets.token_urlsafe(12)}",
        worker_settings=tuple(sorted(extra.items())),
    )


def database_spec(
    kind: DatabaseKind, root: Path, *, port: int, bindir: Path | None
) -> DatabaseSpec:
    """The database part of the plan."""
    if kind == "sqlite":
        return DatabaseSpec(kind="sqlite", data_dir=root)
    if bindir is None:
        from deploy.postgres import find_bindir  # noqa: PLC0415 (it imports this module)

        bindir = find_bindir()
    if bindir is None:
        raise ValueError(
            "PostgreSQL's server binaries are not on this machine: apt-get install -y postgresql, "
            "set NOZIRI_PG_BINDIR, or use --database sqlite"
        )
    return DatabaseSpec(kind="postgresql", data_dir=root / "postgres", port=port, bindir=bindir)
