"""``python -m bot`` configuration, read from the environment (and ``.env``).

Telegram:
    TELEGRAM_BOT_TOKEN: the bot's token; without it ``python -m bot`` runs the offline chat.
    TELEGRAM_API_BASE_URL: the Bot API server root (a self-hosted or test server); unset means
        python-telegram-bot's default, Telegram's own server.
    TELEGRAM_WEBHOOK_URL: the public HTTPS URL Telegram posts updates to (the webhook path is
        appended unless the URL already ends with it); unset means long polling.
    TELEGRAM_WEBHOOK_LISTEN / TELEGRAM_WEBHOOK_PORT: where the webhook server listens (put a
        TLS-terminating proxy in front of it).
    TELEGRAM_WEBHOOK_PATH: the webhook's path; unset means one derived from the token by HMAC
        (see :mod:`bot.security`), logged once at start.
    TELEGRAM_WEBHOOK_SECRET: registered with ``setWebhook`` and required in Telegram's
        ``X-Telegram-Bot-Api-Secret-Token`` header; unset means a fresh one at every start
        (several workers must share one: required with BOT_SHARED_STATE=database).
    TELEGRAM_WEBHOOK_CERT: a self-signed certificate (PEM) of the TLS proxy, uploaded with
        ``setWebhook`` as Telegram allows; unset for a certificate from a public CA.
    BOT_WEBHOOK_MAX_CONNECTIONS: how many webhook calls Telegram may make at once (1-100).
Several workers (issue 17, :mod:`bot.cluster`):
    BOT_SHARED_STATE: ``memory`` (one process; the default) or ``database``: update ids, limits,
        the send budget, button memos and conversation state kept in the reports database
        (DATABASE_URL), so any worker behind the load balancer can take any update. Webhook
        mode only.
Limits and paths:
    BOT_QUERIES_PER_MINUTE: per-user updates a minute the bot answers (messages, commands,
        locations, button presses; inline queries get three times as many); past it, one
        "slow down" notice a minute and otherwise silence.
    BOT_MAX_SENDS_PER_SECOND: overall send rate of PTB's AIORateLimiter (Telegram allows ~30).
    BOT_CONCURRENT_UPDATES: how many updates are handled at once.
    BOT_REPLY_DEADLINE_S: how long a query may wait for the resolver before "briefly unavailable".
Reports (the database, limits and retention: see :mod:`reports.settings`):
    BOT_STAFF_LANGUAGE: the language (tg, ru, en) of what the bot sends to staff chats.
    BOT_DELIVERY_PERIOD_S: how often the outbox worker looks for due deliveries.
    BOT_DELIVERY_RETRY_S / BOT_DELIVERY_RETRY_CAP_S: the first wait after a failed delivery
        (doubled at every further failure) and its cap.
    BOT_DELIVERY_LEASE_S: how long a delivery claimed by one bot process is its alone (several
        processes may share the reports database); far longer than one send.
    NOZIRI_DATA_DIR: where ``unresolved.jsonl`` is kept (shared with the resolver's settings);
        made 0700 at every start.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from search_platform.settings import PROJECT_ROOT


class BotSettings(BaseSettings):
    """Everything ``python -m bot`` reads from the environment."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: str | None = Field(default=None, description="Bot API server root.")
    telegram_webhook_url: str | None = None
    telegram_webhook_listen: str = "127.0.0.1"
    telegram_webhook_port: int = Field(default=8443, ge=1, le=65535)
    telegram_webhook_path: str | None = None
    telegram_webhook_secret: SecretStr | None = None
    telegram_webhook_cert: Path | None = None
    bot_webhook_max_connections: int = Field(default=40, ge=1, le=100)
    bot_shared_state: Literal["memory", "database"] = "memory"
    bot_queries_per_minute: int = Field(default=20, ge=1)
    bot_max_sends_per_second: float = Field(default=30, ge=0)
    bot_concurrent_updates: int = Field(default=16, ge=1, le=256)
    bot_reply_deadline_s: float = Field(default=2.5, gt=0, le=10)
    bot_staff_language: Literal["tg", "ru", "en"] = "ru"
    bot_delivery_period_s: float = Field(default=2.0, gt=0, le=60)
    bot_delivery_retry_s: float = Field(default=5.0, gt=0, le=3600)
    bot_delivery_retry_cap_s: float = Field(default=900.0, gt=0, le=86400)
    bot_delivery_lease_s: float = Field(default=60.0, ge=1, le=3600)
    noziri_data_dir: Path = PROJECT_ROOT / ".noziri"

    @property
    def unresolved_path(self) -> Path:
        """Where unresolved queries are appended."""
        return self.noziri_data_dir / "unresolved.jsonl"
