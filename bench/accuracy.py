"""Accuracy report: the resolver on the labelled sets, next to the exact-match baseline.

Run after ``python -m index_builder build``::

    python bench/accuracy.py [--labelled PATH ...] [--misses PATH]

By default it reads every set that exists: the noisy names (``labelled_queries.jsonl``), the
generated messages (``labelled_messages.jsonl``) and the real addresses
(``real_addresses.jsonl``). It prints one table per set, a row per kind of noise and per language,
writes ``bench/results/accuracy.json`` with the figures of each set, and the misses of every set
(with the set's name) to the misses file.
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
    LabelledQuery,
    Report,
    evaluate,
    exact_match_baseline,
    load_labelled,
)
from resolver.models import Resolution
from search_platform.settings import MeiliSettings

RESULTS = Path(__file__).resolve().parent / "results"
DATA = LABELLED_QUERIES.parent
DEFAULT_SETS = (
    LABELLED_QUERIES,
    DATA / "labelled_messages.jsonl",
    DATA / "real_addresses.jsonl",
)


def render(report: Report, baseline: Report, *, title: str) -> Table:
    """One row per noise kind and per language: resolver figures, then the baseline's."""
    table = Table(title=f"Resolver accuracy on {title} (baseline = exact Tajik name match)")
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
    ours = report.as_dict() | lang_rows(report)
    theirs = baseline.as_dict() | lang_rows(baseline)
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


def lang_rows(report: Report) -> dict[str, dict[str, float | int]]:
    """Rows per language, when the set labels its languages."""
    by_lang = report.lang_dict()
    return {} if set(by_lang) <= {"?"} else {f"lang {k}": v for k, v in by_lang.items()}


def pct(value: float | int) -> str:
    """A share as a percentage with one decimal."""
    return f"{100 * float(value):.1f}%"


def main() -> int:
    """Run the report."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--labelled",
        type=Path,
        action="append",
        help="a labelled set (repeatable); default: every set in tests/data that exists",
    )
    parser.add_argument("--misses", type=Path, default=RESULTS / "accuracy_misses.jsonl")
    args = parser.parse_args()
    paths = args.labelled or [path for path in DEFAULT_SETS if path.exists()]
    settings = MeiliSettings()
    figures: dict[str, object] = {}
    misses: list[str] = []
    with open_resolver(settings) as resolver:  # the published data, as the bot reads it
        published = resolver.pipeline.current()
        for path in paths:
            rows = load_labelled(path)
            resolutions = [resolver.resolve(row.query) for row in rows]
            report = evaluate(rows, resolutions, published.directory)
            baseline = exact_match_baseline(rows, published.data.places)
            Console(width=160).print(render(report, baseline, title=path.name))
            figures[path.stem] = set_figures(report, baseline)
            misses += [miss_line(path.stem, row, res) for row, res in report.misses]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "accuracy.json").write_text(json.dumps(figures, indent=2), encoding="utf-8")
    args.misses.write_text("".join(misses), encoding="utf-8")
    return 0


def set_figures(report: Report, baseline: Report) -> dict[str, object]:
    """The figures of one set: per noise and per language, with the baseline's."""
    return {
        "resolver": report.as_dict(),
        "resolver_by_lang": report.lang_dict(),
        "baseline": baseline.as_dict(),
    }


def miss_line(set_name: str, row: LabelledQuery, resolution: Resolution) -> str:
    """One JSON line for a miss: the set, the label, and what the resolver said."""
    got = [(c.place_id, c.sector.id if c.sector else None, c.score) for c in resolution.candidates]
    line = {
        "set": set_name,
        "label": row.model_dump(exclude_defaults=True),
        "status": resolution.status.value,
        "reading": resolution.reading,
        "house": resolution.house.label() if resolution.house else None,
        "got": got,
    }
    return json.dumps(line, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    sys.exit(main())
