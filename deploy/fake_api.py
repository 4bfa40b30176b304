"""``python -m deploy.fake_api READY_FILE``: the project's fake Bot API in a process of its own.

For ``python -m deploy up`` without ``--api-root``, so the demo needs no Telegram. It listens on a
free port of 127.0.0.1, writes ``{"root": …, "token": …}`` to ``READY_FILE`` (0600, atomically)
once it serves, prints every call the workers make (method and chat, never the text) and runs
until SIGTERM or SIGINT.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
from pathlib import Path

from bot.offline.fake_api import FakeBotApi
from search_platform.files import write_private_file

PRINT_PERIOD_S = 0.5


def describe_call(method: str, chat_id: int | None) -> str:
    """One line for the log: the method and, if any, the chat (no message text)."""
    return method if chat_id is None else f"{method} chat {chat_id}"


async def serve(ready_file: Path) -> None:
    """Serve until a signal; print new calls as they come."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(number, stop.set)
    async with FakeBotApi() as api:
        write_private_file(ready_file, json.dumps({"root": api.root, "token": api.token}))
        print(f"fake Bot API at {api.root}", flush=True)
        printed = 0
        while not stop.is_set():
            for call in api.calls[printed:]:
                print(describe_call(call.method, call.chat_id), flush=True)
            printed = len(api.calls)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), PRINT_PERIOD_S)


def main(argv: list[str] | None = None) -> int:
    """Run the fake Bot API until stopped."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m deploy.fake_api READY_FILE", file=sys.stderr)
        return 2
    asyncio.run(serve(Path(args[0])))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
