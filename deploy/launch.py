"""The whole topology on one machine, as an async context for tests, benches and the CLI.

::

    plan = make_plan(workers=3, replicas=2, database=default_database())
    async with launch(plan, api_root=fake.root, token=fake.token) as topo:
        ...post updates to topo.webhook_url (verify with topo.cafile, send topo.secret)...
        await topo.kill_worker(0)       # SIGKILL; HAProxy takes it out within about a second
        await topo.start_worker(0)      # back, once /healthz says 200 and HAProxy sees it up
        await topo.kill_replica(1); await topo.start_replica(1)
        print((await topo.status()).rows)

Start order: the database (and its schema), the replicas, the index build into all of them, the
certificate and HAProxy, then the workers (in parallel). Leaving the block stops everything in
the reverse order, whatever happened; every process runs in its own session and is killed
with its group if it does not stop, so nothing outlives the block. Blocking work runs in
threads: the caller's event loop (where a fake Bot API may be serving the workers' start-up
calls) keeps running.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, SecretStr

from deploy.haproxy import HAProxy, ServerState, front_config, write_config
from deploy.plan import DatabaseKind, Plan, Secrets
from deploy.postgres import Postgres, find_bindir, server_account
from deploy.processes import DeployError, answers
from deploy.replicas import Replica, build_index, hand_search_key, meili_binary
from deploy.tls import make_certificate
from deploy.workers import BOT_COMMAND, BotApi, Worker, worker_environment

LOGGER = logging.getLogger(__name__)
HEALTH_TIMEOUT_S = 10.0

Role = Literal["haproxy", "worker", "replica", "database"]


class ProcessRow(BaseModel):
    """One process of the topology, as :meth:`Topology.status` reports it."""

    model_config = ConfigDict(frozen=True)

    role: Role
    name: str
    address: str
    pid: int | None
    state: str
    log: Path


class TopologyStatus(BaseModel):
    """A snapshot of every process, and HAProxy's view of the workers."""

    model_config = ConfigDict(frozen=True)

    rows: tuple[ProcessRow, ...]
    servers: tuple[ServerState, ...]

    def workers_up(self) -> list[str]:
        """The workers HAProxy sends traffic to."""
        return [server.name for server in self.servers if server.up]


def default_database() -> DatabaseKind:
    """PostgreSQL when its server binaries are on this machine, else SQLite."""
    return "postgresql" if find_bindir() is not None else "sqlite"


