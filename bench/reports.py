"""The reports store's cost per call: submit, claim and delivered, on SQLite and PostgreSQL.

    python -m bench.reports [--reports 500] [--backends sqlite postgresql] [--postgres-url URL]

For each backend, on a fresh database: a sector chat is linked, ``--reports`` reports are
submitted one after the other by distinct residents, then the outbox is drained as the bot does
(``claim_due(limit=50)`` under a lease, then ``delivered`` for each: the NEW_REPORT to the staff
chat, then the STATUS it owes the resident). Each call is timed; the table gives calls per second
and the p50 and p95 per call, and the whole round trip (submit to both messages marked sent) per
report.

SQLite is a file in a temporary directory (WAL, synchronous=NORMAL, as in production).
PostgreSQL is ``--postgres-url`` or, without it, a throwaway server started from the machine's
binaries like the tests do (fsync off there: the figure is the store's cost, not the disk's).
No figure is a test: the machine is shared, read them as orders of magnitude.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from sqlalchemy import create_engine, text

from bench.common import latency_summary
from reports.model import Delivery, Draft, PlaceRef, ReportKind, StaffScope
from reports.store import SqlReportStore, open_store

T = TypeVar("T")
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def timed_call(samples: list[float], action: Callable[[], T]) -> T:
    """Run ``action``, append its duration to ``samples``, return its value."""
    start = time.perf_counter()
    value = action()
    samples.append(time.perf_counter() - start)
    return value


def bench_store(store: SqlReportStore, reports: int) -> dict[str, list[float]]:
    """Submit, then drain the outbox; the duration of every call, by method."""
    samples: dict[str, list[float]] = {"submit": [], "claim": [], "delivered": []}
    code = store.invite(StaffScope(sector_id="SOM-17"), now=NOW, valid_for=timedelta(hours=1))
    store.link(code, chat_id=-1, now=NOW)
    draft = Draft(
        kind=ReportKind.NOISE,
        place=PlaceRef(label="bench place (fictional sector)", sector_id="SOM-17"),
        occurred="now",
        text="bench report text " * 10,
        photo_file_ids=("p1", "p2"),
    )
    for resident in range(reports):
        timed_call(
            samples["submit"],
            lambda r=resident: store.submit(draft, resident_chat_id=10_000 + r, now=NOW),
        )

    def claim() -> list[Delivery]:  # the worker's claim (a lease), as the bot does it
        return store.claim_due(now=NOW, owner="bench", lease=timedelta(seconds=60), limit=50)

    while batch := timed_call(samples["claim"], claim):
        for delivery in batch:
            timed_call(
                samples["delivered"],
                lambda d=delivery: store.delivered(d.id, now=NOW, owner="bench"),
            )
    return samples


@contextlib.contextmanager
def sqlite_url() -> Iterator[str]:
    """A fresh SQLite file."""
    with tempfile.TemporaryDirectory() as scratch:
        yield f"sqlite:///{Path(scratch) / 'bench.sqlite3'}"


@contextlib.contextmanager
def postgres_url(given: str | None) -> Iterator[str]:
    """The given PostgreSQL database, or a fresh one on a throwaway server."""
    if given is not None:
        yield given
        return
    from tests.reports.postgres import find_bindir, running_postgres

    bindir = find_bindir()
    if bindir is None:
        raise SystemExit("no PostgreSQL binaries (initdb, pg_ctl): pass --postgres-url")
    with running_postgres(bindir) as server:
        admin = create_engine(server.url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text("CREATE DATABASE bench"))
        admin.dispose()
        yield server.url("bench")


def print_table(backend: str, samples: dict[str, list[float]], reports: int) -> None:
    """One block of figures for a backend."""
    print(f"\n{backend}: {reports} reports, {len(samples['delivered'])} messages delivered")
    print(f"  {'call':<10} {'calls':>6} {'per s':>8} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for method, seconds in samples.items():
        summary = latency_summary(seconds)
        rate = len(seconds) / sum(seconds) if seconds else 0.0
        print(
            f"  {method:<10} {len(seconds):>6} {rate:>8.0f} {summary['p50_ms']:>8.2f} "
            f"{summary['p95_ms']:>8.2f} {summary['max_ms']:>8.2f}"
        )
    total = sum(sum(seconds) for seconds in samples.values())
    print(f"  round trip: {reports / total:.0f} reports/s ({1000 * total / reports:.2f} ms each)")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the bench on each backend asked for."""
    parser = argparse.ArgumentParser(prog="python -m bench.reports", description=__doc__)
    parser.add_argument("--reports", type=int, default=500)
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--postgres-url", help="an existing (empty) database to use")
    args = parser.parse_args(argv)
    for backend in args.backends:
        urls = sqlite_url() if backend == "sqlite" else postgres_url(args.postgres_url)
        with urls as url:
            store = open_store(url, daily_limit=10)
            try:
                print_table(backend, bench_store(store, args.reports), args.reports)
            finally:
                store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
