"""``python -m index_builder build``: publish one version (places and their data), then swap it in.

Pipeline: load and validate the seed (or generate a synthetic city) -> name the build (its
version id, a UTC timestamp) -> create ``<live>_build_<version>`` and
``<live>_meta_build_<version>`` -> apply the settings -> build the place documents and send them
in batches as they are built (Meilisearch indexes one batch while the next is folded), every one
stamped with the version -> send the data documents (sectors, inspectors, offices, polygons,
links, vocabulary and the version document, :mod:`resolver.published`) -> wait for every task
and check its final status -> check both document counts -> swap both with the live pair in ONE
``/swap-indexes`` call (atomic: a reader sees the old pair or the new one) -> keep the previous
pair as ``<live>_previous`` and ``<live>_meta_previous`` (for ``rollback``; ``--discard-old``
deletes it). Until the swap the live pair serves the old version untouched; a failure, Ctrl-C or
SIGTERM on the way deletes the fresh indexes and leaves the live ones serving.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any, Protocol

from meilisearch.models.task import Task
from pydantic import TypeAdapter
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from index_builder.admin import MeiliAdmin
from index_builder.diff import DIFF_FIELDS, IndexDiff, diff_documents
from index_builder.documents import build_documents, count_documents, iter_documents
from index_builder.index_settings import DATA_INDEX_SETTINGS, index_settings, settings_summary
from index_builder.keys import SearchKey, ensure_search_key
from index_builder.published import published_data, stamped
from index_builder.replicas import Outcome, Replica, on_each, replicas_of
from index_builder.seed.load import SeedLoadError, load_seed
from index_builder.seed.models import Gazetteer
from index_builder.seed.validate import validate
from index_builder.settings import BuilderSettings
from index_builder.synthetic import synthetic_gazetteer
from resolver.errors import BuildError, MeiliUnavailable
from resolver.index_schema import PlaceDocument
from resolver.published import PublishedData, data_documents, data_index_name
from search_platform.connection import admin_endpoints, external_url, save_search_key

DEFAULT_BATCH_SIZE = 10_000
_DOCUMENT_LIST = TypeAdapter(list[PlaceDocument])
_DATA_LIST = TypeAdapter(list[dict[str, Any]])
TASK_TIMEOUT_S = 900.0
CLEANUP_TIMEOUT_S = 30.0


class BuildProgress(Protocol):
    """Where the build reports how many documents it has sent and Meilisearch has indexed."""

    def begin(self, total: int | None) -> None:
        """Announce how many documents will be sent (``None``: unknown)."""

    def sent(self, count: int) -> None:
        """Record one more batch sent."""

    def indexed(self, count: int) -> None:
        """Record documents Meilisearch finished indexing."""


class SilentProgress:
    """A progress sink that shows nothing (tests, ``--quiet``)."""

    def begin(self, total: int | None) -> None:
        """Ignore the total."""

    def sent(self, count: int) -> None:
        """Ignore the batch."""

    def indexed(self, count: int) -> None:
        """Ignore the count."""


class RichProgress:
    """Two rich progress bars: documents sent, documents indexed."""

    def __init__(self, console: Console) -> None:
        self._progress = Progress(
            TextColumn("{task.description:<9}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self._sent = self._progress.add_task("sent", total=None, visible=False)
        self._indexed = self._progress.add_task("indexed", total=None, visible=False)

    def __enter__(self) -> RichProgress:
        self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._progress.stop()

    def begin(self, total: int | None) -> None:
        """Show both bars with their total."""
        for task in (self._sent, self._indexed):
            self._progress.update(task, total=total, visible=True)

    def sent(self, count: int) -> None:
        """Advance the 'sent' bar."""
        self._progress.advance(self._sent, count)

    def indexed(self, count: int) -> None:
        """Advance the 'indexed' bar."""
        self._progress.advance(self._indexed, count)


@dataclass(frozen=True)
class BuildReport:
    """What a build did, for the summary line and the benchmarks."""

    live: str
    documents: int
    seconds: float
    kept_old: str | None = None
    version: str = ""

    @property
    def docs_per_second(self) -> float:
        """Return the throughput of the whole publish step."""
        return self.documents / self.seconds if self.seconds > 0 else float("inf")

    def summary(self) -> str:
        """Return the one-line summary: documents, seconds, docs/s."""
        line = (
            f"published version {self.version}: {self.documents} documents to {self.live} "
            f"in {self.seconds:.1f} s ({self.docs_per_second:,.0f} docs/s)"
        )
        kept = f"; previous version kept as {self.kept_old} (`rollback` swaps it back)"
        return line + kept if self.kept_old else line


def version_id(now: datetime) -> str:
    """Name one build: its UTC timestamp to the microsecond (unique, and sorts by time)."""
    return f"{now.astimezone(UTC):%Y%m%d_%H%M%S_%f}"


def fresh_index_name(live: str, now: datetime) -> str:
    """Name the temporary index of one build: ``<live>_build_<version id>``."""
    return f"{build_prefix(live)}{version_id(now)}"


def build_prefix(live: str) -> str:
    """Return the prefix every temporary build index of ``live`` starts with."""
    return f"{live}_build_"


def previous_index_name(live: str) -> str:
    """Name the index that keeps the previous version of ``live``: ``<live>_previous``."""
    return f"{live}_previous"


def live_pairs(live: str) -> tuple[str, str]:
    """The two indexes of one published version: places, and their data."""
    return live, data_index_name(live)


def batch_payload(documents: Sequence[PlaceDocument]) -> bytes:
    """Serialise a batch to one JSON array as Meilisearch wants it (``_geo`` by alias, no nulls)."""
    return _DOCUMENT_LIST.dump_json(list(documents), by_alias=True, exclude_none=True)


def batched(documents: Iterable[PlaceDocument], size: int) -> Iterator[list[PlaceDocument]]:
    """Yield documents in lists of at most ``size``, consuming the iterable lazily."""
    iterator = iter(documents)
    while batch := list(islice(iterator, size)):
        yield batch


@dataclass(frozen=True)
class BuildPlan:
    """What to publish and how."""

    live: str
    settings: Mapping[str, object]
    batch_size: int = DEFAULT_BATCH_SIZE
    keep_old: bool = True  # keep the previous version for ``rollback``
    expected: int | None = None  # document count, for the progress bar


def publish(
    admin: MeiliAdmin,
    documents: Iterable[PlaceDocument],
    plan: BuildPlan,
    *,
    data: PublishedData,
    progress: BuildProgress | None = None,
    now: datetime | None = None,
) -> BuildReport:
    """Publish one version: the place ``documents`` and their ``data``, swapped in together.

    ``documents`` may be a lazy iterable: batches are sent as they are built, so Meilisearch
    indexes one batch while the next is folded. Every document, and the data, is stamped with
    the build's version id.

    Raises:
        BuildError, MeiliUnavailable: any step failed; the fresh indexes were deleted and the
            live ones are untouched.
    """
    started = time.perf_counter()
    built_at = now or datetime.now(UTC)
    version = version_id(built_at)
    live, live_data = live_pairs(plan.live)
    for name in (live, live_data):
        sweep_leftovers(admin, live=name)
    fresh, fresh_data = (fresh_index_name(name, built_at) for name in (live, live_data))
    published = stamped(data, version=version, built_at=built_at)
    try:
        sent = fill_index(
            admin, fresh, stamp_all(documents, version), plan, progress=progress or SilentProgress()
        )
        fill_data_index(admin, fresh_data, published)
        swap_into_live(admin, [(live, fresh), (live_data, fresh_data)])
    except BaseException:  # also Ctrl-C: never leave a half-built index behind
        for name in (fresh, fresh_data):
            discard_index(admin, name)
        raise
    kept = keep_previous(admin, [(live, fresh), (live_data, fresh_data)], keep=plan.keep_old)
    return BuildReport(live, sent, time.perf_counter() - started, kept_old=kept, version=version)


def stamp_all(documents: Iterable[PlaceDocument], version: str) -> Iterator[PlaceDocument]:
    """Mark each document as one of build ``version`` (the resolver checks it against its data)."""
    for document in documents:
        yield document.model_copy(update={"version": version})


def fill_data_index(admin: MeiliAdmin, uid: str, data: PublishedData) -> None:
    """Create the data index of a build and send its documents; check they all arrived."""
    documents = data_documents(data)
    admin.wait(admin.create_index(uid))
    payload = _DATA_LIST.dump_json(documents)
    tasks = [
        admin.update_settings(uid, DATA_INDEX_SETTINGS),
        admin.add_documents_json(uid, payload, count=len(documents)),
    ]
    admin.wait_all(tasks, timeout_s=TASK_TIMEOUT_S)
    require_count(admin, uid, expected=len(documents))


def fill_index(
    admin: MeiliAdmin,
    uid: str,
    documents: Iterable[PlaceDocument],
    plan: BuildPlan,
    *,
    progress: BuildProgress,
) -> int:
    """Create ``uid``, apply settings, send every batch, wait for all, check the count."""
    admin.wait(admin.create_index(uid))
    tasks = [admin.update_settings(uid, plan.settings)]
    progress.begin(plan.expected)
    sent = 0
    for batch in batched(documents, plan.batch_size):
        tasks.append(admin.add_documents_json(uid, batch_payload(batch), count=len(batch)))
        sent += len(batch)
        progress.sent(len(batch))
    admin.wait_all(
        tasks,
        timeout_s=TASK_TIMEOUT_S,
        on_done=lambda task: progress.indexed(indexed_count(task)),
    )
    require_count(admin, uid, expected=sent)
    return sent


def indexed_count(task: Task) -> int:
    """Return how many documents a finished task indexed (0 for non-document tasks)."""
    return int((task.details or {}).get("indexedDocuments") or 0)


def require_count(admin: MeiliAdmin, uid: str, *, expected: int) -> None:
    """Fail unless the index holds exactly ``expected`` documents (duplicate ids shrink it)."""
    count = admin.count_documents(uid)
    if count != expected:
        raise BuildError(
            f"index {uid} holds {count} documents, expected {expected}: "
            "two documents share an id (check the seed for duplicate place ids)"
        )


def swap_into_live(admin: MeiliAdmin, pairs: Sequence[tuple[str, str]]) -> None:
    """Swap each fresh index with its live one in one atomic call (live ones made if missing)."""
    for live, _ in pairs:
        if not admin.index_exists(live):
            admin.wait(admin.create_index(live))
    admin.wait(admin.swap_many(pairs))


def discard_index(admin: MeiliAdmin, uid: str) -> None:
    """Best effort: cancel a failed build's pending tasks and delete its index."""
    try:
        admin.wait(admin.cancel_index_tasks(uid), timeout_s=CLEANUP_TIMEOUT_S)
        if admin.index_exists(uid):
            admin.wait(admin.delete_index(uid), timeout_s=CLEANUP_TIMEOUT_S)
    except (BuildError, MeiliUnavailable) as exc:
        print(f"warning: could not delete the temporary index {uid}: {exc}", file=sys.stderr)


