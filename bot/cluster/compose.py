"""A webhook worker put together: alone (state in memory) or one of several (state shared)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from bot.app import BotApplication, build_application
from bot.callbacks import CallbackSigner
from bot.cluster.sending import SharedRateLimiter
from bot.cluster.shared import SharedBot
from bot.cluster.sync import add_state_sync
from bot.cluster.webhook import LocalLedger, WebhookServer
from bot.handlers import BotServices
from bot.security import WebhookPlan


@dataclass(frozen=True)
class WorkerOptions:
    """How the worker talks to the Bot API."""

    token: str
    api_root: str | None = None
    max_sends_per_second: float = 30
    concurrent_updates: int = 16
    certificate: Path | None = None
    max_connections: int = 40


def share_between_workers(services: BotServices, shared: SharedBot, *, secret: str) -> None:
    """Point the limits, the button memos and the button signatures at what workers share."""
    services.shared_limits = shared
    services.recent.far = shared
    services.pending.far = shared
    services.signer = CallbackSigner.derived(secret)
    shared.key = hashlib.sha256(b"noziri shared keys v1" + secret.encode()).digest()


def webhook_worker(
    services: BotServices,
    plan: WebhookPlan,
    options: WorkerOptions,
    *,
    shared: SharedBot | None = None,
) -> WebhookServer:
    """The worker's server: with ``shared``, one of several behind a load balancer."""
    if shared is not None:
        share_between_workers(services, shared, secret=plan.secret)
    application = worker_application(services, options, shared)
    return WebhookServer(
        application,
        plan,
        ledger=shared or LocalLedger(),
        concurrent_updates=options.concurrent_updates,
        housekeeping=shared.prune if shared is not None else None,
        renew_every_s=shared.lease.total_seconds() / 3 if shared is not None else None,
    )


def worker_application(
    services: BotServices, options: WorkerOptions, shared: SharedBot | None
) -> BotApplication:
    """The Application, with the shared send budget and per-update state reload if shared."""
    limiter = None
    if shared is not None:
        limiter = SharedRateLimiter(shared.take, per_second=options.max_sends_per_second)
    application = build_application(
        services,
        token=options.token,
        api_root=options.api_root,
        max_sends_per_second=options.max_sends_per_second,
        concurrent_updates=options.concurrent_updates,
        rate_limiter=limiter,
    )
    if shared is not None:
        add_state_sync(application, shared.state)
    return application
