"""Concurrent submits, from threads and from separate processes, get unique references."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from reports.model import Action, StaffScope
from reports.ports import ActionRefused, InviteRefused, ReportLimitReached
from reports.store import SqlReportStore, open_store
from tests.reports.conftest import T0, Clock, MakeDraft, MakeStore

PER_WORKER = 15


def submit_many(database_url: str, worker: int, count: int) -> list[str]:
    """Open a store of its own and file ``count`` reports as distinct residents."""
    from reports.model import Draft, PlaceRef, ReportKind

    store = open_store(database_url, daily_limit=1000)
    draft = Draft(
        kind=ReportKind.OTHER,
        place=PlaceRef(label="fictional place", sector_id="SOM-17"),
        occurred="now",
        text="a report",
    )
    try:
        return [
            store.submit(draft, resident_chat_id=worker * 1000 + i, now=T0).reference
            for i in range(count)
        ]
    finally:
        store.close()


def test_threads_submitting_at_once_get_unique_references(
    make_store: MakeStore, make_draft: MakeDraft, database_url: str
) -> None:
    make_store()  # the schema exists before the threads start
    with ThreadPoolExecutor(max_workers=4) as pool:
        batches = list(pool.map(lambda w: submit_many(database_url, w, PER_WORKER), range(4)))
    references = [ref for batch in batches for ref in batch]
    assert len(set(references)) == len(references) == 4 * PER_WORKER
    assert max(references) == f"SOM-17-{4 * PER_WORKER:06d}"


def test_two_processes_on_one_database_get_unique_references(database_url: str) -> None:
    # Both processes open (and so migrate) the fresh database at the same moment too.
    context = multiprocessing.get_context("spawn")
    with context.Pool(2) as pool:
        batches = pool.starmap(
            submit_many, [(database_url, 1, PER_WORKER), (database_url, 2, PER_WORKER)]
        )
    references = [ref for batch in batches for ref in batch]
    assert len(set(references)) == len(references) == 2 * PER_WORKER
    assert sorted(references)[-1] == f"SOM-17-{2 * PER_WORKER:06d}"


def test_one_resident_submitting_from_threads_stays_within_the_limit(
    make_store: MakeStore, make_draft: MakeDraft, clock: Clock
) -> None:
    store = make_store(daily_limit=3)

    def submit(_: int) -> bool:
        try:
            store.submit(make_draft(), resident_chat_id=42, now=clock.now)
        except ReportLimitReached:
            return False
        return True

    with ThreadPoolExecutor(max_workers=4) as pool:
        accepted = list(pool.map(submit, range(8)))
    assert accepted.count(True) == 3
    assert len(store.for_resident(42)) == 3


def test_two_chats_linking_one_sector_at_once_leave_exactly_one(
    store: SqlReportStore, clock: Clock
) -> None:
    scope = StaffScope(sector_id="SOM-17")
    codes = [store.invite(scope, now=clock.now, valid_for=timedelta(hours=1)) for _ in range(4)]

    def link(index: int) -> bool:
        try:
            store.link(codes[index], chat_id=-100 - index, now=clock.now)
        except InviteRefused:
            return False
        return True

    with ThreadPoolExecutor(max_workers=4) as pool:
        linked = list(pool.map(link, range(4)))
    assert linked.count(True) == 1
    assert len(store.staff_chats()) == 1


def test_concurrent_actions_on_one_report_apply_one_after_the_other(
    store: SqlReportStore, make_draft: MakeDraft, clock: Clock
) -> None:
    code = store.invite(StaffScope(sector_id="SOM-17"), now=clock.now, valid_for=timedelta(1))
    store.link(code, chat_id=-1, now=clock.now)
    ref = store.submit(make_draft(), resident_chat_id=7, now=clock.now).reference

    def accept(_: int) -> bool:
        try:
            store.act(ref, Action.ACCEPT, chat_id=-1, now=clock.now)
        except ActionRefused:  # the losers find it accepted already
            return False
        return True

    with ThreadPoolExecutor(max_workers=4) as pool:
        wins = list(pool.map(accept, range(4)))
    assert wins.count(True) == 1
    assert sum(e.action is Action.ACCEPT for e in store.history(ref)) == 1
