"""The offline chat: its terminal input (lines from stdin, read by the event loop), and a report
filed in it with the inspector's side shown in the same terminal."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from bot.offline.chat import StdinLines, parse_location, run_offline_chat
from bot.reporting.services import Reporting
from tests.bot.conftest import MakeServices
from tests.bot.reporting import FAST, RESIDENT, open_sqlite, report_resolver, report_sectors


async def test_lines_split_across_chunks_arrive_whole() -> None:
    lines = StdinLines(fd=-1)
    for chunk in (b"\xd0\xa0\xd1\x83\xd0\xb4\xd0\xb0", b"\xd0\xba\xd0\xb8 45\n1\n", b"quit"):
        lines.feed(chunk)
    lines.feed(b"")
    assert [await lines.read_line("") for _ in range(4)] == ["Рудаки 45", "1", "quit", None]


async def test_a_pipe_is_read_as_it_fills_and_ends_at_eof() -> None:
    read_end, write_end = os.pipe()
    lines = StdinLines(fd=read_end)
    asyncio.get_running_loop().add_reader(read_end, lines.on_readable)
    lines.watching = True
    os.write(write_end, "Айни 45\n".encode())
    assert await asyncio.wait_for(lines.read_line("> "), timeout=2) == "Айни 45"
    os.close(write_end)
    assert await asyncio.wait_for(lines.read_line("> "), timeout=2) is None
    assert not lines.watching
    os.close(read_end)


def test_locations_are_read_with_a_space_or_a_comma() -> None:
    assert parse_location("38.56 68.78") == (38.56, 68.78)
    assert parse_location("38.56, 68.78") == (38.56, 68.78)
    assert parse_location("Rudaki 45") is None
    assert parse_location("1 2 3") is None


async def test_the_offline_chat_files_a_report_and_shows_the_staff_chat(
    make_services: MakeServices, tmp_path: Path
) -> None:
    store = open_sqlite(tmp_path / "reports.sqlite3")
    services = make_services(
        resolver=report_resolver(),
        sectors=report_sectors(),
        reporting=Reporting(store=store, policy=FAST),
    )
    typed = iter(
        ["staff SOM-01", "Rudaki 45", "2", "1", "1", "1", "1", "A broken lamp", "voice", "1",
         "photo", "1", "1", "1", "1", "quit"]
    )  # fmt: skip
    shown: list[str] = []

    async def read_line(_prompt: str) -> str | None:
        return next(typed, None)

    await run_offline_chat(services, user=RESIDENT, read_line=read_line, write=shown.append)
    store.close()
    screen = "\n".join(shown)
    assert "staff chat:\n  | This chat is now the staff chat of sector SOM-01." in screen
    assert "Reference number: SOM-01-000001" in screen
    assert "  | New report SOM-01-000001" in screen and "staff chat: [voice message]" in screen
    assert "✅ Accept" in screen
