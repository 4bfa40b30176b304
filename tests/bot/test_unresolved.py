"""Unresolved queries: kept without identity, reported grouped by count."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.unresolved import UnresolvedLog, UnresolvedQuery, format_report, group_queries

AT = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


def make_query(text: str, status: str = "not_found") -> UnresolvedQuery:
    """An unresolved query recorded at a fixed time."""
    return UnresolvedQuery(text=text, status=status, at=AT)


def test_appended_queries_read_back_with_text_status_and_time_only(tmp_path: Path) -> None:
    log = UnresolvedLog(tmp_path / "data" / "unresolved.jsonl")
    log.append("кӯчаи Нав 3", "not_found", at=AT)
    assert log.read() == [make_query("кӯчаи Нав 3")]
    [line] = log.path.read_text(encoding="utf-8").splitlines()
    assert set(json.loads(line)) == {"text", "status", "at"}


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
