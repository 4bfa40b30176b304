"""``python -m bench.availability``: residents' updates through HAProxy to 3 bot workers and 2
Meilisearch replicas while a worker, then a replica, is killed and restarted (issue 17).

The whole topology runs on this machine (:mod:`deploy`: PostgreSQL, the replicas with the index
built into both, HAProxy with TLS in front, the workers in webhook mode sharing their state). The
project's fake Bot API, in this process, plays Telegram: at a steady rate it delivers residents'
messages (labelled queries) by webhook, redelivering an update whose call failed, and records the
bot's replies. Each resident has at most one message waiting for an answer, so every reply
belongs to one update.

Phases: ``before``; ``worker killed`` (SIGKILL of worker 0 a second in, at a moment HAProxy has
an update in flight to it); ``worker back`` (restarted); ``replica killed`` (SIGKILL of replica
0); ``after`` (restarted). For each, the
updates sent and answered, and the reply time (update sent to the first answer) p50 / p95 / max.
Then throughput: a burst from distinct residents with 3, 2 and 1 workers up.

Targets: 0 lost, 0 answered twice, p95 < 1 s during a kill. The last line reads
``answered N, lost L, answered twice T``. Results go to ``bench/results/availability.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from bench.common import (
    console,
    latency_summary,
    load_query_texts,
    machine,
    new_table,
    print_machine,
    sample_texts,
    write_result,
)
from bot.offline.fake_api import FakeBotApi, FakeUser
from bot.offline.webhook_delivery import DeliveryPolicy

# Faster than Telegram's own retry (which waits longer): the bench measures the bot, not the wait.
BENCH_DELIVERY: Final = DeliveryPolicy(
    attempt_timeout_s=10.0, first_backoff_s=0.2, max_backoff_s=2.0
)
FIRST_USER_ID: Final = 900_000
ACTION_AFTER_S: Final = 1.0  # a phase's kill or restart comes this long into its load
ANSWER: Final = "sendMessage"

Action = Callable[[], Awaitable[None]]


@dataclass
class Probe:
    """One resident's message: when it was pushed, in which phase, and the answers it got."""

    update_id: int
    user_id: int
    pushed_at: float
    phase: str
    answers: list[float] = field(default_factory=list)

    @property
    def reply_s(self) -> float | None:
        """Seconds to the first answer (None: none)."""
        return self.answers[0] - self.pushed_at if self.answers else None


@dataclass
class Phase:
    """A named stretch of the run, and what happens at its start."""

    name: str
    seconds: float
    action: Action | None = None


@dataclass
class SteadyLoad:
    """Residents writing at ``rate`` messages a second, each waiting for the last answer."""

    api: FakeBotApi
    texts: Sequence[str]
    rate: float
    users: int = 300
    first_user_id: int = FIRST_USER_ID
    probes: list[Probe] = field(default_factory=list)
    _waiting: dict[int, Probe] = field(default_factory=dict)
    _seen_calls: int = 0
    _next_user: int = 0
    _next_text: int = 0

    def __post_init__(self) -> None:
        self._seen_calls = len(self.api.calls)  # answers from before this load are not its own

    async def run(self, phases: Sequence[Phase]) -> None:
        """Run every phase in turn at the steady rate."""
        for phase in phases:
            sending = asyncio.create_task(self.send_for(phase.name, phase.seconds))
            if phase.action is not None:
                await asyncio.sleep(min(ACTION_AFTER_S, phase.seconds / 4))  # under load
                await phase.action()
            await sending

    async def send_for(self, phase: str, seconds: float) -> None:
        """Push one message every 1/rate s for ``seconds``, from residents not waiting."""
        period, end = 1.0 / self.rate, time.monotonic() + seconds
        tick = time.monotonic()
        while tick < end:
            self.collect()
            self.push(phase)
            tick += period
            await asyncio.sleep(max(0.0, tick - time.monotonic()))

    def push(self, phase: str) -> None:
        """One message from the next resident who is not waiting for an answer."""
        for _ in range(self.users):
            user_id = self.first_user_id + self._next_user % self.users
            self._next_user += 1
            if user_id not in self._waiting:
                break
        else:
            return  # every resident waits: the bot is not answering at all
        text = self.texts[self._next_text % len(self.texts)]
        self._next_text += 1
        update_id = self.api.send_text(FakeUser(id=user_id, language_code="ru"), text)
        probe = Probe(update_id, user_id, time.monotonic(), phase)
        self.probes.append(probe)
        self._waiting[user_id] = probe

    def collect(self) -> None:
        """Give each new answer to the message its resident is waiting on."""
        calls = self.api.calls
        for call in calls[self._seen_calls :]:
            if call.method != ANSWER or call.chat_id is None:
                continue
            probe = self._waiting.pop(call.chat_id, None) or self.last_probe_of(call.chat_id)
            if probe is not None:
                probe.answers.append(call.at)
        self._seen_calls = len(calls)

    def last_probe_of(self, user_id: int) -> Probe | None:
        """The resident's last message (a second answer to it counts as answered twice)."""
        for probe in reversed(self.probes):
            if probe.user_id == user_id:
                return probe
        return None

    async def drain(self, timeout_s: float) -> None:
        """Wait until no message waits for an answer (or the timeout)."""
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            self.collect()
            if not self._waiting:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(1.0)  # an answer sent twice would arrive by now
        self.collect()


