"""Candidates and sectors the bot has recently shown, for the buttons that refer back to them.

A button carries only a short id; pressing it looks the id up here. The memory is bounded (least
recently shown entries go first). One process keeps it in memory only, like its callback signing
secret: a press that outlives either gets the polite "out of date" answer. Several workers
(:mod:`bot.cluster`) also write what they show to a :class:`FarMemo` shared by all of them, so a
press handled by another worker than the one that showed the buttons still finds its place.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from pydantic import BaseModel, ValidationError

from resolver.gazetteer import Sector
from resolver.models import Candidate

V = TypeVar("V")
M = TypeVar("M", bound=BaseModel)
MemoEntry = tuple[str, str, str]  # kind, key, JSON text


class FarMemo(Protocol):
    """A memo every bot worker reads and writes (:class:`bot.cluster.shared.SharedBot`)."""

    async def remember(self, entries: Sequence[MemoEntry]) -> None:
        """Keep each ``(kind, key, value)``."""
        ...

    async def recall(self, kind: str, key: str) -> str | None:
        """The value kept under ``kind``/``key``, if any."""
        ...

    async def forget(self, kind: str, key: str) -> None:
        """Drop what is kept under ``kind``/``key``."""
        ...


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
    far: FarMemo | None = None  # shared by several workers; None: this process only

    async def keep(self, candidates: Iterable[Candidate]) -> None:
        """Remember candidates shown with buttons (here, and for every worker)."""
        entries: list[MemoEntry] = []
        for candidate in candidates:
            self.remember_candidate(candidate)
            entries.append(("candidate", candidate.document_id, candidate.model_dump_json()))
            if candidate.sector is not None:
                entries.append(("sector", candidate.sector.id, candidate.sector.model_dump_json()))
        if self.far is not None and entries:
            await self.far.remember(entries)

    async def keep_sector(self, sector: Sector) -> None:
        """Remember a sector whose card was shown (here, and for every worker)."""
        self.remember_sector(sector)
        if self.far is not None:
            await self.far.remember([("sector", sector.id, sector.model_dump_json())])

    async def candidate(self, document_id: str) -> Candidate | None:
        """The candidate a button names, if some worker still remembers it."""
        return await self._recall(self.candidates, "candidate", document_id, Candidate)

    async def sector(self, sector_id: str) -> Sector | None:
        """The sector a button names, if some worker still remembers it."""
        return await self._recall(self.sectors, "sector", sector_id, Sector)

    async def _recall(self, memo: BoundedMemo[M], kind: str, key: str, model: type[M]) -> M | None:
        """From this process's memory, else from the far memo (then kept here too)."""
        value = memo.recall(key)
        if value is not None or self.far is None:
            return value
        text = await self.far.recall(kind, key)
        if text is None:
            return None
        try:
            value = model.model_validate_json(text)
        except ValidationError:  # written by another version of the bot: out of date
            return None
        memo.remember(key, value)
        return value

    def remember_candidate(self, candidate: Candidate) -> None:
        """Keep a candidate (and its sector) that a button refers to."""
        self.candidates.remember(candidate.document_id, candidate)
        if candidate.sector is not None:
            self.remember_sector(candidate.sector)

    def remember_sector(self, sector: Sector) -> None:
        """Keep a sector whose "save as contact" button was shown."""
        self.sectors.remember(sector.id, sector)
