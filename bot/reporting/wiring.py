"""Plug reporting into the application: its handlers, its persistence, its worker's life."""

from __future__ import annotations

from typing import Any, Final

from telegram.ext import Application

from bot.handlers import services_of_app
from bot.reporting.delivery import DeliveryWorker
from bot.reporting.flow import report_conversation
from bot.reporting.persistence import StorePersistence
from bot.reporting.services import Reporting
from bot.reporting.staff import link_handler, resident_handlers, staff_conversation

WORKER_KEY: Final = "delivery_worker"
COMMANDS: Final = ("report", "myreports")

BotApplication = Application[Any, Any, Any, Any, Any, Any]


def persistence_for(reporting: Reporting) -> StorePersistence:
    """The persistence that keeps reports in progress across restarts."""
    return StorePersistence(reporting.store)


def add_reporting_handlers(application: BotApplication) -> None:
    """The report flow, the staff side and the resident's commands (before the text search)."""
    persistent = application.persistence is not None  # an in-process test app may have none
    application.add_handler(report_conversation(persistent=persistent))
    application.add_handler(staff_conversation(persistent=persistent))
    application.add_handler(link_handler())
    for handler in resident_handlers():
        application.add_handler(handler)


def start_worker(application: BotApplication) -> None:
    """Start the outbox worker on the application's bot (once per application)."""
    services = services_of_app(application)
    if services.reporting is None or WORKER_KEY in application.bot_data:
        return
    worker = DeliveryWorker(
        bot=application.bot, reporting=services.reporting, catalogue=services.catalogue
    )
    application.bot_data[WORKER_KEY] = worker
    worker.start()


async def stop_worker(application: BotApplication) -> None:
    """Stop the outbox worker before the bot's connections close."""
    worker = application.bot_data.pop(WORKER_KEY, None)
    if isinstance(worker, DeliveryWorker):
        await worker.stop()