@dataclass(frozen=True)
class Totals:
    """What the run's residents got."""

    sent: int
    answered: int
    lost: int
    answered_twice: int

    def last_line(self) -> str:
        """The bench's last line."""
        return f"answered {self.answered}, lost {self.lost}, answered twice {self.answered_twice}"


def totals(probes: Sequence[Probe]) -> Totals:
    """Count answered, lost and twice-answered messages."""
    answered = sum(1 for p in probes if p.answers)
    twice = sum(1 for p in probes if len(p.answers) > 1)
    return Totals(len(probes), answered, len(probes) - answered, twice)


def phase_rows(probes: Sequence[Probe], phases: Sequence[Phase]) -> dict[str, dict[str, Any]]:
    """Per phase: messages sent, answered, twice, and the reply time summary."""
    rows: dict[str, dict[str, Any]] = {}
    for phase in phases:
        mine = [p for p in probes if p.phase == phase.name]
        replies = [p.reply_s for p in mine if p.reply_s is not None]
        counted = totals(mine)
        rows[phase.name] = {
            "sent": counted.sent,
            "answered": counted.answered,
            "lost": counted.lost,
            "answered_twice": counted.answered_twice,
            **latency_summary(replies),
        }
    return rows


async def burst_throughput(
    api: FakeBotApi, texts: Sequence[str], *, size: int, first: int
) -> float:
    """Messages a second the bot answers when ``size`` residents (ids from ``first`` on, which
    no other load used: no limit left over) write at once."""
    load = SteadyLoad(api, texts, rate=1.0, users=size, first_user_id=first)
    start = time.monotonic()
    for _ in range(size):
        load.push("burst")
    await load.drain(120.0)
    answered = [p.answers[0] for p in load.probes if p.answers]
    return len(answered) / (max(answered) - start) if answered else 0.0


def render(rows: dict[str, dict[str, Any]], throughput: dict[str, float], counted: Totals) -> None:
    """Print the phase table, the throughput and the totals."""
    table = new_table(
        "Availability: 3 workers, 2 replicas",
        ["phase", "sent", "answered", "lost", "twice", "p50 ms", "p95 ms", "max ms"],
    )
    for name, row in rows.items():
        table.add_row(
            name,
            str(row["sent"]),
            str(row["answered"]),
            str(row["lost"]),
            str(row["answered_twice"]),
            f"{row['p50_ms']:.0f}",
            f"{row['p95_ms']:.0f}",
            f"{row['max_ms']:.0f}",
        )
    console.print(table)
    if throughput:
        shown = ", ".join(f"{name}: {value:.1f}/s" for name, value in throughput.items())
        console.print(f"throughput (burst answered per second): {shown}")


