"""``python -m index_builder status``, ``rollback`` and ``sync``: which version is live, going back.

A version is the pair ``<live>`` + ``<live>_meta`` (:mod:`resolver.published`); a build keeps the
one it replaced as ``<live>_previous`` + ``<live>_meta_previous``. ``rollback`` swaps the two
pairs in one atomic ``/swap-indexes`` call, so the previous version becomes live and the one that
was live becomes the previous one (a second ``rollback`` undoes the first). Running bots follow
within their version-check interval.

With several replicas (``MEILI_URLS``, :mod:`index_builder.replicas`) ``status`` shows each one's
slots (an unreachable replica says so) and a line saying whether all serve the same version (exit
1 when not); ``rollback`` rolls back each replica; ``sync`` copies the newest live version found
on any replica to every reachable replica that lacks it, under the same version id.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from index_builder.admin import MeiliAdmin
from index_builder.keys import ensure_search_key, find_search_keys
from index_builder.publish import (
    BuildPlan,
    BuildReport,
    live_pairs,
    previous_index_name,
    publish,
    version_id,
)
from index_builder.replicas import PROBE_RETRY, Outcome, Replica, on_each, replicas_of
from index_builder.settings import BuilderSettings
from resolver.errors import BuildError, MeiliUnavailable
from resolver.index_schema import PlaceDocument
from resolver.published import (
    VERSION_ID,
    PublishedDataError,
    VersionInfo,
    read_data_documents,
    read_version,
)
from search_platform.connection import admin_endpoints


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


@dataclass(frozen=True)
class ReplicaStatus:
    """The live and previous slots of one replica, or why they could not be read."""

    replica: Replica
    live: Slot | None = None
    previous: Slot | None = None
    problem: str | None = None

    @property
    def version(self) -> str | None:
        """The live version id, if the replica answered and holds one."""
        return self.live.info.version if self.live and self.live.info else None

    def describe(self) -> list[str]:
        """Lines for ``status``: a header naming the replica, then its slots indented."""
        if self.live is None or self.previous is None:
            return [f"replica {self.replica.url}: UNREACHABLE ({self.problem})"]
        lines = [*self.live.describe("live"), *self.previous.describe("previous")]
        return [f"replica {self.replica.url}:", *(f"  {line}" for line in lines)]


def read_status(replica: Replica, live: str) -> ReplicaStatus:
    """Read one replica's slots; an unreachable replica is a status, not an error."""
    try:
        current, previous = slots(replica.admin, live)
    except (BuildError, MeiliUnavailable) as exc:
        return ReplicaStatus(replica, problem=str(exc))
    return ReplicaStatus(replica, live=current, previous=previous)


def read_statuses(replicas: Sequence[Replica], live: str) -> list[ReplicaStatus]:
    """The status of every replica, in the order of ``MEILI_URLS``."""
    return [read_status(replica, live) for replica in replicas]


def newest(statuses: Sequence[ReplicaStatus]) -> ReplicaStatus | None:
    """The replica holding the newest live version (version ids sort by build time)."""
    held = [status for status in statuses if status.version is not None]
    return max(held, key=lambda status: str(status.version)) if held else None


def summary(statuses: Sequence[ReplicaStatus]) -> tuple[bool, str]:
    """Whether every replica serves the same version, and one line saying so or what differs."""
    top = newest(statuses)
    if top is None:
        return False, "no replica holds a version: run `python -m index_builder build`"
    behind = [status.replica.url for status in statuses if status.version != top.version]
    if not behind:
        return True, f"all {len(statuses)} replicas serve version {top.version}"
    return False, (
        f"{len(behind)} of {len(statuses)} replicas do not serve the newest version "
        f"{top.version}: {', '.join(behind)}; run `python -m index_builder sync` once they answer"
    )


PLACE_FIELDS = [field.alias or name for name, field in PlaceDocument.model_fields.items()]


def copy_version(source: Replica, target: Replica, live: str) -> BuildReport:
    """Publish the live version of ``source`` on ``target`` under the same version id.

    Raises:
        BuildError: the source's data cannot be read back whole, or the copy failed.
    """
    places, data_index = live_pairs(live)
    data = read_data_documents(source.admin.all_documents(data_index))
    if version_id(data.version.built_at) != data.version.version:
        raise BuildError(f"version {data.version.version} cannot be copied: rebuild it")
    rows = source.admin.iter_documents(places, fields=PLACE_FIELDS)
    documents = (PlaceDocument.model_validate(row) for row in rows)
    plan = BuildPlan(live=live, settings=source.admin.get_settings(places))
    return publish(target.admin, documents, plan, data=data, now=data.version.built_at)


def sync(replicas: Sequence[Replica], live: str) -> tuple[list[ReplicaStatus], list[Outcome]]:
    """Bring every reachable replica to the newest version on any; return (before, copies).

    Raises:
        BuildError: no replica holds a version.
    """
    before = read_statuses(replicas, live)
    top = newest(before)
    if top is None:
        raise BuildError(
            "no replica holds a version to sync from: run `python -m index_builder build`"
        )
    behind = [s.replica for s in before if s.live is not None and s.version != top.version]
    return before, on_each(behind, lambda target: copy_version(top.replica, target, live))


