"""The bot's secrets kept secret: the webhook's path and secret, the API root, token redaction.

Three rules live here:

- **Webhook.** Telegram signs nothing; the only proof an update came from Telegram is the
  ``X-Telegram-Bot-Api-Secret-Token`` header carrying the secret given to ``setWebhook``. Without
  ``TELEGRAM_WEBHOOK_SECRET`` the bot draws a fresh secret at every start, and registers it with
  ``setWebhook`` (:mod:`bot.cluster.webhook` registers the webhook at every start anyway), so
  webhook mode never runs without one. The path is unguessable too: unless
  ``TELEGRAM_WEBHOOK_PATH`` names one, it is an HMAC of a fixed label keyed by the token, stable
  across restarts (a proxy rule stays valid) and revealing nothing about the token.
- **API root.** ``TELEGRAM_API_BASE_URL`` is checked before any request, because a malformed one
  made aiohttp quote the whole request URL, token included, in its error.
- **Redaction.** No log line or error text may hold the token (or the webhook secret):
  :func:`redact` scrubs text, :class:`RedactingFilter` scrubs every log record on its way to a
  handler, :func:`token_of_url` finds the token in a Bot API URL.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass
from typing import Final
from urllib.parse import quote, urlsplit

from resolver.errors import SetupError

WEBHOOK_PATH_LABEL: Final = b"noziri webhook path v1"
WEBHOOK_PATH_CHARS: Final = 32  # hex: 128 bits
# Telegram's rule for secret_token: 1-256 characters of A-Z, a-z, 0-9, "_" and "-".
SECRET_TOKEN: Final = re.compile(r"[A-Za-z0-9_-]{1,256}")
GENERATED_SECRET_BYTES: Final = 32
REDACTED: Final = "<redacted>"
_TOKEN_IN_URL: Final = re.compile(r"/bot([^/?#]+)")
_BOT_SEGMENT: Final = re.compile(r"/bot(?:/|$|\d+:)")


# --- the webhook --------------------------------------------------------------------------


def derived_webhook_path(token: str) -> str:
    """Return the default webhook path: an HMAC keyed by the token, not the token."""
    mac = hmac.new(token.encode(), WEBHOOK_PATH_LABEL, hashlib.sha256).hexdigest()
    return mac[:WEBHOOK_PATH_CHARS]


def new_webhook_secret() -> str:
    """Draw a webhook secret Telegram accepts (43 URL-safe characters, 256 bits)."""
    return secrets.token_urlsafe(GENERATED_SECRET_BYTES)


def check_webhook_secret(secret: str) -> str:
    """Return ``secret`` if Telegram accepts it as ``secret_token``, else say what to fix."""
    if not SECRET_TOKEN.fullmatch(secret):
        raise SetupError(
            "TELEGRAM_WEBHOOK_SECRET must be 1-256 characters of A-Z, a-z, 0-9, '_' and '-' "
            "(Telegram's rule): set another one, or unset it to have one generated at start."
        )
    return secret


def public_webhook_url(base: str, path: str) -> str:
    """Return the URL Telegram posts to: ``base`` unless it already ends with ``path``."""
    parts = urlsplit(base)
    if parts.scheme != "https" or not parts.hostname:
        raise SetupError(
            "TELEGRAM_WEBHOOK_URL must be an https:// URL (Telegram posts only over HTTPS), "
            "e.g. https://bot.example.org: put a TLS-terminating proxy in front of the bot."
        )
    if parts.path.rstrip("/").endswith(f"/{path}"):
        return base
    return f"{base.rstrip('/')}/{path}"


@dataclass(frozen=True)
class WebhookPlan:
    """Where the webhook listens, what Telegram is told, and the secret it must send back."""

    listen: str
    port: int
    path: str
    url: str
    secret: str
    secret_generated: bool

    def describe(self) -> str:
        """Say in one log line where updates are expected (never the secret itself)."""
        origin = "generated for this run" if self.secret_generated else "TELEGRAM_WEBHOOK_SECRET"
        return (
            f"webhook: listening on {self.listen}:{self.port}/{self.path}, registered as "
            f"{self.url}; updates must carry the secret header ({origin})"
        )


# --- the Bot API root ---------------------------------------------------------------------


def check_api_root(url: str) -> str:
    """Return a Bot API server root that requests can be built on, else say what to fix."""
    problem = api_root_problem(url)
    if problem:
        raise SetupError(
            f"TELEGRAM_API_BASE_URL is not a usable Bot API server root ({problem}): set it to "
            "e.g. http://127.0.0.1:8081 (scheme, host, optional port and path, without /bot), "
            "or unset it for Telegram's own server."
        )
    return url


def api_root_problem(url: str) -> str:
    """Name what is wrong with a Bot API root, or return ``""``."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        return str(exc).lower() or "unparsable"
    checks = [
        (parts.scheme not in {"http", "https"}, "the scheme must be http or https"),
        (not parts.hostname, "no host"),
        (port == 0, "port 0"),
        (bool(parts.username or parts.password), "credentials in the URL"),
        (bool(parts.query or parts.fragment), "a query or fragment"),
        (bool(_BOT_SEGMENT.search(parts.path)), "it holds /bot or a token"),
        (any(ch.isspace() for ch in url), "white space"),
    ]
    return next((why for failed, why in checks if failed), "")


# --- redaction ----------------------------------------------------------------------------


def secret_forms(*values: str | None) -> tuple[str, ...]:
    """The strings to scrub for each secret: itself, its part after ``:`` and URL-quoted forms."""
    forms: set[str] = set()
    for value in values:
        if not value:
            continue
        secret_part = value.split(":", 1)[-1]
        forms |= {value, quote(value), quote(value, safe="")}
        if len(secret_part) >= 8:  # the bot id before ":" is public; the rest is the secret
            forms.add(secret_part)
    return tuple(sorted(forms, key=len, reverse=True))


def redact(text: str, *values: str | None) -> str:
    """Replace every form of every secret in ``text`` with ``<redacted>``."""
    for form in secret_forms(*values):
        text = text.replace(form, REDACTED)
    return text


def token_of_url(url: str) -> str | None:
    """Return the token of a Bot API URL (``.../bot<token>/<method>``), if it holds one."""
    found = _TOKEN_IN_URL.search(url)
    return found.group(1) if found else None


class RedactingFilter(logging.Filter):
    """Scrub secrets from every record a handler emits: message, arguments and traceback."""

    def __init__(self, *values: str | None) -> None:
        super().__init__()
        self.values = tuple(value for value in values if value)

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite ``record`` without the secrets; never drop it."""
        record.msg = redact(record.getMessage(), *self.values)
        record.args = None
        if record.exc_info:
            # Formatters print a record's exc_text when it is set, so the traceback is formatted
            # once here, redacted; exc_info stays for handlers that look at the exception.
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_text = redact(text, *self.values)
        elif record.exc_text:
            record.exc_text = redact(record.exc_text, *self.values)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, *self.values)
        return True


def redact_logs(*values: str | None) -> RedactingFilter:
    """Install a :class:`RedactingFilter` on every handler of the root logger and return it."""
    redactor = RedactingFilter(*values)
    for handler in logging.getLogger().handlers:
        handler.addFilter(redactor)
    return redactor
