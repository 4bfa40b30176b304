"""Compose the python-telegram-bot :class:`~telegram.ext.Application` from ready services.

:func:`build_application` is used by ``python -m bot`` (real Telegram, a self-hosted Bot API
server, or the in-process fake API of the offline chat) and by the end-to-end tests alike.
"""

from __future__ import annotations

import logging
from typing import Any, Final

from telegram import BotCommand, Update
from telegram.ext import (
    AIORateLimiter,
    Application,
    BaseRateLimiter,
    CallbackQueryHandler,
    CommandHandler,
    InlineQueryHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot import handlers
from bot.i18n import LANGUAGES, Catalogue
from bot.reporting import wiring
from bot.request import AiohttpRequest

# python-telegram-bot logs whole updates (text and sender) and every request at DEBUG, and httpx
# logs request URLs (which contain the token) at INFO: keep both above those levels.
QUIET_LOGGERS: Final = {
    "telegram": logging.INFO,
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
}
COMMANDS: Final = ("start", "help", "lang", "about")
# Connections beyond the updates in flight: a button press answers and edits, and the command
# menu is published at start-up.
SPARE_CONNECTIONS: Final = 8
# The per-user send limit runs in a group before the handlers (python-telegram-bot runs groups in
# order and ApplicationHandlerStop ends an update's processing).
GATE_GROUP: Final = -1
# An inline query that is only spaces gets no answer, so it is not taken by a handler at all.
NON_BLANK: Final = r"(?s).*\S"

BotApplication = Application[Any, Any, Any, Any, Any, Any]


def quiet_library_loggers() -> None:
    """Raise the level of library loggers that would log message text or the token."""
    for name, level in QUIET_LOGGERS.items():
        logger = logging.getLogger(name)
        logger.setLevel(max(level, logger.getEffectiveLevel()))


def api_urls(api_root: str) -> tuple[str, str]:
    """Return the bot and file base URLs of a Bot API server root."""
    root = api_root.rstrip("/")
    return f"{root}/bot", f"{root}/file/bot"


def build_application(
    services: handlers.BotServices,
    *,
    token: str,
    api_root: str | None = None,
    max_sends_per_second: float = 30,
    concurrent_updates: int = 16,
    rate_limiter: BaseRateLimiter[Any] | None = None,
) -> BotApplication:
    """Build the application with every handler; ``api_root`` None means Telegram's server.

    ``concurrent_updates`` bounds the updates handled at once, and so the searches waiting on
    Meilisearch (each update awaits at most one at a time); beyond a few dozen, more only adds
    overhead (measured: 16 handled a 500-update burst more than twice as fast as 256). Bot API
    calls go through :class:`bot.request.AiohttpRequest`, a quarter of the default's CPU.
    ``rate_limiter`` replaces the process's own send limit (several workers share one).
    """
    quiet_library_loggers()
    limiter = rate_limiter or AIORateLimiter(overall_max_rate=max_sends_per_second, max_retries=2)
    builder = Application.builder().token(token).rate_limiter(limiter)
    builder = builder.concurrent_updates(concurrent_updates)
    builder = builder.request(
        AiohttpRequest(connection_pool_size=concurrent_updates + SPARE_CONNECTIONS)
    )
    builder = builder.get_updates_request(AiohttpRequest(connection_pool_size=1))
    if api_root is not None:
        bot_url, file_url = api_urls(api_root)
        builder = builder.base_url(bot_url).base_file_url(file_url)
    if services.reporting is not None:  # reports in progress survive a restart
        builder = builder.persistence(wiring.persistence_for(services.reporting))
    builder = builder.post_init(start_services).post_stop(stop_services)
    builder = builder.post_shutdown(close_services)
    application: BotApplication = builder.build()
    application.bot_data[handlers.SERVICES_KEY] = services
    add_handlers(application)
    return application


def add_handlers(application: BotApplication) -> None:
    """Route commands, text, locations, button presses and inline queries, behind the gate."""
    application.add_handler(TypeHandler(Update, handlers.gate), group=GATE_GROUP)
    if handlers.services_of_app(application).reporting is not None:
        wiring.add_reporting_handlers(application)  # first: a report in progress takes its text
    application.add_handler(CommandHandler("start", handlers.on_start))
    application.add_handler(CommandHandler("help", handlers.on_help))
    application.add_handler(CommandHandler("lang", handlers.on_lang))
    application.add_handler(CommandHandler("about", handlers.on_about))
    # New messages in private chats only: not edits (a live location re-sends itself as edits)
    # and not group chatter; groups can still use inline mode.
    fresh_private = filters.UpdateType.MESSAGE & filters.ChatType.PRIVATE
    application.add_handler(MessageHandler(fresh_private & filters.LOCATION, handlers.on_location))
    text = fresh_private & filters.TEXT & ~filters.COMMAND
    application.add_handler(MessageHandler(text, handlers.on_text))
    application.add_handler(CallbackQueryHandler(handlers.on_button))
    application.add_handler(InlineQueryHandler(handlers.on_inline_query, pattern=NON_BLANK))
    application.add_error_handler(handlers.on_error)


def command_list(catalogue: Catalogue, lang: str, *, reporting: bool = False) -> list[BotCommand]:
    """Describe the commands in ``lang`` for Telegram's command menu."""
    names = (*COMMANDS, *wiring.COMMANDS) if reporting else COMMANDS
    return [BotCommand(name, catalogue.text(lang, f"command_{name}")) for name in names]


async def publish_commands(application: BotApplication) -> None:
    """Register the command menu in every language (English is the default)."""
    services = handlers.services_of_app(application)
    catalogue, reporting = services.catalogue, services.reports_on
    await application.bot.set_my_commands(command_list(catalogue, "en", reporting=reporting))
    for lang in LANGUAGES:
        await application.bot.set_my_commands(
            command_list(catalogue, lang, reporting=reporting), language_code=lang
        )


async def start_services(application: BotApplication) -> None:
    """Publish the command menu and start the report delivery worker (if reporting is on)."""
    await publish_commands(application)
    wiring.start_worker(application)


async def stop_services(application: BotApplication) -> None:
    """Stop the report delivery worker while the bot can still send."""
    await wiring.stop_worker(application)


async def close_services(application: BotApplication) -> None:
    """Close the resolver's search session when the bot stops."""
    await handlers.services_of_app(application).resolver.aclose()
