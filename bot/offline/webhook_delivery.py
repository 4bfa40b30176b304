"""Webhook delivery for the fake Bot API: POST every update to the registered URL, as Telegram does.

While a webhook is set (:meth:`bot.offline.fake_api.FakeBotApi.set_webhook`), each update is
POSTed as JSON to the webhook URL, with ``X-Telegram-Bot-Api-Secret-Token`` when a secret was
registered, by at most ``max_connections`` requests in flight. A 2xx answer delivers it. A non-2xx
answer, a connection error or no answer within :attr:`DeliveryPolicy.attempt_timeout_s` is a failed
attempt: the same update (same ``update_id``) is tried again after a back-off that doubles from
:attr:`DeliveryPolicy.first_backoff_s` up to :attr:`DeliveryPolicy.max_backoff_s`, until it is
delivered or :attr:`DeliveryPolicy.max_attempts` / :attr:`DeliveryPolicy.max_age_s` is reached, when
it is dropped, like Telegram giving up "after a reasonable amount of attempts".

Where this differs from Telegram, on purpose:

- **Back-off.** Telegram documents no schedule and waits far longer between attempts (seconds
  growing to minutes; pending updates are kept up to 24 hours). The defaults here (0.2 s doubling
  to 2 s) suit tests and benches; set your own policy to model a slower Telegram.
- **Timeout.** 10 s per attempt by default; Telegram waits longer for a webhook to answer.
- **Order.** Each update has its own delivery task; tasks take a connection slot first come,
  first served, so updates leave in ``update_id`` order while slots are free. A failed update
  waits out its back-off while later ones go ahead, so a redelivered update arrives after later
  updates. Telegram promises no order across connections either.
- **Where.** Only loopback hosts (127.0.0.0/8, ``::1``, ``localhost``) are contacted. Any other
  host is accepted by ``setWebhook`` (the bot's own tests register ``https://noziri.invalid``)
  but every attempt fails without touching the network, with an error saying so.
- **Scheme and port.** ``http`` and any port are accepted so a test can reach a worker directly;
  Telegram wants ``https`` on 443, 80, 88 or 8443.
- **Answer body.** Telegram lets a webhook answer carry a Bot API method call; it is ignored here.

Every update that goes through the webhook has a :class:`Delivery` record: when it was pushed,
each :class:`Attempt` (start, latency, outcome, status or error) and its :class:`DeliveryState`.
:class:`WebhookStats` sums them for a bench. Times are ``time.monotonic()`` seconds.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final
from urllib.parse import urlsplit

import aiohttp

SECRET_HEADER: Final = "X-Telegram-Bot-Api-Secret-Token"
LOOPBACK_NAMES: Final = frozenset({"localhost", "localhost.localdomain"})
NOT_LOOPBACK: Final = "the fake Bot API delivers only to 127.0.0.0/8, ::1 and localhost"
TIMEOUT_MESSAGE: Final = "Read timeout expired"

Json = dict[str, Any]


class AttemptOutcome(StrEnum):
    """How one delivery attempt ended."""

    DELIVERED = "delivered"  # a 2xx answer
    HTTP_ERROR = "http_error"  # any other status
    CONNECTION_ERROR = "connection_error"  # refused, reset, TLS failure, host not allowed
    TIMEOUT = "timeout"  # no complete answer within the attempt timeout
    CANCELLED = "cancelled"  # the webhook was deleted or changed, or the server stopped


class DeliveryState(StrEnum):
    """Where an update's delivery stands."""

    PENDING = "pending"
    DELIVERED = "delivered"
    DROPPED = "dropped"


@dataclass(frozen=True)
class DeliveryPolicy:
    """How long one attempt may take, how long to wait before the next, and when to give up."""

    attempt_timeout_s: float = 10.0
    first_backoff_s: float = 0.2
    max_backoff_s: float = 2.0
    max_attempts: int | None = None  # None: no limit but the age
    max_age_s: float = 24 * 3600.0  # Telegram keeps an undelivered update for 24 hours

    def backoff_s(self, failures: int) -> float:
        """Return the wait after the ``failures``-th failed attempt in a row."""
        doubled = self.first_backoff_s * 2.0 ** max(failures - 1, 0)
        return min(doubled, self.max_backoff_s)

    def give_up_reason(self, delivery: Delivery, now: float) -> str:
        """Return why ``delivery`` should be dropped now, or "" to try again."""
        if self.max_attempts is not None and len(delivery.attempts) >= self.max_attempts:
            return f"gave up after {len(delivery.attempts)} attempts"
        if now - delivery.pushed_at >= self.max_age_s:
            return f"gave up after {self.max_age_s:g} s"
        return ""


