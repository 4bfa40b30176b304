"""Resolver latency, one client, next to raw Meilisearch searches of the same texts in the same run.

Run after ``python -m index_builder build``::

    python -m bench.latency [--sample 1500] [--warmup 200] [--profile]

For each text of a fixed random sample of the labelled noisy queries it times, alternating the
order, one plain ``POST /indexes/<uid>/search`` of the text as typed (one keep-alive urllib3
session: the floor) and one ``Resolver.resolve(text)``. The resolver's time is split into its
multi-search round trip and the Python work around it (parse, readings, scoring, linking).
Target: resolver p50 at most 1.5 x raw p50. ``--profile`` adds a cProfile of the resolver loop.
Writes ``bench/results/latency.json`` (and ``latency-profile.txt`` with ``--profile``).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import (
    DEFAULT_SAMPLE,
    LABELLED_QUERIES,
    RESULTS,
    Machine,
    RawMeili,
    console,
    cpu_seconds,
    latency_summary,
    load_query_texts,
    machine,
    new_table,
    print_machine,
    sample_texts,
    verdict,
    write_result,
)
from resolver.backend import Hit, SearchBackend, SearchQuery
from resolver.bootstrap import load_pipeline
from resolver.meili import MeiliBackend
from resolver.service import Resolver
from search_platform.connection import Endpoint, external_url, search_endpoint
from search_platform.files import data_paths
from search_platform.server import read_state
from search_platform.settings import MeiliSettings

TARGET_RATIO = 1.5
PROFILE_LINES = 30


class TimedBackend:
    """A search backend that records each multi-search's duration and size."""

    def __init__(self, inner: SearchBackend) -> None:
        self._inner = inner
        self.round_trips: list[float] = []
        self.query_counts: list[int] = []

    def search_many(self, queries: Sequence[SearchQuery]) -> list[list[Hit]]:
        """Delegate to the real backend and record the call."""
        start = time.perf_counter()
        try:
            return self._inner.search_many(queries)
        finally:
            self.round_trips.append(time.perf_counter() - start)
            self.query_counts.append(len(queries))

    def reset(self) -> None:
        """Forget what warm-up recorded."""
        self.round_trips.clear()
        self.query_counts.clear()


@dataclass
class Clients:
    """The two things compared, on the same server: the resolver and plain searches."""

    resolver: Resolver
    timed: TimedBackend
    raw: RawMeili
    backend: MeiliBackend

    def close(self) -> None:
        """Release both HTTP sessions."""
        self.backend.close()
        self.raw.close()


def open_clients(settings: MeiliSettings, endpoint: Endpoint) -> Clients:
    """Build a resolver exactly as ``resolver.bootstrap`` does, but with a timed backend.

    The only difference from ``resolver.bootstrap.open_resolver`` is the :class:`TimedBackend`
    wrapper, which costs two clock reads per resolution.
    """
    key = endpoint.api_key.get_secret_value() if endpoint.api_key else None
    backend = MeiliBackend(
        endpoint.url, api_key=key, index=settings.meili_index, timeout_s=settings.meili_timeout_s
    )
    timed = TimedBackend(backend)
    resolver = Resolver(timed, load_pipeline(settings, endpoint))
    raw = RawMeili(endpoint.url, api_key=key, index=settings.meili_index)
    return Clients(resolver=resolver, timed=timed, raw=raw, backend=backend)


@dataclass
class Samples:
    """Per-text timings in seconds, in the order measured."""

    raw: list[float] = field(default_factory=list)
    resolver: list[float] = field(default_factory=list)
    round_trip: list[float] = field(default_factory=list)
    python_work: list[float] = field(default_factory=list)
    errors: int = 0

    def add_resolution(self, total: float, round_trip: float) -> None:
        """Record one resolution and the part of it spent waiting for Meilisearch."""
        self.resolver.append(total)
        self.round_trip.append(round_trip)
        self.python_work.append(total - round_trip)


def time_call(action: Callable[[str], object], text: str) -> float | None:
    """Time one call on ``text``; ``None`` if it raised."""
    start = time.perf_counter()
    try:
        action(text)
    except Exception:  # counted as an error; the run goes on
        return None
    return time.perf_counter() - start


def measure_raw(clients: Clients, text: str, samples: Samples) -> None:
    """Time one plain search of ``text``."""
    took = time_call(clients.raw.search, text)
    if took is None:
        samples.errors += 1
    else:
        samples.raw.append(took)


def measure_resolver(clients: Clients, text: str, samples: Samples) -> None:
    """Time one resolution of ``text`` and the multi-search round trips inside it."""
    mark = len(clients.timed.round_trips)
    took = time_call(clients.resolver.resolve, text)
    if took is None:
        samples.errors += 1
    else:
        samples.add_resolution(took, sum(clients.timed.round_trips[mark:]))


def measure(clients: Clients, texts: Sequence[str]) -> Samples:
    """Time a raw search and a resolution of every text, alternating which goes first."""
    samples = Samples()
    for position, text in enumerate(texts):
        steps = (measure_raw, measure_resolver)
        for step in steps if position % 2 == 0 else reversed(steps):
            step(clients, text, samples)
    return samples


def cpu_cost(
    action: Callable[[str], object], texts: Sequence[str], server_pid: int | None
) -> dict[str, float]:
    """CPU milliseconds per call spent by this process and by the Meilisearch server.

    CPU time, unlike wall time, hardly changes when other work shares the machine, so these
    figures stay comparable between runs on a busy machine.
    """
    client_start = time.process_time()
    server_start = cpu_seconds(server_pid) if server_pid else 0.0
    for text in texts:
        time_call(action, text)
    count = max(1, len(texts))
    client_ms = 1000 * (time.process_time() - client_start) / count
    server_ms = 1000 * (cpu_seconds(server_pid) - server_start) / count if server_pid else 0.0
    return {
        "client_cpu_ms": round(client_ms, 3),
        "meilisearch_cpu_ms": round(server_ms, 3) if server_pid else -1.0,
        "total_cpu_ms": round(client_ms + server_ms, 3),
    }


