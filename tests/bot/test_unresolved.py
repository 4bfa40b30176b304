"""Unresolved queries: kept without identity, reported grouped by count."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot.offline.fake_api import FakeUser
from bot.unresolved import (
    UnresolvedLog,
    UnresolvedQuery,
    day_of,
    format_report,
    group_queries,
)
from tests.bot.conftest import MakeServices
from tests.reliability.chat import feed, feed_text, in_process_bot

AT = datetime(2026, 11, 29, tzinfo=UTC)  # the log keeps days only


def make_query(text: str, status: str = "not_found") -> UnresolvedQuery:
    """An unresolved query recorded at a fixed time."""
    return UnresolvedQuery(text=text, status=status, at=AT)


def test_appended_queries_read_back_with_text_status_and_day_only(tmp_path: Path) -> None:
    log = UnresolvedLog(tmp_path / "data" / "unresolved.jsonl")
    log.append("кӯчаи Нав 3", "not_found", at=AT.replace(hour=9, minute=41, microsecond=12))
    assert log.read() == [make_query("кӯчаи Нав 3")]
    [line] = log.path.read_text(encoding="utf-8").splitlines()
    assert set(json.loads(line)) == {"text", "status", "at"}
    assert json.loads(line)["at"] == "2026-11-29T00:00:00Z"


@pytest.mark.parametrize(
    ("moment", "day"),
    [
        (datetime(2026, 11, 29, 23, 59, 59, 999_999, tzinfo=UTC), "2026-11-29"),
        (datetime(2026, 11, 30, 1, 30, tzinfo=timezone(timedelta(hours=5))), "2026-11-29"),
        (datetime(2026, 12, 31, 0, 0, tzinfo=UTC), "2026-12-31"),
    ],
)
def test_times_are_rounded_down_to_the_utc_day(moment: datetime, day: str) -> None:
    assert day_of(moment) == datetime.fromisoformat(day).replace(tzinfo=UTC)


def test_the_log_and_its_directory_are_created_private(tmp_path: Path) -> None:
    log = UnresolvedLog(tmp_path / "data" / "unresolved.jsonl")
    log.append("Марс", "not_found")
    assert stat.S_IMODE(log.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(log.path.parent.stat().st_mode) == 0o700


def test_a_log_from_before_is_made_private(tmp_path: Path) -> None:
    log = UnresolvedLog(tmp_path / "unresolved.jsonl")
    for path in (log.path, log.rotated):
        path.write_text("", encoding="utf-8")
        path.chmod(0o644)
    log.make_private()
    assert {stat.S_IMODE(p.stat().st_mode) for p in (log.path, log.rotated)} == {0o600}


def test_a_full_log_is_rotated_and_only_one_old_generation_is_kept(tmp_path: Path) -> None:
    log = UnresolvedLog(tmp_path / "unresolved.jsonl", max_bytes=2_000)
    for n in range(500):
        log.append(f"кӯчаи Нав {n}", "not_found", at=AT)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["unresolved.jsonl", "unresolved.jsonl.1"]
    assert log.path.stat().st_size < 2_000 + 200 and log.rotated.stat().st_size < 2_000 + 200
    kept = [q.text for q in log.read()]
    assert kept[-1] == "кӯчаи Нав 499" and kept == sorted(kept, key=lambda t: int(t.split()[-1]))
    assert "кӯчаи Нав 0" not in kept
    assert stat.S_IMODE(log.rotated.stat().st_mode) == 0o600


def test_a_text_that_cannot_be_written_as_utf8_is_kept_without_the_bad_character(
    tmp_path: Path,
) -> None:
    log = UnresolvedLog(tmp_path / "unresolved.jsonl")
    log.append("Рудаки \ud800 45", "not_found", at=AT)
    assert [q.text for q in log.read()] == ["Рудаки ? 45"]


def test_the_same_query_typed_differently_is_counted_once() -> None:
    groups = group_queries([make_query("Кучаи  Нав"), make_query("кучаи нав"), make_query("Марс")])
    assert groups == [("кучаи нав", 2), ("марс", 1)]


def test_report_lists_most_frequent_first() -> None:
    report = format_report([("кучаи нав", 2), ("марс", 1)])
    assert report.splitlines() == [" count  query", "     2  кучаи нав", "     1  марс"]


def test_report_says_when_nothing_was_recorded(tmp_path: Path) -> None:
    assert format_report(group_queries(UnresolvedLog(tmp_path / "none.jsonl").read())) == (
        "No unresolved queries recorded."
    )


def test_damaged_lines_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "unresolved.jsonl"
    log = UnresolvedLog(path)
    log.append("Марс", "not_found", at=AT)
    with path.open("a", encoding="utf-8") as handle:
        handle.write("{half a line\n\n")
    log.append("Марс", "ambiguous", at=AT)
    assert [q.status for q in log.read()] == ["not_found", "ambiguous"]


def test_report_unresolved_command_prints_the_grouped_queries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.__main__ import main

    monkeypatch.setenv("NOZIRI_DATA_DIR", str(tmp_path))
    log = UnresolvedLog(tmp_path / "unresolved.jsonl")
    for text in ("Марс", "марс", "Луна"):
        log.append(text, "not_found")
    assert main(["report-unresolved"]) == 0
    assert capsys.readouterr().out.splitlines()[1:] == ["     2  марс", "     1  луна"]


def test_a_huge_message_is_kept_shortened(tmp_path: Path) -> None:
    log = UnresolvedLog(tmp_path / "unresolved.jsonl")
    log.append("я" * 4096, "not_found", at=AT)
    [query] = log.read()
    assert query.text == "я" * 300


async def test_inline_queries_are_not_kept_but_typed_ones_are(make_services: MakeServices) -> None:
    services = make_services()
    user = FakeUser(id=77, language_code="ru")
    async with in_process_bot(services) as (api, application):
        for prefix in ("М", "Ма", "Мар", "Марс"):
            inline = {"id": f"iq-{prefix}", "from": user.as_json(), "query": prefix, "offset": ""}
            await feed(application, {"inline_query": inline})
        assert [c.method for c in api.calls].count("answerInlineQuery") == 4
        assert services.unresolved.read() == []
        await feed_text(application, api, user, "Марс 12")
    assert [q.text for q in services.unresolved.read()] == ["Марс 12"]
