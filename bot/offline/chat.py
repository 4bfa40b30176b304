"""The offline chat: the real bot, the in-process fake Bot API server, and a terminal.

``python -m bot`` without ``TELEGRAM_BOT_TOKEN`` lands here. The application is the same one that
talks to Telegram (same handlers, texts and buttons); only its Bot API server is
:class:`bot.offline.fake_api.FakeBotApi` on 127.0.0.1. What the bot sends is printed as plain
text, and its buttons are numbered: typing the number presses the button.
"""

from __future__ import annotations

import asyncio
import html
import os
import re
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Final

from bot.app import BotApplication, build_application
from bot.handlers import BotServices
from bot.offline.fake_api import ApiCall, FakeBotApi, FakeChat, FakeUser
from reports.model import StaffScope

CITY_CENTRE: Final = (38.5598, 68.7870)
HELP: Final = (
    "Offline chat with the Noziri bot (no Telegram). Type an address; a number presses a button;\n"
    "'loc LAT LON' shares a location; '@ TEXT' tries inline mode; /start, /help, /lang; "
    "'quit' or Ctrl-D ends."
)
REPORT_HELP: Final = (
    "Reports: /report files one; 'photo' and 'voice' send media; 'reply TEXT' answers the\n"
    "inspector's question; 'staff SOM-04' links a demo staff chat to a sector (its messages print\n"
    "as 'staff chat:', its buttons are numbered too) and 'staff: TEXT' types in it."
)
STAFF_CHAT: Final = FakeChat(id=-1000001, title="Demo staff chat")
INSPECTOR: Final = FakeUser(id=900001, first_name="Inspector", language_code="ru")
OFFLINE_PHONE: Final = "+992 00 000 00 01"
_TAG: Final = re.compile(r"<[^>]+>")

ReadLine = Callable[[str], Awaitable[str | None]]
Write = Callable[[str], None]
LinkStaff = Callable[[str], str | None]  # a sector id -> a one-time /link code (None: refused)


@asynccontextmanager
async def offline_bot(
    services: BotServices, **build_options: Any
) -> AsyncIterator[tuple[FakeBotApi, BotApplication]]:
    """Run the application long polling a fresh fake Bot API server; stop both on exit."""
    async with FakeBotApi() as api:
        application = build_application(
            services, token=api.token, api_root=api.root, **build_options
        )
        async with application:
            assert application.updater is not None
            if application.post_init is not None:  # run_polling would call it; we start by hand
                await application.post_init(application)
            await application.updater.start_polling(poll_interval=0, timeout=1)
            await application.start()
            try:
                yield api, application
            finally:
                await application.updater.stop()
                await application.stop()
                if application.post_stop is not None:  # as run_polling would, after stop
                    await application.post_stop(application)
                if application.post_shutdown is not None:  # as run_polling would, on the way out
                    await application.post_shutdown(application)


# --- showing what the bot sent -------------------------------------------------------------


def html_to_plain(text: str) -> str:
    """Drop HTML tags and unescape entities for the terminal."""
    return html.unescape(_TAG.sub("", text))


@dataclass(frozen=True)
class Button:
    """A button the terminal user can press by number."""

    label: str
    message_id: int | None = None  # inline buttons: the message they belong to
    data: str | None = None  # inline buttons: callback_data
    request_location: bool = False
    request_contact: bool = False
    inline_text: str | None = None  # inline-mode results: the message it would post
    staff: bool = False  # a button of the demo staff chat (pressed by the inspector)


@dataclass
class Screen:
    """The terminal's state: the buttons currently on screen."""

    inline: list[Button] = field(default_factory=list)
    keyboard: list[Button] = field(default_factory=list)
    staff: list[Button] = field(default_factory=list)
    shown: int = 0  # the calls printed so far (deliveries arrive between turns too)

    @property
    def buttons(self) -> list[Button]:
        """Every pressable button, in the order they are numbered."""
        return [*self.inline, *self.keyboard, *self.staff]


def inline_buttons(message: dict[str, Any], *, staff: bool = False) -> list[Button]:
    """Read the inline keyboard of a message the bot sent or edited."""
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    mid = message.get("message_id")
    return [
        Button(b["text"], message_id=mid, data=b.get("callback_data"), staff=staff)
        for row in rows
        for b in row
    ]


