"""``python -m index_builder status`` and ``rollback``: which version is live, and going back.

A version is the pair ``<live>`` + ``<live>_meta`` (:mod:`resolver.published`); a build keeps the
one it replaced as ``<live>_previous`` + ``<live>_meta_previous``. ``rollback`` swaps the two
pairs in one atomic ``/swap-indexes`` call, so the previous version becomes live and the one that
was live becomes the previous one (a second ``rollback`` undoes the first). Running bots follow
within their version-check interval.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass

from index_builder.admin import MeiliAdmin
from index_builder.publish import live_pairs, previous_index_name
from index_builder.settings import BuilderSettings
from resolver.errors import BuildError, MeiliUnavailable
from resolver.published import VERSION_ID, PublishedDataError, VersionInfo, read_version
from search_platform.connection import admin_endpoint


@dataclass(frozen=True)
class Slot:
    """One version slot (live or previous): its two index names and what they hold."""

    places: str
    data: str
    info: VersionInfo | None
    problem: str | None = None

    def describe(self, title: str) -> list[str]:
        """Lines for ``status``: the version, when and from what it was built, its counts."""
        if self.info is None:
            return [f"{title}: none ({self.problem or f'{self.data} holds no version'})"]
        counts = ", ".join(f"{name} {count}" for name, count in self.info.counts.items())
        return [
            f"{title}: version {self.info.version} in {self.places} + {self.data}",
            f"  built    {self.info.built_at:%Y-%m-%d %H:%M:%S} UTC",
            f"  seed     {self.info.seed_hash}",
            f"  schema   {self.info.schema_version}",
            f"  counts   {counts}",
        ]


def read_slot(admin: MeiliAdmin, places: str, data: str) -> Slot:
    """Read the version document of one slot (None if absent or unreadable, with why)."""
    document = admin.get_document(data, VERSION_ID)
    if document is None:
        return Slot(places, data, None)
    try:
        return Slot(places, data, read_version(document))
    except PublishedDataError as exc:
        return Slot(places, data, None, problem=str(exc))


def slots(admin: MeiliAdmin, live: str) -> tuple[Slot, Slot]:
    """The live slot and the previous one of ``live``."""
    places, data = live_pairs(live)
    return (
        read_slot(admin, places, data),
        read_slot(admin, previous_index_name(places), previous_index_name(data)),
    )


def rollback(admin: MeiliAdmin, live: str) -> tuple[Slot, Slot]:
    """Swap the previous version back in; return (now live, now previous).

    Raises:
        BuildError: there is no whole previous version to go back to.
    """
    current, previous = slots(admin, live)
    if previous.info is None:
        raise BuildError(
            f"no previous version of {live} to roll back to ({previous.problem or 'none kept'}); "
            "builds keep one unless run with --discard-old"
        )
    admin.wait(admin.swap_many([(current.places, previous.places), (current.data, previous.data)]))
    return slots(admin, live)


def add_status_arguments(parser: argparse.ArgumentParser) -> None:
    """Describe ``status``."""
    parser.add_argument("--index", metavar="NAME", help="live index name (default: MEILI_INDEX)")
    parser.set_defaults(run=run_status)


def add_rollback_arguments(parser: argparse.ArgumentParser) -> None:
    """Describe ``rollback``."""
    parser.add_argument("--index", metavar="NAME", help="live index name (default: MEILI_INDEX)")
    parser.set_defaults(run=run_rollback)


def run_status(args: argparse.Namespace, settings: BuilderSettings) -> int:
    """Print the live version and the previous one; exit 1 when nothing is live."""
    live = str(args.index or settings.meili_index)
    with admin_endpoint(settings) as endpoint:
        current, previous = slots(admin_of(endpoint.url, endpoint.api_key), live)
    print("\n".join([*current.describe("live"), *previous.describe("previous")]))
    return 0 if current.info is not None else 1


def run_rollback(args: argparse.Namespace, settings: BuilderSettings) -> int:
    """Swap the previous version back in and print both slots."""
    live = str(args.index or settings.meili_index)
    try:
        with admin_endpoint(settings) as endpoint:
            current, previous = rollback(admin_of(endpoint.url, endpoint.api_key), live)
    except (BuildError, MeiliUnavailable) as exc:
        print(
            f"rollback failed: {exc}\nThe live version of {live} was not changed.", file=sys.stderr
        )
        return 1
    print("\n".join(["rolled back", *current.describe("live"), *previous.describe("previous")]))
    return 0


def admin_of(url: str, api_key: object) -> MeiliAdmin:
    """The admin adapter for an endpoint's URL and (secret) key."""
    secret = getattr(api_key, "get_secret_value", None)
    return MeiliAdmin(url, api_key=secret() if secret else None)
