"""Bot updates per second and reply latency through the real python-telegram-bot stack.

Run after ``python -m index_builder build``::

    python -m bench.bot [--resolvers real fake] [--updates 1000] [--rate 100] [--burst 2000]

The bench runs the project's fake Bot API server (``bot.offline.fake_api``, tornado, real HTTP on
127.0.0.1) and starts the bot as its own process, long polling it with concurrent updates on:

- ``real``: the real entry point, ``python -m bot`` with a token, the real resolver against
  Meilisearch (the endpoint this bench holds open, passed as ``MEILI_URL``);
- ``fake``: the same application (``bot.__main__.compose_services`` + ``run_telegram``) with
  ``tests.bot.fakes.FakeResolver`` answering every text with a card: bot overhead without search.

Every update is a text message from a distinct user (so the per-user limit never applies),
taken from the labelled noisy queries. Latency is from the moment an update is queued at the fake
server to the moment the bot's ``sendMessage``/``editMessageText`` for that chat arrives there.
Two runs per resolver: a paced run (``--rate`` updates/s, the target's load) and a burst
(``--burst`` updates queued at once: the saturation rate). PTB's overall send limiter
(``BOT_MAX_SENDS_PER_SECOND``, 30/s like Telegram's own flood limit) is switched off (0) to
measure the bot, not the limiter. The bot's peak RSS (VmHWM) is read at the end.
Targets: >= 100 updates/s, p95 reply < 50 ms. Writes ``bench/results/bot.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Coroutine, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from bench.common import (
    DEFAULT_SAMPLE,
    LABELLED_QUERIES,
    Machine,
    console,
    cpu_seconds,
    latency_summary,
    load_query_texts,
    machine,
    memory_mb,
    new_table,
    print_machine,
    sample_texts,
    verdict,
    write_result,
)
from bot.i18n import load_catalogue
from bot.offline.fake_api import FAKE_TOKEN, FakeBotApi, FakeUser, Json
from bot.render import render_notice
from search_platform.connection import Endpoint, search_endpoint
from search_platform.settings import PROJECT_ROOT, MeiliSettings

TARGET_PER_SECOND = 100.0
TARGET_P95_MS = 50.0
REPLY_METHODS = frozenset({"sendMessage", "editMessageText"})
READY_TIMEOUT_S = 60.0
DRAIN_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0
FIRST_USER_ID = 10_000_000
LANG = "ru"
ResolverKind = Literal["real", "fake"]


@dataclass
class TimedBotApi(FakeBotApi):
    """The project's fake Bot API server, noting when each update went out and its reply came."""

    queued_at: dict[int, float] = field(default_factory=dict)
    replied_at: dict[int, float] = field(default_factory=dict)
    reply_text: dict[int, str] = field(default_factory=dict)

    def record(self, method: str, params: Json) -> None:
        """Log the call as the parent does and time the first reply to each chat."""
        chat = params.get("chat_id")
        if method in REPLY_METHODS and isinstance(chat, int) and chat not in self.replied_at:
            self.replied_at[chat] = time.perf_counter()
            self.reply_text[chat] = str(params.get("text", ""))
        super().record(method, params)

    def send_timed(self, user: FakeUser, text: str) -> None:
        """Queue a text from ``user`` and note the time."""
        self.queued_at[user.id] = time.perf_counter()
        self.send_text(user, text)


@dataclass
class UserIds:
    """Hands out a fresh user (and so a fresh private chat) for every update."""

    next_id: int = FIRST_USER_ID

    def take(self) -> FakeUser:
        """Return a user that has never written before."""
        self.next_id += 1
        return FakeUser(id=self.next_id, first_name="Bench", language_code=LANG)


@dataclass(frozen=True)
class LoadPlan:
    """How hard to drive the bot: warm-up, a paced run, then a burst."""

    updates: int = 1000
    rate: float = 100.0
    burst: int = 2000
    warmup: int = 100
    profile: Path | None = None


