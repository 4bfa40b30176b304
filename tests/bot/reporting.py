"""Helpers of the report tests: a resident and a staff chat talking to the bot over the fake API.

The bot is the real application (``bot.offline.chat.offline_bot``) with the real SQLite
ReportStore in the test's tmp dir; the resolver and the sectors are the small fakes of
``tests/bot/fakes.py``. Times come from :class:`ShiftedClock` (real time plus a shift the test
moves), so escalation and retention need no sleeping.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final, Protocol

from bot.handlers import BotServices
from bot.offline.chat import offline_bot
from bot.offline.fake_api import ApiCall, FakeBotApi, FakeChat, FakeUser
from bot.reporting.services import Reporting, ReportPolicy
from reports.model import StaffScope
from reports.store import SqlReportStore, open_store
from resolver.gazetteer import District
from tests.bot.fakes import (
    FakeResolver,
    FakeSectors,
    make_candidate,
    make_officer,
    make_sector,
    resolved,
)

RESIDENT: Final = FakeUser(id=7001, first_name="Zarina", language_code="en")
OTHER: Final = FakeUser(id=7002, first_name="Bahrom", language_code="ru")
INSPECTOR: Final = FakeUser(id=8001, first_name="Inspector", language_code="en")
STAFF: Final = FakeChat(id=-5001, title="SOM-01 staff")
OTHER_STAFF: Final = FakeChat(id=-5002, title="SOM-02 staff")
DUTY: Final = FakeChat(id=-6001, title="Somoni duty")
REFERENCE: Final = re.compile(r"(?:SOM|SIN|FIR|SHM)-[0-9]{2,3}-[0-9]{6}")
SECTOR = make_sector()
SECTOR_2 = make_sector(id="SOM-02", officer=make_officer(name_en="Farrukh Nazarov"))
RUDAKI = make_candidate()
# A point in the fake city that lies in SOM-02's box.
POINT: Final = (38.58, 68.80)
TOAST_GRACE_S: Final = 1.5  # how long a toast-only answer to a button may wait for more
FAST: Final = ReportPolicy(
    retention_days=30,
    escalate_after=timedelta(minutes=60),
    delivery_period_s=0.05,
    escalation_period_s=0.05,
    retention_period_s=0.05,
    backoff_base_s=0.05,
    backoff_cap_s=0.2,
    staff_language="en",
)


@dataclass
class ShiftedClock:
    """Real time plus a shift the test moves (``advance(minutes=61)``)."""

    shift: timedelta = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.shift

    def advance(self, **delta: float) -> None:
        """Move the clock on."""
        self.shift += timedelta(**delta)


def report_resolver() -> FakeResolver:
    """ "Rudaki 45" is one place of SOM-01; anything else is not found."""
    return FakeResolver({"Rudaki 45": resolved("Rudaki 45", RUDAKI, house=45)})


def report_sectors() -> FakeSectors:
    """SOM-02 holds the box around :data:`POINT`."""
    return FakeSectors(boxes={(38.57, 68.79, 38.59, 68.81): SECTOR_2})


def open_sqlite(path: Path, **options: Any) -> SqlReportStore:
    """The real store on a SQLite file."""
    return open_store(f"sqlite:///{path}", **options)


@dataclass
class Talker:
    """Someone in a chat with the bot: a resident in private, or staff in a group."""

    api: FakeBotApi
    user: FakeUser
    chat: FakeChat | None = None

    @property
    def chat_id(self) -> int:
        """The chat this talker writes in."""
        return self.chat.id if self.chat is not None else self.user.id

    async def answer(self, since: int, *, timeout: float = 5.0) -> list[ApiCall]:
        """The bot's calls to this chat (and toasts) after ``since``, once it is quiet."""
        calls = await self.api.replies(since=since, timeout=timeout, quiet=0.15)
        if calls and all(c.method == "answerCallbackQuery" for c in calls):
            # Handlers answer the button first, then do their work (a database write on a loaded
            # machine can outlast the quiet window): give a toast-only answer time to go on.
            await self.api.replies(since=calls[-1].index + 1, timeout=TOAST_GRACE_S, quiet=0.15)
            calls = self.api.reply_calls(since)
        mine = [c for c in calls if c.chat_id == self.chat_id or c.method == "answerCallbackQuery"]
        return mine

    async def say(self, text: str, *, reply_to: int | None = None) -> list[ApiCall]:
        """Type ``text`` (perhaps as a reply to one of the bot's messages)."""
        since = self.api.mark()
        self.api.send_text(self.user, text, chat=self.chat, reply_to=reply_to)
        return await self.answer(since)

    async def press(self, prefix: str) -> list[ApiCall]:
        """Press the newest button of this chat whose data starts with ``prefix``."""
        message_id, data = self.find_button(prefix)
        since = self.api.mark()
        self.api.press_button(self.user, message_id, data, chat=self.chat)
        return await self.answer(since)

    def find_button(self, prefix: str) -> tuple[int, str]:
        """The newest bot message of this chat with such a button, and the button's data."""
        for (chat_id, message_id), message in sorted(self.api.messages.items(), reverse=True):
            if chat_id != self.chat_id or not message["from"].get("is_bot"):
                continue
            for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
                for button in row:
                    if str(button.get("callback_data", "")).startswith(prefix):
                        return message_id, str(button["callback_data"])
        raise AssertionError(f"no button {prefix!r} in chat {self.chat_id}")

    async def send(self, push: Callable[[], int]) -> list[ApiCall]:
        """Send something else (a photo, a voice, a contact) and collect the answer."""
        since = self.api.mark()
        push()
        return await self.answer(since)

    def last_bot_message_with(self, needle: str) -> int:
        """The id of the newest bot message in this chat whose text holds ``needle``."""
        for (chat_id, message_id), message in sorted(self.api.messages.items(), reverse=True):
            mine = chat_id == self.chat_id and message["from"].get("is_bot")
            if mine and needle in str(message.get("text", "")):
                return message_id
        raise AssertionError(f"no bot message with {needle!r} in chat {self.chat_id}")