def add_status_arguments(parser: argparse.ArgumentParser) -> None:
    """Describe ``status``."""
    parser.add_argument("--index", metavar="NAME", help="live index name (default: MEILI_INDEX)")
    parser.set_defaults(run=run_status)


def add_rollback_arguments(parser: argparse.ArgumentParser) -> None:
    """Describe ``rollback``."""
    parser.add_argument("--index", metavar="NAME", help="live index name (default: MEILI_INDEX)")
    parser.set_defaults(run=run_rollback)


def add_sync_arguments(parser: argparse.ArgumentParser) -> None:
    """Describe ``sync``."""
    parser.add_argument("--index", metavar="NAME", help="live index name (default: MEILI_INDEX)")
    parser.set_defaults(run=run_sync)


def run_status(args: argparse.Namespace, settings: BuilderSettings) -> int:
    """Print the live version and the previous one (of each replica); exit 1 when not all live."""
    live = str(args.index or settings.meili_index)
    with admin_endpoints(settings) as endpoints:
        if len(endpoints) > 1:
            return print_statuses(read_statuses(replicas_of(endpoints, retry=PROBE_RETRY), live))
        current, previous = slots(admin_of(endpoints[0].url, endpoints[0].api_key), live)
    print("\n".join([*current.describe("live"), *previous.describe("previous")]))
    return 0 if current.info is not None else 1


def print_statuses(statuses: Sequence[ReplicaStatus]) -> int:
    """Print every replica's slots and whether they agree; 0 when all serve one version."""
    for status in statuses:
        print("\n".join(status.describe()))
    agreed, line = summary(statuses)
    print(line)
    return 0 if agreed else 1


def run_rollback(args: argparse.Namespace, settings: BuilderSettings) -> int:
    """Swap the previous version back in (on every replica) and print both slots."""
    live = str(args.index or settings.meili_index)
    try:
        with admin_endpoints(settings) as endpoints:
            if len(endpoints) > 1:
                return rollback_replicas(replicas_of(endpoints), live)
            current, previous = rollback(admin_of(endpoints[0].url, endpoints[0].api_key), live)
    except (BuildError, MeiliUnavailable) as exc:
        print(
            f"rollback failed: {exc}\nThe live version of {live} was not changed.", file=sys.stderr
        )
        return 1
    print("\n".join(["rolled back", *current.describe("live"), *previous.describe("previous")]))
    return 0


def rollback_replicas(replicas: Sequence[Replica], live: str) -> int:
    """Roll back each replica; say which did not (exit 1), the others stay rolled back."""
    outcomes = on_each(replicas, lambda replica: rollback(replica.admin, live))
    for outcome in outcomes:
        if outcome.ok:
            print(f"replica {outcome.replica.url}: rolled back")
        else:
            print(f"replica {outcome.replica.url}: NOT rolled back: {outcome.problem}")
    return 0 if all(outcome.ok for outcome in outcomes) else 1


def run_sync(args: argparse.Namespace, settings: BuilderSettings) -> int:
    """Copy the newest version to the replicas that lack it; exit 1 unless all then agree."""
    live = str(args.index or settings.meili_index)
    with admin_endpoints(settings) as endpoints:
        replicas = replicas_of(endpoints, retry=PROBE_RETRY)
        _, copies = sync(replicas, live)
        for outcome in copies:
            print(describe_copy(outcome))
        sync_search_keys(replicas, live=live)
        return print_statuses(read_statuses(replicas, live))


def describe_copy(outcome: Outcome) -> str:
    """One line for a copied (or failed) replica."""
    url = outcome.replica.url
    if isinstance(outcome.result, BuildReport):
        return f"replica {url}: now at version {outcome.result.version}"
    return f"replica {url}: NOT synced: {outcome.problem}"


def sync_search_keys(replicas: Sequence[Replica], *, live: str) -> None:
    """Give every reachable replica the search key of the first one that has it (same uid)."""
    uid = next((key for replica in replicas if (key := search_key_uid(replica))), None)
    for outcome in on_each(replicas, lambda r: ensure_search_key(r.admin, live=live, uid=uid)):
        if not outcome.ok:
            print(f"replica {outcome.replica.url}: search key not checked: {outcome.problem}")


def search_key_uid(replica: Replica) -> str | None:
    """The uid of the replica's search key, or None (none yet, or unreachable)."""
    try:
        keys = find_search_keys(replica.admin.list_keys())
    except (BuildError, MeiliUnavailable):
        return None
    return str(keys[0]["uid"]) if keys else None


def admin_of(url: str, api_key: object) -> MeiliAdmin:
    """The admin adapter for an endpoint's URL and (secret) key."""
    secret = getattr(api_key, "get_secret_value", None)
    return MeiliAdmin(url, api_key=secret() if secret else None)
