"""What the Russian morphology step costs: time per query and memory of the dictionaries.

::

    python -m bench.morphology [--repeat 3]

Reads every text of the labelled sets in ``tests/data/`` (noisy names, messages, real addresses)
through :func:`resolver.text.parse.parse_query` twice: without morphology and with the
pymorphy3 analyser the resolver uses (:func:`resolver.readings.morphology_for`), and reports the
parse time per query (median and p95 over the texts, best of ``--repeat`` passes: the second
pass has the analyser's per-word cache warm, as a running bot has). Memory: the process's
resident set before and after loading the analyser (``/proc/self/status`` VmRSS), and Python
allocations while loading it (tracemalloc). Writes ``bench/results/morphology.json``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import tracemalloc
from collections.abc import Sequence
from pathlib import Path

from bench.common import console, machine, new_table, print_machine, write_result
from index_builder.published import published_data
from index_builder.seed.load import load_gazetteer
from resolver.readings import morphology_for, vocabulary_for
from resolver.text.morphology import NO_MORPHOLOGY, Morphology
from resolver.text.parse import parse_query
from resolver.text.vocabulary import Vocabulary
from search_platform.settings import PROJECT_ROOT

SETS = ("labelled_queries.jsonl", "labelled_messages.jsonl", "real_addresses.jsonl")


def load_texts(data_dir: Path) -> list[str]:
    """Every query text of the labelled sets that exist."""
    texts: list[str] = []
    for name in SETS:
        path = data_dir / name
        if path.is_file():
            lines = path.read_text(encoding="utf-8").splitlines()
            texts += [json.loads(line)["query"] for line in lines if line.strip()]
    return texts


def resident_mb() -> float:
    """This process's resident set size in MB (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def parse_times_ms(
    texts: Sequence[str], vocabulary: Vocabulary, morphology: Morphology
) -> list[float]:
    """Parse time of each text in milliseconds."""
    times = []
    for text in texts:
        start = time.perf_counter()
        parse_query(text, vocabulary, morphology=morphology)
        times.append((time.perf_counter() - start) * 1000)
    return times


def summary(times: Sequence[float]) -> dict[str, float]:
    """Median and p95 of per-query times."""
    ordered = sorted(times)
    return {
        "p50_ms": round(statistics.median(ordered), 4),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))], 4),
    }


def best_pass(
    texts: Sequence[str], vocabulary: Vocabulary, morphology: Morphology, repeat: int
) -> dict[str, float]:
    """The pass with the lowest median of ``repeat`` passes."""
    passes = [summary(parse_times_ms(texts, vocabulary, morphology)) for _ in range(repeat)]
    return min(passes, key=lambda figures: figures["p50_ms"])


def main(argv: Sequence[str] | None = None) -> int:
    """Run the measurement and print a table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    gazetteer = published_data(load_gazetteer(PROJECT_ROOT / "seed"))  # as the builder publishes it
    vocabulary = vocabulary_for(gazetteer)
    texts = load_texts(PROJECT_ROOT / "tests" / "data")
    before_mb = resident_mb()
    tracemalloc.start()
    start = time.perf_counter()
    morphology = morphology_for(gazetteer)
    morphology.lemma("цирком")  # the dictionaries load on first use
    load_s = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    after_mb = resident_mb()
    without = best_pass(texts, vocabulary, NO_MORPHOLOGY, args.repeat)
    with_morphology = best_pass(texts, vocabulary, morphology, args.repeat)
    host = machine()
    figures = {
        "texts": len(texts),
        "load_s": round(load_s, 3),
        "rss_added_mb": round(after_mb - before_mb, 1),
        "python_alloc_peak_mb": round(peak / 1e6, 1),
        "parse_without": without,
        "parse_with": with_morphology,
    }
    print_machine(host)
    table = new_table("Russian morphology in the parse step", ["figure", "value"])
    table.add_row("texts (all labelled sets)", str(len(texts)))
    table.add_row("analyser load", f"{load_s:.2f} s")
    table.add_row("resident memory added", f"{after_mb - before_mb:.1f} MB")
    table.add_row(
        "parse p50 / p95 without", f"{without['p50_ms']:.3f} / {without['p95_ms']:.3f} ms"
    )
    table.add_row(
        "parse p50 / p95 with",
        f"{with_morphology['p50_ms']:.3f} / {with_morphology['p95_ms']:.3f} ms",
    )
    console.print(table)
    write_result("morphology", figures, options={"repeat": args.repeat}, host=host)
    return 0


if __name__ == "__main__":
    sys.exit(main())