def sweep_leftovers(admin: MeiliAdmin, *, live: str) -> None:
    """Delete temporary indexes that killed builds left behind (``<live>_build_*``).

    Safe even if another build of the same index is running: its fresh index disappears, its
    next task fails, it deletes nothing else and the live index is untouched. The last build
    started wins, which is what a maintainer who starts a build expects.
    """
    for uid in admin.index_uids(prefix=build_prefix(live)):
        print(f"deleting {uid}, left behind by an interrupted build", file=sys.stderr)
        discard_index(admin, uid)


def keep_previous(admin: MeiliAdmin, pairs: Sequence[tuple[str, str]], *, keep: bool) -> str | None:
    """After the swap the fresh names hold the previous version: keep it (or delete it).

    The previous version is kept as ``<live>_previous`` and ``<live>_meta_previous`` (replacing
    the one kept before) when ``keep`` is set and it is a whole version (it has its data index
    with documents); otherwise it is deleted, and so is an older one kept before (a rollback
    must never jump back two versions). Returns the kept places index name, if any.
    """
    whole = all(admin.count_documents(fresh) > 0 for _, fresh in pairs)
    if not (keep and whole):
        for live, fresh in pairs:
            retire_index(admin, fresh)
            if admin.index_exists(previous_index_name(live)):
                retire_index(admin, previous_index_name(live))
        return None
    kept = [keep_index(admin, fresh, live=live) for live, fresh in pairs]
    return kept[0]


