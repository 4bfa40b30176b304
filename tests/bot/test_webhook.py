"""Webhook mode: Telegram posts updates to the bot's own HTTP server instead of long polling.

Every configuration that starts has a secret (the operator's or one drawn at start) and registers
it with ``setWebhook``; a POST without it, or with a wrong one, or to a guessed path, is refused
and the bot sends nothing. The worker's real webhook server (:mod:`bot.cluster.webhook`) is used,
and the fake Bot API server records what the bot registered and sent.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import httpx
import pytest

from bot.__main__ import main, webhook_plan
from bot.cluster.compose import WorkerOptions, webhook_worker
from bot.cluster.webhook import serve_webhook
from bot.offline.fake_api import FakeBotApi, FakeUser
from bot.security import WebhookPlan, derived_webhook_path
from bot.settings import BotSettings
from resolver.errors import SetupError
from tests.bot.conftest import MakeServices

USER = FakeUser(id=2001, language_code="en")
MADE_UP_CHAT = FakeUser(id=987_654_321, language_code="en")
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
TOKEN = "1234567:FAKE-offline-token"


def free_port() -> int:
    """Ask the kernel for a free loopback port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def settings_with(monkeypatch: pytest.MonkeyPatch, **env: str | None) -> BotSettings:
    """Webhook settings as an operator would set them, plus ``env`` (None unsets)."""
    base = {"TELEGRAM_WEBHOOK_URL": "https://noziri.invalid", "TELEGRAM_WEBHOOK_PORT": None}
    for name, value in (base | env).items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    monkeypatch.setenv("TELEGRAM_WEBHOOK_PORT", str(free_port()))
    return BotSettings(_env_file=None)


CONFIGURATIONS = {
    "secret set, path derived": {"TELEGRAM_WEBHOOK_SECRET": "s3cret-token"},
    "no secret, path derived": {"TELEGRAM_WEBHOOK_SECRET": None},
    "secret set, path named": {
        "TELEGRAM_WEBHOOK_SECRET": "s3cret-token",
        "TELEGRAM_WEBHOOK_PATH": "telegram",
        "TELEGRAM_WEBHOOK_URL": "https://noziri.invalid/telegram",
    },
    "no secret, path named": {"TELEGRAM_WEBHOOK_SECRET": None, "TELEGRAM_WEBHOOK_PATH": "hook"},
}


def forged_requests(plan: WebhookPlan) -> dict[str, tuple[str, dict[str, str]]]:
    """POSTs an attacker can make: no secret, a wrong one, or the right path guessed wrong."""
    local = f"http://127.0.0.1:{plan.port}"
    right = f"{local}/{plan.path}"
    return {
        "no secret": (right, {}),
        "empty secret": (right, {SECRET_HEADER: ""}),
        "wrong secret": (right, {SECRET_HEADER: "s3cret-token-x"}),
        "secret's prefix": (right, {SECRET_HEADER: plan.secret[:-1]}),
        "guessed path": (f"{local}/telegram", {}),
        "the token as path": (f"{local}/{TOKEN}", {}),
    }


async def post_all(
    api: FakeBotApi, plan: WebhookPlan, update: dict[str, Any], genuine_secret: str
) -> tuple[dict[str, int], int, list[Any]]:
    """POST every forgery, then the genuine update; return the statuses and every message sent."""
    async with httpx.AsyncClient(trust_env=False) as client:
        statuses = {}
        for name, (url, headers) in forged_requests(plan).items():
            response = await client.post(url, json=update, headers=headers)
            statuses[name] = response.status_code
        genuine = await client.post(
            f"http://127.0.0.1:{plan.port}/{plan.path}",
            json=update,
            headers={SECRET_HEADER: genuine_secret},
        )
    await api.wait_for("sendMessage", chat_id=MADE_UP_CHAT.id)
    await asyncio.sleep(0.3)  # a forged update that got in would have been answered by now
    sends = [c for c in api.calls if c.method == "sendMessage"]
    return statuses, genuine.status_code, sends


