"""The offline chat's terminal input: lines from stdin, read by the event loop."""

from __future__ import annotations

import asyncio
import os

from bot.offline.chat import StdinLines, parse_location


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
