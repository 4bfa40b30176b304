"""``python -m bot``: the Telegram bot, the offline terminal chat, and the unresolved-query report.

Commands::

    python -m bot                      start the bot; without TELEGRAM_BOT_TOKEN, the offline chat
    python -m bot chat [--lang ru]     the offline chat, even when a token is set
    python -m bot report-unresolved    unresolved queries grouped by count (no user identity)

Composition happens here and only here: settings -> resolver and sectors -> services -> app.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from bot.adapters import FollowingSectors, MeiliPlaceResolver
from bot.app import build_application
from bot.handlers import BotServices
from bot.i18n import LANGUAGES, load_catalogue
from bot.ports import PlaceResolver, SectorLocator
from bot.settings import BotSettings
from bot.throttle import QueryLimiter
from bot.unresolved import UnresolvedLog, format_report, group_queries
from resolver.errors import NoziriError
from search_platform.settings import MeiliSettings


def build_parser() -> argparse.ArgumentParser:
    """Describe the sub-commands (``run`` is the default)."""
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__.splitlines()[0])
    parser.set_defaults(run=run_bot, offline=False, lang="ru")
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("run", help="start the bot (the offline chat without a token)")
    chat = commands.add_parser("chat", help="chat with the bot in the terminal, no Telegram")
    chat.add_argument("--lang", choices=LANGUAGES, default="ru", help="your Telegram language")
    chat.set_defaults(offline=True)
    report = commands.add_parser("report-unresolved", help="print unresolved queries by count")
    report.add_argument("--limit", type=int, default=0, help="show only the N most frequent")
    report.set_defaults(run=report_unresolved)
    return parser


def compose_services(
    settings: BotSettings,
    resolver: PlaceResolver,
    sectors: SectorLocator,
    *,
    data_date: Callable[[], datetime | None] = lambda: None,
) -> BotServices:
    """Wire the resolver, the sectors and the bot's own parts together."""
    per_minute = settings.bot_queries_per_minute
    return BotServices(
        data_date=data_date,
        resolver=resolver,
        sectors=sectors,
        catalogue=load_catalogue(),
        limiter=QueryLimiter(per_minute=per_minute, burst=per_minute),
        inline_limiter=QueryLimiter(per_minute=3 * per_minute, burst=per_minute),
        unresolved=UnresolvedLog(settings.unresolved_path),
        reply_deadline_s=settings.bot_reply_deadline_s,
    )


def webhook_options(settings: BotSettings) -> dict[str, Any]:
    """Translate the TELEGRAM_WEBHOOK_* settings into python-telegram-bot's webhook arguments."""
    secret = settings.telegram_webhook_secret
    return {
        "listen": settings.telegram_webhook_listen,
        "port": settings.telegram_webhook_port,
        "url_path": settings.telegram_webhook_path,
        "webhook_url": settings.telegram_webhook_url,
        "secret_token": secret.get_secret_value() if secret else None,
    }


def run_telegram(services: BotServices, settings: BotSettings, token: str) -> None:
    """Serve Telegram by long polling, or by webhook when ``TELEGRAM_WEBHOOK_URL`` is set."""
    application = build_application(
        services,
        token=token,
        api_root=settings.telegram_api_base_url,
        max_sends_per_second=settings.bot_max_sends_per_second,
        concurrent_updates=settings.bot_concurrent_updates,
    )
    if settings.telegram_webhook_url is None:
        application.run_polling()
    else:
        application.run_webhook(**webhook_options(settings))


def run_bot(args: argparse.Namespace, settings: BotSettings, meili: MeiliSettings) -> int:
    """Connect to the resolver, then serve Telegram or run the offline chat."""
    token = settings.telegram_bot_token.get_secret_value() if settings.telegram_bot_token else ""
    offline = args.offline or not token
    logging.basicConfig(
        level=logging.WARNING if offline else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # Imported here so that report-unresolved works without the search stack.
    from resolver.bootstrap import open_awaiting_resolver  # noqa: PLC0415
    from search_platform.server import exit_cleanly_on_sigterm  # noqa: PLC0415

    exit_cleanly_on_sigterm()

    with open_awaiting_resolver(meili) as resolver:
        sectors = FollowingSectors(resolver)
        services = compose_services(
            settings, MeiliPlaceResolver(resolver), sectors, data_date=sectors.data_date
        )
        if offline:
            # The offline chat and its fake Bot API load only when the chat runs.
            from bot.offline.chat import run_offline_chat  # noqa: PLC0415
            from bot.offline.fake_api import FakeUser  # noqa: PLC0415

            user = FakeUser(id=1, first_name="You", language_code=args.lang)
            asyncio.run(run_offline_chat(services, user=user))
        else:
            run_telegram(services, settings, token)
    return 0


def report_unresolved(args: argparse.Namespace, settings: BotSettings, _: MeiliSettings) -> int:
    """Print the unresolved queries, most frequent first."""
    groups = group_queries(UnresolvedLog(settings.unresolved_path).read())
    print(format_report(groups[: args.limit] if args.limit > 0 else groups))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run one sub-command with the settings built here; a setup problem exits with status 2."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args, BotSettings(), MeiliSettings()))
    except NoziriError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