@dataclass
class RunResult:
    """One paced or burst run."""

    users: list[int] = field(default_factory=list)
    first_queued: float = 0.0
    last_reply: float = 0.0
    bot_cpu_s: float = 0.0


# ---------------------------------------------------------------- the bot process


def bot_command(kind: ResolverKind, *, profile: Path | None = None) -> list[str]:
    """The command that starts the bot with the real or the fake resolver (maybe profiled)."""
    profiler = [] if profile is None else ["-m", "cProfile", "-o", f"{profile}-{kind}.prof"]
    module = ["-m", "bot"] if kind == "real" else ["-m", "bench.bot", "serve-fake"]
    return [sys.executable, *profiler, *module]


def bot_environment(api_root: str, endpoint: Endpoint | None, data_dir: Path) -> dict[str, str]:
    """Environment of the bot process: the fake server, no send limit, a private data dir."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("TELEGRAM_")}
    env |= {
        "TELEGRAM_BOT_TOKEN": FAKE_TOKEN,
        "TELEGRAM_API_BASE_URL": api_root,
        "BOT_MAX_SENDS_PER_SECOND": "0",
        "BOT_QUERIES_PER_MINUTE": "1000000",
        "NOZIRI_DATA_DIR": str(data_dir),
    }
    if endpoint is not None:
        env["MEILI_URL"] = endpoint.url
        env["MEILI_SEARCH_KEY"] = endpoint.api_key.get_secret_value() if endpoint.api_key else ""
    return env


@contextmanager
def bot_process(
    kind: ResolverKind,
    api_root: str,
    endpoint: Endpoint | None,
    log: Path,
    *,
    profile: Path | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """Start the bot process; stop it (SIGINT, then SIGKILL) when the block ends."""
    with tempfile.TemporaryDirectory(prefix="noziri-bench-bot-") as data_dir, log.open("wb") as out:
        process = subprocess.Popen(
            bot_command(kind, profile=profile),
            env=bot_environment(api_root, endpoint, Path(data_dir)),
            cwd=PROJECT_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            yield process
        finally:
            stop_bot(process)


def stop_bot(process: subprocess.Popen[bytes]) -> None:
    """Ask the bot to stop as Ctrl-C would; kill it if it does not exit in time."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


async def wait_until_polling(api: TimedBotApi, process: subprocess.Popen[bytes], log: Path) -> None:
    """Wait for the bot's first ``getUpdates``; fail with its log if it exits or hangs."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while api.poll_count == 0:
        if process.poll() is not None or time.monotonic() > deadline:
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:])
            raise SystemExit(f"the bot did not start polling the fake server; its log:\n{tail}")
        await asyncio.sleep(0.05)


# ---------------------------------------------------------------- load


async def wait_for_replies(api: TimedBotApi, users: Sequence[int]) -> None:
    """Wait until every user got a reply, or the drain timeout passes."""
    deadline = time.monotonic() + DRAIN_TIMEOUT_S
    while any(user not in api.replied_at for user in users) and time.monotonic() < deadline:
        await asyncio.sleep(0.005)


async def paced_run(
    api: TimedBotApi, ids: UserIds, texts: Sequence[str], *, count: int, rate: float
) -> RunResult:
    """Queue ``count`` updates at ``rate`` per second, then wait for the replies."""
    result = RunResult(first_queued=time.perf_counter())
    for position in range(count):
        due = result.first_queued + position / rate
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        user = ids.take()
        api.send_timed(user, texts[position % len(texts)])
        result.users.append(user.id)
    await wait_for_replies(api, result.users)
    return finish(api, result)


async def burst_run(
    api: TimedBotApi, ids: UserIds, texts: Sequence[str], *, count: int, offset: int = 0
) -> RunResult:
    """Queue ``count`` updates at once, then wait for the replies."""
    result = RunResult(first_queued=time.perf_counter())
    for position in range(count):
        user = ids.take()
        api.send_timed(user, texts[(offset + position) % len(texts)])
        result.users.append(user.id)
    await wait_for_replies(api, result.users)
    return finish(api, result)


async def with_cpu(pid: int, run: Coroutine[Any, Any, RunResult]) -> RunResult:
    """Await a run and note the CPU time the bot process spent meanwhile."""
    before = cpu_seconds(pid)
    result = await run
    result.bot_cpu_s = cpu_seconds(pid) - before
    return result


def finish(api: TimedBotApi, result: RunResult) -> RunResult:
    """Note the last reply's time."""
    replied = [api.replied_at[user] for user in result.users if user in api.replied_at]
    result.last_reply = max(replied, default=result.first_queued)
    return result