@dataclass
class Topology:
    """The running topology: where to send updates, and handles to kill and restart parts."""

    plan: Plan
    secrets: Secrets
    database_url: str
    haproxy: HAProxy
    replicas: list[Replica]
    workers: list[Worker] = field(default_factory=list)
    postgres: Postgres | None = None
    aborting: threading.Event = field(default_factory=threading.Event, repr=False)

    def check_going(self) -> None:
        """Raise if the launch was aborted while starting (Ctrl-C, a cancelled task)."""
        if self.aborting.is_set():
            raise DeployError("the launch was interrupted while starting")

    @property
    def front_url(self) -> str:
        """HAProxy's HTTPS root."""
        return self.plan.proxy.front_url

    @property
    def webhook_url(self) -> str:
        """Where the Bot API posts updates (front + webhook path)."""
        return self.plan.webhook_url

    @property
    def secret(self) -> str:
        """The webhook secret (``X-Telegram-Bot-Api-Secret-Token``) every worker checks."""
        return self.secrets.webhook_secret.get_secret_value()

    @property
    def cafile(self) -> Path:
        """The front's self-signed certificate, to verify TLS with."""
        return self.plan.proxy.cert

    @property
    def meili_urls(self) -> list[str]:
        """Every replica's URL."""
        return [replica.spec.url for replica in self.replicas]

    async def kill_worker(self, index: int) -> None:
        """SIGKILL worker ``index`` (returns once it is dead, before HAProxy notices)."""
        await asyncio.to_thread(self.workers[index].kill)

    async def stop_worker(self, index: int) -> None:
        """Stop worker ``index`` gracefully (SIGTERM) and wait until HAProxy has it down."""
        await asyncio.to_thread(self.workers[index].stop)
        await self.wait_worker(index, up=False)

    async def start_worker(self, index: int) -> None:
        """Start worker ``index`` again; return once it is ready and HAProxy sends to it."""
        await asyncio.to_thread(self.workers[index].start)
        await self.wait_worker(index, up=True)

    async def wait_worker(self, index: int, *, up: bool) -> None:
        """Wait until HAProxy sees worker ``index`` up (or down)."""
        name = self.workers[index].spec.name
        await asyncio.to_thread(self.haproxy.wait_for, [name], up=up, timeout_s=HEALTH_TIMEOUT_S)

    async def kill_replica(self, index: int) -> None:
        """SIGKILL Meilisearch replica ``index``."""
        await asyncio.to_thread(self.replicas[index].kill)

    async def start_replica(self, index: int) -> None:
        """Start replica ``index`` again on its port and database; return once healthy."""
        await asyncio.to_thread(self.replicas[index].start)

    async def status(self) -> TopologyStatus:
        """Every process: pid, address, state (HAProxy's ``show stat`` for the workers)."""
        return await asyncio.to_thread(self.snapshot)

    def snapshot(self) -> TopologyStatus:
        """The blocking part of :meth:`status`."""
        servers = self.haproxy.servers() if self.haproxy.socket_answers() else []
        by_name = {server.name: server for server in servers}
        rows = [self.proxy_row(), *(self.worker_row(w, by_name) for w in self.workers)]
        rows += [self.replica_row(replica) for replica in self.replicas]
        rows.append(self.database_row())
        return TopologyStatus(rows=tuple(rows), servers=tuple(servers))

    def proxy_row(self) -> ProcessRow:
        """HAProxy's row."""
        child = self.haproxy.child
        pid = child.pid if child else None
        return ProcessRow(
            role="haproxy",
            name="haproxy",
            address=self.front_url,
            pid=pid,
            state="running" if pid else "stopped",
            log=self.haproxy.log,
        )

    @staticmethod
    def worker_row(worker: Worker, servers: dict[str, ServerState]) -> ProcessRow:
        """One worker's row, with HAProxy's verdict."""
        seen = servers.get(worker.spec.name)
        state = f"{seen.status} ({seen.check})" if seen else "unknown to HAProxy"
        pid = worker.child.pid if worker.child else None
        return ProcessRow(
            role="worker",
            name=worker.spec.name,
            address=worker.spec.url,
            pid=pid,
            state=state if pid else f"dead; HAProxy: {state}",
            log=worker.spec.log,
        )

    @staticmethod
    def replica_row(replica: Replica) -> ProcessRow:
        """One replica's row."""
        pid = replica.child.pid if replica.child else None
        healthy = pid is not None and answers(f"{replica.spec.url}/health", timeout_s=0.5)
        return ProcessRow(
            role="replica",
            name=f"meili{replica.spec.index}",
            address=replica.spec.url,
            pid=pid,
            state="available" if healthy else ("not answering" if pid else "dead"),
            log=replica.spec.log,
        )

    def database_row(self) -> ProcessRow:
        """The database's row."""
        spec = self.plan.database
        if self.postgres is None:
            address, log = str(spec.sqlite_file), spec.sqlite_file
            return ProcessRow(
                role="database", name="sqlite", address=address, pid=None, state="file", log=log
            )
        child = self.postgres.child
        pid = child.pid if child else None
        return ProcessRow(
            role="database",
            name="postgresql",
            address=f"127.0.0.1:{spec.port}",
            pid=pid,
            state="running" if pid else "stopped",
            log=spec.log,
        )

    def pids(self) -> list[int]:
        """The pids of every running process of the topology."""
        children = [self.haproxy.child, *(w.child for w in self.workers)]
        children += [r.child for r in self.replicas]
        children.append(self.postgres.child if self.postgres else None)
        return [child.pid for child in children if child is not None and child.pid is not None]

    def stop_all(self) -> None:
        """Stop everything: the workers (at once), HAProxy, the replicas, the database last."""
        with ThreadPoolExecutor(max_workers=max(1, len(self.workers))) as pool:
            list(pool.map(stop_quietly, [worker.stop for worker in self.workers]))
        stops: list[Callable[[], None]] = [self.haproxy.stop]
        stops += [replica.stop for replica in self.replicas]
        if self.postgres is not None:
            stops.append(self.postgres.stop)
        for stop in stops:
            stop_quietly(stop)


def stop_quietly(stop: Callable[[], None]) -> None:
    """Run one stop; log a failure instead of raising, so it stops no other part."""
    try:
        stop()
    except Exception:
        LOGGER.exception("could not stop a part of the topology cleanly")


def migrate_reports(url: str) -> None:
    """Create or upgrade the reports schema once, before several workers open the database."""
    from reports.store import open_store  # noqa: PLC0415 (SQLAlchemy loads only when launching)

    open_store(url).close()


