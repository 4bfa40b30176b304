"""Several webhook workers on one shared database, as behind a load balancer (issue 17).

Each worker is the real application behind the real webhook server (:mod:`bot.cluster`), on its
own port, sharing the reports database (SQLite and PostgreSQL). The fake Bot API builds the
updates; a small router posts each to the next worker in turn, as a balancer that has lost the
resident's worker would, so every step of a conversation may land on another process.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import httpx

from bot.cluster.compose import WorkerOptions, webhook_worker
from bot.cluster.shared import SharedBot
from bot.cluster.webhook import SECRET_HEADER, WebhookServer, serve_webhook
from bot.handlers import BotServices
from bot.offline.fake_api import FakeBotApi, FakeChat, FakeUser
from bot.reporting.services import Reporting
from bot.security import WebhookPlan
from bot.throttle import QueryLimiter
from reports.model import StaffScope
from reports.shared import open_shared_state
from reports.store import SqlReportStore, open_store
from tests.bot.fakes import FakeResolver, ambiguous, make_candidate, make_sector, resolved
from tests.bot.reporting import (
    FAST,
    INSPECTOR,
    RESIDENT,
    RUDAKI,
    STAFF,
    Talker,
    file_report,
    report_sectors,
    texts,
)

SECRET: Final = "cluster-shared-secret"
LEASE: Final = timedelta(seconds=2)  # the workers' hold on an update, unless renewed
SOM_01: Final = StaffScope(sector_id="SOM-01")
OTHER: Final = FakeUser(id=7301, first_name="Nigina", language_code="en")
AINI: Final = make_candidate(
    place_id="dyu-0002",
    document_id="dyu-0002",
    name="кӯчаи Айнӣ",
    name_en="Aini Street",
    sector=make_sector(id="SOM-02"),
)


def free_port() -> int:
    """A free loopback port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def cluster_resolver() -> FakeResolver:
    """ "Rudaki 45" settles; "Rudaki" asks between two places."""
    return FakeResolver(
        answers={
            "Rudaki 45": resolved("Rudaki 45", RUDAKI, house=45),
            "Rudaki": ambiguous("Rudaki", RUDAKI, AINI),
        }
    )


@dataclass
class Worker:
    """One running worker: its server, its port, the task serving it."""

    server: WebhookServer
    port: int
    stop: asyncio.Event
    task: asyncio.Task[None]

    @property
    def url(self) -> str:
        """Where its webhook path answers."""
        return f"http://127.0.0.1:{self.port}/{self.server.plan.path}"


@dataclass
class Cluster:
    """The fake Bot API, the workers, and the router between them."""

    api: FakeBotApi
    workers: list[Worker]
    client: httpx.AsyncClient
    store: SqlReportStore
    statuses: list[int] = field(default_factory=list)
    turn: int = 0

    @property
    def resident(self) -> Talker:
        """The resident of the report tests."""
        return Talker(self.api, RESIDENT)

    async def link(self, chat: FakeChat, scope: StaffScope) -> None:
        """A maintainer's invite, then ``/link <code>`` in ``chat``."""
        code = self.store.invite(scope, now=datetime.now(UTC), valid_for=timedelta(hours=1))
        await Talker(self.api, INSPECTOR, chat).say(f"/link {code}")

    async def post(self, update: dict[str, Any], worker: int) -> int:
        """POST one update to one worker, as Telegram (through the balancer) would."""
        response = await self.client.post(
            self.workers[worker].url, json=update, headers={SECRET_HEADER: SECRET}
        )
        self.statuses.append(response.status_code)
        return response.status_code

    async def route(self) -> None:
        """Post each update the fake API builds to the next worker in turn."""
        while True:
            if not self.api.updates:
                await asyncio.sleep(0.005)
                continue
            update = self.api.updates.pop(0)
            await self.post(update, self.turn % len(self.workers))
            self.turn += 1


async def start_worker(
    make_services: Callable[..., BotServices],
    database_url: str,
    api: FakeBotApi,
    *,
    lease: timedelta = LEASE,
    search_delay_s: float = 0.0,
) -> Worker:
    """A worker on the shared database, serving until its ``stop`` is set."""
    store = open_store(database_url)
    resolver = cluster_resolver()
    resolver.delay_s = search_delay_s
    services = make_services(
        resolver=resolver,
        sectors=report_sectors(),
        reporting=Reporting(store=store, policy=FAST),
        limiter=QueryLimiter(per_minute=1, burst=6),  # no token comes back during a test
    )
    port = free_port()
    plan = WebhookPlan("127.0.0.1", port, "hook", "https://noziri.invalid/hook", SECRET, False)
    shared = SharedBot(open_shared_state(database_url), lease=lease)
    options = WorkerOptions(token=api.token, api_root=api.root)
    server = webhook_worker(services, plan, options, shared=shared)
    stop = asyncio.Event()
    task = asyncio.create_task(serve_webhook(server, stop=stop))
    while not server.accepting:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    return Worker(server, port, stop, task)


@asynccontextmanager
async def cluster(
    make_services: Callable[..., BotServices],
    database_url: str,
    *,
    workers: int = 2,
    route: bool = True,
    **worker_options: Any,
) -> AsyncIterator[Cluster]:
    """``workers`` workers on one database behind the round-robin router (or none: the test
    posts the updates itself)."""
    async with AsyncExitStack() as stack:
        api = await stack.enter_async_context(FakeBotApi())
        client = await stack.enter_async_context(httpx.AsyncClient(trust_env=False, timeout=30))
        running = [
            await start_worker(make_services, database_url, api, **worker_options)
            for _ in range(workers)
        ]
        store = open_store(database_url)
        stack.callback(store.close)
        rig = Cluster(api, running, client, store)
        router = asyncio.create_task(rig.route()) if route else None
        try:
            yield rig
        finally:
            if router is not None:
                router.cancel()
            for worker in running:
                worker.stop.set()
            await asyncio.gather(*(w.task for w in running), return_exceptions=True)


