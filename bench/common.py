"""What every bench shares: the machine, percentiles, query samples, raw searches, results.

Each bench prints a rich table and writes ``bench/results/<name>.json``, which holds the figures,
the options of the run and the machine (CPU, cores, RAM, Python and Meilisearch versions, commit).
All traffic stays on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import platform
import random
import statistics
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import urllib3
from rich.console import Console
from rich.table import Table

from search_platform.settings import PROJECT_ROOT, MeiliSettings

RESULTS = Path(__file__).resolve().parent / "results"
LABELLED_QUERIES = PROJECT_ROOT / "tests" / "data" / "labelled_queries.jsonl"
DEFAULT_SAMPLE = 1500
SAMPLE_SEED = 7
console = Console(width=140)


# ---------------------------------------------------------------- figures


def percentile(samples: Sequence[float], share: float) -> float:
    """Return the ``share`` (0..1) percentile of ``samples``, nearest-rank, 0 when empty."""
    if not samples:
        return 0.0
    ordered = sorted(samples)
    rank = max(1, round(share * len(ordered) + 0.5 - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


def latency_summary(seconds: Sequence[float]) -> dict[str, float]:
    """Summarise latencies (seconds) as milliseconds: count, mean, p50, p95, p99, max."""
    millis = [value * 1000 for value in seconds]
    return {
        "count": len(millis),
        "mean_ms": round(statistics.fmean(millis), 3) if millis else 0.0,
        "p50_ms": round(percentile(millis, 0.50), 3),
        "p95_ms": round(percentile(millis, 0.95), 3),
        "p99_ms": round(percentile(millis, 0.99), 3),
        "max_ms": round(max(millis), 3) if millis else 0.0,
    }


def timed(action: Callable[[], object]) -> float:
    """Run ``action`` once and return how long it took, in seconds."""
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def verdict(*, met: bool) -> str:
    """Say whether a target was met, for tables."""
    return "[green]met[/green]" if met else "[red]missed[/red]"


# ---------------------------------------------------------------- queries


def load_query_texts(path: Path = LABELLED_QUERIES) -> list[str]:
    """Read the query texts of the labelled file (one JSON object per line)."""
    if not path.is_file():
        raise SystemExit(f"no labelled queries at {path}: pass --queries PATH")
    lines = path.read_text(encoding="utf-8").splitlines()
    return [str(json.loads(line)["query"]) for line in lines if line.strip()]


def sample_texts(texts: Sequence[str], *, size: int, seed: int = SAMPLE_SEED) -> list[str]:
    """Return a fixed random sample of ``size`` texts (all of them, shuffled, if fewer)."""
    chosen = list(texts)
    random.Random(seed).shuffle(chosen)
    return chosen[:size] if size > 0 else chosen


# ---------------------------------------------------------------- raw Meilisearch


class RawMeili:
    """Plain ``POST /indexes/<uid>/search`` calls over one keep-alive session: the floor.

    The same HTTP clients as the resolver's adapters (urllib3 blocking, aiohttp awaited), so the
    floor and the resolver differ by the resolver's own work, not by their HTTP libraries.
    Responses are asked for uncompressed (``Accept-Encoding: identity``): Meilisearch streams a
    gzip body in small writes, and on loopback a response over about 1 KB then waits ~40 ms for
    the client's delayed ACK (Nagle). That stall is not search time, so the floor avoids it.
    """

    def __init__(self, url: str, *, api_key: str | None, index: str, limit: int = 20) -> None:
        self.headers = {"Accept-Encoding": "identity", "Content-Type": "application/json"}
        if api_key:
            self.headers["Authorization"] = f"Bearer {api_key}"
        self.url = f"{url.rstrip('/')}/indexes/{index}/search"
        self._limit = limit
        self._pool = urllib3.PoolManager(headers=self.headers, timeout=10.0, retries=False)

    def body(self, text: str) -> bytes:
        """The search request for ``text`` as typed."""
        return json.dumps({"q": text, "limit": self._limit}, ensure_ascii=False).encode()

    def search(self, text: str) -> int:
        """Search ``text`` as typed; return the number of hits (raises on an HTTP error)."""
        response = self._pool.request("POST", self.url, body=self.body(text))
        return count_hits(response.status, response.data)

    def close(self) -> None:
        """Release the session."""
        self._pool.clear()


class AsyncRawMeili:
    """:class:`RawMeili`, awaited over one aiohttp session (open it inside the event loop)."""

    def __init__(self, raw: RawMeili) -> None:
        self._raw = raw
        self._session = aiohttp.ClientSession(headers=raw.headers, trust_env=False)

    async def search(self, text: str) -> int:
        """Search ``text`` as typed; return the number of hits (raises on an HTTP error)."""
        async with self._session.post(self._raw.url, data=self._raw.body(text)) as response:
            return count_hits(response.status, await response.read())

    async def close(self) -> None:
        """Release the session."""
        await self._session.close()


def count_hits(status: int, data: bytes) -> int:
    """The number of hits of a search answer; an HTTP error raises."""
    if status != 200:
        raise RuntimeError(f"Meilisearch answered HTTP {status}: {data[:200]!r}")
    return len(json.loads(data).get("hits", []))


# ---------------------------------------------------------------- processes and memory


def proc_status(pid: int) -> dict[str, str]:
    """Read ``/proc/<pid>/status`` as a mapping of field to raw value."""
    text = Path(f"/proc/{pid}/status").read_text(encoding="utf-8")
    fields = (line.partition(":") for line in text.splitlines())
    return {name: value.strip() for name, _, value in fields}


def memory_mb(pid: int) -> dict[str, float]:
    """Return the current (VmRSS) and peak (VmHWM) resident memory of ``pid``, in MiB."""
    status = proc_status(pid)
    return {
        "rss_mb": round(int(status["VmRSS"].split()[0]) / 1024, 1),
        "peak_rss_mb": round(int(status["VmHWM"].split()[0]) / 1024, 1),
    }


@contextmanager
def bench_environment(**overrides: str | None) -> Iterator[None]:
    """Set (or, with ``None``, remove) environment variables for the duration of a block."""
    saved = {name: os.environ.get(name) for name in overrides}
    try:
        for name, value in overrides.items():
            set_variable(name, value)
        yield
    finally:
        for name, value in saved.items():
            set_variable(name, value)


def set_variable(name: str, value: str | None) -> None:
    """Set or remove one environment variable."""
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


# ---------------------------------------------------------------- machine


@dataclass(frozen=True)
class Machine:
    """What the figures were measured on."""

    cpu: str
    cores: int
    ram_gib: float
    python: str
    meilisearch: str
    commit: str
    load_average: tuple[float, float, float]

    def as_dict(self) -> dict[str, Any]:
        """Return the fields as a JSON-ready mapping."""
        return dict(self.__dict__)

    def one_line(self) -> str:
        """Describe the machine in one line."""
        return (
            f"{self.cores} cores ({self.cpu}), {self.ram_gib:.0f} GiB RAM, Python {self.python}, "
            f"Meilisearch {self.meilisearch}, commit {self.commit}; load average before the "
            f"run {self.load_average[0]:.1f} (other work on the machine inflates times)"
        )


def cpu_model() -> str:
    """Return the CPU model name from /proc/cpuinfo."""
    for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
        if line.startswith("model name"):
            return line.partition(":")[2].strip()
    return platform.processor() or "unknown"


def ram_gib() -> float:
    """Return the total RAM from /proc/meminfo, in GiB."""
    for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
        if line.startswith("MemTotal:"):
            return round(int(line.split()[1]) / 1024 / 1024, 1)
    return 0.0


def meilisearch_version(settings: MeiliSettings) -> str:
    """Ask the Meilisearch binary the project would run for its version."""
    from search_platform.install import resolve_binary

    try:
        binary = resolve_binary(settings).path
        output = subprocess.run(
            [str(binary), "--version"], capture_output=True, text=True, timeout=10, check=True
        )
    except Exception as exc:  # the version is informative, never fatal
        return f"unknown ({type(exc).__name__})"
    return output.stdout.strip().removeprefix("meilisearch ").strip()


def git_commit() -> str:
    """Return the short commit hash, with ``+dirty`` when tracked files differ from it."""
    try:
        head = git("rev-parse", "--short", "HEAD")
        changed = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{head}+dirty" if changed else head


def git(*arguments: str) -> str:
    """Run a read-only git command in the project and return its output."""
    return subprocess.run(
        ["git", *arguments],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        check=True,
        timeout=10,
    ).stdout.strip()


def machine(settings: MeiliSettings | None = None) -> Machine:
    """Describe this machine and the software under test."""
    return Machine(
        cpu=cpu_model(),
        cores=os.cpu_count() or 0,
        ram_gib=ram_gib(),
        python=platform.python_version(),
        meilisearch=meilisearch_version(settings or MeiliSettings()),
        commit=git_commit(),
        load_average=load_average(),
    )


def load_average() -> tuple[float, float, float]:
    """Return the 1, 5 and 15 minute load averages, rounded."""
    one, five, fifteen = os.getloadavg()
    return round(one, 2), round(five, 2), round(fifteen, 2)


def cpu_seconds(pid: int) -> float:
    """Return the CPU time (user + system) ``pid`` has used so far, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8").rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------- output


def new_table(title: str, columns: Sequence[str]) -> Table:
    """Return a table whose first column is left-aligned and the others right-aligned."""
    table = Table(title=title)
    for position, column in enumerate(columns):
        table.add_column(column, justify="left" if position == 0 else "right")
    return table


def write_result(
    name: str, figures: dict[str, Any], *, options: dict[str, Any], host: Machine
) -> Path:
    """Write ``bench/results/<name>.json`` with the figures, options and machine; return it."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    payload = {
        "bench": name,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": host.as_dict(),
        "load_average_after": load_average(),
        "options": options,
        "figures": figures,
    }
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def print_machine(host: Machine) -> None:
    """Print the machine line under a table."""
    console.print(f"[dim]machine: {host.one_line()}[/dim]")
