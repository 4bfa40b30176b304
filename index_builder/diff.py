"""What a rebuild would change in the live index (pure: documents in, a diff out).

Compared per place (a split street's segments count as one place): places added, removed,
renamed (any of the Tajik, Russian or English display names changed) and re-linked (the set of
sectors and house ranges changed).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from resolver.index_schema import PlaceDocument

# Fields the dry run reads from the live index: enough to rebuild a PlaceDocument's identity,
# names and links, and nothing heavier.
DIFF_FIELDS = (
    "id",
    "place_id",
    "kind",
    "name_tg",
    "name_ru",
    "name_en",
    "sector_id",
    "house_start",
    "house_end",
    "house_parity",
)


@dataclass(frozen=True, order=True)
class LinkView:
    """One sector link of a place as the index stores it."""

    sector_id: str
    house_start: int | None = None
    house_end: int | None = None
    house_parity: str | None = None

    def render(self) -> str:
        """Show the link as ``SOM-01`` or ``SOM-01 [1-77 odd]``."""
        if self.house_start is None:
            return self.sector_id
        end = "" if self.house_end is None else str(self.house_end)
        return f"{self.sector_id} [{self.house_start}-{end} {self.house_parity or 'all'}]"


@dataclass(frozen=True)
class PlaceSnapshot:
    """A place's names and links, merged over its documents."""

    place_id: str
    names: tuple[str | None, str | None, str | None]
    links: frozenset[LinkView]

    def label(self) -> str:
        """Return the first known name, for messages."""
        return next((name for name in self.names if name), self.place_id)

    def render_names(self) -> str:
        """Show all display names as ``tg | ru | en``."""
        return " | ".join(name or "-" for name in self.names)

    def render_links(self) -> str:
        """Show the links in a stable order."""
        return ", ".join(link.render() for link in sorted(self.links)) or "no sector"


@dataclass(frozen=True)
class Change:
    """One difference for one place."""

    place_id: str
    label: str
    before: str = ""
    after: str = ""


@dataclass(frozen=True)
class IndexDiff:
    """Every difference between the live index and a new build."""

    added: tuple[Change, ...] = ()
    removed: tuple[Change, ...] = ()
    renamed: tuple[Change, ...] = ()
    relinked: tuple[Change, ...] = ()
    unchanged: int = 0

    def summary(self) -> str:
        """Return the one-line count of changes."""
        return (
            f"{len(self.added)} added, {len(self.removed)} removed, {len(self.renamed)} renamed, "
            f"{len(self.relinked)} re-linked, {self.unchanged} unchanged"
        )

    def lines(self) -> list[str]:
        """Return one readable line per change, grouped by kind."""
        return [
            *(f"+ added    {c.place_id} {c.label}" for c in self.added),
            *(f"- removed  {c.place_id} {c.label}" for c in self.removed),
            *(f"~ renamed  {c.place_id}: {c.before} -> {c.after}" for c in self.renamed),
            *(f"> relinked {c.place_id} {c.label}: {c.before} -> {c.after}" for c in self.relinked),
        ]


def snapshot_places(documents: Iterable[PlaceDocument]) -> dict[str, PlaceSnapshot]:
    """Merge documents into one snapshot per place (segments joined)."""
    names: dict[str, tuple[str | None, str | None, str | None]] = {}
    links: dict[str, set[LinkView]] = {}
    for document in documents:
        names.setdefault(document.place_id, (document.name_tg, document.name_ru, document.name_en))
        place_links = links.setdefault(document.place_id, set())
        if document.sector_id is not None:
            place_links.add(link_view(document))
    return {
        place_id: PlaceSnapshot(place_id, names[place_id], frozenset(links[place_id]))
        for place_id in names
    }


def link_view(document: PlaceDocument) -> LinkView:
    """Return the link a document carries (its sector must be set)."""
    return LinkView(
        sector_id=document.sector_id or "",
        house_start=document.house_start,
        house_end=document.house_end,
        house_parity=document.house_parity,
    )


def diff_documents(live: Iterable[PlaceDocument], built: Iterable[PlaceDocument]) -> IndexDiff:
    """Compare the live index's documents with a new build's."""
    before = snapshot_places(live)
    after = snapshot_places(built)
    common = sorted(before.keys() & after.keys())
    renamed = [
        renamed_change(before[p], after[p]) for p in common if before[p].names != after[p].names
    ]
    relinked = [
        relinked_change(before[p], after[p]) for p in common if before[p].links != after[p].links
    ]
    unchanged = sum(1 for p in common if before[p] == after[p])
    return IndexDiff(
        added=tuple(Change(p, after[p].label()) for p in sorted(after.keys() - before.keys())),
        removed=tuple(Change(p, before[p].label()) for p in sorted(before.keys() - after.keys())),
        renamed=tuple(renamed),
        relinked=tuple(relinked),
        unchanged=unchanged,
    )


def renamed_change(before: PlaceSnapshot, after: PlaceSnapshot) -> Change:
    """Describe a change of display names."""
    return Change(before.place_id, after.label(), before.render_names(), after.render_names())


def relinked_change(before: PlaceSnapshot, after: PlaceSnapshot) -> Change:
    """Describe a change of sector links."""
    return Change(before.place_id, after.label(), before.render_links(), after.render_links())
