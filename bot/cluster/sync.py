"""A resident's conversation state and draft, reloaded from the shared store for every update.

python-telegram-bot keeps each ConversationHandler's states in the process and reads its
persistence once, at start; ``user_data`` likewise. With several workers, the next update of a
resident may reach another worker than the last one, so before any handler runs (group
:data:`SYNC_GROUP`), this worker loads that resident's state for every persistent conversation
and the kept part of their ``user_data`` (the draft, :data:`bot.reporting.draft.KEPT_KEYS`) from
the reports database. After the update, :func:`bot.cluster.webhook` flushes the persistence at
once, so the next worker finds what this one changed.

The load touches ``ConversationHandler._conversations`` (a ``TrackingDict``), which
python-telegram-bot gives no public way to refresh; ``update_no_track`` keeps the reload itself
from being written back. ``tests/bot/test_cluster_workers.py`` carries a report across two
workers, so a change of that internal breaks a test, not a resident.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any, Final, Protocol

from telegram import Update
from telegram.ext import Application, BaseHandler, ConversationHandler, TypeHandler

from bot.reporting.draft import KEPT_KEYS

logger = logging.getLogger(__name__)

SYNC_GROUP: Final = -2  # before the limits' gate (-1) and the handlers (0)

BotApplication = Application[Any, Any, Any, Any, Any, Any]
ConversationKey = tuple[int | str, ...]


class StoredState(Protocol):
    """Where the states are kept (:class:`reports.shared.SqlSharedState`)."""

    def resident_state(
        self, conversations: Sequence[tuple[str, ConversationKey]], user_id: int | None
    ) -> tuple[list[object | None], dict[str, Any]]:
        """The state of each ``(name, key)`` and the user's stored data, in one read."""
        ...


def add_state_sync(application: BotApplication, stored: StoredState) -> None:
    """Reload each update's resident state from ``stored`` before the handlers see it."""

    async def reload(update: Update, context: Any) -> None:
        await reload_state(application, stored, update, context.user_data)

    application.add_handler(TypeHandler(Update, reload), group=SYNC_GROUP)


async def reload_state(
    application: BotApplication,
    stored: StoredState,
    update: Update,
    user_data: dict[str, Any] | None,
) -> None:
    """Load the conversations' states of ``update``'s chat and user, and the user's draft."""
    keyed = [
        (handler, key)
        for handler in persistent_conversations(application)
        if (key := conversation_key(handler, update)) is not None
    ]
    user = update.effective_user
    wanted = [(str(handler.name), key) for handler, key in keyed]
    user_id = user.id if user is not None and user_data is not None else None
    states, kept = await asyncio.to_thread(stored.resident_state, wanted, user_id)
    for (handler, key), state in zip(keyed, states, strict=True):
        put_state(handler, key, state)
    if user_data is not None and user_id is not None:
        for name in KEPT_KEYS:
            user_data.pop(name, None)
        user_data.update({k: v for k, v in kept.items() if k in KEPT_KEYS})


def persistent_conversations(application: BotApplication) -> list[ConversationHandler[Any]]:
    """The persistent conversation handlers of every group."""
    handlers: list[BaseHandler[Any, Any, Any]] = [
        handler for group in application.handlers.values() for handler in group
    ]
    return [h for h in handlers if isinstance(h, ConversationHandler) and h.persistent]


def conversation_key(handler: ConversationHandler[Any], update: Update) -> ConversationKey | None:
    """The handler's key for ``update`` (None: an update without the chat or user it needs)."""
    try:
        return handler._get_key(update)  # private: see the note above
    except RuntimeError:
        return None


def put_state(handler: ConversationHandler[Any], key: ConversationKey, state: object) -> None:
    """Make ``state`` the handler's state for ``key`` without marking it for writing."""
    conversations = handler._conversations  # private: see the note above
    if state is None:
        getattr(conversations, "data", conversations).pop(key, None)
    elif hasattr(conversations, "update_no_track"):
        conversations.update_no_track({key: state})
    else:
        conversations[key] = state