@pytest.mark.parametrize("env", CONFIGURATIONS.values(), ids=CONFIGURATIONS.keys())
async def test_forged_webhook_posts_are_refused_in_every_configuration_that_starts(
    make_services: MakeServices, monkeypatch: pytest.MonkeyPatch, env: dict[str, str | None]
) -> None:
    async with FakeBotApi() as api:
        plan = webhook_plan(settings_with(monkeypatch, **env), api.token)
        options = WorkerOptions(token=api.token, api_root=api.root)
        server = webhook_worker(make_services(), plan, options)
        stop = asyncio.Event()
        serving = asyncio.create_task(serve_webhook(server, stop=stop))
        try:
            registered = await api.wait_for("setWebhook")
            while not server.accepting:
                await asyncio.sleep(0.01)
            api.send_text(MADE_UP_CHAT, "/start")  # builds the update; webhook never polls
            update = api.updates[-1]
            secret = registered.params["secret_token"]  # what Telegram would send back
            statuses, genuine, sends = await post_all(api, plan, update, secret)
        finally:
            stop.set()
            await serving
    assert registered.params["url"] == plan.url
    assert plan.url.endswith(f"/{plan.path}")
    assert secret == plan.secret and len(secret) >= 12
    assert all(status in {403, 404, 405} for status in statuses.values()), statuses
    assert genuine == 200
    assert len(sends) == 1, "a forged POST made the bot send a message"


def test_the_default_path_is_derived_from_the_token_and_reveals_nothing() -> None:
    path = derived_webhook_path(TOKEN)
    assert path == derived_webhook_path(TOKEN)  # stable across restarts: a proxy rule holds
    assert path != derived_webhook_path(TOKEN + "x")
    assert len(path) == 32 and int(path, 16) >= 0
    assert TOKEN.split(":")[1] not in path and TOKEN.split(":", maxsplit=1)[0] not in path


def test_without_a_secret_each_start_draws_a_new_one(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_with(monkeypatch, TELEGRAM_WEBHOOK_SECRET=None)
    first, second = webhook_plan(settings, TOKEN), webhook_plan(settings, TOKEN)
    assert first.secret_generated and second.secret_generated
    assert first.secret != second.secret


def test_the_start_up_line_names_the_path_but_no_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    plan = webhook_plan(settings_with(monkeypatch, TELEGRAM_WEBHOOK_SECRET="s3cret-x"), TOKEN)
    line = plan.describe()
    assert plan.path in line and plan.url in line
    assert "s3cret-x" not in line and TOKEN not in line and TOKEN.split(":")[1] not in line


@pytest.mark.parametrize(
    ("env", "complaint"),
    [
        ({"TELEGRAM_WEBHOOK_SECRET": "has spaces"}, "TELEGRAM_WEBHOOK_SECRET"),
        ({"TELEGRAM_WEBHOOK_SECRET": "x" * 257}, "TELEGRAM_WEBHOOK_SECRET"),
        ({"TELEGRAM_WEBHOOK_SECRET": "ключ"}, "TELEGRAM_WEBHOOK_SECRET"),
        ({"TELEGRAM_WEBHOOK_URL": "http://noziri.invalid"}, "https://"),
        ({"TELEGRAM_WEBHOOK_URL": "noziri.invalid/telegram"}, "https://"),
    ],
)
def test_a_webhook_configuration_telegram_would_refuse_does_not_start(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    env: dict[str, str],
    complaint: str,
) -> None:
    settings = settings_with(monkeypatch, **env)
    with pytest.raises(SetupError, match=complaint):
        webhook_plan(settings, TOKEN)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    assert main([]) == 1  # before any search or network connection is opened
    err = capsys.readouterr().err
    assert complaint in err and TOKEN.split(":")[1] not in err


def test_long_polling_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TELEGRAM_WEBHOOK_URL", raising=False)
    assert BotSettings(_env_file=None).telegram_webhook_url is None


@pytest.mark.parametrize(
    ("env", "complaint"),
    [
        ({"TELEGRAM_WEBHOOK_SECRET": None}, "TELEGRAM_WEBHOOK_SECRET"),
        (
            {"TELEGRAM_WEBHOOK_URL": None, "TELEGRAM_WEBHOOK_SECRET": "s3cret"},
            "TELEGRAM_WEBHOOK_URL",
        ),
        (
            {"TELEGRAM_WEBHOOK_SECRET": "s3cret", "TELEGRAM_WEBHOOK_CERT": "/no/such/cert.pem"},
            "TELEGRAM_WEBHOOK_CERT",
        ),
    ],
)
def test_shared_state_workers_refuse_to_start_without_what_all_of_them_must_share(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    env: dict[str, str | None],
    complaint: str,
) -> None:
    settings_with(monkeypatch, BOT_SHARED_STATE="database", **env)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    assert main([]) == 1  # before any search or database connection is opened
    assert complaint in capsys.readouterr().err