def keyboard_buttons(markup: Any) -> list[Button] | None:
    """Read a reply keyboard (None when the call did not send one; empty when it removes it)."""
    if isinstance(markup, dict) and markup.get("remove_keyboard"):
        return []
    if not isinstance(markup, dict) or "keyboard" not in markup:
        return None
    return [
        Button(
            b["text"],
            request_location=bool(b.get("request_location")),
            request_contact=bool(b.get("request_contact")),
        )
        for row in markup["keyboard"]
        for b in row
    ]


MEDIA_LABELS: Final = {
    "sendPhoto": "[photo]",
    "sendVoice": "[voice message]",
    "sendMediaGroup": "[album]",
    "copyMessage": "[copied message]",
}


def describe_call(call: ApiCall, api: FakeBotApi, screen: Screen) -> list[str]:
    """Turn one bot call into terminal lines and update the buttons on screen."""
    params = call.params
    if call.chat_id is not None and call.chat_id < 0:
        return describe_staff_call(call, api, screen)
    if call.method in MEDIA_LABELS:
        return [f"  {MEDIA_LABELS[call.method]} {params.get('caption') or ''}".rstrip()]
    return describe_reply(call, api, screen)


def describe_reply(call: ApiCall, api: FakeBotApi, screen: Screen) -> list[str]:
    """Turn a message, a toast, a contact or inline results into terminal lines."""
    params = call.params
    if call.method in ("sendMessage", "editMessageText"):
        return describe_message(call, api, screen)
    if call.method == "answerCallbackQuery":
        return [f"  [{html_to_plain(params['text'])}]"] if params.get("text") else []
    if call.method == "sendContact":
        return [f"  [contact] {params.get('first_name')} {params.get('phone_number')}"]
    if call.method == "answerInlineQuery":
        return describe_inline_results(params.get("results") or [], screen)
    return []


def describe_message(call: ApiCall, api: FakeBotApi, screen: Screen) -> list[str]:
    """Print a sent or edited message and take over its buttons."""
    params = call.params
    heading = "bot (edited):" if call.method == "editMessageText" else "bot:"
    keyboard = keyboard_buttons(params.get("reply_markup"))
    if keyboard is not None:
        screen.keyboard = keyboard
    if not keyboard:  # a reply keyboard comes in a message of its own: the inline ones stay
        message = sent_message(api, call)
        screen.inline = inline_buttons(message) if message else []
    body = [f"  {line}" for line in html_to_plain(str(params.get("text", ""))).splitlines()]
    return [heading, *body]


def describe_staff_call(call: ApiCall, api: FakeBotApi, screen: Screen) -> list[str]:
    """Print what the demo staff chat got, and take over its buttons."""
    params = call.params
    if call.method in MEDIA_LABELS:
        media = params.get("media") or [{"media": params.get("photo") or params.get("voice")}]
        files = ", ".join(str(m.get("media")) for m in media)
        return [f"staff chat: {MEDIA_LABELS[call.method]} {files}"]
    if call.method not in ("sendMessage", "editMessageText"):
        return []
    message = sent_message(api, call)
    if message is not None and "inline_keyboard" in (message.get("reply_markup") or {}):
        screen.staff = inline_buttons(message, staff=True)
    body = [f"  | {line}" for line in html_to_plain(str(params.get("text", ""))).splitlines()]
    return ["staff chat:", *body]


def sent_message(api: FakeBotApi, call: ApiCall) -> dict[str, Any] | None:
    """The stored message a send or edit call produced (as it is now)."""
    result = call.result
    if isinstance(result, dict) and call.chat_id is not None and "message_id" in result:
        return api.messages.get((call.chat_id, int(result["message_id"])))
    return latest_message(api, call.params)


def latest_message(api: FakeBotApi, params: dict[str, Any]) -> dict[str, Any] | None:
    """Find the stored message a send or edit call produced."""
    chat_id = params.get("chat_id")
    if not isinstance(chat_id, int):
        return None
    if "message_id" in params:
        return api.messages.get((chat_id, int(params["message_id"])))
    mine = [m for (cid, _), m in api.messages.items() if cid == chat_id and m["from"]["is_bot"]]
    return mine[-1] if mine else None