@dataclass(frozen=True)
class Attempt:
    """One POST of an update to the webhook."""

    number: int  # 1 for the first attempt
    started_at: float
    latency_s: float
    outcome: AttemptOutcome
    status: int | None = None  # the HTTP status, when an answer came
    error: str = ""  # what getWebhookInfo's last_error_message says of a failure

    @property
    def ok(self) -> bool:
        """Whether this attempt delivered the update."""
        return self.outcome is AttemptOutcome.DELIVERED


@dataclass
class Delivery:
    """The delivery history of one update."""

    update_id: int
    pushed_at: float
    attempts: list[Attempt] = field(default_factory=list)
    state: DeliveryState = DeliveryState.PENDING
    dropped_reason: str = ""

    @property
    def delivered_at(self) -> float | None:
        """When the webhook's 2xx answer came, if it did."""
        done = [a for a in self.attempts if a.ok]
        return done[0].started_at + done[0].latency_s if done else None

    @property
    def failures(self) -> int:
        """How many attempts failed (cancelled ones included)."""
        return sum(not attempt.ok for attempt in self.attempts)

    @property
    def redelivered(self) -> bool:
        """Whether the update was sent more than once (a timed-out one may have been handled)."""
        return len(self.attempts) > 1


@dataclass(frozen=True)
class WebhookStats:
    """Totals over every :class:`Delivery`, for a bench."""

    updates: int
    delivered: int
    pending: int
    dropped: int
    redelivered: int  # updates sent more than once
    attempts: int
    failed_attempts: int
    timeouts: int
    in_flight: int
    max_in_flight: int

    @property
    def lost(self) -> int:
        """Updates never answered with a 2xx (dropped or still pending)."""
        return self.updates - self.delivered


def sum_deliveries(
    deliveries: list[Delivery], *, in_flight: int = 0, max_in_flight: int = 0
) -> WebhookStats:
    """Add up delivery records."""
    attempts = [attempt for delivery in deliveries for attempt in delivery.attempts]
    states = [delivery.state for delivery in deliveries]
    return WebhookStats(
        updates=len(deliveries),
        delivered=states.count(DeliveryState.DELIVERED),
        pending=states.count(DeliveryState.PENDING),
        dropped=states.count(DeliveryState.DROPPED),
        redelivered=sum(delivery.redelivered for delivery in deliveries),
        attempts=len(attempts),
        failed_attempts=sum(not attempt.ok for attempt in attempts),
        timeouts=sum(attempt.outcome is AttemptOutcome.TIMEOUT for attempt in attempts),
        in_flight=in_flight,
        max_in_flight=max_in_flight,
    )


@dataclass(frozen=True)
class WebhookConfig:
    """What ``setWebhook`` registered."""

    url: str
    secret_token: str | None = None
    max_connections: int = 40
    certificate: bytes | None = None  # an uploaded (self-signed) certificate, PEM
    ip_address: str | None = None
    allowed_updates: tuple[str, ...] | None = None

    def headers(self) -> dict[str, str]:
        """The headers of every delivery."""
        return {SECRET_HEADER: self.secret_token} if self.secret_token else {}


def is_loopback_url(url: str) -> bool:
    """Whether ``url`` names a loopback host (the only ones the fake contacts)."""
    host = (urlsplit(url).hostname or "").lower()
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def delivery_ssl(
    config: WebhookConfig, *, context: ssl.SSLContext | None, cafile: str | None
) -> ssl.SSLContext | bool:
    """The TLS setting of deliveries: the caller's context, or one trusting the uploaded cert.

    An uploaded certificate is trusted for this webhook (as Telegram does) on top of the system
    store and ``cafile``; an explicit ``context`` is used as given. The host name is checked.
    """
    if context is not None:
        return context
    if config.certificate is None and cafile is None:
        return True  # aiohttp's default verification
    trusted = ssl.create_default_context(cafile=cafile)
    if config.certificate is not None:
        trusted.load_verify_locations(cadata=config.certificate.decode("ascii", "replace"))
    return trusted


def error_message(exc: BaseException) -> str:
    """Describe a failed connection as getWebhookInfo's last_error_message does."""
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return f"SSL error {{{exc.certificate_error}}}"
    if isinstance(exc, aiohttp.ClientConnectorError):
        code = exc.os_error.errno
        return os.strerror(code) if code else str(exc.os_error) or "Connection failed"
    return str(exc) or type(exc).__name__


