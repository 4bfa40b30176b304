"""The worker's webhook server: each update answered once, acknowledged only once handled.

python-telegram-bot's own webhook server answers Telegram ``200`` as soon as an update is queued;
a worker that dies before handling it loses it, since Telegram only redelivers an update whose
call failed. This server answers a POST only after the update was handled and the resident's
state was written, so a killed worker's update is redelivered (by Telegram, or at once by HAProxy
to another worker) and handled there.

For each POST to the webhook path:

1. no or a wrong ``X-Telegram-Bot-Api-Secret-Token`` header: 403, nothing is read further;
2. the update id is claimed in the :class:`UpdateLedger`: an update already answered gets 200
   and no second answer; one another live worker is handling gets 503 (retried later);
3. the update is handled (``Application.process_update``, at most ``concurrent_updates`` at
   once), the persistence flushed, the update marked done: 200. A failure releases the claim
   and answers 500, so the redelivery is handled afresh.

``GET /healthz`` answers 200 while the worker takes updates and 503 once it is stopping, so
HAProxy stops sending before the worker goes: a SIGTERM first drains, then stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import signal
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Protocol

from aiohttp import web
from telegram import Update

from bot.security import WebhookPlan
from reports.ports import ReportError
from reports.shared import UpdateClaim

logger = logging.getLogger(__name__)

SECRET_HEADER: Final = "X-Telegram-Bot-Api-Secret-Token"
HOUSEKEEPING_S: Final = 3600.0
DRAIN_S: Final = 1.5  # after /healthz turns 503, how long updates are still taken
LOCAL_MEMORY: Final = 10_000  # update ids one process remembers without a shared store

BotApplication = Any  # telegram.ext.Application with any context types


class UpdateLedger(Protocol):
    """Who handles which update (:class:`bot.cluster.shared.SharedBot` across workers)."""

    async def claim(self, update_id: int) -> UpdateClaim:
        """Take ``update_id``, unless it is done or another live worker has it."""
        ...

    async def finish(self, update_id: int) -> None:
        """``update_id`` was answered."""
        ...

    async def release(self, update_id: int) -> None:
        """``update_id`` could not be handled: its redelivery may be handled at once."""
        ...

    async def renew(self, update_id: int) -> UpdateClaim:
        """Extend this worker's hold on ``update_id`` while it is still being handled."""
        ...


@dataclass
class LocalLedger:
    """The ledger of a single worker: the update ids it handled lately, in memory."""

    capacity: int = LOCAL_MEMORY
    states: OrderedDict[int, UpdateClaim] = field(default_factory=OrderedDict)

    async def claim(self, update_id: int) -> UpdateClaim:
        """Handle a new id; a redelivery of one being handled is busy, of one done is done."""
        known = self.states.get(update_id)
        if known is not None:
            return UpdateClaim.DONE if known is UpdateClaim.DONE else UpdateClaim.BUSY
        self.states[update_id] = UpdateClaim.HANDLE
        while len(self.states) > self.capacity:
            self.states.popitem(last=False)
        return UpdateClaim.HANDLE

    async def finish(self, update_id: int) -> None:
        """Remember ``update_id`` as answered."""
        self.states[update_id] = UpdateClaim.DONE

    async def release(self, update_id: int) -> None:
        """Forget ``update_id``."""
        self.states.pop(update_id, None)

    async def renew(self, update_id: int) -> UpdateClaim:
        """Nothing to extend: one process holds nothing that runs out."""
        return UpdateClaim.HANDLE


