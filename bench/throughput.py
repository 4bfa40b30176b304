"""Resolutions per second at 1, 4 and 16 concurrent clients, next to raw Meilisearch.

Run after ``python -m index_builder build``::

    python -m bench.throughput [--clients 1 4 16] [--duration 10] [--modes processes asyncio]

Each client loops over a fixed random sample of the labelled noisy queries, each client from a
different offset, until ``--duration`` seconds pass (or ``--max-calls`` calls). The raw row does
the same with one plain search per text. Clients are OS processes (``processes``: each with its
own resolver and keep-alive HTTP session, as several resolver workers would run), coroutines on
one event loop sharing one session (``asyncio``: exactly as the bot resolves), or threads of one
process, each with its own blocking resolver (``threads``: a blocking caller such as a web
app). The target is judged on the fastest mode at 16 clients, and the table says which. Target:
at least 300 resolutions/s with 16 clients.
Writes ``bench/results/throughput.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier as ProcessBarrier
from pathlib import Path
from typing import Any, Literal

from pydantic import SecretStr

from bench.common import (
    DEFAULT_SAMPLE,
    LABELLED_QUERIES,
    AsyncRawMeili,
    Machine,
    RawMeili,
    console,
    latency_summary,
    load_query_texts,
    machine,
    new_table,
    print_machine,
    sample_texts,
    verdict,
    write_result,
)
from resolver.bootstrap import async_meili_backend, load_pipeline, meili_backend
from resolver.service import AwaitingResolver, Resolver
from search_platform.connection import Endpoint, search_endpoint
from search_platform.settings import MeiliSettings

TARGET_PER_SECOND = 300.0
TARGET_CLIENTS = 16
WARMUP_CALLS = 20
START_GRACE_S = 120.0
Kind = Literal["resolver", "raw"]
Mode = Literal["processes", "asyncio", "threads"]
AsyncCall = Callable[[str], Awaitable[object]]


@dataclass(frozen=True)
class ClientSpec:
    """What one client needs to connect, picklable for a child process."""

    kind: Kind
    url: str
    api_key: str | None
    index: str


@dataclass
class ClientResult:
    """What one client did in its timed window."""

    calls: int = 0
    errors: int = 0
    started: float = 0.0
    finished: float = 0.0
    latencies: list[float] = field(default_factory=list)


def open_client(spec: ClientSpec) -> tuple[Callable[[str], object], Callable[[], None]]:
    """Return the call to load and how to close it, for a resolver or a raw-search client."""
    if spec.kind == "raw":
        raw = RawMeili(spec.url, api_key=spec.api_key, index=spec.index)
        return raw.search, raw.close
    key = SecretStr(spec.api_key) if spec.api_key else None
    settings = MeiliSettings()
    endpoint = Endpoint(url=spec.url, api_key=key)
    backend = meili_backend(settings, endpoint)
    return Resolver(backend, load_pipeline(settings, endpoint)).resolve, backend.close


@dataclass
class Load:
    """One client's loop over the texts: which text is next, when to stop, what happened."""

    texts: Sequence[str]
    offset: int
    duration_s: float
    max_calls: int
    result: ClientResult = field(default_factory=ClientResult)

    def __post_init__(self) -> None:
        self.result.started = time.perf_counter()

    def texts_to_send(self) -> Iterator[str]:
        """The next text, until ``duration_s`` passes or ``max_calls`` are made."""
        result, deadline = self.result, self.result.started + self.duration_s
        while result.calls + result.errors < self.max_calls and time.perf_counter() < deadline:
            yield self.texts[(self.offset + result.calls + result.errors) % len(self.texts)]
        result.finished = time.perf_counter()

    def answered(self, begin: float) -> None:
        """Count a call that began at ``begin`` and succeeded."""
        self.result.latencies.append(time.perf_counter() - begin)
        self.result.calls += 1

    def failed(self) -> None:
        """Count a failed call (a load run must not stop on one failure)."""
        self.result.errors += 1


def drive(
    call: Callable[[str], object],
    texts: Sequence[str],
    *,
    offset: int,
    duration_s: float,
    max_calls: int,
) -> ClientResult:
    """Call ``call`` on texts in a loop until ``duration_s`` passes or ``max_calls`` are made."""
    load = Load(texts, offset, duration_s, max_calls)
    for text in load.texts_to_send():
        begin = time.perf_counter()
        try:
            call(text)
        except Exception:
            load.failed()
            continue
        load.answered(begin)
    return load.result


def run_client(
    spec: ClientSpec,
    texts: Sequence[str],
    *,
    offset: int,
    duration_s: float,
    max_calls: int,
    wait: Callable[[], object],
) -> ClientResult:
    """Connect, warm up, wait for the others, then drive the load."""
    call, close = open_client(spec)
    try:
        for text in texts[offset : offset + WARMUP_CALLS]:
            call(text)
        wait()
        return drive(call, texts, offset=offset, duration_s=duration_s, max_calls=max_calls)
    finally:
        close()


