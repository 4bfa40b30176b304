"""Run every bench in order and print one summary table against the targets.

::

    python -m bench.run_all [--quick] [--work-dir .noziri/bench] [--skip build ...]

1. ``bench.build``: seed, 10k and 100k synthetic places, each into a fresh data directory and
   server under ``--work-dir`` (the seed one then serves the other benches);
2. ``bench.latency``, ``bench.throughput``, ``bench.bot`` and ``bench.memory`` against the seed
   index in ``<work-dir>/seed`` (``NOZIRI_DATA_DIR`` is set for them, ``MEILI_URL`` unset), each
   in its own process.

Each bench writes ``bench/results/<name>.json``; this writes ``bench/results/summary.json``.
``--quick`` shrinks every run (smoke test, about two minutes; the figures are not the reference).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.build import DEFAULT_WORK_DIR
from bench.common import RESULTS, console, machine, new_table, print_machine, write_result
from search_platform.settings import PROJECT_ROOT

BENCHES = ("build", "latency", "throughput", "bot", "memory")
QUICK_OPTIONS = {
    "build": ["--sizes", "seed", "10k"],
    "latency": ["--sample", "300", "--warmup", "50"],
    "throughput": ["--duration", "3", "--clients", "1", "4", "16", "--modes", "processes"],
    "bot": ["--updates", "200", "--burst", "300", "--warmup", "30"],
    "memory": ["--sizes", "seed", "--searches", "300", "--bot-updates", "200"],
}
BENCH_TIMEOUT_S = 3600.0


def command(name: str, work_dir: Path, *, quick: bool) -> list[str]:
    """The command line of one bench."""
    extra = QUICK_OPTIONS[name] if quick else []
    if name in {"build", "memory"}:
        extra = [*extra, "--work-dir", str(work_dir)]
    return [sys.executable, "-m", f"bench.{name}", *extra]


def environment(work_dir: Path) -> dict[str, str]:
    """Point the benches at the seed build under ``work_dir``, never at an external server."""
    env = {name: value for name, value in os.environ.items() if name not in {"MEILI_URL"}}
    env.pop("MEILI_SEARCH_KEY", None)
    env.pop("MEILI_MASTER_KEY", None)
    env["NOZIRI_DATA_DIR"] = str((work_dir / "seed").resolve())
    return env


def run_bench(name: str, work_dir: Path, *, quick: bool) -> bool:
    """Run one bench with its output shown; return whether it succeeded."""
    console.rule(f"bench.{name}")
    finished = subprocess.run(
        command(name, work_dir, quick=quick),
        env=environment(work_dir),
        cwd=PROJECT_ROOT,
        timeout=BENCH_TIMEOUT_S,
        check=False,
    )
    if finished.returncode != 0:
        console.print(f"[red]bench.{name} failed with status {finished.returncode}[/red]")
    return finished.returncode == 0


def run_benches(names: Sequence[str], args: argparse.Namespace) -> list[str]:
    """Run ``names`` in order; return the failed ones. Without an index the rest cannot run."""
    failed = []
    for name in names:
        if not run_bench(name, args.work_dir, quick=args.quick):
            failed.append(name)
            if name == "build":
                console.print("[red]no index was built: the other benches need it; stopping[/red]")
                return [*failed, *(other for other in names if other != "build")]
    return failed


def read_result(name: str) -> dict[str, Any] | None:
    """Load ``bench/results/<name>.json`` if it exists."""
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def summary_rows(results: dict[str, dict[str, Any] | None]) -> list[tuple[str, str, str, Any]]:
    """The headline figure of each bench: what, measured, target, met."""
    rows: list[tuple[str, str, str, Any]] = []
    for name, add in SUMMARISERS.items():
        result = results.get(name)
        if result is not None:
            rows += add(result["figures"])
    return rows


def latency_rows(figures: dict[str, Any]) -> list[tuple[str, str, str, Any]]:
    """Resolver and raw p50, and their ratio."""
    resolver, raw = figures["resolver"], figures["raw_meilisearch"]
    measured = (
        f"{figures['p50_ratio']:.2f} x ({resolver['p50_ms']:.2f} / {raw['p50_ms']:.2f} ms; "
        f"p95 {resolver['p95_ms']:.1f}, p99 {resolver['p99_ms']:.1f} ms)"
    )
    return [("resolver p50 / raw Meilisearch p50", measured, "<= 1.5 x", figures["target_met"])]


def throughput_rows(figures: dict[str, Any]) -> list[tuple[str, str, str, Any]]:
    """Resolutions per second at 16 clients, next to raw."""
    judged = figures.get("judged_on") or {}
    rows = {(r["mode"], r["clients"], r["kind"]): r for r in figures["rows"]}
    mode, clients = judged.get("mode"), judged.get("clients")
    ours, raw = rows.get((mode, clients, "resolver")), rows.get((mode, clients, "raw"))
    if ours is None or raw is None:
        return []
    measured = f"{ours['per_second']:.0f}/s (raw {raw['per_second']:.0f}/s; {mode})"
    return [(f"resolutions/s at {clients} clients", measured, ">= 300/s", figures["target_met"])]


def build_rows(figures: dict[str, Any]) -> list[tuple[str, str, str, Any]]:
    """Build time of every size."""
    rows = []
    for row in figures["rows"]:
        measured = f"{row['wall_seconds']:.1f} s, {row['docs_per_second']:,.0f} docs/s"
        target, met = ("< 60 s", figures["target_met"]) if row["places"] == 100_000 else ("", "")
        rows.append(
            (f"index build, {row['size']} ({row['documents']} docs)", measured, target, met)
        )
    return rows


def bot_rows(figures: dict[str, Any]) -> list[tuple[str, str, str, Any]]:
    """Paced updates per second and p95 per resolver, and the burst rate."""
    rows = []
    for row in figures["rows"]:
        paced, burst = row["paced"], row["burst"]
        measured = (
            f"{paced['updates_per_second']:.0f}/s at {paced['offered_rate']:.0f}/s offered, "
            f"p50 {paced['latency']['p50_ms']:.0f} / p95 {paced['latency']['p95_ms']:.0f} ms; "
            f"burst {burst['updates_per_second']:.0f}/s"
        )
        met = figures["target_met"][row["resolver"]]
        rows.append((f"bot, {row['resolver']} resolver", measured, ">= 100/s, p95 < 50 ms", met))
    return rows


def memory_rows(figures: dict[str, Any]) -> list[tuple[str, str, str, Any]]:
    """Bot and Meilisearch peak RSS."""
    rows: list[tuple[str, str, str, Any]] = []
    bot = figures.get("bot")
    if bot is not None:
        measured = f"{bot['peak_rss_megabytes']:.0f} MB"
        rows.append(("bot peak RSS", measured, "< 150 MB", figures["target_met"]))
    for row in figures["meilisearch"]:
        rows.append(
            (f"Meilisearch peak RSS, {row['size']}", f"{row['peak_rss_mb']:.0f} MiB", "", "")
        )
    return rows


SUMMARISERS = {
    "latency": latency_rows,
    "throughput": throughput_rows,
    "build": build_rows,
    "bot": bot_rows,
    "memory": memory_rows,
}


def met_label(met: Any) -> str:
    """Render a target verdict cell."""
    if met is True:
        return "[green]met[/green]"
    if met is False:
        return "[red]missed[/red]"
    return ""


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.run_all", description=__doc__)
    parser.add_argument("--work-dir", type=Path, default=DEFAULT_WORK_DIR)
    parser.add_argument("--quick", action="store_true", help="small runs: a smoke test")
    parser.add_argument("--skip", nargs="*", choices=BENCHES, default=[])
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benches and print the summary."""
    args = parse_args(argv)
    host = machine()
    failed = run_benches([name for name in BENCHES if name not in args.skip], args)
    results = {name: read_result(name) for name in BENCHES if name not in failed}
    rows = summary_rows(results)
    table = new_table("Noziri performance summary", ["figure", "measured", "target", ""])
    for what, measured, target, met in rows:
        table.add_row(what, measured, target, met_label(met))
    console.rule("summary")
    console.print(table)
    print_machine(host)
    figures = {"rows": [list(row) for row in rows], "failed": failed}
    path = write_result(
        "summary", figures, options=vars(args) | {"work_dir": str(args.work_dir)}, host=host
    )
    console.print(f"written: {path}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
