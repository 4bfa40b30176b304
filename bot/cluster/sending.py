"""One send budget for all workers: Telegram's limit (about 30 messages a second) is per bot.

:class:`SharedRateLimiter` is python-telegram-bot's :class:`~telegram.ext.AIORateLimiter` (its
per-chat limits and its retries after a 429 stay per process) with one more rule: before a
request to a chat, a token is taken from the bucket :data:`SEND_BUDGET` that every worker takes
from. When the shared store cannot be reached, the send goes ahead under the process's own limit
(a resident's answer matters more than the budget; the failure is logged).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Final

from telegram.ext import AIORateLimiter

from reports.ports import ReportError
from reports.shared import Bucket

logger = logging.getLogger(__name__)

SEND_BUDGET: Final = "sends"
JSONDict = dict[str, Any]
TakeToken = Callable[[str, Bucket], Awaitable[float]]


class SharedRateLimiter(AIORateLimiter):
    """AIORateLimiter behind a send budget shared by every worker."""

    def __init__(self, take: TakeToken, *, per_second: float, max_retries: int = 2) -> None:
        super().__init__(overall_max_rate=per_second, max_retries=max_retries)
        self._take = take
        self._budget = Bucket(rate=per_second, burst=per_second)

    async def process_request(  # noqa: PLR0917  (python-telegram-bot's signature)
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | JSONDict | list[JSONDict]:
        """Wait for the shared budget (requests to a chat only), then as AIORateLimiter does."""
        if data.get("chat_id") is not None:
            await self.wait_for_budget()
        return await super().process_request(
            callback, args, kwargs, endpoint, data, rate_limit_args
        )

    async def wait_for_budget(self) -> None:
        """Take one token from the shared budget, waiting while it is empty."""
        try:
            while (wait := await self._take(SEND_BUDGET, self._budget)) > 0:
                await asyncio.sleep(wait)
        except ReportError:
            logger.warning("the shared send budget is unreachable; sending under this process's")
