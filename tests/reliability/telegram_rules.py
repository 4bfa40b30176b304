"""What Telegram itself would refuse in a message the bot sends.

The fake Bot API server accepts anything; the real one answers ``400 Bad Request`` to a text with
an unsupported tag, an unclosed tag or a bare ``<``, ``>`` or ``&`` ("can't parse entities"), to a
text longer than 4096 characters once entities are parsed, and to ``callback_data`` longer than
64 bytes. A 400 would reach the user as the error apology, so fuzzed replies are checked here.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from typing import Any

from bot.offline.fake_api import ApiCall

ALLOWED_TAGS = frozenset(
    {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre", "span"}
    | {"tg-spoiler", "tg-emoji", "blockquote"}
)
ALLOWED_ENTITIES = frozenset({"lt", "gt", "amp", "quot"})
MAX_TEXT_UTF16 = 4096
MAX_CALLBACK_BYTES = 64
_TAG = re.compile(r"<[^>]*>")


class TelegramHtml(HTMLParser):
    """Collect the problems Telegram's HTML parser would report."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.open: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Accept only Telegram's tags."""
        if tag not in ALLOWED_TAGS:
            self.problems.append(f"unsupported tag <{tag}>")
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        """Tags must close in order."""
        if not self.open or self.open[-1] != tag:
            self.problems.append(f"unbalanced </{tag}>")
            return
        self.open.pop()

    def handle_entityref(self, name: str) -> None:
        """Only the four named entities are known to Telegram."""
        if name not in ALLOWED_ENTITIES:
            self.problems.append(f"unknown entity &{name};")

    def handle_data(self, data: str) -> None:
        """Text may not hold a bare ``<``, ``>`` or ``&``."""
        for char in "<>&":
            if char in data:
                self.problems.append(f"bare {char!r} in text")

    def handle_comment(self, data: str) -> None:
        """Telegram has no comments."""
        self.problems.append("comment")

    def handle_decl(self, decl: str) -> None:
        """Telegram has no declarations."""
        self.problems.append("declaration")

    def unknown_decl(self, data: str) -> None:
        """Telegram has no CDATA."""
        self.problems.append("unknown declaration")


def html_problems(text: str) -> list[str]:
    """Return what Telegram would refuse in an HTML ``text`` (empty when it is fine)."""
    parser = TelegramHtml()
    parser.feed(text)
    parser.close()
    if parser.rawdata:
        parser.problems.append(f"unparsed tail {parser.rawdata[:20]!r}")
    return parser.problems + [f"unclosed <{tag}>" for tag in parser.open]


def visible_length(text: str) -> int:
    """The length Telegram counts (UTF-16 code units of the text without tags)."""
    plain = html.unescape(_TAG.sub("", text))
    return len(plain.encode("utf-16-le")) // 2


def callback_data(markup: Any) -> list[str]:
    """Every ``callback_data`` in an inline keyboard."""
    if not isinstance(markup, dict):
        return []
    rows = markup.get("inline_keyboard", [])
    return [button["callback_data"] for row in rows for button in row if "callback_data" in button]


def send_problems(call: ApiCall) -> list[str]:
    """Return what Telegram would refuse in a ``sendMessage``/``editMessageText`` call."""
    text = str(call.params.get("text", ""))
    problems = []
    if not text.strip():
        problems.append("empty text")
    if call.params.get("parse_mode") == "HTML":
        problems += html_problems(text)
    if visible_length(text) > MAX_TEXT_UTF16:
        problems.append(f"text of {visible_length(text)} UTF-16 units")
    for data in callback_data(call.params.get("reply_markup")):
        if not 1 <= len(data.encode()) <= MAX_CALLBACK_BYTES:
            problems.append(f"callback_data of {len(data.encode())} bytes")
    return problems