async def run(args: argparse.Namespace) -> tuple[dict[str, Any], Totals]:
    """Bring the topology up, run the phases and the bursts; the figures and totals."""
    from deploy.launch import default_database, launch
    from deploy.plan import make_plan

    texts = sample_texts(load_query_texts(), size=400)
    # The fake Bot API has no send limit: lift the bot's (Telegram's 30/s) to measure the workers.
    unlimited = {"BOT_MAX_SENDS_PER_SECOND": "1000"} if args.unlimited_sends else {}
    plan = make_plan(
        workers=args.workers,
        replicas=args.replicas,
        database=default_database(),
        worker_settings=unlimited,
    )
    try:
        async with (
            FakeBotApi(webhook_policy=BENCH_DELIVERY) as api,
            launch(plan, api_root=api.root, token=api.token) as topology,
        ):
            phases = availability_phases(topology, seconds=args.phase_seconds)
            load = SteadyLoad(api, texts, rate=args.rate)
            await load.run(phases)
            await load.drain(30.0)
            rows = phase_rows(load.probes, phases)
            throughput = {}
            if args.throughput:
                throughput = await throughput_by_workers(api, texts, topology, args.burst)
            stats = api.webhook_stats()
    finally:
        shutil.rmtree(plan.run_dir, ignore_errors=True)
    counted = totals(load.probes)
    figures = {
        "phases": rows,
        "throughput_per_s": throughput,
        "totals": counted.__dict__,
        "webhook": {"redelivered": stats.redelivered, "failed_attempts": stats.failed_attempts},
        "killed_in_flight": sum(KILLED_IN_FLIGHT),
    }
    render(rows, throughput, counted)
    console.print(
        f"worker killed with {sum(KILLED_IN_FLIGHT)} update(s) in flight to it; webhook "
        f"deliveries: {stats.redelivered} updates redelivered, {stats.failed_attempts} failed "
        "attempts"
    )
    return figures, counted


async def kill_worker_mid_update(topology: Any, index: int, *, wait_s: float = 5.0) -> int:
    """SIGKILL worker ``index`` while HAProxy has an update in flight to it (or after
    ``wait_s``); the updates it was handling then, as HAProxy counted them."""
    name = topology.plan.workers[index].name
    end = time.monotonic() + wait_s
    in_flight = 0
    while time.monotonic() < end:
        status = await topology.status()
        in_flight = next((s.active_sessions for s in status.servers if s.name == name), 0)
        if in_flight > 0:
            break
        await asyncio.sleep(0.005)
    await topology.kill_worker(index)
    KILLED_IN_FLIGHT.append(in_flight)
    return in_flight


KILLED_IN_FLIGHT: list[int] = []  # updates in flight at each worker kill of this process's runs


def availability_phases(topology: Any, *, seconds: float) -> list[Phase]:
    """Before, a worker killed, back, a replica killed, after."""

    async def kill_worker() -> None:
        await kill_worker_mid_update(topology, 0)

    async def restart_worker() -> None:
        await topology.start_worker(0)

    async def kill_replica() -> None:
        await topology.kill_replica(0)

    async def restart_replica() -> None:
        await topology.start_replica(0)

    return [
        Phase("before", seconds),
        Phase("worker killed", seconds, kill_worker),
        Phase("worker back", seconds, restart_worker),
        Phase("replica killed", seconds, kill_replica),
        Phase("after", seconds, restart_replica),
    ]


async def throughput_by_workers(
    api: FakeBotApi, texts: Sequence[str], topology: Any, size: int
) -> dict[str, float]:
    """Burst throughput with every worker up, then one fewer at a time down to one."""
    results: dict[str, float] = {}
    workers = len(topology.plan.workers)
    first = FIRST_USER_ID + 100_000
    for alive in range(workers, 0, -1):
        results[f"{alive} workers"] = await burst_throughput(api, texts, size=size, first=first)
        first += size
        if alive > 1:
            await topology.stop_worker(alive - 1)
    return results


def main(argv: Sequence[str] | None = None) -> int:
    """Run the bench and print its figures; the last line is the totals."""
    parser = argparse.ArgumentParser(prog="python -m bench.availability", description=__doc__)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--rate", type=float, default=10.0, help="messages a second")
    parser.add_argument("--phase-seconds", type=float, default=12.0)
    parser.add_argument("--burst", type=int, default=200, help="residents per throughput burst")
    parser.add_argument("--no-throughput", dest="throughput", action="store_false")
    parser.add_argument(
        "--telegram-send-limit",
        dest="unlimited_sends",
        action="store_false",
        help="keep the bot's 30 messages/s send budget (Telegram's) in the throughput bursts",
    )
    args = parser.parse_args(argv)
    figures, counted = asyncio.run(run(args))
    host = machine()
    print_machine(host)
    write_result("availability", figures, options=vars(args), host=host)
    print(counted.last_line())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