def run_figures(api: TimedBotApi, result: RunResult, failures: frozenset[str]) -> dict[str, Any]:
    """Throughput, latency and failures of one run."""
    answered = [user for user in result.users if user in api.replied_at]
    latencies = [api.replied_at[user] - api.queued_at[user] for user in answered]
    window = result.last_reply - result.first_queued
    return {
        "updates": len(result.users),
        "answered": len(answered),
        "unanswered": len(result.users) - len(answered),
        "failed_replies": sum(api.reply_text[user] in failures for user in answered),
        "seconds": round(window, 3),
        "updates_per_second": round(len(answered) / window, 1) if window > 0 else 0.0,
        "latency": latency_summary(latencies),
        "bot_cpu_ms_per_update": round(1000 * result.bot_cpu_s / max(1, len(result.users)), 2),
    }


def failure_texts() -> frozenset[str]:
    """Replies that are not an answer: the 'briefly unavailable' and 'slow down' notices."""
    catalogue = load_catalogue()
    return frozenset(
        render_notice(catalogue, LANG, key).text for key in ("unavailable", "slow_down")
    )


async def bench_one(
    kind: ResolverKind, endpoint: Endpoint | None, texts: Sequence[str], plan: LoadPlan
) -> dict[str, Any]:
    """Start the bot with one resolver, warm it up, run paced and burst loads, read its RSS."""
    api = TimedBotApi()
    ids, failures = UserIds(), failure_texts()
    log = Path(tempfile.gettempdir()) / f"noziri-bench-bot-{kind}.log"
    await api.start()
    try:
        with bot_process(kind, api.root, endpoint, log, profile=plan.profile) as process:
            await wait_until_polling(api, process, log)
            await burst_run(api, ids, texts, count=plan.warmup)
            paced = await with_cpu(
                process.pid, paced_run(api, ids, texts, count=plan.updates, rate=plan.rate)
            )
            burst = await with_cpu(
                process.pid, burst_run(api, ids, texts, count=plan.burst, offset=plan.updates)
            )
            memory = memory_mb(process.pid)
    finally:
        await api.stop()
    paced_figures = {"offered_rate": plan.rate, **run_figures(api, paced, failures)}
    burst_figures = run_figures(api, burst, failures)
    console.print(
        f"{kind}: paced {paced_figures['updates_per_second']}/s, burst "
        f"{burst_figures['updates_per_second']}/s, RSS {memory['peak_rss_mb']} MiB"
    )
    return {
        "resolver": kind,
        "paced": paced_figures,
        "burst": burst_figures,
        "bot_peak_rss_mb": memory["peak_rss_mb"],
    }


async def bench_all(
    texts: Sequence[str], resolvers: Sequence[ResolverKind], plan: LoadPlan
) -> list[dict[str, Any]]:
    """Bench each resolver in turn, holding the Meilisearch endpoint open for the real one."""
    rows = []
    if "fake" in resolvers:
        rows.append(await bench_one("fake", None, texts, plan))
    if "real" in resolvers:
        with search_endpoint(MeiliSettings()) as endpoint:
            rows.append(await bench_one("real", endpoint, texts, plan))
    return rows


# ---------------------------------------------------------------- report


def judge(row: dict[str, Any]) -> bool:
    """Whether a paced run met both targets with every update answered."""
    paced = row["paced"]
    return bool(
        paced["updates_per_second"] >= TARGET_PER_SECOND * 0.97
        and paced["latency"]["p95_ms"] < TARGET_P95_MS
        and paced["unanswered"] == 0
        and paced["failed_replies"] == 0
    )


