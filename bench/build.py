"""Index build time and documents per second: the seed, 10k and 100k synthetic places.

::

    python -m bench.build [--sizes seed 10000 100000] [--work-dir .noziri/bench]

Each size gets a fresh data directory (``<work-dir>/<size>``, emptied first) and its own fresh
embedded Meilisearch, started by this bench (``--no-analytics``, 127.0.0.1, a free port). The
bench then runs the real command ``python -m index_builder build [--synthetic N]`` against it and
times it end to end (Python start-up, seed loading or city generation, documents, settings,
indexing, swap). The builder's own summary line (publish step only) is recorded too, and so is
the server's peak RSS (VmHWM) during the build. The data directories are kept for
``bench.memory`` and for pointing the other benches at (``NOZIRI_DATA_DIR=<work-dir>/seed``).
Target: 100k places in under 60 s. Writes ``bench/results/build.json``.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.common import (
    Machine,
    console,
    cpu_seconds,
    machine,
    memory_mb,
    new_table,
    print_machine,
    verdict,
    write_result,
)
from search_platform.files import Role, data_paths, read_private_file
from search_platform.server import embedded_server
from search_platform.settings import PROJECT_ROOT, MeiliSettings

DEFAULT_WORK_DIR = PROJECT_ROOT / ".noziri" / "bench"
TARGET_SIZE = 100_000
TARGET_SECONDS = 60.0
BUILD_TIMEOUT_S = 1800.0
SUMMARY = re.compile(r"published (\d+) documents .* in ([\d.]+) s \(([\d,]+) docs/s\)")


@dataclass(frozen=True)
class Size:
    """One build: the seed (``count`` None) or a synthetic city of ``count`` places."""

    label: str
    count: int | None

    @classmethod
    def parse(cls, text: str) -> Size:
        """Read ``seed``, ``10000``, ``10k`` or ``100k``."""
        if text == "seed":
            return cls("seed", None)
        count = int(text.lower().removesuffix("k")) * (1000 if text.lower().endswith("k") else 1)
        return cls(f"{count // 1000}k" if count % 1000 == 0 else str(count), count)

    def command(self) -> list[str]:
        """The index builder command line for this size."""
        extra = [] if self.count is None else ["--synthetic", str(self.count)]
        return [sys.executable, "-m", "index_builder", "build", *extra]


def data_dir_for(work_dir: Path, label: str) -> Path:
    """Return the data directory of one size (inside the bench's work directory)."""
    return work_dir.resolve() / label


def isolated_environment(data_dir: Path) -> dict[str, str]:
    """This environment, pointed at ``data_dir``, with no external server or keys."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("MEILI_")}
    env["NOZIRI_DATA_DIR"] = str(data_dir)
    if os.environ.get("MEILI_BINARY"):
        env["MEILI_BINARY"] = os.environ["MEILI_BINARY"]
    return env


def settings_for(data_dir: Path) -> MeiliSettings:
    """Settings for the embedded server of ``data_dir`` (ignoring ``MEILI_URL``)."""
    return MeiliSettings(
        meili_url=None, meili_master_key=None, meili_search_key=None, noziri_data_dir=data_dir
    )


def fresh_data_dir(data_dir: Path) -> None:
    """Empty the data directory of one size (only ever a directory under the work dir)."""
    if data_dir.exists():
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True, mode=0o700)


@contextmanager
def served(data_dir: Path) -> Iterator[tuple[str, int, str]]:
    """Run the embedded server of ``data_dir``; yield its URL, pid and master key."""
    settings = settings_for(data_dir)
    with embedded_server(settings, role=Role.ADMIN) as server:
        key = read_private_file(data_paths(settings).master_key)
        yield server.url, server.pid, key


def document_count(url: str, key: str, index: str) -> int:
    """Ask the server how many documents ``index`` holds."""
    response = httpx.get(
        f"{url}/indexes/{index}/stats",
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
        trust_env=False,
    )
    response.raise_for_status()
    return int(response.json()["numberOfDocuments"])


def builder_summary(output: str) -> dict[str, Any]:
    """Read the builder's ``published N documents ... in S s (X docs/s)`` line, if present."""
    match = SUMMARY.search(output)
    if match is None:
        return {}
    return {
        "documents": int(match[1]),
        "publish_seconds": float(match[2]),
        "publish_docs_per_second": float(match[3].replace(",", "")),
    }


def children_cpu_seconds() -> float:
    """CPU time (user + system) used so far by this process's finished children."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_builder(size: Size, data_dir: Path) -> tuple[float, str]:
    """Run the index builder CLI once; return its wall time and output (raise if it failed)."""
    start = time.perf_counter()
    finished = subprocess.run(
        size.command(),
        env=isolated_environment(data_dir) | {"COLUMNS": "120", "TERM": "dumb"},
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_S,
        check=False,
    )
    seconds = time.perf_counter() - start
    output = finished.stdout + finished.stderr
    if finished.returncode != 0:
        raise SystemExit(
            f"`{' '.join(size.command()[1:])}` failed with status {finished.returncode}:\n"
            + "\n".join(output.splitlines()[-20:])
        )
    return seconds, output


def build_one(size: Size, work_dir: Path, index: str) -> dict[str, Any]:
    """Build one size into a fresh data directory and server; return its figures."""
    data_dir = data_dir_for(work_dir, size.label)
    fresh_data_dir(data_dir)
    with served(data_dir) as (url, pid, key):
        server_cpu, builder_cpu = cpu_seconds(pid), children_cpu_seconds()
        seconds, output = run_builder(size, data_dir)
        server_cpu, builder_cpu = (
            cpu_seconds(pid) - server_cpu,
            children_cpu_seconds() - builder_cpu,
        )
        documents = document_count(url, key, index)
        memory = memory_mb(pid)
    console.print(f"{size.label}: {documents} documents in {seconds:.1f} s")
    return {
        "size": size.label,
        "places": size.count,
        "documents": documents,
        "wall_seconds": round(seconds, 2),
        "docs_per_second": round(documents / seconds, 1),
        "builder": builder_summary(output),
        "builder_cpu_seconds": round(builder_cpu, 2),
        "meilisearch_cpu_seconds": round(server_cpu, 2),
        "meilisearch_peak_rss_mb_during_build": memory["peak_rss_mb"],
        "data_dir": str(data_dir),
    }


def render(rows: Sequence[dict[str, Any]], host: Machine) -> None:
    """Print one row per size."""
    table = new_table(
        "Index build (python -m index_builder build, fresh server)",
        [
            "size",
            "documents",
            "wall s",
            "docs/s (wall)",
            "publish s",
            "docs/s (publish)",
            "builder CPU s",
            "Meili CPU s",
            "Meili peak RSS MiB",
        ],
    )
    for row in rows:
        builder = row["builder"]
        table.add_row(
            row["size"],
            str(row["documents"]),
            f"{row['wall_seconds']:.1f}",
            f"{row['docs_per_second']:,.0f}",
            str(builder.get("publish_seconds", "-")),
            f"{builder.get('publish_docs_per_second', 0):,.0f}",
            f"{row['builder_cpu_seconds']:.1f}",
            f"{row['meilisearch_cpu_seconds']:.1f}",
            f"{row['meilisearch_peak_rss_mb_during_build']:.0f}",
        )
    console.print(table)
    judged = target_row(rows)
    if judged is not None:
        met = judged["wall_seconds"] < TARGET_SECONDS
        console.print(
            f"100k places: [bold]{judged['wall_seconds']:.1f} s[/bold] end to end "
            f"(target < {TARGET_SECONDS:.0f} s: {verdict(met=met)})"
        )
    print_machine(host)


def target_row(rows: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """The 100k row, if it was built."""
    return next((row for row in rows if row["places"] == TARGET_SIZE), None)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.build", description=__doc__)
    parser.add_argument(
        "--sizes",
        nargs="+",
        type=Size.parse,
        default=[Size.parse(s) for s in ("seed", "10k", "100k")],
    )
    parser.add_argument("--work-dir", type=Path, default=DEFAULT_WORK_DIR)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the build bench."""
    args = parse_args(argv)
    sizes: list[Size] = args.sizes
    index = MeiliSettings().meili_index
    host = machine()
    rows = [build_one(size, args.work_dir, index) for size in sizes]
    render(rows, host)
    judged = target_row(rows)
    figures = {
        "rows": rows,
        "target_seconds_100k": TARGET_SECONDS,
        "target_met": None if judged is None else judged["wall_seconds"] < TARGET_SECONDS,
    }
    options = {"sizes": [size.label for size in sizes], "work_dir": str(args.work_dir)}
    path = write_result("build", figures, options=options, host=host)
    console.print(f"written: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