@dataclass(frozen=True)
class ProcessJob:
    """Everything a client process needs, sent to it by pickling."""

    spec: ClientSpec
    texts: Sequence[str]
    offset: int
    duration_s: float
    max_calls: int


def process_main(job: ProcessJob, barrier: ProcessBarrier, results: Queue[ClientResult]) -> None:
    """Entry point of a client process: run and send the result back."""
    result = run_client(
        job.spec,
        job.texts,
        offset=job.offset,
        duration_s=job.duration_s,
        max_calls=job.max_calls,
        wait=lambda: barrier.wait(timeout=START_GRACE_S),
    )
    results.put(result)


def offsets(clients: int, texts: Sequence[str]) -> list[int]:
    """Spread the clients' starting points over the sample."""
    return [index * len(texts) // clients for index in range(clients)]


def run_processes(
    spec: ClientSpec, texts: Sequence[str], *, clients: int, duration_s: float, max_calls: int
) -> list[ClientResult]:
    """Run ``clients`` client processes at once and collect their results."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(clients)
    results: Queue[ClientResult] = context.Queue()
    workers = [
        context.Process(
            target=process_main,
            args=(ProcessJob(spec, texts, offset, duration_s, max_calls), barrier, results),
            daemon=True,
        )
        for offset in offsets(clients, texts)
    ]
    for worker in workers:
        worker.start()
    collected = [results.get(timeout=START_GRACE_S + duration_s) for _ in workers]
    for worker in workers:
        worker.join(timeout=10)
    return collected


def run_threads(
    spec: ClientSpec, texts: Sequence[str], *, clients: int, duration_s: float, max_calls: int
) -> list[ClientResult]:
    """Run ``clients`` client threads in this process and collect their results."""
    barrier = threading.Barrier(clients)
    with ThreadPoolExecutor(max_workers=clients) as pool:
        futures = [
            pool.submit(
                run_client,
                spec,
                texts,
                offset=offset,
                duration_s=duration_s,
                max_calls=max_calls,
                wait=lambda: barrier.wait(timeout=START_GRACE_S),
            )
            for offset in offsets(clients, texts)
        ]
        return [future.result(timeout=START_GRACE_S + duration_s) for future in futures]


def open_async_client(spec: ClientSpec) -> tuple[AsyncCall, Callable[[], Awaitable[None]]]:
    """The awaitable call and its closing, as the bot holds them: one session for all."""
    if spec.kind == "raw":
        raw = AsyncRawMeili(RawMeili(spec.url, api_key=spec.api_key, index=spec.index))
        return raw.search, raw.close
    key = SecretStr(spec.api_key) if spec.api_key else None
    settings = MeiliSettings()
    endpoint = Endpoint(url=spec.url, api_key=key)
    resolver = AwaitingResolver(
        async_meili_backend(settings, endpoint), load_pipeline(settings, endpoint)
    )

    async def resolve(text: str) -> object:
        return await resolver.resolve(text)

    async def close() -> None:
        await resolver.aclose()

    return resolve, close


async def drive_async(
    call: AsyncCall, texts: Sequence[str], *, offset: int, duration_s: float, max_calls: int
) -> ClientResult:
    """:func:`drive` for a coroutine client."""
    load = Load(texts, offset, duration_s, max_calls)
    for text in load.texts_to_send():
        begin = time.perf_counter()
        try:
            await call(text)
        except Exception:
            load.failed()
            continue
        load.answered(begin)
    return load.result


async def coroutine_clients(
    spec: ClientSpec, texts: Sequence[str], *, clients: int, duration_s: float, max_calls: int
) -> list[ClientResult]:
    """Warm up, then run ``clients`` coroutines at once on this loop."""
    call, close = open_async_client(spec)
    try:
        for text in texts[:WARMUP_CALLS]:
            await call(text)
        runs = (
            drive_async(call, texts, offset=offset, duration_s=duration_s, max_calls=max_calls)
            for offset in offsets(clients, texts)
        )
        return list(await asyncio.gather(*runs))
    finally:
        await close()


def run_coroutines(
    spec: ClientSpec, texts: Sequence[str], *, clients: int, duration_s: float, max_calls: int
) -> list[ClientResult]:
    """Run ``clients`` coroutines on one event loop in this process and collect their results."""
    return asyncio.run(
        coroutine_clients(spec, texts, clients=clients, duration_s=duration_s, max_calls=max_calls)
    )


def summarise(results: Sequence[ClientResult]) -> dict[str, Any]:
    """Total calls over the window from the first start to the last finish."""
    window = max(r.finished for r in results) - min(r.started for r in results)
    calls = sum(r.calls for r in results)
    latencies = [value for r in results for value in r.latencies]
    return {
        "calls": calls,
        "errors": sum(r.errors for r in results),
        "seconds": round(window, 3),
        "per_second": round(calls / window, 1) if window > 0 else 0.0,
        "latency": latency_summary(latencies),
    }


RUNNERS = {"processes": run_processes, "asyncio": run_coroutines, "threads": run_threads}


def measure_all(
    specs: dict[Kind, ClientSpec], texts: Sequence[str], args: argparse.Namespace
) -> list[dict[str, Any]]:
    """Run every mode x client count x kind and return one row each."""
    rows = []
    for mode in args.modes:
        for clients in args.clients:
            for kind, spec in specs.items():
                results = RUNNERS[mode](
                    spec,
                    texts,
                    clients=clients,
                    duration_s=args.duration,
                    max_calls=args.max_calls,
                )
                row = {"mode": mode, "clients": clients, "kind": kind, **summarise(results)}
                console.print(
                    f"{mode:9} {clients:3} clients {kind:8} {row['per_second']:8.1f}/s "
                    f"errors {row['errors']}"
                )
                rows.append(row)
    return rows


def target_row(rows: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """The row the target is judged on: the resolver at 16 clients, in the fastest mode."""
    candidates = [
        row for row in rows if row["kind"] == "resolver" and row["clients"] == TARGET_CLIENTS
    ]
    return max(candidates, key=lambda row: float(row["per_second"]), default=None)


def render(rows: Sequence[dict[str, Any]], host: Machine) -> None:
    """Print one line per mode and client count: resolver next to raw."""
    table = new_table(
        "Throughput (calls/s; latency ms under load)",
        [
            "mode",
            "clients",
            "resolver/s",
            "raw/s",
            "resolver/raw",
            "resolver p50",
            "resolver p95",
            "raw p50",
            "errors",
        ],
    )
    by_key = {(row["mode"], row["clients"], row["kind"]): row for row in rows}
    for (mode, clients, kind), row in by_key.items():
        if kind != "resolver":
            continue
        raw = by_key.get((mode, clients, "raw"), {"per_second": 0.0, "latency": {}, "errors": 0})
        share = row["per_second"] / raw["per_second"] if raw["per_second"] else 0.0
        table.add_row(
            mode,
            str(clients),
            f"{row['per_second']:.0f}",
            f"{raw['per_second']:.0f}",
            f"{share:.2f}",
            f"{row['latency']['p50_ms']:.1f}",
            f"{row['latency']['p95_ms']:.1f}",
            f"{raw['latency'].get('p50_ms', 0.0):.1f}",
            str(row["errors"] + raw["errors"]),
        )
    console.print(table)
    judged = target_row(rows)
    if judged is not None:
        console.print(
            f"resolver at {TARGET_CLIENTS} clients ({judged['mode']}): "
            f"[bold]{judged['per_second']:.0f}/s[/bold] (target >= {TARGET_PER_SECOND:.0f}: "
            f"{verdict(met=judged['per_second'] >= TARGET_PER_SECOND)})"
        )
    print_machine(host)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.throughput", description=__doc__)
    parser.add_argument("--queries", type=Path, default=LABELLED_QUERIES)
    parser.add_argument("--sample", type=int, default=DEFAULT_SAMPLE, help="0 = every query")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per run")
    parser.add_argument("--max-calls", type=int, default=200_000, help="per client and run")
    parser.add_argument(
        "--modes", nargs="+", choices=sorted(RUNNERS), default=["processes", "asyncio", "threads"]
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the throughput bench."""
    args = parse_args(argv)
    settings = MeiliSettings()
    host = machine(settings)
    texts = sample_texts(load_query_texts(args.queries), size=args.sample)
    with search_endpoint(settings) as endpoint:
        key = endpoint.api_key.get_secret_value() if endpoint.api_key else None
        specs: dict[Kind, ClientSpec] = {
            kind: ClientSpec(kind, endpoint.url, key, settings.meili_index)
            for kind in ("resolver", "raw")
        }
        rows = measure_all(specs, texts, args)
    render(rows, host)
    judged = target_row(rows)
    figures = {
        "rows": rows,
        "target_per_second": TARGET_PER_SECOND,
        "judged_on": None if judged is None else {k: judged[k] for k in ("mode", "clients")},
        "target_met": judged is not None and judged["per_second"] >= TARGET_PER_SECOND,
    }
    options = {key: value for key, value in vars(args).items() if key != "queries"}
    options["sample"] = len(texts)
    path = write_result("throughput", figures, options=options, host=host)
    console.print(f"written: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