class WebhookDeliverer:
    """Deliver updates to one webhook configuration, one task per update."""

    def __init__(
        self,
        config: WebhookConfig,
        *,
        policy: DeliveryPolicy,
        tls: ssl.SSLContext | bool,
        on_settled: Callable[[Delivery], None],
        on_failure: Callable[[Attempt], None],
    ) -> None:
        self.config = config
        self.policy = policy
        self.tls = tls
        self.on_settled = on_settled
        self.on_failure = on_failure
        self.in_flight = 0
        self.max_in_flight = 0
        self._slots = asyncio.Semaphore(config.max_connections)
        self._tasks: set[asyncio.Task[None]] = set()
        self._session: aiohttp.ClientSession | None = None

    def offer(self, update: Json, delivery: Delivery) -> None:
        """Start delivering ``update`` (call from the event loop)."""
        task = asyncio.get_running_loop().create_task(self.deliver(update, delivery))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        """Cancel every delivery (in-flight attempts are recorded as cancelled)."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()

    async def deliver(self, update: Json, delivery: Delivery) -> None:
        """Try ``update`` until it is delivered or the policy gives up on it."""
        while True:
            attempt = await self.attempt(update, delivery)
            if attempt.ok:
                delivery.state = DeliveryState.DELIVERED
                self.on_settled(delivery)
                return
            self.on_failure(attempt)
            reason = self.policy.give_up_reason(delivery, time.monotonic())
            if reason:
                delivery.state, delivery.dropped_reason = DeliveryState.DROPPED, reason
                self.on_settled(delivery)
                return
            await asyncio.sleep(self.policy.backoff_s(consecutive_failures(delivery)))

    async def attempt(self, update: Json, delivery: Delivery) -> Attempt:
        """POST ``update`` once, within a connection slot, and record the attempt."""
        async with self._slots:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            started = time.monotonic()
            try:
                outcome, status, error = await self.post(update)
            except asyncio.CancelledError:
                self.record(delivery, started, AttemptOutcome.CANCELLED, None, "cancelled")
                raise
            finally:
                self.in_flight -= 1
        return self.record(delivery, started, outcome, status, error)

    def record(
        self,
        delivery: Delivery,
        started: float,
        outcome: AttemptOutcome,
        status: int | None,
        error: str,
    ) -> Attempt:
        """Append one attempt to ``delivery`` and return it."""
        latency = time.monotonic() - started
        attempt = Attempt(len(delivery.attempts) + 1, started, latency, outcome, status, error)
        delivery.attempts.append(attempt)
        return attempt

    async def post(self, update: Json) -> tuple[AttemptOutcome, int | None, str]:
        """Send one request; return its outcome, status and error text."""
        if not is_loopback_url(self.config.url):
            return AttemptOutcome.CONNECTION_ERROR, None, NOT_LOOPBACK
        timeout = aiohttp.ClientTimeout(total=self.policy.attempt_timeout_s)
        try:
            async with self.session().post(
                self.config.url, json=update, headers=self.config.headers(), timeout=timeout
            ) as response:
                await response.read()
        except TimeoutError:
            return AttemptOutcome.TIMEOUT, None, TIMEOUT_MESSAGE
        except (aiohttp.ClientError, OSError) as exc:
            return AttemptOutcome.CONNECTION_ERROR, None, error_message(exc)
        return answer_outcome(response.status, response.reason)

    def session(self) -> aiohttp.ClientSession:
        """The client session of this webhook, opened on first use."""
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=self.config.max_connections, ssl=self.tls)
            self._session = aiohttp.ClientSession(connector=connector, trust_env=False)
        return self._session


def answer_outcome(status: int, reason: str | None) -> tuple[AttemptOutcome, int | None, str]:
    """Classify the webhook's HTTP answer."""
    if 200 <= status < 300:
        return AttemptOutcome.DELIVERED, status, ""
    return AttemptOutcome.HTTP_ERROR, status, f"Wrong response from the webhook: {status} {reason}"


def consecutive_failures(delivery: Delivery) -> int:
    """How many attempts in a row failed last (the back-off grows with them)."""
    count = 0
    for attempt in reversed(delivery.attempts):
        if attempt.ok or attempt.outcome is AttemptOutcome.CANCELLED:
            break
        count += 1
    return count