def render(rows: Sequence[dict[str, Any]], host: Machine) -> None:
    """Print one line per resolver and run."""
    table = new_table(
        "Bot through python-telegram-bot + fake Bot API over HTTP (concurrent updates on)",
        [
            "resolver",
            "run",
            "updates",
            "updates/s",
            "p50 ms",
            "p95 ms",
            "p99 ms",
            "unanswered",
            "failed",
            "bot CPU ms/update",
            "bot peak RSS MiB",
        ],
    )
    for row in rows:
        for run in ("paced", "burst"):
            figures = row[run]
            label = f"paced at {figures['offered_rate']:.0f}/s" if run == "paced" else "burst"
            table.add_row(
                row["resolver"],
                label,
                str(figures["updates"]),
                f"{figures['updates_per_second']:.0f}",
                f"{figures['latency']['p50_ms']:.1f}",
                f"{figures['latency']['p95_ms']:.1f}",
                f"{figures['latency']['p99_ms']:.1f}",
                str(figures["unanswered"]),
                str(figures["failed_replies"]),
                f"{figures['bot_cpu_ms_per_update']:.1f}",
                f"{row['bot_peak_rss_mb']:.0f}",
            )
    console.print(table)
    for row in rows:
        console.print(
            f"{row['resolver']} resolver, paced: target >= {TARGET_PER_SECOND:.0f}/s with p95 < "
            f"{TARGET_P95_MS:.0f} ms: {verdict(met=judge(row))}"
        )
    print_machine(host)


def serve_fake() -> int:
    """Run the bot's application with a FakeResolver that answers every labelled text."""
    from bot.__main__ import compose_services, run_telegram
    from bot.settings import BotSettings
    from tests.bot.fakes import FakeResolver, FakeSectors, make_candidate, resolved

    settings = BotSettings()
    token = settings.telegram_bot_token.get_secret_value() if settings.telegram_bot_token else ""
    candidate = make_candidate()
    answers = {text: resolved(text, candidate) for text in load_query_texts()}
    services = compose_services(settings, FakeResolver(answers=answers), FakeSectors())
    run_telegram(services, settings, token)
    return 0


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.bot", description=__doc__)
    parser.add_argument("mode", nargs="?", choices=["bench", "serve-fake"], default="bench")
    parser.add_argument("--queries", type=Path, default=LABELLED_QUERIES)
    parser.add_argument("--sample", type=int, default=DEFAULT_SAMPLE)
    parser.add_argument(
        "--resolvers", nargs="+", choices=["real", "fake"], default=["fake", "real"]
    )
    parser.add_argument("--updates", type=int, default=1000, help="updates in the paced run")
    parser.add_argument("--rate", type=float, default=100.0, help="paced updates per second")
    parser.add_argument("--burst", type=int, default=2000, help="updates in the burst run")
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument(
        "--profile-bot", type=Path, help="run the bot under cProfile, writing PATH-<resolver>.prof"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the bot bench (or, as ``serve-fake``, the bot under test)."""
    args = parse_args(argv)
    if args.mode == "serve-fake":
        return serve_fake()
    host = machine()
    texts = sample_texts(load_query_texts(args.queries), size=args.sample)
    plan = LoadPlan(args.updates, args.rate, args.burst, args.warmup, args.profile_bot)
    rows = asyncio.run(bench_all(texts, args.resolvers, plan))
    render(rows, host)
    figures = {
        "rows": rows,
        "target_updates_per_second": TARGET_PER_SECOND,
        "target_p95_ms": TARGET_P95_MS,
        "target_met": {row["resolver"]: judge(row) for row in rows},
    }
    options = {k: v for k, v in vars(args).items() if k not in {"mode", "queries", "profile_bot"}}
    path = write_result("bot", figures, options=options, host=host)
    console.print(f"written: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
