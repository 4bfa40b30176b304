"""``python -m bot``: the Telegram bot, the offline terminal chat, and the unresolved-query report.

Commands::

    python -m bot                      start the bot; without TELEGRAM_BOT_TOKEN, the offline chat
    python -m bot chat [--lang ru]     the offline chat, even when a token is set
    python -m bot report-unresolved    unresolved queries grouped by count (no user identity)
    python -m bot staff …              link inspectors' chats (invite, unlink, list): reports.cli
    python -m bot reports …            the reports database (export, migrate, forget): reports.cli

Composition happens here and only here: settings -> resolver and sectors -> services -> app.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta

from telegram.error import InvalidToken, TelegramError

from bot.adapters import FollowingSectors, MeiliPlaceResolver
from bot.app import build_application
from bot.handlers import BotServices
from bot.i18n import LANGUAGES, load_catalogue
from bot.ports import PlaceResolver, SectorLocator
from bot.reporting.services import Reporting, ReportPolicy
from bot.security import (
    WebhookPlan,
    check_api_root,
    check_webhook_secret,
    derived_webhook_path,
    new_webhook_secret,
    public_webhook_url,
    redact,
    redact_logs,
)
from bot.settings import BotSettings
from bot.throttle import QueryLimiter
from bot.unresolved import UnresolvedLog, format_report, group_queries
from reports.settings import ReportSettings
from resolver.errors import ConfigError, NoziriError, SetupError
from search_platform.files import secure_data_dir
from search_platform.settings import MeiliSettings, read_settings

logger = logging.getLogger("bot")


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
    from reports.cli import add_commands  # noqa: PLC0415  (staff and reports: reports/cli.py)

    add_commands(commands)
    return parser


def compose_reporting(settings: BotSettings, reports: ReportSettings) -> Reporting:
    """Open the reports database and describe the reporting policy from the settings."""
    from reports.store import open_store  # noqa: PLC0415 (SQLAlchemy loads only for the bot)

    store = open_store(reports.url, daily_limit=reports.reports_daily_limit)
    policy = ReportPolicy(
        retention_days=reports.reports_retention_days,
        escalate_after=reports.escalation,
        delivery_period_s=settings.bot_delivery_period_s,
        backoff_base_s=settings.bot_delivery_retry_s,
        backoff_cap_s=settings.bot_delivery_retry_cap_s,
        delivery_lease=timedelta(seconds=settings.bot_delivery_lease_s),
        staff_language=settings.bot_staff_language,
    )
    return Reporting(store=store, policy=policy)


def compose_services(
    settings: BotSettings,
    resolver: PlaceResolver,
    sectors: SectorLocator,
    *,
    data_date: Callable[[], datetime | None] = lambda: None,
    reporting: Reporting | None = None,
) -> BotServices:
    """Wire the resolver, the sectors, the reports and the bot's own parts together."""
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
        reporting=reporting,
    )


def webhook_plan(settings: BotSettings, token: str) -> WebhookPlan:
    """Turn the TELEGRAM_WEBHOOK_* settings into a plan that never runs without a secret."""
    if settings.telegram_webhook_url is None:
        raise SetupError("webhook mode needs TELEGRAM_WEBHOOK_URL: set it, or unset the others.")
    configured = settings.telegram_webhook_secret
    secret = check_webhook_secret(configured.get_secret_value()) if configured else None
    path = (settings.telegram_webhook_path or derived_webhook_path(token)).strip("/")
    return WebhookPlan(
        listen=settings.telegram_webhook_listen,
        port=settings.telegram_webhook_port,
        path=path,
        url=public_webhook_url(settings.telegram_webhook_url, path),
        secret=secret or new_webhook_secret(),
        secret_generated=secret is None,
    )


def check_telegram_settings(settings: BotSettings, token: str) -> WebhookPlan | None:
    """Check the API root and the webhook settings before anything starts."""
    if settings.telegram_api_base_url is not None:
        check_api_root(settings.telegram_api_base_url)
    if settings.bot_shared_state == "database":
        check_shared_settings(settings)
    return None if settings.telegram_webhook_url is None else webhook_plan(settings, token)


def check_shared_settings(settings: BotSettings) -> None:
    """Several workers need the webhook and one secret they all register."""
    if settings.telegram_webhook_url is None:
        raise SetupError(
            "BOT_SHARED_STATE=database is for several webhook workers behind a load balancer: "
            "set TELEGRAM_WEBHOOK_URL (and the rest of the webhook settings), or unset it."
        )
    if settings.telegram_webhook_secret is None:
        raise SetupError(
            "BOT_SHARED_STATE=database needs TELEGRAM_WEBHOOK_SECRET: every worker registers "
            "the webhook, so all must give the same secret (one drawn per start would lock the "
            "others out)."
        )
    if settings.telegram_webhook_cert is not None and not settings.telegram_webhook_cert.is_file():
        raise SetupError(f"TELEGRAM_WEBHOOK_CERT: no file at {settings.telegram_webhook_cert}.")