def keep_index(admin: MeiliAdmin, fresh: str, *, live: str) -> str:
    """Rename the index holding the previous data to ``<live>_previous``; return its name."""
    kept = previous_index_name(live)
    try:
        if admin.index_exists(kept):
            admin.wait(admin.delete_index(kept), timeout_s=CLEANUP_TIMEOUT_S)
        admin.wait(admin.rename_index(fresh, kept), timeout_s=CLEANUP_TIMEOUT_S)
    except (BuildError, MeiliUnavailable) as exc:
        print(f"warning: the previous data stays in {fresh} ({exc})", file=sys.stderr)
        return fresh
    return kept


def retire_index(admin: MeiliAdmin, uid: str) -> str | None:
    """Delete the index holding the previous live data; on failure keep it and say so."""
    try:
        admin.wait(admin.delete_index(uid), timeout_s=CLEANUP_TIMEOUT_S)
    except (BuildError, MeiliUnavailable) as exc:
        print(
            f"warning: the previous data stays in {uid} ({exc}); delete it by hand", file=sys.stderr
        )
        return uid
    return None


def live_documents(admin: MeiliAdmin, live: str) -> list[PlaceDocument]:
    """Read the live index's documents (the fields the diff needs); none if it does not exist."""
    if not admin.index_exists(live):
        return []
    rows = admin.iter_documents(live, fields=DIFF_FIELDS)
    return [PlaceDocument.model_validate(row) for row in rows]


