"""Webhook mode: Telegram posts updates to the bot's own HTTP server instead of long polling."""

from __future__ import annotations

import socket

import httpx
import pytest

from bot.__main__ import webhook_options
from bot.app import build_application
from bot.offline.fake_api import FakeBotApi, FakeUser
from bot.settings import BotSettings
from tests.bot.conftest import MakeServices

USER = FakeUser(id=2001, language_code="en")


def free_port() -> int:
    """Ask the kernel for a free loopback port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def webhook_settings(monkeypatch: pytest.MonkeyPatch) -> BotSettings:
    """Settings as an operator would set them for webhook mode."""
    monkeypatch.setenv("TELEGRAM_WEBHOOK_URL", "https://noziri.invalid/telegram")
    monkeypatch.setenv("TELEGRAM_WEBHOOK_PORT", str(free_port()))
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", "s3cret-token")
    return BotSettings(_env_file=None)


async def test_webhook_mode_registers_the_url_and_answers_posted_updates(
    make_services: MakeServices, webhook_settings: BotSettings
) -> None:
    options = webhook_options(webhook_settings)
    url = f"http://127.0.0.1:{options['port']}/telegram"
    async with FakeBotApi() as api:
        application = build_application(make_services(), token=api.token, api_root=api.root)
        async with application:
            assert application.updater is not None
            await application.updater.start_webhook(**options)
            await application.start()
            try:
                registered = await api.wait_for("setWebhook")
                api.send_text(USER, "/start")  # builds the update; webhook mode never polls it
                update = api.updates[-1]
                async with httpx.AsyncClient(trust_env=False) as client:
                    forged = await client.post(
                        url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "x"}
                    )
                    since = api.mark()
                    posted = await client.post(
                        url,
                        json=update,
                        headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-token"},
                    )
                    reply = await api.wait_for("sendMessage", since=since, chat_id=USER.id)
            finally:
                await application.updater.stop()
                await application.stop()
    assert registered.params["url"] == "https://noziri.invalid/telegram"
    assert registered.params["secret_token"] == "s3cret-token"
    assert forged.status_code == 403
    assert posted.status_code == 200
    assert "finds the neighbourhood police inspector" in reply.params["text"]


def test_long_polling_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TELEGRAM_WEBHOOK_URL", raising=False)
    assert BotSettings(_env_file=None).telegram_webhook_url is None