async def test_a_report_goes_through_when_every_step_reaches_another_worker(
    make_services: Callable[..., BotServices], database_url: str
) -> None:
    async with cluster(make_services, database_url) as rig:
        await rig.link(STAFF, SOM_01)
        reference = await file_report(rig)
        await asyncio.sleep(0.5)  # both workers' delivery loops have looked at the outbox
        cards = [c for c in rig.api.sent_to(STAFF.id) if reference in texts([c])]
    assert rig.turn >= 12, "the steps did not alternate between the workers"
    assert len(cards) == 1, f"the inspector got the card {len(cards)} times"


async def stopped_router(rig: Cluster) -> list[dict[str, Any]]:
    """Updates the fake API built, taken before the router posts them (tests post by hand)."""
    taken = list(rig.api.updates)
    rig.api.updates.clear()
    return taken


async def test_a_redelivered_update_is_answered_once_whichever_worker_gets_it(
    make_services: Callable[..., BotServices], database_url: str
) -> None:
    async with cluster(make_services, database_url, route=False) as rig:
        rig.api.send_text(OTHER, "Rudaki 45")
        (update,) = await stopped_router(rig)
        statuses = [await rig.post(update, worker) for worker in (0, 1, 0, 1)]
        await asyncio.sleep(0.3)
        answers = rig.api.sent_to(OTHER.id, "sendMessage")
    assert statuses == [200, 200, 200, 200]  # acknowledged every time: Telegram stops retrying
    assert len(answers) == 1


async def test_an_update_of_a_killed_worker_is_answered_by_another_once_its_lease_runs_out(
    make_services: Callable[..., BotServices], database_url: str
) -> None:
    async with cluster(make_services, database_url, route=False) as rig:
        rig.api.send_text(OTHER, "Rudaki 45")
        (update,) = await stopped_router(rig)
        lease = LEASE
        dead = SharedBot(open_shared_state(database_url), owner="killed-worker", lease=lease)
        await dead.claim(update["update_id"])  # took it, then died before answering
        busy = await rig.post(update, 1)
        await asyncio.sleep(lease.total_seconds() + 0.1)
        redelivered = await rig.post(update, 1)
        await asyncio.sleep(0.3)
        answers = rig.api.sent_to(OTHER.id, "sendMessage")
    assert (busy, redelivered) == (503, 200)
    assert len(answers) == 1


async def test_a_worker_slower_than_its_lease_keeps_its_update_by_renewing_the_claim(
    make_services: Callable[..., BotServices], database_url: str
) -> None:
    lease = timedelta(seconds=0.6)
    async with cluster(
        make_services, database_url, route=False, lease=lease, search_delay_s=1.5
    ) as rig:
        rig.api.send_text(OTHER, "Rudaki 45")
        (update,) = await stopped_router(rig)
        first = asyncio.create_task(rig.post(update, 0))
        await asyncio.sleep(1.0)  # past the lease: only a renewed claim still holds
        redelivered = await rig.post(update, 1)
        handled = await first
        await asyncio.sleep(0.3)
        answers = rig.api.sent_to(OTHER.id, "sendMessage")
    assert (handled, redelivered) == (200, 503)
    assert len(answers) == 1


async def test_a_button_shown_by_one_worker_works_when_pressed_on_another(
    make_services: Callable[..., BotServices], database_url: str
) -> None:
    async with cluster(make_services, database_url) as rig:
        resident = Talker(rig.api, OTHER)
        await resident.say("Rudaki")  # worker 0 shows the choice
        card = await resident.press("p:dyu-0002")  # worker 1 gets the press
    assert "Aini Street" in texts(card), texts(card)
    assert "out of date" not in texts(card).lower()


async def test_the_per_user_limit_counts_updates_on_every_worker(
    make_services: Callable[..., BotServices], database_url: str
) -> None:
    async with cluster(make_services, database_url, route=False) as rig:
        for _ in range(12):
            rig.api.send_text(OTHER, "Rudaki 45")
        updates = await stopped_router(rig)
        for turn, update in enumerate(updates):
            await rig.post(update, turn % 2)
        await asyncio.sleep(0.3)
        answers = rig.api.sent_to(OTHER.id, "sendMessage")
    cards = [c for c in answers if "Rudaki" in texts([c]) or "Рудак" in texts([c])]
    assert len(cards) == 6  # the burst of 6, counted once across both workers
    assert len(answers) == 7  # and one "slow down" notice


async def test_a_post_without_the_shared_secret_is_refused_and_nothing_is_sent(
    make_services: Callable[..., BotServices], database_url: str
) -> None:
    async with cluster(make_services, database_url, route=False) as rig:
        rig.api.send_text(OTHER, "Rudaki 45")
        (update,) = await stopped_router(rig)
        wrong = await rig.client.post(
            rig.workers[0].url, json=update, headers={SECRET_HEADER: "guessed"}
        )
        missing = await rig.client.post(rig.workers[1].url, json=update)
        health = await rig.client.get(f"http://127.0.0.1:{rig.workers[0].port}/healthz")
        await asyncio.sleep(0.2)
    assert (wrong.status_code, missing.status_code, health.status_code) == (403, 403, 200)
    assert rig.api.sent_to(OTHER.id) == []
