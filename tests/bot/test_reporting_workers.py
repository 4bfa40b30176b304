"""Two bot processes' delivery workers on one reports database, through the fake Bot API.

The first is the real application of :func:`tests.bot.reporting.running_bot`; the second is
another application built on the same fake API with a store of its own on the same database
(SQLite file or PostgreSQL database), as a second ``python -m bot`` would be. Every report
reaches the staff chat once: the card, its album and its voice message, and the resident's
"delivered" push once too.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from bot.app import build_application
from bot.reporting.delivery import DeliveryWorker
from bot.reporting.services import Reporting, ReportPolicy
from bot.reporting.wiring import WORKER_KEY
from reports.model import Draft, PlaceRef, ReportKind, ReportStatus
from reports.store import open_store
from tests.bot.conftest import MakeServices
from tests.bot.reporting import (
    FAST,
    REFERENCE,
    SOM_01,
    STAFF,
    Rig,
    eventually,
    report_resolver,
    report_sectors,
    running_bot,
)

REPORTS = 12
# Small batches, so that both workers get a share of the burst.
SHARED = ReportPolicy(**(FAST.__dict__ | {"claim_batch": 2}))


@pytest.fixture
def db(database_url: str) -> str:
    """The test's reports database: a SQLite file, then a database of a real PostgreSQL."""
    return database_url


@asynccontextmanager
async def second_process(
    rig: Rig, make_services: MakeServices, database_url: str
) -> AsyncIterator[DeliveryWorker]:
    """Another bot application on the same fake API and database; only its worker runs."""
    store = open_store(database_url)
    reporting = Reporting(store=store, policy=SHARED, clock=rig.clock)
    services = make_services(
        resolver=report_resolver(), sectors=report_sectors(), reporting=reporting
    )
    application = build_application(services, token=rig.api.token, api_root=rig.api.root)
    try:
        async with application:
            assert application.post_init is not None and application.post_stop is not None
            await application.post_init(application)  # starts the worker
            try:
                yield application.bot_data[WORKER_KEY]
            finally:
                await application.post_stop(application)
    finally:
        store.close()


def owe_reports(rig: Rig, count: int) -> list[str]:
    """``count`` reports with photos and a voice message from distinct residents."""
    draft = Draft(
        kind=ReportKind.INCIDENT,
        place=PlaceRef(label="Rudaki Avenue, house 45", sector_id="SOM-01"),
        occurred="now",
        text="Two men broke the kiosk window",
        photo_file_ids=("ph-1", "ph-2"),
        voice_file_id="vo-1",
    )
    now = rig.clock()
    refs = [
        rig.store.submit(draft, resident_chat_id=9000 + i, now=now).reference for i in range(count)
    ]
    return refs


def per_reference(rig: Rig, method: str) -> Counter[str]:
    """How many ``method`` calls reached the staff chat for each reference."""
    found: Counter[str] = Counter()
    for call in rig.api.sent_to(STAFF.id, method):
        params = call.params
        text = str(params.get("text") or params.get("caption") or params.get("media") or "")
        if (match := REFERENCE.search(text)) is not None:
            found[match.group(0)] += 1
    return found


async def test_two_workers_on_one_database_deliver_every_report_to_the_staff_chat_once(
    make_services: MakeServices, db: str
) -> None:
    async with running_bot(make_services, db, policy=SHARED) as rig:
        await rig.link(STAFF, SOM_01)
        async with second_process(rig, make_services, db) as other:
            refs = owe_reports(rig, REPORTS)
            rig.reporting.nudge()
            other.reporting.nudge()
            await eventually(
                lambda: all(rig.store.get(r).status is ReportStatus.DELIVERED for r in refs),
                timeout=30,
            )
            await eventually(lambda: rig.store.due(now=rig.clock(), limit=1000) == [])
            await asyncio.sleep(0.5)  # ten worker periods: a second copy would come now
        pushes = Counter(c.chat_id for c in rig.api.sent_to(9000, "sendMessage"))
    expected = Counter(dict.fromkeys(refs, 1))
    assert per_reference(rig, "sendMessage") == expected
    assert per_reference(rig, "sendMediaGroup") == expected
    assert per_reference(rig, "sendVoice") == expected
    assert pushes == Counter({9000: 1})  # the resident is told "delivered" once
