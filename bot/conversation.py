"""What a message means in the conversation, before the resolver sees it (pure, no Telegram).

* :func:`is_greeting`: a text that is nothing but a greeting (``привет``, ``салом``, ``hello``) is
  answered with a greeting and how to ask, not searched.
* :func:`read_bare_house`: after the bot asked "which house?" on a split street, a text that is
  only a house number (``211``, ``45а``, ``д. 12/1``) is read as the house on that street.
* :class:`PendingStreets`: which street each chat was last asked a house number for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from typing import Final

from bot.recent import BoundedMemo, FarMemo
from resolver.models import HouseNumber
from resolver.text.fold import fold

# Greetings residents open with, in Tajik, Russian and English (Cyrillic and Latin spellings).
GREETINGS: Final = (
    "салом", "салом алейкум", "ассалому алейкум", "ассалом алейкум", "ассаламу алейкум",
    "салам", "салам алейкум", "салому алейкум", "рӯз ба хайр", "субҳ ба хайр", "шом ба хайр",
    "привет", "приветствую", "здравствуйте", "здравствуй", "здрасте", "добрый день",
    "доброе утро", "добрый вечер", "салют", "хай", "хелло",
    "hello", "hi", "hey", "hallo", "good morning", "good afternoon", "good evening",
    "salom", "salam", "assalomu alaykum", "assalomu aleykum", "assalamu alaikum", "privet",
)  # fmt: skip
# Words that may stand beside a greeting without making it a query: "привет бот", "hi there".
GREETING_COMPANIONS: Final = frozenset({"бот", "bot", "there", "всем", "ака", "all", "noziri"})
_BARE_HOUSE: Final = re.compile(
    r"^(?:(?:д|дом|хона|хонаи|house|h|no|№)\.?\s*)?"
    r"(?P<number>\d{1,4})\s*(?P<letter>[а-яёӣӯa-z]?)\s*(?:/\s*(?P<building>\d{1,3}))?$"
)


STREET_MEMO: Final = "street"


@cache
def folded_greetings() -> frozenset[str]:
    """The greeting table in the resolver's folded form (so typos of case and letters meet)."""
    return frozenset(fold(greeting) for greeting in GREETINGS)


def is_greeting(text: str) -> bool:
    """Tell whether ``text`` is nothing but a greeting (and perhaps "бот" / "there")."""
    words = [word for word in fold(text).split() if word not in GREETING_COMPANIONS]
    return bool(words) and " ".join(words) in folded_greetings()


def read_bare_house(text: str) -> HouseNumber | None:
    """Read a text that is only a house number (``211``, ``45а``, ``д. 12/1``); else None."""
    match = _BARE_HOUSE.match(" ".join(text.lower().split()))
    if match is None or int(match["number"]) == 0:
        return None
    return HouseNumber(
        number=int(match["number"]),
        letter=match["letter"] or None,
        building=match["building"],
    )


@dataclass
class PendingStreets:
    """The split street each chat was asked a house number for: bounded, in this process, or
    only in the ``far`` memo when several workers share the chats (a copy kept here could be
    out of date: another worker may have moved the chat on)."""

    streets: BoundedMemo[str] = field(default_factory=lambda: BoundedMemo(capacity=10_000))
    far: FarMemo | None = None

    async def ask(self, chat_id: int, place_id: str) -> None:
        """Note that the bot asked ``chat_id`` for a house on ``place_id``."""
        if self.far is not None:
            await self.far.remember([(STREET_MEMO, str(chat_id), place_id)])
        else:
            self.streets.remember(str(chat_id), place_id)

    async def street_for(self, chat_id: int) -> str | None:
        """The street ``chat_id`` was last asked a house for, if any."""
        if self.far is not None:
            return await self.far.recall(STREET_MEMO, str(chat_id))
        return self.streets.recall(str(chat_id))

    async def forget(self, chat_id: int) -> None:
        """The chat moved on: a new search or a card."""
        if self.far is not None:
            await self.far.forget(STREET_MEMO, str(chat_id))
        else:
            self.streets.entries.pop(str(chat_id), None)