def describe_inline_results(results: list[dict[str, Any]], screen: Screen) -> list[str]:
    """List inline-mode results; pressing one shows the message it would post."""
    screen.inline = [
        Button(
            f"{r.get('title')} — {r.get('description', '')}",
            inline_text=r["input_message_content"]["message_text"],
        )
        for r in results
    ]
    return ["inline results:" if results else "inline results: none"]


def button_lines(screen: Screen) -> list[str]:
    """Number the buttons on screen."""
    return [f"  ({n}) {button.label}" for n, button in enumerate(screen.buttons, start=1)]


# --- reading what the user does ------------------------------------------------------------


def parse_location(text: str) -> tuple[float, float] | None:
    """Read ``LAT LON`` (comma or space separated); None if it is not two numbers."""
    parts = text.replace(",", " ").split()
    try:
        lat, lon = (float(p) for p in parts)
    except ValueError:
        return None
    return lat, lon


async def act(
    line: str, *, api: FakeBotApi, user: FakeUser, screen: Screen, read_line: ReadLine, write: Write
) -> bool:
    """Turn one typed line into an update; False when nothing was sent to the bot."""
    if line.isdigit() and 1 <= int(line) <= len(screen.buttons):
        return await press(
            screen.buttons[int(line) - 1], api=api, user=user, read_line=read_line, write=write
        )
    if act_on_report(line, api=api, user=user, write=write):
        return True
    if line.startswith("loc "):
        point = parse_location(line[4:])
        if point is None:
            write("  (type: loc 38.56 68.78)")
            return False
        api.share_location(user, *point)
    elif line.startswith("@"):
        api.type_inline(user, line[1:].strip())
    else:
        api.send_text(user, line)
    return True


def act_on_report(line: str, *, api: FakeBotApi, user: FakeUser, write: Write) -> bool:
    """The report lines: photo, voice, reply TEXT, staff: TEXT (False for any other line)."""
    words = line.split(maxsplit=1)
    if line in ("photo", "voice"):
        count = len(api.calls) + len(api.updates)
        if line == "photo":
            api.send_photo_from(user, f"offline-photo-{count}")
        else:
            api.send_voice_from(user, f"offline-voice-{count}")
        return True
    if words[:1] == ["reply"] and len(words) == 2:
        question = last_question(api, user)
        if question is None:
            write("  (no question from the inspector to reply to)")
            return False
        api.send_text(user, words[1], reply_to=question)
        return True
    if line.startswith("staff:"):
        api.send_text(INSPECTOR, line.removeprefix("staff:").strip(), chat=STAFF_CHAT)
        return True
    return False


def press_report_button(button: Button, *, api: FakeBotApi, user: FakeUser) -> bool:
    """A staff chat's button (pressed by the inspector), or "share my phone"."""
    if button.request_contact:
        api.share_contact(user, OFFLINE_PHONE)
        return True
    if button.message_id is None or button.data is None:
        return False
    api.press_button(INSPECTOR, button.message_id, button.data, chat=STAFF_CHAT)
    return True


def last_question(api: FakeBotApi, user: FakeUser) -> int | None:
    """The newest bot message in the user's chat that asks for a reply (a relayed question)."""
    asked = [
        mid
        for (cid, mid), message in api.messages.items()
        if cid == user.id and message["from"].get("is_bot") and "?" in str(message.get("text"))
    ]
    return max(asked) if asked else None


async def press(
    button: Button, *, api: FakeBotApi, user: FakeUser, read_line: ReadLine, write: Write
) -> bool:
    """Press a numbered button: a callback, the location button, or an inline result."""
    if button.staff or button.request_contact:
        return press_report_button(button, api=api, user=user)
    if button.inline_text is not None:
        write("you (via the bot):")
        write("\n".join(f"  {line}" for line in html_to_plain(button.inline_text).splitlines()))
        return False
    if button.request_location:
        answer = await read_line(f"  latitude longitude [{CITY_CENTRE[0]} {CITY_CENTRE[1]}]: ")
        point = parse_location(answer) if answer else CITY_CENTRE
        if point is None:
            write("  (not a location)")
            return False
        api.share_location(user, *point)
        return True
    if button.message_id is not None and button.data is not None:
        api.press_button(user, button.message_id, button.data)
        return True
    return False


