"""``python -m bench.replicas``: resolution latency over 1 and 2 replicas, one killed or hung.

Starts two Meilisearch servers (the pinned binary as plain processes, one master key, free ports
on 127.0.0.1), publishes the seed to both with ``python -m index_builder build`` (``MEILI_URLS``),
then resolves the same sample of labelled queries, one after another, through the resolver's
replica pool (:mod:`resolver.replicas`, composed as :mod:`resolver.bootstrap` does), phase by
phase:

- ``1 replica``, ``2 replicas``;
- ``2, one killed``: SIGKILL of one server just before (connection refused: taken out, retried);
- ``2, one hung``: SIGSTOP of one server (timeouts: its first search waits half the budget);
- ``2, build, routed``: while a build publishes a new version to both, searches routed to the
  replicas of the served version (as the resolver runs);
- ``2, build, spread``: the same, spread over both whatever their version.

Columns: resolutions, p50, p95 and max of one resolution (ms), searches (``search_many``) that
needed a second replica, searches no replica answered, and searches answered from a replica of
another version than the one the resolver served (the answers that would flip or mix).
Results go to ``bench/results/replicas.json``.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from bench.common import (
    console,
    latency_summary,
    load_query_texts,
    machine,
    new_table,
    print_machine,
    sample_texts,
    write_result,
)
from index_builder.admin import MeiliAdmin
from index_builder.keys import ensure_search_key
from resolver.backend import Hit, SearchQuery
from resolver.bootstrap import meili_backend, open_replica_snapshots, served_by
from resolver.errors import MeiliUnavailable
from resolver.meili import MeiliBackend
from resolver.replicas import ReplicaBackend, ReplicaPool, hits_version, no_version
from resolver.service import Resolver
from search_platform.connection import Endpoint
from search_platform.files import write_server_config
from search_platform.install import resolve_binary
from search_platform.process import LOOPBACK, is_healthy, spawn, start_process, stop_process
from search_platform.settings import PROJECT_ROOT, MeiliSettings

LIVE = "noziri_bench_replicas"


@dataclass
class Server:
    """One Meilisearch process that can be killed, restarted, stopped and continued."""

    binary: Path
    config: Path
    log: Path
    port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        """Where it listens."""
        return f"http://{LOOPBACK}:{self.port}"

    def signal(self, number: int) -> None:
        """Send ``number`` to the process (SIGKILL, SIGSTOP, SIGCONT)."""
        os.kill(self.process.pid, number)

    def restart(self) -> None:
        """After a kill: the same port and database again, once healthy."""
        self.process.wait(timeout=10)
        self.process = spawn(self.binary, config=self.config, port=self.port, log=self.log)
        deadline = time.monotonic() + 30
        while not is_healthy(self.url) and time.monotonic() < deadline:
            time.sleep(0.1)


def start_server(binary: Path, workdir: Path, master_key: str) -> Server:
    """Start one server with its own database under ``workdir``."""
    workdir.mkdir(parents=True)
    config = write_server_config(workdir / "meili.toml", db=workdir / "db", master_key=master_key)
    resolved = resolve_binary(MeiliSettings(_env_file=None, meili_binary=binary))  # type: ignore[call-arg]
    process, port = start_process(resolved, config=config, log=workdir / "meili.log")
    return Server(binary, config, workdir / "meili.log", port, process)


class Counted:
    """One replica's adapter, counting the requests sent to it."""

    def __init__(self, inner: MeiliBackend) -> None:
        self.inner = inner
        self.calls = 0

    def search_once(self, queries: Sequence[SearchQuery], *, timeout_s: float) -> list[list[Hit]]:
        """Count, then search."""
        self.calls += 1
        return self.inner.search_once(queries, timeout_s=timeout_s)

    def close(self) -> None:
        """Release the connections."""
        self.inner.close()


@dataclass
class Watched:
    """The pool's backend, counting searches, failures and answers of another version."""

    backend: ReplicaBackend
    served: Callable[[], str | None]
    searches: int = 0
    failed: int = 0
    foreign: int = 0

    def search_many(self, queries: Sequence[SearchQuery]) -> list[list[Hit]]:
        """Search through the pool and count what happened."""
        self.searches += 1
        try:
            results = self.backend.search_many(queries)
        except MeiliUnavailable:
            self.failed += 1
            raise
        version = hits_version(results)
        if version is not None and version != self.served():
            self.foreign += 1
        return results


@dataclass
class Client:
    """A resolver over the replicas and its counters."""

    resolver: Resolver
    watched: Watched
    counted: list[Counted]
    pool: ReplicaPool

    def tries(self) -> int:
        """Requests sent to every replica so far."""
        return sum(replica.calls for replica in self.counted)


@contextmanager
def open_client(settings: MeiliSettings, urls: Sequence[str], *, route: bool) -> Iterator[Client]:
    """The resolver as :func:`resolver.bootstrap.open_replica_resolver` builds it, counted."""
    key = settings.meili_search_key
    endpoints = [Endpoint(url=url, api_key=key) for url in urls]
    pool = ReplicaPool(list(urls))
    with open_replica_snapshots(settings, endpoints, pool) as snapshots:
        counted = [Counted(meili_backend(settings, endpoint)) for endpoint in endpoints]
        served = served_by(snapshots)
        backend = ReplicaBackend(
            pool,
            counted,
            timeout_s=settings.meili_timeout_s,
            served=served if route else no_version,
        )
        watched = Watched(backend, served)
        try:
            yield Client(Resolver(watched, snapshots), watched, counted, pool)
        finally:
            backend.close()


