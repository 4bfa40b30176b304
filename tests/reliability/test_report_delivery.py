"""Killing the bot while a report's delivery is being retried loses nothing and sends it once.

``python -m bot`` runs as a subprocess against the fake Bot API (over HTTP) and a SQLite file,
with the real resolver on the session's published seed. The sector's staff chat answers 500, so
the report stays PENDING and its delivery is retried with backoff; the bot is SIGKILLed in the
middle of that, the staff chat comes back, a new bot process starts on the same database, and
the staff chat gets the report exactly once.

Two bot processes on one database share the outbox: every report owed reaches the staff chat
once, and when one is killed the other delivers what is owed next.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.offline.fake_api import FakeBotApi, FakeChat
from reports.model import Draft, PlaceRef, ReportKind, ReportStatus, StaffScope
from reports.store import SqlReportStore, open_store
from search_platform.connection import Endpoint
from search_platform.settings import PROJECT_ROOT
from tests.bot.reporting import REFERENCE, RESIDENT, Talker, eventually, texts
from tests.reliability.test_versions import clean_env

pytestmark = pytest.mark.integration

STAFF = FakeChat(id=-7001, title="SOM-17 staff")


@asynccontextmanager
async def bot_process(
    api: FakeBotApi, env: dict[str, str], workdir: Path, name: str
) -> AsyncIterator[asyncio.subprocess.Process]:
    """``python -m bot`` long polling ``api``; killed (if still running) on the way out."""
    with (workdir / f"{name}.log").open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", env=env, cwd=workdir, stdout=out, stderr=out
        )
        try:
            yield process
        finally:
            if process.returncode is None:
                process.terminate()
                await asyncio.wait_for(process.wait(), timeout=30)


def bot_env(
    api: FakeBotApi, meili: Endpoint, key: SecretStr, *, live: str, workdir: Path
) -> dict[str, str]:
    """The bot's environment: the fake API, the session's index, a SQLite file, fast retries."""
    return clean_env() | {
        "PYTHONPATH": str(PROJECT_ROOT),
        "TELEGRAM_BOT_TOKEN": api.token,
        "TELEGRAM_API_BASE_URL": api.root,
        "MEILI_URL": meili.url,
        "MEILI_SEARCH_KEY": key.get_secret_value(),
        "MEILI_INDEX": live,
        "NOZIRI_DATA_DIR": str(workdir / "data"),
        "DATABASE_URL": f"sqlite:///{workdir / 'reports.sqlite3'}",
        "BOT_DELIVERY_PERIOD_S": "0.2",
        "BOT_DELIVERY_RETRY_S": "0.3",
        "BOT_DELIVERY_RETRY_CAP_S": "1",
        "BOT_DELIVERY_LEASE_S": "2",  # a bot killed mid-send holds its delivery that long
        "BOT_STAFF_LANGUAGE": "en",
    }


async def file_a_report(resident: Talker) -> str:
    """Every step over the fake API (the first place found, now, a text, anonymous); the ref."""
    await resident.say("/report")
    for step in ("f:gate:go", "f:kind:incident"):
        await resident.press(step)
    await resident.say("Rudaki 45")
    for step in ("f:place:pick0", "f:when:now"):
        await resident.press(step)
    await resident.say("A car alarm has been going off all night")
    for step in ("f:what:next", "f:photos:done", "f:contact:anon", "f:notice:ok"):
        await resident.press(step)
    sent = await resident.press("f:review:send")
    found = REFERENCE.search(texts(sent))
    assert found is not None, texts(sent)
    return found.group(0)


async def test_a_bot_killed_while_retrying_a_delivery_delivers_it_once_after_a_restart(
    meili: Endpoint, live_index: tuple[str, SecretStr], tmp_path: Path
) -> None:
    live, key = live_index
    (tmp_path / "data").mkdir(mode=0o700)
    async with FakeBotApi() as api:
        env = bot_env(api, meili, key, live=live, workdir=tmp_path)
        store = linked_store(env["DATABASE_URL"])
        api.make_unreachable(STAFF.id, 500)
        resident = Talker(api, RESIDENT)
        async with bot_process(api, env, tmp_path, "first") as first:
            await eventually(lambda: api.poll_count > 0, timeout=60)
            reference = await file_a_report(resident)
            await eventually(lambda: len(api.refused) >= 3, timeout=20)  # retried, backing off
            first.send_signal(signal.SIGKILL)
            await first.wait()
        assert store.get(reference).status is ReportStatus.PENDING
        api.make_reachable(STAFF.id)
        async with bot_process(api, env, tmp_path, "second"):
            await eventually(lambda: reference in texts(api.sent_to(STAFF.id)), timeout=60)
            await asyncio.sleep(1.5)  # several worker periods: a second copy would come now
        cards = [c for c in api.sent_to(STAFF.id, "sendMessage") if reference in c.params["text"]]
        status = store.get(reference).status
        store.close()
    assert len(cards) == 1
    assert status is ReportStatus.DELIVERED
    assert first.returncode == -signal.SIGKILL


def owe_reports(store: SqlReportStore, count: int, *, first_resident: int) -> list[str]:
    """``count`` reports of SOM-17 with photos and a voice message, filed straight in the store."""
    draft = Draft(
        kind=ReportKind.INCIDENT,
        place=PlaceRef(label="Rudaki Avenue 45 (fictional sector)", sector_id="SOM-17"),
        occurred="now",
        text="A car alarm has been going off all night",
        photo_file_ids=("ph-1", "ph-2"),
        voice_file_id="vo-1",
    )
    now = datetime.now(UTC)
    return [
        store.submit(draft, resident_chat_id=first_resident + i, now=now).reference
        for i in range(count)
    ]


def all_delivered(store: SqlReportStore, references: list[str]) -> bool:
    """Whether every report reached its staff chat (its last part sent and marked)."""
    return all(store.get(ref).status is ReportStatus.DELIVERED for ref in references)


def linked_store(database_url: str) -> SqlReportStore:
    """The store of the bots under test, with the staff chat linked to SOM-17."""
    store = open_store(database_url)
    now = datetime.now(UTC)
    code = store.invite(StaffScope(sector_id="SOM-17"), now=now, valid_for=timedelta(hours=1))
    store.link(code, chat_id=STAFF.id, now=now)
    return store


def cards_per_reference(api: FakeBotApi, references: list[str]) -> dict[str, int]:
    """How many report cards reached the staff chat for each reference."""
    cards = [c.params["text"] for c in api.sent_to(STAFF.id, "sendMessage")]
    return {ref: sum(ref in card for card in cards) for ref in references}


async def test_two_bot_processes_on_one_database_deliver_each_report_once(
    meili: Endpoint, live_index: tuple[str, SecretStr], tmp_path: Path
) -> None:
    live, key = live_index
    (tmp_path / "data").mkdir(mode=0o700)
    async with FakeBotApi() as api:
        env = bot_env(api, meili, key, live=live, workdir=tmp_path)
        store = linked_store(env["DATABASE_URL"])
        async with (
            bot_process(api, env, tmp_path, "one") as one,
            bot_process(api, env, tmp_path, "two"),
        ):
            first = owe_reports(store, 10, first_resident=9100)
            await eventually(lambda: all_delivered(store, first), timeout=60)
            one.send_signal(signal.SIGKILL)
            await one.wait()
            second = owe_reports(store, 5, first_resident=9200)  # only "two" is left to send them
            await eventually(lambda: all_delivered(store, second), timeout=60)
            await asyncio.sleep(1.5)  # several worker periods: a second copy would come now
        statuses = {store.get(ref).status for ref in first + second}
        store.close()
    assert cards_per_reference(api, first + second) == dict.fromkeys(first + second, 1)
    assert statuses == {ReportStatus.DELIVERED}
