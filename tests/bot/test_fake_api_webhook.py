"""The fake Bot API in webhook mode: what an availability bench relies on.

Every test posts to a real aiohttp receiver on 127.0.0.1 (``Receiver``), which records each POST
and answers as told: a status, a delay, or a hold until released. No mocks.
"""

from __future__ import annotations

import asyncio
import shutil
import ssl
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web
from telegram import Bot

from bot.app import build_application
from bot.offline.fake_api import WEBHOOK_CONFLICT, FakeBotApi, FakeUser
from bot.offline.webhook_delivery import (
    NOT_LOOPBACK,
    SECRET_HEADER,
    AttemptOutcome,
    DeliveryPolicy,
    DeliveryState,
)
from bot.request import AiohttpRequest
from tests.bot.conftest import MakeServices
from tests.bot.test_webhook import free_port

USER = FakeUser(id=3001, language_code="en")
FAST = DeliveryPolicy(attempt_timeout_s=0.4, first_backoff_s=0.05, max_backoff_s=0.2)
SECRET = "bench-secret_1"


@dataclass
class Receiver:
    """A webhook endpoint on 127.0.0.1: records every POST, answers as told."""

    statuses: list[int] = field(default_factory=list)  # the first answers; 200 after them
    delays: list[float] = field(default_factory=list)  # waits before the first answers
    hold: asyncio.Event | None = None  # when given, every request waits for it
    tls: ssl.SSLContext | None = None
    port: int = 0
    received: list[tuple[int, str | None]] = field(default_factory=list)  # (update_id, secret)
    in_flight: int = 0
    peak: int = 0
    _runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        """The URL to register with setWebhook."""
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self.port}/hook"

    async def start(self) -> None:
        """Listen (again, on the same port once one was given)."""
        app = web.Application()
        app.router.add_post("/hook", self.handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port, ssl_context=self.tls)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        """Stop listening: connections are refused until started again."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def handle(self, request: web.Request) -> web.Response:
        """Record the update, then answer with the next scripted status."""
        body = await request.json()
        turn = len(self.received)
        self.received.append((body["update_id"], request.headers.get(SECRET_HEADER)))
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            if self.hold is not None:
                await self.hold.wait()
            await asyncio.sleep(self.delays[turn] if turn < len(self.delays) else 0)
        finally:
            self.in_flight -= 1
        return web.Response(status=self.statuses[turn] if turn < len(self.statuses) else 200)

    def ids(self) -> list[int]:
        """The update ids received, in arrival order."""
        return [update_id for update_id, _secret in self.received]


MakeReceiver = Callable[..., Awaitable[Receiver]]


@pytest.fixture
async def make_receiver() -> AsyncIterator[MakeReceiver]:
    """Start receivers (keyword overrides set their script); all are stopped at the end."""
    started: list[Receiver] = []

    async def factory(**overrides: Any) -> Receiver:
        receiver = Receiver(**overrides)
        await receiver.start()
        started.append(receiver)
        return receiver

    yield factory
    for receiver in started:
        await receiver.stop()


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    """A running fake Bot API with the fast test back-off."""
    async with FakeBotApi(webhook_policy=FAST) as server:
        yield server


async def call(api: FakeBotApi, method: str, **params: Any) -> httpx.Response:
    """Make one Bot API call over HTTP, JSON body, as any client could."""
    async with httpx.AsyncClient(trust_env=False) as client:
        return await client.post(f"{api.root}/bot{api.token}/{method}", json=params)


async def wait_until(check: Callable[[], bool], *, timeout: float = 5.0) -> None:
    """Poll ``check`` until it holds."""
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.01)


def push_texts(api: FakeBotApi, count: int) -> list[int]:
    """The user sends ``count`` messages; return their update ids."""
    return [api.send_text(USER, f"Rudaki {n}") for n in range(count)]


async def test_every_update_is_posted_once_with_the_secret_header(
    api: FakeBotApi, make_receiver: MakeReceiver
) -> None:
    receiver = await make_receiver()
    assert (await call(api, "setWebhook", url=receiver.url, secret_token=SECRET)).json()["ok"]
    ids = push_texts(api, 3)
    stats = await api.wait_for_deliveries(timeout=5)
    assert sorted(receiver.ids()) == ids
    assert {secret for _id, secret in receiver.received} == {SECRET}
    assert [api.deliveries[i].state for i in ids] == [DeliveryState.DELIVERED] * 3
    assert all(api.deliveries[i].attempts[0].status == 200 for i in ids)
    assert (stats.delivered, stats.lost, stats.redelivered, stats.attempts) == (3, 0, 0, 3)
    assert api.updates == []  # delivered updates leave the queue


async def test_without_a_secret_no_secret_header_is_sent(
    api: FakeBotApi, make_receiver: MakeReceiver
) -> None:
    receiver = await make_receiver()
    await api.set_webhook(receiver.url)
    push_texts(api, 1)
    await api.wait_for_deliveries(timeout=5)
    assert receiver.received[0][1] is None


@pytest.mark.parametrize("status", [500, 502, 404, 301])
async def test_a_non_2xx_answer_is_redelivered_with_the_same_update_id(
    api: FakeBotApi, make_receiver: MakeReceiver, status: int
) -> None:
    receiver = await make_receiver(statuses=[status])
    await api.set_webhook(receiver.url, secret_token=SECRET)
    (update_id,) = push_texts(api, 1)
    stats = await api.wait_for_deliveries(timeout=5)
    attempts = api.deliveries[update_id].attempts
    assert receiver.ids() == [update_id, update_id]
    assert [(a.outcome, a.status) for a in attempts] == [
        (AttemptOutcome.HTTP_ERROR, status),
        (AttemptOutcome.DELIVERED, 200),
    ]
    assert attempts[1].started_at - attempts[0].started_at >= FAST.first_backoff_s
    assert (stats.delivered, stats.redelivered, stats.failed_attempts) == (1, 1, 1)
    info = (await call(api, "getWebhookInfo")).json()["result"]
    assert info["last_error_message"].startswith(f"Wrong response from the webhook: {status}")
    assert isinstance(info["last_error_date"], int)


async def test_an_update_sent_while_the_receiver_is_down_arrives_once_it_is_up(
    api: FakeBotApi, make_receiver: MakeReceiver
) -> None:
    receiver = await make_receiver()
    await receiver.stop()
    await api.set_webhook(receiver.url)
    (update_id,) = push_texts(api, 1)
    delivery = api.deliveries[update_id]
    await wait_until(lambda: len(delivery.attempts) >= 3)
    await receiver.start()  # the same port again
    await api.wait_for_deliveries(timeout=5)
    assert receiver.ids() == [update_id]
    outcomes = [a.outcome for a in delivery.attempts]
    assert outcomes[-1] is AttemptOutcome.DELIVERED
    assert set(outcomes[:-1]) == {AttemptOutcome.CONNECTION_ERROR}
    assert "refused" in delivery.attempts[0].error.lower()


async def test_an_answer_later_than_the_timeout_is_a_failure_and_is_retried(
    api: FakeBotApi, make_receiver: MakeReceiver
) -> None:
    receiver = await make_receiver(delays=[FAST.attempt_timeout_s + 0.6])
    await api.set_webhook(receiver.url)
    (update_id,) = push_texts(api, 1)
    stats = await api.wait_for_deliveries(timeout=5)
    first, second = api.deliveries[update_id].attempts
    assert first.outcome is AttemptOutcome.TIMEOUT and first.status is None
    assert FAST.attempt_timeout_s <= first.latency_s < FAST.attempt_timeout_s + 0.3
    assert second.ok
    assert receiver.ids() == [update_id, update_id]  # the slow one did arrive: a duplicate
    assert (stats.timeouts, stats.redelivered) == (1, 1)
    assert (await call(api, "getWebhookInfo")).json()["result"]["last_error_message"]


async def test_no_more_than_max_connections_deliveries_are_in_flight(
    api: FakeBotApi, make_receiver: MakeReceiver
) -> None:
    release = asyncio.Event()
    receiver = await make_receiver(hold=release)
    await call(api, "setWebhook", url=receiver.url, max_connections=3)
    ids = push_texts(api, 8)
    await wait_until(lambda: receiver.in_flight == 3)
    await asyncio.sleep(0.2)  # time for a fourth to slip through, if the bound leaked
    assert (receiver.in_flight, api.webhook_stats().in_flight) == (3, 3)
    release.set()
    stats = await api.wait_for_deliveries(timeout=5)
    assert sorted(receiver.ids()) == ids
    assert (receiver.peak, stats.max_in_flight, stats.delivered) == (3, 3, 8)


async def test_get_updates_conflicts_while_a_webhook_is_set_and_works_after_delete(
    api: FakeBotApi, make_receiver: MakeReceiver
) -> None:
    receiver = await make_receiver()
    await receiver.stop()  # nothing is delivered: the updates stay pending
    await call(api, "setWebhook", url=receiver.url)
    ids = push_texts(api, 2)
    conflict = await call(api, "getUpdates")
    info = (await call(api, "getWebhookInfo")).json()["result"]
    assert conflict.status_code == 409
    assert conflict.json()["description"] == WEBHOOK_CONFLICT
    assert (info["url"], info["pending_update_count"], info["max_connections"]) == (
        receiver.url,
        2,
        40,
    )
    assert (await call(api, "deleteWebhook")).json()["result"] is True
    polled = (await call(api, "getUpdates")).json()["result"]
    assert [update["update_id"] for update in polled] == ids  # handed back, not lost
    assert (await call(api, "getWebhookInfo")).json()["result"]["url"] == ""


async def test_setting_a_webhook_ends_a_long_poll_in_progress_with_a_conflict(
    api: FakeBotApi, make_receiver: MakeReceiver
) -> None:
    receiver = await make_receiver()
    poll = asyncio.create_task(call(api, "getUpdates", timeout=5))
    await wait_until(lambda: api.poll_count == 1)
    await api.set_webhook(receiver.url)
    response = await asyncio.wait_for(poll, timeout=2)
    assert response.status_code == 409


@pytest.mark.parametrize("method", ["setWebhook", "deleteWebhook"])
async def test_drop_pending_updates_drops_them_and_counts_them(
    api: FakeBotApi, make_receiver: MakeReceiver, method: str
) -> None:
    receiver = await make_receiver()
    await receiver.stop()
    await api.set_webhook(receiver.url)
    ids = push_texts(api, 2)
    await wait_until(lambda: all(api.deliveries[i].attempts for i in ids))
    await call(api, method, url=receiver.url, drop_pending_updates=True)
    stats = api.webhook_stats()
    assert [api.deliveries[i].state for i in ids] == [DeliveryState.DROPPED] * 2
    assert (stats.dropped, stats.lost, stats.pending) == (2, 2, 0)
    assert (await call(api, "getWebhookInfo")).json()["result"]["pending_update_count"] == 0


async def test_an_update_is_dropped_after_the_last_allowed_attempt(
    make_receiver: MakeReceiver,
) -> None:
    receiver = await make_receiver(statuses=[500] * 10)
    policy = DeliveryPolicy(attempt_timeout_s=1, first_backoff_s=0.01, max_attempts=3)
    async with FakeBotApi(webhook_policy=policy) as api:
        await api.set_webhook(receiver.url)
        (update_id,) = push_texts(api, 1)
        stats = await api.wait_for_deliveries(timeout=5)
        info = (await call(api, "getWebhookInfo")).json()["result"]
    delivery = api.deliveries[update_id]
    assert (delivery.state, len(delivery.attempts)) == (DeliveryState.DROPPED, 3)
    assert "3 attempts" in delivery.dropped_reason and delivery.delivered_at is None
    assert (stats.dropped, stats.lost, info["pending_update_count"]) == (1, 1, 0)


async def test_registering_the_same_webhook_again_does_not_interrupt_deliveries(
    api: FakeBotApi, make_receiver: MakeReceiver
) -> None:
    release = asyncio.Event()
    receiver = await make_receiver(hold=release)
    await api.set_webhook(receiver.url, secret_token=SECRET)
    (update_id,) = push_texts(api, 1)
    await wait_until(lambda: receiver.in_flight == 1)
    await call(api, "setWebhook", url=receiver.url, secret_token=SECRET)  # a worker restarts
    release.set()
    await api.wait_for_deliveries(timeout=5)
    assert [a.outcome for a in api.deliveries[update_id].attempts] == [AttemptOutcome.DELIVERED]


async def test_a_changed_webhook_gets_the_pending_updates(
    api: FakeBotApi, make_receiver: MakeReceiver
) -> None:
    old = await make_receiver()
    await old.stop()
    new = await make_receiver()
    await api.set_webhook(old.url)
    (update_id,) = push_texts(api, 1)
    await wait_until(lambda: bool(api.deliveries[update_id].attempts))
    await api.set_webhook(new.url)
    await api.wait_for_deliveries(timeout=5)
    assert new.ids() == [update_id] and old.ids() == []


async def test_a_host_outside_loopback_is_never_contacted(api: FakeBotApi) -> None:
    await api.set_webhook("https://noziri.invalid/hook")
    (update_id,) = push_texts(api, 1)
    await wait_until(lambda: len(api.deliveries[update_id].attempts) >= 2)
    attempts = api.deliveries[update_id].attempts
    assert {(a.outcome, a.error) for a in attempts} == {
        (AttemptOutcome.CONNECTION_ERROR, NOT_LOOPBACK)
    }


@pytest.mark.parametrize(
    ("params", "complaint"),
    [
        ({"url": "ftp://127.0.0.1/hook"}, "HTTPS URL"),
        ({"url": "https://127.0.0.1/hook", "secret_token": "has spaces"}, "secret token"),
        ({"url": "https://127.0.0.1/hook", "secret_token": "x" * 257}, "secret token"),
    ],
)
async def test_a_webhook_telegram_would_refuse_is_refused(
    api: FakeBotApi, params: dict[str, str], complaint: str
) -> None:
    response = await call(api, "setWebhook", **params)
    assert response.status_code == 400 and complaint in response.json()["description"]
    assert (await call(api, "getWebhookInfo")).json()["result"]["url"] == ""


async def test_python_telegram_bot_sets_reads_and_deletes_the_webhook(
    api: FakeBotApi, make_receiver: MakeReceiver
) -> None:
    receiver = await make_receiver()
    async with Bot(api.token, base_url=f"{api.root}/bot", request=AiohttpRequest()) as bot:
        assert await bot.set_webhook(receiver.url, secret_token=SECRET, max_connections=7)
        (update_id,) = push_texts(api, 1)
        await api.wait_for_deliveries(timeout=5)
        info = await bot.get_webhook_info()
        assert await bot.delete_webhook()
        after = await bot.get_webhook_info()
    assert (info.url, info.max_connections, info.pending_update_count) == (receiver.url, 7, 0)
    assert not info.has_custom_certificate
    assert receiver.received == [(update_id, SECRET)]
    assert after.url == ""


@dataclass(frozen=True)
class SelfSigned:
    """A self-signed certificate for 127.0.0.1 and its key."""

    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        """The receiver's TLS context."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> SelfSigned:
    """Make a certificate as the deploy's TLS proxy would have (openssl, one day)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    folder = tmp_path_factory.mktemp("tls")
    pair = SelfSigned(cert=folder / "cert.pem", key=folder / "key.pem")
    command = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
    command += ["-keyout", str(pair.key), "-out", str(pair.cert), "-subj", "/CN=127.0.0.1"]
    command += ["-addext", "subjectAltName=IP:127.0.0.1"]
    subprocess.run(
        command,
        check=True,
        capture_output=True,
    )
    return pair


async def test_an_uploaded_self_signed_certificate_is_trusted_for_its_webhook(
    api: FakeBotApi, make_receiver: MakeReceiver, self_signed: SelfSigned
) -> None:
    receiver = await make_receiver(tls=self_signed.server_context())
    async with Bot(api.token, base_url=f"{api.root}/bot", request=AiohttpRequest()) as bot:
        with self_signed.cert.open("rb") as certificate:
            assert await bot.set_webhook(receiver.url, certificate=certificate)
        (update_id,) = push_texts(api, 1)
        await api.wait_for_deliveries(timeout=5)
        info = await bot.get_webhook_info()
    assert info.has_custom_certificate
    assert receiver.ids() == [update_id]


async def test_a_self_signed_certificate_nobody_uploaded_fails_verification(
    api: FakeBotApi, make_receiver: MakeReceiver, self_signed: SelfSigned
) -> None:
    receiver = await make_receiver(tls=self_signed.server_context())
    await api.set_webhook(receiver.url)
    (update_id,) = push_texts(api, 1)
    await wait_until(lambda: bool(api.deliveries[update_id].attempts))
    attempt = api.deliveries[update_id].attempts[0]
    assert attempt.outcome is AttemptOutcome.CONNECTION_ERROR and "SSL" in attempt.error
    assert receiver.ids() == []


async def test_a_ca_file_given_to_the_fake_verifies_deliveries(
    make_receiver: MakeReceiver, self_signed: SelfSigned
) -> None:
    receiver = await make_receiver(tls=self_signed.server_context())
    async with FakeBotApi(webhook_policy=FAST, webhook_cafile=str(self_signed.cert)) as api:
        await api.set_webhook(receiver.url)
        push_texts(api, 2)
        stats = await api.wait_for_deliveries(timeout=5)
    assert (stats.delivered, stats.failed_attempts) == (2, 0)


async def test_the_real_bot_in_webhook_mode_answers_what_the_fake_delivers(
    make_services: MakeServices,
) -> None:
    port = free_port()
    async with FakeBotApi(webhook_policy=FAST) as api:
        application = build_application(make_services(), token=api.token, api_root=api.root)
        async with application:
            assert application.updater is not None
            await application.updater.start_webhook(
                listen="127.0.0.1",
                port=port,
                url_path="hook",
                webhook_url=f"http://127.0.0.1:{port}/hook",
                secret_token=SECRET,
            )
            await application.start()
            try:
                update_id = api.send_text(USER, "/start")
                reply = await api.wait_for("sendMessage", chat_id=USER.id)
                stats = await api.wait_for_deliveries(timeout=5)
            finally:
                await application.updater.stop()
                await application.stop()
    assert api.deliveries[update_id].attempts[0].status == 200
    assert (stats.delivered, stats.lost, stats.redelivered) == (1, 0, 0)
    assert reply.at >= api.deliveries[update_id].pushed_at  # a bench's reply latency


async def test_workers_registering_at_once_leave_one_webhook_delivering(
    api: FakeBotApi, make_receiver: MakeReceiver
) -> None:
    release = asyncio.Event()
    receiver = await make_receiver(hold=release)
    await api.set_webhook(receiver.url, secret_token="first")
    (held,) = push_texts(api, 1)  # in flight while the workers register
    await wait_until(lambda: receiver.in_flight == 1)
    secrets = [f"worker-{n}" for n in range(3)]
    registrations = (call(api, "setWebhook", url=receiver.url, secret_token=s) for s in secrets)
    await asyncio.gather(*registrations)
    release.set()
    (fresh,) = push_texts(api, 1)
    await api.wait_for_deliveries(timeout=5)
    await asyncio.sleep(0.3)  # time for a leaked deliverer to post again
    successes = {i: sum(a.ok for a in api.deliveries[i].attempts) for i in (held, fresh)}
    assert successes == {held: 1, fresh: 1}
    assert receiver.ids().count(fresh) == 1
