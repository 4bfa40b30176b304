"""Accuracy report: the resolver on the labelled noisy queries, next to the exact-match baseline.

Run after ``python -m index_builder build``::

    python bench/accuracy.py [--labelled PATH] [--misses PATH]

Prints a table per kind of noise and writes ``bench/results/accuracy.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from resolver.bootstrap import open_resolver
from resolver.evaluation import (
    LABELLED_QUERIES,
    Report,
    evaluate,
    exact_match_baseline,
    load_labelled,
)
from search_platform.settings import MeiliSettings

RESULTS = Path(__file__).resolve().parent / "results"


def render(report: Report, baseline: Report) -> Table:
    """One row per noise kind: resolver figures, then the baseline's."""
    table = Table(
        title="Resolver accuracy on labelled noisy queries (baseline = exact Tajik name match)"
    )
    for column in (
        "noise",
        "queries",
        "found",
        "resolved right",
        "confidently wrong",
        "not found",
        "house read right",
        "baseline found",
        "baseline wrong",
    ):
        table.add_column(column, justify="right" if column != "noise" else "left")
    ours, theirs = report.as_dict(), baseline.as_dict()
    for noise, figures in ours.items():
        base = theirs.get(noise, {})
        table.add_row(
            noise,
            str(figures["queries"]),
            pct(figures["found"]),
            pct(figures["resolved_right"]),
            pct(figures["confidently_wrong"]),
            pct(figures["not_found"]),
            pct(figures["house_right"]),
            pct(base.get("found", 0)),
            pct(base.get("confidently_wrong", 0)),
        )
    return table


def pct(value: float | int) -> str:
    """A share as a percentage with one decimal."""
    return f"{100 * float(value):.1f}%"


def main() -> int:
    """Run the report."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--labelled", type=Path, default=LABELLED_QUERIES)
    parser.add_argument("--misses", type=Path, default=RESULTS / "accuracy_misses.jsonl")
    args = parser.parse_args()
    settings = MeiliSettings()
    rows = load_labelled(args.labelled)
    with open_resolver(settings) as resolver:  # the published data, as the bot reads it
        resolutions = [resolver.resolve(row.query) for row in rows]
        published = resolver.pipeline.current()
    report = evaluate(rows, resolutions, published.directory)
    baseline = exact_match_baseline(rows, published.data.places)
    Console(width=160).print(render(report, baseline))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "accuracy.json").write_text(
        json.dumps({"resolver": report.as_dict(), "baseline": baseline.as_dict()}, indent=2),
        encoding="utf-8",
    )
    with args.misses.open("w", encoding="utf-8") as out:
        for row, resolution in report.misses:
            got = [(c.place_id, c.score) for c in resolution.candidates]
            out.write(
                json.dumps(
                    {
                        "label": row.model_dump(),
                        "status": resolution.status.value,
                        "reading": resolution.reading,
                        "got": got,
                    },
                    ensure_ascii=False,
                )
                + "\n"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
