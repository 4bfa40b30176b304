"""Queries the resolver could not settle, kept for maintainers to add aliases.

Each line of ``unresolved.jsonl`` holds the text, the resolver's status and a UTC timestamp, never
who asked. :func:`group_queries` and :func:`format_report` are pure; :class:`UnresolvedLog` is
the file adapter.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ValidationError

MAX_TEXT_CHARS = 300  # enough for any address; a pasted essay is not worth keeping whole


class UnresolvedQuery(BaseModel):
    """One line of the log."""

    text: str
    status: str
    at: datetime


def group_key(text: str) -> str:
    """Fold case and spacing so the same query typed twice counts once."""
    return " ".join(text.casefold().split())


def group_queries(queries: Iterable[UnresolvedQuery]) -> list[tuple[str, int]]:
    """Count queries by their folded text, most frequent first."""
    counts = Counter(group_key(query.text) for query in queries)
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def format_report(groups: list[tuple[str, int]]) -> str:
    """Render the grouped queries as a plain table a maintainer can read."""
    if not groups:
        return "No unresolved queries recorded."
    lines = [f"{count:>6}  {text}" for text, count in groups]
    return "\n".join([" count  query", *lines])


@dataclass
class UnresolvedLog:
    """Appends to and reads ``<data_dir>/unresolved.jsonl``."""

    path: Path
    lock: threading.Lock = field(default_factory=threading.Lock)

    def append(self, text: str, status: str, *, at: datetime | None = None) -> None:
        """Record one query (no user identity)."""
        entry = UnresolvedQuery(
            text=text[:MAX_TEXT_CHARS], status=status, at=at or datetime.now(UTC)
        )
        with self.lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(entry.model_dump_json() + "\n")

    def read(self) -> list[UnresolvedQuery]:
        """Read every well-formed line; a missing file means nothing recorded."""
        if not self.path.exists():
            return []
        lines = self.path.read_text(encoding="utf-8").splitlines()
        return [query for line in lines if (query := parse_line(line)) is not None]


def parse_line(line: str) -> UnresolvedQuery | None:
    """Parse one log line, skipping blank or damaged ones."""
    try:
        return UnresolvedQuery.model_validate(json.loads(line))
    except (json.JSONDecodeError, ValidationError):
        return None