async def chat_loop(
    api: FakeBotApi,
    user: FakeUser,
    *,
    read_line: ReadLine,
    write: Write,
    link_staff: LinkStaff | None = None,
) -> None:
    """Read lines until ``quit`` or end of input, showing the bot's replies to each."""
    screen = Screen()
    write(HELP if link_staff is None else f"{HELP}\n{REPORT_HELP}")
    while (line := await read_line("> ")) is not None:
        line = line.strip()
        if line in ("quit", "exit"):
            break
        if link_staff is not None and line.startswith("staff ") and not line.startswith("staff:"):
            code = link_staff(line.removeprefix("staff ").strip())
            line = f"staff: /link {code}" if code else ""
        if not line or not await act(
            line, api=api, user=user, screen=screen, read_line=read_line, write=write
        ):
            continue
        await api.replies(since=screen.shown)
        show_new_calls(api, screen, write)


def show_new_calls(api: FakeBotApi, screen: Screen, write: Write) -> None:
    """Print every call since the last turn (replies, and deliveries made in between)."""
    calls = api.reply_calls(screen.shown)
    screen.shown = len(api.calls)
    for call in calls:
        for text in describe_call(call, api, screen):
            write(text)
    write("\n".join(button_lines(screen)) if screen.buttons else "")
    if not calls:
        write("  (no reply)")


@dataclass
class StdinLines:
    """Lines typed on stdin, read by the event loop itself (no thread, so Ctrl-C ends at once)."""

    fd: int
    queue: asyncio.Queue[str | None] = field(default_factory=asyncio.Queue)
    pending: bytes = b""
    watching: bool = False

    @classmethod
    def open(cls) -> StdinLines:
        """Start reading stdin: a terminal or pipe as it becomes readable, a file at once."""
        lines = cls(fd=sys.stdin.fileno())
        try:
            asyncio.get_running_loop().add_reader(lines.fd, lines.on_readable)
            lines.watching = True
        except (OSError, ValueError):  # a regular file cannot be polled; reading it never blocks
            lines.read_all()
        return lines

    def on_readable(self) -> None:
        """Take what the terminal or pipe has."""
        self.feed(os.read(self.fd, 65536))

    def read_all(self) -> None:
        """Read a regular file to its end."""
        while chunk := os.read(self.fd, 65536):
            self.feed(chunk)
        self.feed(b"")

    def feed(self, chunk: bytes) -> None:
        """Queue every complete line; an empty chunk is the end of input."""
        if not chunk:
            self.finish()
            return
        *complete, self.pending = (self.pending + chunk).split(b"\n")
        for line in complete:
            self.queue.put_nowait(line.decode(errors="replace"))

    def finish(self) -> None:
        """Queue the last unterminated line, then the end-of-input marker."""
        if self.pending:
            self.queue.put_nowait(self.pending.decode(errors="replace"))
            self.pending = b""
        self.queue.put_nowait(None)
        self.close()

    def close(self) -> None:
        """Stop watching stdin."""
        if self.watching:
            asyncio.get_running_loop().remove_reader(self.fd)
            self.watching = False

    async def read_line(self, prompt: str) -> str | None:
        """Show ``prompt`` and return the next line; None at end of input."""
        print(prompt, end="", flush=True)
        return await self.queue.get()


async def run_offline_chat(
    services: BotServices,
    *,
    user: FakeUser | None = None,
    read_line: ReadLine | None = None,
    write: Write = print,
) -> None:
    """Chat with the real bot in the terminal (stdin unless ``read_line``) via the fake API."""
    stdin = StdinLines.open() if read_line is None else None
    reader = read_line or (stdin.read_line if stdin else None)
    assert reader is not None
    try:
        async with offline_bot(services) as (api, _application):
            person = user or FakeUser(id=1, first_name="You")
            linker = staff_linker(services)
            await chat_loop(api, person, read_line=reader, write=write, link_staff=linker)
    finally:
        if stdin is not None:
            stdin.close()


def staff_linker(services: BotServices) -> LinkStaff | None:
    """A maintainer's invite for the demo staff chat (None when reporting is off)."""
    reporting = services.reporting
    if reporting is None:
        return None

    def link(sector_id: str) -> str | None:
        """A one-time code for ``sector_id`` (after unlinking the demo chat from it)."""
        try:
            scope = StaffScope(sector_id=sector_id.upper())
        except ValueError:
            return None
        reporting.store.unlink(scope)
        return reporting.store.invite(scope, now=reporting.clock(), valid_for=timedelta(hours=1))

    return link