def dry_run(admin: MeiliAdmin, documents: Sequence[PlaceDocument], *, live: str) -> IndexDiff:
    """Compare a build with the live index without writing anything."""
    return diff_documents(live_documents(admin, live), documents)


# -- command line --------------------------------------------------------------------------------


class SeedRejectedError(BuildError):
    """The seed did not pass validation; nothing was pushed."""

    def __init__(self, errors: Sequence[str]) -> None:
        super().__init__(f"the seed has {len(errors)} error(s); nothing was pushed")
        self.errors = tuple(errors)


def positive_int(text: str) -> int:
    """Parse a positive integer option."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Describe ``build``'s options and route it to :func:`run`."""
    parser.add_argument(
        "seed_dir", nargs="?", type=Path, help="seed directory (default: seed/ or NOZIRI_SEED_DIR)"
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="print what would change in the live index (added, removed, renamed, re-linked); "
        "write nothing",
    )
    parser.add_argument(
        "--synthetic",
        type=positive_int,
        metavar="N",
        help="index a generated city of N places instead of the seed (for benchmarks)",
    )
    parser.add_argument("--synthetic-seed", type=int, default=42, help="RNG seed of --synthetic")
    parser.add_argument("--index", metavar="NAME", help="live index name (default: MEILI_INDEX)")
    parser.add_argument(
        "--keep-old",
        action="store_true",
        default=True,
        help="keep the previous version for `rollback` (the default)",
    )
    parser.add_argument(
        "--discard-old",
        dest="keep_old",
        action="store_false",
        help="delete the previous version after the swap (no rollback)",
    )
    parser.add_argument(
        "--batch-size",
        type=positive_int,
        default=DEFAULT_BATCH_SIZE,
        help=f"documents per request (default {DEFAULT_BATCH_SIZE})",
    )
    parser.add_argument(
        "--rotate-search-key",
        action="store_true",
        help="replace the search-only key with a new value (old bots must get the new one)",
    )
    parser.add_argument(
        "--print-search-key",
        action="store_true",
        help="print the search-only key (for MEILI_SEARCH_KEY on an external server)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, settings: BuilderSettings) -> int:
    """Run ``build``; return the exit status (0 ok, 1 failed, 130 interrupted)."""
    started = time.perf_counter()
    live = str(args.index or settings.meili_index)
    console = Console(stderr=True)
    try:
        with sigterm_as_interrupt():
            gazetteer, seed_hash = load_source(args, settings=settings)
            finished = run_with_server(
                args, (gazetteer, seed_hash), settings=settings, live=live, console=console
            )
        print(f"done in {time.perf_counter() - started:.1f} s, loading and checks included")
        return finished
    except SeedRejectedError as exc:
        for error in exc.errors:
            print(error, file=sys.stderr)
        print(f"build refused: {exc}", file=sys.stderr)
        return 1
    except (BuildError, MeiliUnavailable) as exc:
        print(f"build failed: {exc}\nThe live index {live} was not changed.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(
            f"\ninterrupted: the temporary index was deleted; {live} still serves its old data",
            file=sys.stderr,
        )
        return 130


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Treat SIGTERM (``kill``, a stopping container) like Ctrl-C, so the build cleans up."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def load_source(args: argparse.Namespace, *, settings: BuilderSettings) -> tuple[Gazetteer, str]:
    """Return the synthetic city if asked, else the validated seed; with the seed's hash."""
    if args.synthetic:
        city = synthetic_gazetteer(args.synthetic, seed=args.synthetic_seed)
        return city, f"synthetic-{args.synthetic}-{args.synthetic_seed}"
    return load_checked_seed(Path(args.seed_dir or settings.seed_dir))


def load_checked_seed(seed_dir: Path) -> tuple[Gazetteer, str]:
    """Load the seed and run every cross-record check of ``index_builder validate``.

    The check that all ids of the shared reference gazetteer are kept is left to
    ``python -m index_builder validate`` (a build may index a partial seed, e.g. in tests).

    Raises:
        SeedRejectedError: with every error, each naming file, line, record and field.
    """
    try:
        loaded = load_seed(seed_dir)
    except SeedLoadError as exc:
        raise SeedRejectedError([str(error) for error in exc.errors]) from exc
    errors = validate(loaded.gazetteer, None, locations=loaded.locations)
    if errors:
        raise SeedRejectedError([str(error) for error in errors])
    return loaded.gazetteer, loaded.seed_hash


def run_with_server(
    args: argparse.Namespace,
    source: tuple[Gazetteer, str],
    *,
    settings: BuilderSettings,
    live: str,
    console: Console,
) -> int:
    """Connect as admin (to every replica), then dry-run or publish, then manage the search key."""
    gazetteer, seed_hash = source
    with admin_endpoints(settings) as endpoints:
        replicas = replicas_of(endpoints)
        admin = replicas[0].admin
        if args.dry_run:
            print_dry_run(dry_run(admin, build_documents(gazetteer), live=live), live=live)
            return 0
        if len(replicas) > 1:
            return publish_replicas(replicas, source, args=args, live=live, console=console)
        report = publish_gazetteer(
            admin, gazetteer, args=args, live=live, console=console, seed_hash=seed_hash
        )
        print(report.summary())
        try:
            publish_search_key(admin, settings=settings, args=args, live=live)
        except (BuildError, MeiliUnavailable) as exc:
            print(f"{live} is published, but the search key was not: {exc}", file=sys.stderr)
            return 1
    return 0


def publish_replicas(
    replicas: Sequence[Replica],
    source: tuple[Gazetteer, str],
    *,
    args: argparse.Namespace,
    live: str,
    console: Console,
) -> int:
    """Publish the same version (one build time, one id) to each replica; 1 if any missed it.

    A replica that is down or fails does not stop the others; the message names it, and
    ``python -m index_builder sync`` brings it up to date once it answers.
    """
    gazetteer, seed_hash = source
    built_at = datetime.now(UTC)
    version = version_id(built_at)

    def publish_to(replica: Replica) -> BuildReport:
        return publish_gazetteer(
            replica.admin,
            gazetteer,
            args=args,
            live=live,
            console=console,
            seed_hash=seed_hash,
            now=built_at,
        )

    try:
        outcomes = on_each(replicas, publish_to)
    except KeyboardInterrupt:
        print(
            f"\ninterrupted: the replicas already published keep version {version}; "
            "`python -m index_builder status` shows which, `sync` brings the others to it",
            file=sys.stderr,
        )
        raise
    for outcome in outcomes:
        print(describe_replica_build(outcome))
    published = [outcome.replica for outcome in outcomes if outcome.ok]
    keys_ok = publish_replica_keys(published, args=args, live=live)
    missed = [outcome.replica.url for outcome in outcomes if not outcome.ok]
    if missed:
        print(
            f"version {version} reached {len(published)} of {len(replicas)} replicas; missed: "
            f"{', '.join(missed)}. Run `python -m index_builder sync` once they answer "
            "(or build again).",
            file=sys.stderr,
        )
    return 0 if keys_ok and not missed else 1


def describe_replica_build(outcome: Outcome) -> str:
    """One line per replica: published (with the summary) or missed (with why)."""
    url = outcome.replica.url
    if isinstance(outcome.result, BuildReport):
        return f"replica {url}: {outcome.result.summary()}"
    return f"replica {url}: MISSED this version: {outcome.problem}"


def publish_replica_keys(
    replicas: Sequence[Replica], *, args: argparse.Namespace, live: str
) -> bool:
    """Give every published replica the same search key (same uid: same value); True if so."""
    first: SearchKey | None = None
    for replica in replicas:
        try:
            key = ensure_search_key(
                replica.admin,
                live=live,
                rotate=args.rotate_search_key and first is None,
                uid=first.uid if first else None,
            )
        except (BuildError, MeiliUnavailable) as exc:
            print(f"replica {replica.url}: search key not published: {exc}", file=sys.stderr)
            return False
        if first is not None and key.key != first.key:
            print(
                f"replica {replica.url}: its search key differs: give every replica the same "
                "master key (MEILI_MASTER_KEY)",
                file=sys.stderr,
            )
            return False
        first = first or key
    if first is not None:
        print(f"{first.describe()}, the same on {len(replicas)} replicas")
        hidden = "<run with --print-search-key to show it>"
        shown = first.key.get_secret_value() if args.print_search_key else hidden
        print(f"on the bot's machine: export MEILI_SEARCH_KEY={shown}")
    return True


def publish_gazetteer(
    admin: MeiliAdmin,
    gazetteer: Gazetteer,
    *,
    args: argparse.Namespace,
    live: str,
    console: Console,
    seed_hash: str,
    now: datetime | None = None,
) -> BuildReport:
    """Publish the gazetteer's documents, streaming them to Meilisearch as they are built.

    ``now`` names the version (replicas get the same one); by default the current time.
    """
    plan = BuildPlan(
        live=live,
        settings=index_settings(gazetteer),
        batch_size=args.batch_size,
        keep_old=args.keep_old,
        expected=count_documents(gazetteer),
    )
    print(f"building {live}: {plan.expected} documents; {settings_summary(plan.settings)}")
    documents = iter_documents(gazetteer)
    data = published_data(gazetteer, seed_hash=seed_hash)
    if args.quiet:
        return publish(admin, documents, plan, data=data, now=now)
    with RichProgress(console) as progress:
        return publish(admin, documents, plan, data=data, progress=progress, now=now)


def print_dry_run(diff: IndexDiff, *, live: str) -> None:
    """Print the dry run's changes and counts."""
    for line in diff.lines():
        print(line)
    print(f"dry run against {live}: {diff.summary()}; nothing was written")


def publish_search_key(
    admin: MeiliAdmin, *, settings: BuilderSettings, args: argparse.Namespace, live: str
) -> None:
    """Create or rotate the search-only key, save it (embedded) and say how to use it."""
    search_key = ensure_search_key(admin, live=live, rotate=args.rotate_search_key)
    print(search_key.describe())
    value = search_key.key.get_secret_value()
    if external_url(settings) is None:
        path = save_search_key(settings, value)
        print(f"saved for the resolver and the bot in {path}")
    else:
        shown = value if args.print_search_key else "<run with --print-search-key to show it>"
        print(f"on the bot's machine: export MEILI_SEARCH_KEY={shown}")
    if args.print_search_key and external_url(settings) is None:
        print(f"MEILI_SEARCH_KEY={value}")