@dataclass
class WebhookServer:
    """The aiohttp application around one python-telegram-bot Application."""

    application: BotApplication
    plan: WebhookPlan
    ledger: UpdateLedger
    concurrent_updates: int = 16
    # Run every HOUSEKEEPING_S while serving (the shared store's pruning); None: nothing.
    housekeeping: Callable[[], Awaitable[object]] | None = None
    # How often a claim is renewed while its update is handled (a third of the lease, so a
    # killed worker's updates are free again soon); None: claims do not run out.
    renew_every_s: float | None = None
    accepting: bool = False
    _slots: asyncio.Semaphore = field(init=False)

    def __post_init__(self) -> None:
        self._slots = asyncio.Semaphore(self.concurrent_updates)

    def web_app(self) -> web.Application:
        """The routes: the webhook path and the health check."""
        app = web.Application(client_max_size=1 << 20)
        app.router.add_post(f"/{self.plan.path}", self.on_update)
        app.router.add_get("/healthz", self.on_health)
        return app

    async def on_health(self, _request: web.Request) -> web.Response:
        """200 while updates are taken, 503 while starting or stopping."""
        return web.Response(status=200 if self.accepting else 503, text="ok\n")

    async def on_update(self, request: web.Request) -> web.Response:
        """Check the secret, claim the update, handle it, then acknowledge it."""
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.plan.secret.encode()):
            return web.Response(status=403)
        if not self.accepting:
            return web.Response(status=503, text="stopping\n")
        update = await self.read_update(request)
        if update is None:
            return web.Response(status=400)
        return await self.handle(update)

    async def read_update(self, request: web.Request) -> Update | None:
        """The update in the body (None for a body that is not one)."""
        try:
            payload = await request.json()
            return Update.de_json(payload, self.application.bot)
        except (json.JSONDecodeError, TypeError, ValueError, KeyError):
            return None

    async def handle(self, update: Update) -> web.Response:
        """Claim, handle, flush and finish one update."""
        try:
            claim = await self.ledger.claim(update.update_id)
        except ReportError:
            logger.warning("the shared store is unreachable; update left to Telegram's retry")
            return web.Response(status=503)
        if claim is UpdateClaim.DONE:
            return web.Response(status=200)  # a redelivery of an answered update
        if claim is UpdateClaim.BUSY:
            return web.Response(status=503)  # another worker has it; Telegram retries later
        try:
            async with self.renewing(update.update_id), self._slots:
                await self.application.process_update(update)
                await self.application.update_persistence()
            await self.ledger.finish(update.update_id)
        except Exception:
            logger.exception("an update could not be handled; released for redelivery")
            with contextlib.suppress(Exception):
                await self.ledger.release(update.update_id)
            return web.Response(status=500)
        return web.Response(status=200)

    def renewing(self, update_id: int) -> contextlib.AbstractAsyncContextManager[None]:
        """Keep this worker's claim on ``update_id`` alive while the block runs."""
        return alongside(None if self.renew_every_s is None else self.renew(update_id))

    async def renew(self, update_id: int) -> None:
        """Renew the claim every ``renew_every_s`` until cancelled (or it is lost)."""
        while True:
            await asyncio.sleep(self.renew_every_s or 0)
            try:
                if await self.ledger.renew(update_id) is not UpdateClaim.HANDLE:
                    logger.warning("an update's claim ran out while it was handled")
                    return
            except ReportError:
                logger.warning("an update's claim could not be renewed; retrying")


async def register_webhook(
    application: BotApplication,
    plan: WebhookPlan,
    *,
    certificate: Path | None = None,
    max_connections: int = 40,
) -> None:
    """Tell the Bot API where to post (each worker registers the same URL and secret)."""
    options: dict[str, Any] = {
        "url": plan.url,
        "secret_token": plan.secret,
        "max_connections": max_connections,
        "allowed_updates": Update.ALL_TYPES,
    }
    if certificate is None:
        await application.bot.set_webhook(**options)
        return
    with certificate.open("rb") as cert:
        await application.bot.set_webhook(certificate=cert, **options)


@contextlib.asynccontextmanager
async def running_application(application: BotApplication) -> AsyncIterator[None]:
    """Initialise and start the application with its hooks, as ``run_webhook`` would."""
    await application.initialize()
    if application.post_init is not None:
        await application.post_init(application)
    await application.start()
    try:
        yield
    finally:
        await application.stop()
        if application.post_stop is not None:
            await application.post_stop(application)
        await application.shutdown()
        if application.post_shutdown is not None:
            await application.post_shutdown(application)


async def serve_webhook(
    server: WebhookServer,
    *,
    certificate: Path | None = None,
    max_connections: int = 40,
    stop: asyncio.Event | None = None,
) -> None:
    """Serve updates until SIGTERM/SIGINT (or ``stop``): register, take updates, drain, stop."""
    stop = stop or stop_on_signals()
    async with running_application(server.application):
        runner = web.AppRunner(server.web_app(), access_log=None, shutdown_timeout=10)
        await runner.setup()
        site = web.TCPSite(runner, server.plan.listen, server.plan.port, reuse_address=True)
        await site.start()
        try:
            await register_webhook(
                server.application,
                server.plan,
                certificate=certificate,
                max_connections=max_connections,
            )
            server.accepting = True
            logger.info("%s", server.plan.describe())
            async with periodically(server.housekeeping):
                await stop.wait()
            server.accepting = False  # /healthz says 503: the load balancer moves on
            await asyncio.sleep(DRAIN_S)
        finally:
            server.accepting = False
            await runner.cleanup()  # waits for the updates in flight


def periodically(
    job: Callable[[], Awaitable[object]] | None,
) -> contextlib.AbstractAsyncContextManager[None]:
    """Run ``job`` every HOUSEKEEPING_S (its failures logged) while the block runs."""
    return alongside(None if job is None else every_period(job))


async def every_period(job: Callable[[], Awaitable[object]]) -> None:
    """Run ``job`` every HOUSEKEEPING_S until cancelled; a failure waits for the next turn."""
    while True:
        await asyncio.sleep(HOUSEKEEPING_S)
        try:
            await job()
        except ReportError:
            logger.warning("housekeeping of the shared store failed; retried next time")


@contextlib.asynccontextmanager
async def alongside(work: Coroutine[Any, Any, None] | None) -> AsyncIterator[None]:
    """Run ``work`` as a task while the block runs, and cancel it after (None: nothing)."""
    if work is None:
        yield
        return
    task = asyncio.create_task(work)
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def stop_on_signals() -> asyncio.Event:
    """An event set by SIGTERM or SIGINT."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    return stop