def start_search(topology: Topology) -> None:
    """Start every replica and publish the index to all of them; hand the workers the key."""
    plan, master_key = topology.plan, topology.secrets.master_key
    binary = meili_binary()
    for spec in plan.replicas:
        topology.check_going()
        replica = Replica(spec, master_key, binary)
        topology.replicas.append(replica)
        replica.start()
    key = build_index(plan, master_key)
    for worker in plan.workers:
        hand_search_key(key, worker.data_dir)


def start_front(topology: Topology) -> None:
    """Make the certificate, render and check the config, start HAProxy."""
    plan = topology.plan
    make_certificate(plan.proxy)
    write_config(front_config(plan), plan.proxy.config)
    topology.haproxy.start()


def start_workers(topology: Topology, api: BotApi, command: Sequence[str]) -> None:
    """Start every worker at once; return when HAProxy sees them all up."""
    plan = topology.plan
    for spec in plan.workers:
        env = worker_environment(
            plan, spec, api=api, secrets=topology.secrets, database_url=topology.database_url
        )
        topology.workers.append(Worker(spec, env, command))
    with ThreadPoolExecutor(max_workers=len(topology.workers)) as pool:
        list(pool.map(lambda worker: worker.start(), topology.workers))
    names = [worker.spec.name for worker in topology.workers]
    topology.haproxy.wait_for(names, up=True, timeout_s=HEALTH_TIMEOUT_S)


def start_everything(topology: Topology, api: BotApi | None, command: Sequence[str]) -> None:
    """The whole start, in order (blocking); it stops between steps once the launch aborts."""
    steps: list[Callable[[Topology], None]] = [start_database, start_search, start_front]
    if api is not None:
        steps.append(lambda topo: start_workers(topo, api, command))
    for step in steps:
        topology.check_going()
        step(topology)


def bot_api(plan: Plan, api_root: str | None, token: str | SecretStr | None) -> BotApi | None:
    """The Bot API the workers use; required when there are workers."""
    if not plan.workers:
        return None
    if not api_root or not token:
        raise DeployError("workers need the Bot API: pass api_root and token to launch()")
    secret = token if isinstance(token, SecretStr) else SecretStr(token)
    return BotApi(root=api_root.rstrip("/"), token=secret)


@contextlib.asynccontextmanager
async def launch(
    plan: Plan,
    *,
    api_root: str | None = None,
    token: str | SecretStr | None = None,
    secrets: Secrets | None = None,
    worker_command: Sequence[str] = BOT_COMMAND,
) -> AsyncIterator[Topology]:
    """Bring the planned topology up for the block; stop every process of it after.

    Cancelling the start (Ctrl-C) lets the step in progress finish, then stops what started.

    Args:
        plan: What runs where (:func:`deploy.plan.make_plan`).
        api_root: The Bot API root the workers call (e.g. the fake one's ``root``).
        token: The bot token the Bot API knows.
        secrets: The master key, webhook secret and database password; fresh by default.
        worker_command: What a worker runs (``python -m bot``); tests may give a stand-in
            that keeps the same contract (:mod:`deploy.workers`).

    Raises:
        DeployError: a part did not start (its log's last lines are in the message), or
            HAProxy, PostgreSQL's or Meilisearch's binaries are missing.
    """
    api = bot_api(plan, api_root, token)
    secrets = secrets or Secrets()
    haproxy = HAProxy(plan.proxy.config, plan.proxy.stats_socket, plan.proxy.log)
    topology = Topology(plan, secrets, database_url="", haproxy=haproxy, replicas=[])
    startup = asyncio.ensure_future(
        asyncio.to_thread(start_everything, topology, api, worker_command)
    )
    try:
        await asyncio.shield(startup)
        yield topology
    finally:
        topology.aborting.set()
        await settle(startup)
        await settle(asyncio.ensure_future(asyncio.to_thread(topology.stop_all)))


async def settle(task: asyncio.Future[None]) -> None:
    """Wait for ``task`` to end, through any cancellation of the caller (no process left)."""
    while not task.done():
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait([task])  # a cancelled wait leaves the task running
    if not task.cancelled():
        task.exception()  # retrieved: the caller already has it, or it does not matter now


def start_database(topology: Topology) -> None:
    """Start the database (PostgreSQL recorded in the topology at once, so it is stopped)."""
    plan, secrets = topology.plan, topology.secrets
    if plan.database.kind == "postgresql":
        if server_account() is not None:
            plan.run_dir.chmod(0o711)  # the server's user must reach its own directory
        topology.postgres = Postgres(plan.database, secrets.database_password)
        topology.postgres.start()
    topology.database_url = plan.database.url(secrets.database_password)
    migrate_reports(topology.database_url)
