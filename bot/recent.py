"""Candidates and sectors the bot has recently shown, for the buttons that refer back to them.

A button carries only a short id; pressing it looks the id up here. The memory is bounded (least
recently shown entries go first) and per process, like the callback signing secret: a press that
outlives either gets the polite "out of date" answer.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from resolver.gazetteer import Sector
from resolver.models import Candidate

V = TypeVar("V")


@dataclass
class BoundedMemo(Generic[V]):
    """A small LRU mapping from ids to values."""

    capacity: int = 5_000
    entries: OrderedDict[str, V] = field(default_factory=OrderedDict)

    def remember(self, key: str, value: V) -> None:
        """Store ``value`` under ``key``, evicting the oldest entry when full."""
        self.entries[key] = value
        self.entries.move_to_end(key)
        while len(self.entries) > self.capacity:
            self.entries.popitem(last=False)

    def recall(self, key: str) -> V | None:
        """Return the value stored under ``key``, if still remembered."""
        return self.entries.get(key)


@dataclass
class RecentlyShown:
    """What the buttons of recent messages point at."""

    candidates: BoundedMemo[Candidate] = field(default_factory=BoundedMemo)
    sectors: BoundedMemo[Sector] = field(default_factory=BoundedMemo)

    def remember_candidate(self, candidate: Candidate) -> None:
        """Keep a candidate (and its sector) that a button refers to."""
        self.candidates.remember(candidate.document_id, candidate)
        if candidate.sector is not None:
            self.remember_sector(candidate.sector)

    def remember_sector(self, sector: Sector) -> None:
        """Keep a sector whose "save as contact" button was shown."""
        self.sectors.remember(sector.id, sector)
