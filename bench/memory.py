"""Peak memory (RSS) of the bot process and of Meilisearch with the seed and the 100k index.

::

    python -m bench.memory [--sizes seed 100k] [--searches 2000] [--bot-updates 1000]

- Meilisearch: for each size, the data directory ``bench.build`` left in ``<work-dir>/<size>``
  (built now if missing) is served by a freshly started embedded server; the bench sends
  ``--searches`` plain searches of the labelled texts, then reads the server's VmHWM (peak RSS
  since it started: loading the index and serving) from ``/proc/<pid>/status``. The build's own
  peak, when this run built the index, is reported next to it.
- Bot: ``python -m bot`` with a token, long polling the project's fake Bot API server on
  127.0.0.1, with the real resolver against the seed index, is driven with ``--bot-updates``
  paced updates and as many again in a burst; then its VmHWM is read.
Target: bot RSS < 150 MB. Writes ``bench/results/memory.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.bot import LoadPlan, bench_one
from bench.build import DEFAULT_WORK_DIR, Size, build_one, data_dir_for, served, settings_for
from bench.common import (
    DEFAULT_SAMPLE,
    LABELLED_QUERIES,
    Machine,
    RawMeili,
    bench_environment,
    console,
    load_query_texts,
    machine,
    memory_mb,
    new_table,
    print_machine,
    sample_texts,
    verdict,
    write_result,
)
from search_platform.connection import search_endpoint
from search_platform.files import data_paths
from search_platform.settings import MeiliSettings

TARGET_BOT_MB = 150.0
MIB_PER_MB = 1_000_000 / 1_048_576


def is_built(data_dir: Path) -> bool:
    """Tell whether ``bench.build`` finished a build in ``data_dir`` (it saves the search key)."""
    return data_paths(settings_for(data_dir)).search_key.is_file()


def ensure_built(size: Size, work_dir: Path, index: str) -> float | None:
    """Build ``size`` unless its data directory holds a build; return the build's peak RSS."""
    if is_built(data_dir_for(work_dir, size.label)):
        return None
    row = build_one(size, work_dir, index)
    return float(row["meilisearch_peak_rss_mb_during_build"])


def serving_memory(
    data_dir: Path, texts: Sequence[str], *, searches: int, index: str
) -> dict[str, Any]:
    """Start the server of ``data_dir``, search, and read its memory."""
    with served(data_dir) as (url, pid, key):
        before = memory_mb(pid)
        raw = RawMeili(url, api_key=key, index=index)
        try:
            for position in range(searches):
                raw.search(texts[position % len(texts)])
        finally:
            raw.close()
        after = memory_mb(pid)
    return {
        "rss_after_start_mb": before["rss_mb"],
        "rss_after_searches_mb": after["rss_mb"],
        "peak_rss_mb": after["peak_rss_mb"],
        "searches": searches,
    }


def meilisearch_rows(texts: Sequence[str], args: argparse.Namespace) -> list[dict[str, Any]]:
    """Measure the server with each index size."""
    index = MeiliSettings().meili_index
    rows = []
    for size in args.sizes:
        build_peak = ensure_built(size, args.work_dir, index)
        data_dir = data_dir_for(args.work_dir, size.label)
        figures = serving_memory(data_dir, texts, searches=args.searches, index=index)
        rows.append({"size": size.label, "build_peak_rss_mb": build_peak, **figures})
        console.print(f"Meilisearch {size.label}: peak {figures['peak_rss_mb']} MiB")
    return rows


def bot_row(texts: Sequence[str], args: argparse.Namespace) -> dict[str, Any]:
    """Drive ``python -m bot`` (real resolver, seed index) and return its figures."""
    seed_dir = data_dir_for(args.work_dir, "seed")
    plan = LoadPlan(updates=args.bot_updates, rate=50.0, burst=args.bot_updates, warmup=50)
    with bench_environment(NOZIRI_DATA_DIR=str(seed_dir), MEILI_URL=None, MEILI_SEARCH_KEY=None):
        settings = MeiliSettings()
        with search_endpoint(settings) as endpoint:
            row = asyncio.run(bench_one("real", endpoint, texts, plan))
    return {
        "updates": plan.warmup + plan.updates + plan.burst,
        "peak_rss_mb": row["bot_peak_rss_mb"],
        "peak_rss_megabytes": round(row["bot_peak_rss_mb"] / MIB_PER_MB, 1),
    }


def render(meili: Sequence[dict[str, Any]], bot: dict[str, Any] | None, host: Machine) -> None:
    """Print the memory table."""
    table = new_table("Peak memory (VmHWM)", ["process", "index", "peak RSS MiB", "notes"])
    if bot is not None:
        table.add_row(
            "python -m bot",
            "seed",
            f"{bot['peak_rss_mb']:.0f}",
            f"after {bot['updates']} updates; {bot['peak_rss_megabytes']:.0f} MB",
        )
    for row in meili:
        build = row["build_peak_rss_mb"]
        note = f"after start + {row['searches']} searches"
        note += f"; during its build: {build:.0f} MiB" if build is not None else ""
        table.add_row("meilisearch", row["size"], f"{row['peak_rss_mb']:.0f}", note)
    console.print(table)
    if bot is not None:
        met = bot["peak_rss_megabytes"] < TARGET_BOT_MB
        console.print(f"bot peak RSS < {TARGET_BOT_MB:.0f} MB: {verdict(met=met)}")
    print_machine(host)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.memory", description=__doc__)
    parser.add_argument(
        "--sizes", nargs="+", type=Size.parse, default=[Size.parse(s) for s in ("seed", "100k")]
    )
    parser.add_argument("--work-dir", type=Path, default=DEFAULT_WORK_DIR)
    parser.add_argument("--queries", type=Path, default=LABELLED_QUERIES)
    parser.add_argument("--searches", type=int, default=2000)
    parser.add_argument("--bot-updates", type=int, default=1000, help="0 = skip the bot")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the memory bench."""
    args = parse_args(argv)
    host = machine()
    texts = sample_texts(load_query_texts(args.queries), size=DEFAULT_SAMPLE)
    seed = Size.parse("seed")
    ensure_built(seed, args.work_dir, MeiliSettings().meili_index)
    bot = bot_row(texts, args) if args.bot_updates > 0 else None
    meili = meilisearch_rows(texts, args)
    render(meili, bot, host)
    figures = {
        "bot": bot,
        "meilisearch": meili,
        "target_bot_mb": TARGET_BOT_MB,
        "target_met": None if bot is None else bot["peak_rss_megabytes"] < TARGET_BOT_MB,
    }
    options = {
        "sizes": [size.label for size in args.sizes],
        "searches": args.searches,
        "bot_updates": args.bot_updates,
        "work_dir": str(args.work_dir),
    }
    path = write_result("memory", figures, options=options, host=host)
    console.print(f"written: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