def run_telegram(
    services: BotServices,
    settings: BotSettings,
    token: str,
    *,
    webhook: WebhookPlan | None = None,
) -> None:
    """Serve Telegram by long polling, or by webhook when ``TELEGRAM_WEBHOOK_URL`` is set."""
    secrets = (token, webhook.secret if webhook else None)
    redact_logs(*secrets)  # before the Bot exists: it logs its URL, token included, at DEBUG
    if webhook is not None:
        with secrets_kept(*secrets):
            asyncio.run(serve_webhook_worker(services, settings, token, webhook))
        return
    application = build_application(
        services,
        token=token,
        api_root=settings.telegram_api_base_url,
        max_sends_per_second=settings.bot_max_sends_per_second,
        concurrent_updates=settings.bot_concurrent_updates,
    )
    with secrets_kept(*secrets):
        application.run_polling()


async def serve_webhook_worker(
    services: BotServices, settings: BotSettings, token: str, plan: WebhookPlan
) -> None:
    """Serve the webhook until SIGTERM: alone, or sharing state with other workers."""
    from bot.cluster.compose import WorkerOptions, webhook_worker  # noqa: PLC0415
    from bot.cluster.shared import SharedBot  # noqa: PLC0415
    from bot.cluster.webhook import serve_webhook  # noqa: PLC0415
    from reports.shared import open_shared_state  # noqa: PLC0415

    options = WorkerOptions(
        token=token,
        api_root=settings.telegram_api_base_url,
        max_sends_per_second=settings.bot_max_sends_per_second,
        concurrent_updates=settings.bot_concurrent_updates,
        certificate=settings.telegram_webhook_cert,
        max_connections=settings.bot_webhook_max_connections,
    )
    shared = None
    if settings.bot_shared_state == "database":
        shared = SharedBot(open_shared_state(read_settings(ReportSettings).url))
    server = webhook_worker(services, plan, options, shared=shared)
    await serve_webhook(
        server, certificate=options.certificate, max_connections=options.max_connections
    )


@contextlib.contextmanager
def secrets_kept(*values: str | None) -> Iterator[None]:
    """Turn failures into messages without the token: a refused token, an unreachable server.

    The original exceptions are dropped (``from None``): their text or their causes' may quote
    the request URL, which holds the token.
    """
    try:
        yield
    except InvalidToken:
        raise ConfigError(
            [
                "TELEGRAM_BOT_TOKEN: the Bot API server refused the token; copy it from "
                "@BotFather and, if set, check that TELEGRAM_API_BASE_URL is the server the bot "
                "is registered on"
            ]
        ) from None
    except TelegramError as exc:
        raise SetupError(
            f"the Bot API could not be used ({type(exc).__name__}: "
            f"{redact(exc.message, *values)}): check TELEGRAM_API_BASE_URL and the network, "
            "then retry."
        ) from None
    except Exception as exc:
        logger.critical("the bot stopped on an unexpected error", exc_info=exc)
        raise SystemExit(1) from None


def run_bot(args: argparse.Namespace, settings: BotSettings, meili: MeiliSettings) -> int:
    """Connect to the resolver, then serve Telegram or run the offline chat."""
    token = settings.telegram_bot_token.get_secret_value() if settings.telegram_bot_token else ""
    offline = args.offline or not token
    logging.basicConfig(
        level=logging.WARNING if offline else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    webhook = None if offline else check_telegram_settings(settings, token)
    secure_data_dir(settings.noziri_data_dir)  # 0700 at every start, as the server makes it
    # Imported here so that report-unresolved works without the search stack.
    from resolver.bootstrap import open_awaiting_resolver  # noqa: PLC0415
    from search_platform.server import exit_cleanly_on_sigterm  # noqa: PLC0415

    exit_cleanly_on_sigterm()
    reporting = compose_reporting(settings, read_settings(ReportSettings))

    with open_awaiting_resolver(meili) as resolver:
        sectors = FollowingSectors(resolver)
        services = compose_services(
            settings,
            MeiliPlaceResolver(resolver),
            sectors,
            data_date=sectors.data_date,
            reporting=reporting,
        )
        services.unresolved.make_private()
        if offline:
            # The offline chat and its fake Bot API load only when the chat runs.
            from bot.offline.chat import run_offline_chat  # noqa: PLC0415
            from bot.offline.fake_api import FakeUser  # noqa: PLC0415

            user = FakeUser(id=1, first_name="You", language_code=args.lang)
            asyncio.run(run_offline_chat(services, user=user))
        else:
            run_telegram(services, settings, token, webhook=webhook)
    return 0


def report_unresolved(args: argparse.Namespace, settings: BotSettings, _: MeiliSettings) -> int:
    """Print the unresolved queries, most frequent first."""
    groups = group_queries(UnresolvedLog(settings.unresolved_path).read())
    print(format_report(groups[: args.limit] if args.limit > 0 else groups))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run one sub-command with the settings built here; a setup problem exits with status 1."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args, read_settings(BotSettings), read_settings(MeiliSettings)))
    except NoziriError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
