"""python-telegram-bot's persistence over the ReportStore: conversations and ``user_data``.

Only what a report in progress needs survives a restart: the state of each persistent
conversation (the resident's step, a staff member's pending text) and, of ``user_data``, the
draft and the pending staff text only (:data:`bot.reporting.draft.KEPT_KEYS`): the /lang choice
stays in memory, so no user id is stored for having used the bot. ``bot_data`` holds the live
services and is never stored; chat data and callback data are not used. Every call runs in a
thread (the store is synchronous).
"""

from __future__ import annotations

import asyncio
from collections.abc import MutableMapping
from typing import Any, Final

from telegram.ext import BasePersistence, PersistenceInput

from bot.reporting.draft import KEPT_KEYS
from reports.ports import ReportStore

UPDATE_INTERVAL_S: Final = 1.0  # python-telegram-bot writes what changed at this period

UserData = dict[str, Any]
ConversationKey = tuple[int | str, ...]
ConversationDict = MutableMapping[ConversationKey, object]
CDCData = tuple[list[tuple[str, float, dict[str, Any]]], dict[str, str]]  # callback data, unused


class StorePersistence(BasePersistence[UserData, dict[Any, Any], dict[Any, Any]]):
    """Conversations and user data in the reports database."""

    def __init__(self, store: ReportStore, *, update_interval: float = UPDATE_INTERVAL_S) -> None:
        super().__init__(
            store_data=PersistenceInput(
                bot_data=False, chat_data=False, user_data=True, callback_data=False
            ),
            update_interval=update_interval,
        )
        self.store = store

    async def get_user_data(self) -> dict[int, UserData]:
        """Every user's stored data."""
        return await asyncio.to_thread(self.store.user_data)

    async def update_user_data(self, user_id: int, data: UserData) -> None:
        """Store a user's report in progress (a copy: the live dict keeps changing); nothing
        else, so a user with no report in progress is forgotten."""
        kept = {key: value for key, value in data.items() if key in KEPT_KEYS}
        await asyncio.to_thread(self.store.save_user_data, user_id, kept)

    async def drop_user_data(self, user_id: int) -> None:
        """Forget one user's data."""
        await asyncio.to_thread(self.store.save_user_data, user_id, {})

    async def refresh_user_data(self, user_id: int, user_data: UserData) -> None:
        """Nothing to refresh: this process is the only writer."""

    async def get_conversations(self, name: str) -> ConversationDict:
        """Every stored state of conversation ``name``."""
        return dict(await asyncio.to_thread(self.store.conversations, name))

    async def update_conversation(
        self, name: str, key: ConversationKey, new_state: object | None
    ) -> None:
        """Store (or, for None, forget) one conversation's state."""
        await asyncio.to_thread(self.store.save_conversation, name, key, new_state)

    async def get_chat_data(self) -> dict[int, dict[Any, Any]]:
        """Chat data is not stored."""
        return {}

    async def update_chat_data(self, chat_id: int, data: dict[Any, Any]) -> None:
        """Chat data is not stored."""

    async def drop_chat_data(self, chat_id: int) -> None:
        """Chat data is not stored."""

    async def refresh_chat_data(self, chat_id: int, chat_data: dict[Any, Any]) -> None:
        """Chat data is not stored."""

    async def get_bot_data(self) -> dict[Any, Any]:
        """Bot data (the live services) is not stored."""
        return {}

    async def update_bot_data(self, data: dict[Any, Any]) -> None:
        """Bot data is not stored."""

    async def refresh_bot_data(self, bot_data: dict[Any, Any]) -> None:
        """Bot data is not stored."""

    async def get_callback_data(self) -> CDCData | None:
        """Arbitrary callback data is not used."""
        return None

    async def update_callback_data(self, data: CDCData) -> None:
        """Arbitrary callback data is not used."""

    async def flush(self) -> None:
        """Every write is already committed."""