def texts(calls: list[ApiCall]) -> str:
    """Every text and caption the calls carry, one per line."""
    return "\n".join(str(c.params.get("text") or c.params.get("caption") or "") for c in calls)


class Chatting(Protocol):
    """A running bot (or several workers) that a resident talks to."""

    @property
    def api(self) -> FakeBotApi:
        """The fake Bot API in front of the bot."""
        ...

    @property
    def resident(self) -> Talker:
        """The resident filing reports."""
        ...


@dataclass
class Rig:
    """The running bot, its fake API, the store, the clock and the people."""

    api: FakeBotApi
    store: SqlReportStore
    clock: ShiftedClock
    resident: Talker
    inspector: Talker
    reporting: Reporting
    services: BotServices
    extra: dict[str, Any] = field(default_factory=dict)

    def talker(self, user: FakeUser, chat: FakeChat | None = None) -> Talker:
        """Another person in a chat."""
        return Talker(self.api, user, chat)

    async def link(self, chat: FakeChat, scope: StaffScope) -> list[ApiCall]:
        """A maintainer's invite, then ``/link <code>`` in ``chat``."""
        code = self.store.invite(scope, now=self.clock(), valid_for=timedelta(hours=1))
        return await self.talker(INSPECTOR, chat).say(f"/link {code}")

    async def staff_gets(self, chat_id: int, since: int, *, method: str = "sendMessage") -> ApiCall:
        """Wait for the worker's first ``method`` call to ``chat_id`` after ``since``."""
        return await self.api.wait_for(method, since=since, chat_id=chat_id, timeout=5.0)


@asynccontextmanager
async def running_bot(
    make_services: Callable[..., BotServices],
    database_url: str,
    *,
    clock: ShiftedClock | None = None,
    policy: ReportPolicy = FAST,
    daily_limit: int = 5,
) -> AsyncIterator[Rig]:
    """The bot with reporting on, over the real store at ``database_url`` (a SQLite file or a
    PostgreSQL database); stopped, and the store closed, after."""
    store = open_store(database_url, daily_limit=daily_limit)
    clock = clock or ShiftedClock()
    reporting = Reporting(store=store, policy=policy, clock=clock)
    services = make_services(
        resolver=report_resolver(), sectors=report_sectors(), reporting=reporting
    )
    try:
        async with offline_bot(services) as (api, _application):
            resident, inspector = Talker(api, RESIDENT), Talker(api, INSPECTOR, STAFF)
            yield Rig(api, store, clock, resident, inspector, reporting, services)
    finally:
        store.close()


async def file_report(
    rig: Chatting,
    *,
    resident: Talker | None = None,
    text: str | None = "Two men broke the kiosk window",
    photos: tuple[str, ...] = (),
    voice: str | None = None,
    phone: str | None = None,
    place: str = "Rudaki 45",
) -> str:
    """Go through every step and Send; the reference number the bot answers with."""
    who = resident or rig.resident
    await who.say("/report")
    await who.press("f:gate:go")
    await who.press("f:kind:incident")
    if place == "location":
        await who.send(lambda: rig.api.share_location(who.user, *POINT))
    else:
        await who.say(place)
    await who.press("f:place:pick0")
    await who.press("f:when:now")
    if text is not None:
        await who.say(text)
    if voice is not None:
        await who.send(lambda: rig.api.send_voice_from(who.user, voice))
    await who.press("f:what:next")
    for photo in photos:
        await who.send(lambda photo=photo: rig.api.send_photo_from(who.user, photo))  # type: ignore[misc]
    await who.press("f:photos:done")
    if phone is None:
        await who.press("f:contact:anon")
    else:
        await who.send(lambda: rig.api.share_contact(who.user, phone))
    await who.press("f:notice:ok")
    sent = await who.press("f:review:send")
    found = REFERENCE.search(texts(sent))
    assert found is not None, texts(sent)
    return found.group(0)


async def eventually(check: Callable[[], bool], *, timeout: float = 5.0) -> None:
    """Wait until ``check()`` holds (the worker runs every 50 ms in the tests)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("the condition did not hold in time")
        await asyncio.sleep(0.02)


SOMONI_DUTY: Final = StaffScope(duty_district=District.SOMONI)
SOM_01: Final = StaffScope(sector_id="SOM-01")
SOM_02: Final = StaffScope(sector_id="SOM-02")