def cpu_costs(clients: Clients, texts: Sequence[str], server_pid: int | None) -> dict[str, Any]:
    """CPU cost per raw search and per resolution, each over all ``texts`` in turn."""
    return {
        "raw_meilisearch": cpu_cost(clients.raw.search, texts, server_pid),
        "resolver": cpu_cost(clients.resolver.resolve, texts, server_pid),
        "server_pid_known": server_pid is not None,
    }


def embedded_server_pid(settings: MeiliSettings) -> int | None:
    """The pid of the embedded Meilisearch serving this run, or ``None`` with ``MEILI_URL``."""
    if external_url(settings):
        return None
    state = read_state(data_paths(settings))
    return state.pid if state is not None else None


def warm_up(clients: Clients, texts: Sequence[str]) -> None:
    """Run both clients over ``texts`` untimed (connections, caches, lazy imports)."""
    for text in texts:
        time_call(clients.raw.search, text)
        time_call(clients.resolver.resolve, text)
    clients.timed.reset()


def profile_resolver(resolver: Resolver, texts: Sequence[str]) -> str:
    """Profile resolutions of ``texts`` with cProfile; return the top functions by own time."""
    profiler = cProfile.Profile()
    profiler.enable()
    for text in texts:
        time_call(resolver.resolve, text)
    profiler.disable()
    report = io.StringIO()
    stats = pstats.Stats(profiler, stream=report).strip_dirs()
    stats.sort_stats("tottime").print_stats(PROFILE_LINES)
    stats.sort_stats("cumulative").print_stats(PROFILE_LINES)
    return report.getvalue()


def figures_of(samples: Samples, timed: TimedBackend) -> dict[str, Any]:
    """Turn timings into the figures of the report."""
    raw = latency_summary(samples.raw)
    resolver = latency_summary(samples.resolver)
    ratio = resolver["p50_ms"] / raw["p50_ms"] if raw["p50_ms"] else float("inf")
    return {
        "raw_meilisearch": raw,
        "resolver": resolver,
        "resolver_multi_search_round_trip": latency_summary(samples.round_trip),
        "resolver_python_work": latency_summary(samples.python_work),
        "queries_per_multi_search_mean": round(
            sum(timed.query_counts) / max(1, len(timed.query_counts)), 2
        ),
        "p50_ratio": round(ratio, 2),
        "target_p50_ratio": TARGET_RATIO,
        "target_met": ratio <= TARGET_RATIO,
        "errors": samples.errors,
    }


def render(figures: dict[str, Any], host: Machine) -> None:
    """Print the latency table."""
    table = new_table("Latency, one client (ms)", ["what", "n", "p50", "p95", "p99", "mean", "max"])
    rows = {
        "raw Meilisearch search (floor)": "raw_meilisearch",
        "resolver.resolve": "resolver",
        "  of which multi-search round trip": "resolver_multi_search_round_trip",
        "  of which Python work": "resolver_python_work",
    }
    for label, key in rows.items():
        row = figures[key]
        table.add_row(
            label,
            str(row["count"]),
            *(f"{row[name]:.2f}" for name in ("p50_ms", "p95_ms", "p99_ms", "mean_ms", "max_ms")),
        )
    console.print(table)
    cpu = figures.get("cpu_per_call")
    if cpu is not None:
        raw, ours = cpu["raw_meilisearch"], cpu["resolver"]
        console.print(
            f"CPU per call (ms, client + Meilisearch): raw {raw['client_cpu_ms']:.2f} + "
            f"{raw['meilisearch_cpu_ms']:.2f}; resolver {ours['client_cpu_ms']:.2f} + "
            f"{ours['meilisearch_cpu_ms']:.2f}"
        )
    console.print(
        f"p50 ratio resolver/raw: [bold]{figures['p50_ratio']:.2f}[/bold] "
        f"(target <= {TARGET_RATIO}: {verdict(met=figures['target_met'])}); "
        f"{figures['queries_per_multi_search_mean']} searches per multi-search; "
        f"errors: {figures['errors']}"
    )
    print_machine(host)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.latency", description=__doc__)
    parser.add_argument("--queries", type=Path, default=LABELLED_QUERIES)
    parser.add_argument("--sample", type=int, default=DEFAULT_SAMPLE, help="0 = every query")
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--profile", action="store_true", help="also cProfile the resolver")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the latency bench."""
    args = parse_args(argv)
    settings = MeiliSettings()
    host = machine(settings)
    texts = sample_texts(load_query_texts(args.queries), size=args.sample)
    with search_endpoint(settings) as endpoint:
        clients = open_clients(settings, endpoint)
        try:
            warm_up(clients, texts[: args.warmup])
            samples = measure(clients, texts)
            figures = figures_of(samples, clients.timed)
            figures["cpu_per_call"] = cpu_costs(clients, texts, embedded_server_pid(settings))
            profile = profile_resolver(clients.resolver, texts) if args.profile else None
        finally:
            clients.close()
    render(figures, host)
    options = {"queries": str(args.queries), "sample": len(texts), "warmup": args.warmup}
    path = write_result("latency", figures, options=options, host=host)
    if profile is not None:
        (RESULTS / "latency-profile.txt").write_text(profile, encoding="utf-8")
        console.print(f"profile: {RESULTS / 'latency-profile.txt'}")
    console.print(f"written: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