@dataclass
class Phase:
    """What one phase measured."""

    name: str
    seconds: list[float] = field(default_factory=list)
    retried: int = 0
    failed: int = 0
    foreign: int = 0
    searches: int = 0

    def row(self) -> dict[str, Any]:
        """The figures of the phase."""
        summary = latency_summary(self.seconds)
        return {
            "resolutions": summary["count"],
            "p50_ms": summary["p50_ms"],
            "p95_ms": summary["p95_ms"],
            "max_ms": summary["max_ms"],
            "searches": self.searches,
            "retried": self.retried,
            "failed": self.failed,
            "other_version": self.foreign,
        }


def measure(
    client: Client, texts: Sequence[str], name: str, *, until: Callable[[], bool] | None = None
) -> Phase:
    """Resolve ``texts`` (again and again while ``until`` is false, if given); count."""
    phase = Phase(name)
    searches, tries = client.watched.searches, client.tries()
    failed, foreign = client.watched.failed, client.watched.foreign
    while True:
        for text in texts:
            started = time.perf_counter()
            with suppress(MeiliUnavailable):
                client.resolver.resolve(text)
            phase.seconds.append(time.perf_counter() - started)
            if until is not None and until():
                break
        if until is None or until():
            break
    phase.searches = client.watched.searches - searches
    phase.failed = client.watched.failed - failed
    phase.retried = client.tries() - tries - phase.searches
    phase.foreign = client.watched.foreign - foreign
    return phase


def build_command(urls: Sequence[str], master_key: str) -> tuple[list[str], dict[str, str]]:
    """``python -m index_builder build`` of the seed to every replica, and its environment."""
    env = {k: v for k, v in os.environ.items() if k != "MEILI_URL"}
    env |= {"MEILI_URLS": ",".join(urls), "MEILI_MASTER_KEY": master_key}
    return [sys.executable, "-m", "index_builder", "build", "--quiet", "--index", LIVE], env


def run_build(urls: Sequence[str], master_key: str) -> None:
    """Publish the seed to every replica (quietly); raise if it failed."""
    command, env = build_command(urls, master_key)
    subprocess.run(command, env=env, cwd=PROJECT_ROOT, check=True, capture_output=True)


def during_build(
    client: Client, texts: Sequence[str], name: str, urls: Sequence[str], master_key: str
) -> Phase:
    """Measure while a build publishes a new version to every replica."""
    done = threading.Event()

    def build() -> None:
        try:
            run_build(urls, master_key)
        finally:
            done.set()

    thread = threading.Thread(target=build, daemon=True)
    thread.start()
    phase = measure(client, texts, name, until=done.is_set)
    thread.join()
    time.sleep(1.5)  # the version check catches up
    return phase


def wait_back(pool: ReplicaPool, replica: int) -> None:
    """Wait until the version check has put a replica back in."""
    deadline = time.monotonic() + pool.cool_down_s + 5
    while not pool.is_in(replica) and time.monotonic() < deadline:
        time.sleep(0.1)


def run_phases(servers: list[Server], master_key: str, texts: Sequence[str]) -> list[Phase]:
    """Every phase, in order, on the two servers."""
    urls = [server.url for server in servers]
    run_build(urls, master_key)
    admin = MeiliAdmin(urls[0], api_key=master_key)
    key: SecretStr = ensure_search_key(admin, live=LIVE).key
    settings = MeiliSettings(
        _env_file=None,  # type: ignore[call-arg]
        meili_search_key=key,
        meili_index=LIVE,
        noziri_version_check_s=1.0,
    )
    phases = []
    with open_client(settings, urls[:1], route=True) as one:
        measure(one, texts[:50], "warm-up")
        phases.append(measure(one, texts, "1 replica"))
    with open_client(settings, urls, route=True) as two:
        phases.append(measure(two, texts, "2 replicas"))
        servers[0].signal(signal.SIGKILL)
        phases.append(measure(two, texts, "2, one killed"))
        servers[0].restart()
        wait_back(two.pool, 0)
        servers[1].signal(signal.SIGSTOP)
        try:
            phases.append(measure(two, texts, "2, one hung"))
        finally:
            servers[1].signal(signal.SIGCONT)
        wait_back(two.pool, 1)
        phases.append(during_build(two, texts, "2, build, routed", urls, master_key))
    with open_client(settings, urls, route=False) as spread:
        phases.append(during_build(spread, texts, "2, build, spread", urls, master_key))
    return phases


def render(phases: Sequence[Phase]) -> None:
    """Print the table."""
    columns = ["phase", "resolutions", "p50 ms", "p95 ms", "max ms", "searches", "retried"]
    table = new_table("Resolutions over replicas", [*columns, "failed", "other version"])
    for phase in phases:
        row = phase.row()
        table.add_row(phase.name, *(f"{value}" for value in row.values()))
    console.print(table)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the phases on two fresh servers and print the figures."""
    parser = argparse.ArgumentParser(prog="python -m bench.replicas", description=__doc__)
    parser.add_argument("--queries", type=int, default=300, help="resolutions per phase")
    args = parser.parse_args(argv)
    binary = resolve_binary(MeiliSettings()).path
    master_key = secrets.token_urlsafe(24)
    texts = sample_texts(load_query_texts(), size=args.queries)
    with tempfile.TemporaryDirectory(prefix="noziri-replicas-") as workdir:
        servers = [start_server(binary, Path(workdir) / f"r{n}", master_key) for n in range(2)]
        try:
            phases = run_phases(servers, master_key, texts)
        finally:
            for server in servers:
                server.signal(signal.SIGCONT)
                stop_process(server.process)
    render(phases)
    host = machine()
    print_machine(host)
    figures = {phase.name: phase.row() for phase in phases}
    write_result("replicas", figures, options={"queries": args.queries}, host=host)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
