"""Queries the resolver could not settle, kept for maintainers to add aliases.

Each line of ``unresolved.jsonl`` holds the text (at most 300 characters), the resolver's status
and the UTC day it was asked (the time is rounded down to midnight), never who asked. Inline
queries are not kept (they arrive once per typed prefix). Retention: once the file passes
``max_bytes`` (1 MiB, some 10,000 queries) it becomes ``unresolved.jsonl.1``, replacing the
previous one, so at most twice that is ever kept. Both files are created readable by the owner
only (0600). :func:`group_queries` and :func:`format_report` are pure; :class:`UnresolvedLog` is
the file adapter.
"""

from __future__ import annotations

import json
import os
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ValidationError

from search_platform.files import PRIVATE_DIR_MODE, PRIVATE_FILE_MODE, open_private

MAX_TEXT_CHARS = 300  # enough for any address; a pasted essay is not worth keeping whole
MAX_LOG_BYTES = 1 << 20


class UnresolvedQuery(BaseModel):
    """One line of the log."""

    text: str
    status: str
    at: datetime


def day_of(moment: datetime) -> datetime:
    """Round a moment down to its UTC day: the log keeps no finer time."""
    day = moment.astimezone(UTC).date()
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


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
    """Appends to and reads ``<data_dir>/unresolved.jsonl`` (and its one rotated generation)."""

    path: Path
    max_bytes: int = MAX_LOG_BYTES
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def rotated(self) -> Path:
        """Where the previous generation of the log is kept."""
        return self.path.with_name(self.path.name + ".1")

    def append(self, text: str, status: str, *, at: datetime | None = None) -> None:
        """Record one query (no user identity), rotating the file once it is full."""
        moment = day_of(at or datetime.now(UTC))
        # A lone surrogate cannot be written as UTF-8: keep the rest of the text.
        kept = text[:MAX_TEXT_CHARS].encode("utf-8", "replace").decode("utf-8")
        entry = UnresolvedQuery(text=kept, status=status, at=moment)
        line = (entry.model_dump_json() + "\n").encode("utf-8")
        with self.lock:
            self.rotate_if_full()
            append_private(self.path, line)

    def rotate_if_full(self) -> None:
        """Move a full log to :attr:`rotated`, dropping the generation before it."""
        try:
            full = self.path.stat().st_size >= self.max_bytes
        except FileNotFoundError:
            return
        if full:
            os.replace(self.path, self.rotated)

    def read(self) -> list[UnresolvedQuery]:
        """Read every well-formed line, oldest generation first; no file means nothing yet."""
        lines = [line for path in (self.rotated, self.path) for line in read_lines(path)]
        return [query for line in lines if (query := parse_line(line)) is not None]

    def make_private(self) -> None:
        """Tighten both generations to 0600 (files from before this rule was kept)."""
        for path in (self.rotated, self.path):
            if path.exists() and path.stat().st_mode & 0o077:
                path.chmod(PRIVATE_FILE_MODE)


def append_private(path: Path, data: bytes) -> None:
    """Append ``data`` to ``path``, creating it (and its directory) readable by the owner only."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR_MODE)
    with os.fdopen(open_private(path, os.O_WRONLY | os.O_APPEND), "ab") as handle:
        handle.write(data)


def read_lines(path: Path) -> list[str]:
    """The lines of a text file; none when it does not exist."""
    try:
        return path.read_text(encoding="utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        return []


def parse_line(line: str) -> UnresolvedQuery | None:
    """Parse one log line, skipping blank or damaged ones."""
    try:
        return UnresolvedQuery.model_validate(json.loads(line))
    except (json.JSONDecodeError, ValidationError):
        return None
