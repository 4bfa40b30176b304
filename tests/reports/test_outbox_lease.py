"""The outbox lease: several bot processes on one database send each owed message once.

Claimers at the same moment (threads, processes, stores of their own) get disjoint rows; a lease
that ran out is claimable by another owner; only the lease's owner settles a row. Escalation run
by several processes at once escalates each report once. On SQLite and a real PostgreSQL.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pytest

from reports.model import Delivery, DeliveryPurpose, StaffScope
from reports.store import SqlReportStore, open_store
from resolver.gazetteer import District
from tests.reports.conftest import (
    DUTY_CHAT,
    SECTOR_CHAT,
    T0,
    Clock,
    MakeDraft,
    MakeStore,
)

LEASE = timedelta(seconds=60)
OWED = 40

LinkChat = Callable[..., StaffScope]


@pytest.fixture
def owed(
    store: SqlReportStore, make_draft: MakeDraft, clock: Clock, link_chat: LinkChat
) -> set[int]:
    """SOM-17's chat is linked and owed :data:`OWED` new reports (one per resident); their ids."""
    link_chat(SECTOR_CHAT, sector_id="SOM-17")
    for resident in range(OWED):
        store.submit(make_draft(), resident_chat_id=10_000 + resident, now=clock.now)
    return {delivery.id for delivery in store.due(now=clock.now, limit=1000)}


def claim_all(
    store: SqlReportStore, owner: str, now: datetime, start: threading.Barrier
) -> list[int]:
    """Claim small batches for ``owner`` until nothing is left (a bounded number of times, should
    a claim take rows already leased); the ids claimed."""
    start.wait()
    claimed: list[int] = []
    for _ in range(OWED):
        if not (batch := store.claim_due(now=now, owner=owner, lease=LEASE, limit=3)):
            break
        claimed += [delivery.id for delivery in batch]
    return claimed


def test_claimers_on_one_database_at_once_get_disjoint_rows(
    owed: set[int], make_store: MakeStore, clock: Clock
) -> None:
    stores = [make_store(), make_store()]  # two processes' stores, two threads each
    owners = [(stores[i % 2], f"worker-{i}") for i in range(4)]
    start = threading.Barrier(len(owners))
    with ThreadPoolExecutor(max_workers=len(owners)) as pool:
        claims = list(pool.map(lambda o: claim_all(*o, clock.now, start), owners))
    claimed = [delivery_id for ids in claims for delivery_id in ids]
    assert len(claimed) == len(set(claimed)) == OWED
    assert set(claimed) == owed
    assert stores[0].due(now=clock.now) == []  # every row is leased now


def claim_in_a_process(database_url: str, owner: str) -> list[int]:
    """Open a store of its own, claim until nothing is left, and settle what it claimed."""
    store = open_store(database_url)
    try:
        claimed: list[int] = []
        for _ in range(2 * OWED):  # bounded, should a claim take rows already leased
            if not (batch := store.claim_due(now=T0, owner=owner, lease=LEASE, limit=2)):
                break
            for delivery in batch:
                if store.delivered(delivery.id, now=T0, owner=owner):
                    claimed.append(delivery.id)
        return claimed
    finally:
        store.close()


def test_two_processes_claiming_together_settle_each_row_once(
    owed: set[int], database_url: str, store: SqlReportStore, clock: Clock
) -> None:
    context = multiprocessing.get_context("spawn")
    with context.Pool(2) as pool:
        claims = pool.starmap(
            claim_in_a_process, [(database_url, "process-1"), (database_url, "process-2")]
        )
    settled = [delivery_id for ids in claims for delivery_id in ids]
    assert len(settled) == len(set(settled))
    assert owed <= set(settled)  # and the residents' DELIVERED pushes they owed on the way
    assert store.due(now=clock.now + LEASE) == []


def test_a_lease_keeps_a_row_from_others_until_it_runs_out(
    owed: set[int], store: SqlReportStore, clock: Clock
) -> None:
    first = store.claim_due(now=clock.now, owner="a", lease=LEASE, limit=1)
    assert [(d.lease_owner, d.lease_until) for d in first] == [("a", clock.now + LEASE)]
    before_end = clock.now + LEASE - timedelta(seconds=1)
    others = store.claim_due(now=before_end, owner="b", lease=LEASE, limit=1000)
    assert first[0].id not in {d.id for d in others}
    [taken] = store.claim_due(now=clock.now + LEASE, owner="c", lease=LEASE, limit=1000)
    assert (taken.id, taken.lease_owner) == (first[0].id, "c")


def expired_to_another(store: SqlReportStore, clock: Clock) -> Delivery:
    """A row claimed by "a", whose lease ran out and which "b" claimed since."""
    [delivery] = store.claim_due(now=clock.now, owner="a", lease=LEASE, limit=1)
    store.claim_due(now=clock.now + LEASE, owner="b", lease=LEASE, limit=1000)
    return delivery


def test_the_old_owner_finishing_late_does_not_settle_another_owners_row(
    owed: set[int], store: SqlReportStore, clock: Clock
) -> None:
    delivery = expired_to_another(store, clock)
    late = clock.now + LEASE + timedelta(seconds=5)
    assert not store.delivered(delivery.id, now=late, owner="a")
    assert store.delivered(delivery.id, now=late, owner="b")  # b's send counts
    assert delivery.id not in {d.id for d in store.due(now=late + 20 * LEASE, limit=1000)}


def test_the_old_owner_late_failure_and_parts_leave_the_new_owners_row_alone(
    owed: set[int], store: SqlReportStore, clock: Clock
) -> None:
    delivery = expired_to_another(store, clock)
    late = clock.now + LEASE + timedelta(seconds=5)
    store.failed(delivery.id, now=late, retry_at=late + 20 * LEASE, owner="a")
    store.sent_part(delivery.id, parts=2, owner="a")
    after_b = clock.now + 2 * LEASE  # b's lease ran out too (b died): c takes the row as b left it
    taken = store.claim_due(now=after_b, owner="c", lease=LEASE, limit=1000)
    [row] = [d for d in taken if d.id == delivery.id]
    assert (row.attempts, row.parts_sent, row.lease_owner) == (0, 0, "c")


def test_the_old_owner_finishing_late_counts_while_nobody_took_over(
    owed: set[int], store: SqlReportStore, clock: Clock
) -> None:
    [delivery] = store.claim_due(now=clock.now, owner="a", lease=LEASE, limit=1)
    assert store.delivered(delivery.id, now=clock.now + 2 * LEASE, owner="a")
    assert delivery.id not in {d.id for d in store.due(now=clock.now + 2 * LEASE, limit=1000)}


def test_a_failure_frees_the_lease_until_the_retry_time(
    owed: set[int], store: SqlReportStore, clock: Clock
) -> None:
    [delivery] = store.claim_due(now=clock.now, owner="a", lease=LEASE, limit=1)
    retry_at = clock.now + timedelta(seconds=5)
    store.failed(delivery.id, now=clock.now, retry_at=retry_at, owner="a")
    [again] = store.claim_due(now=retry_at, owner="b", lease=LEASE, limit=1)
    assert (again.id, again.attempts, again.lease_owner) == (delivery.id, 1, "b")


def test_released_rows_are_claimable_at_once_without_an_attempt(
    owed: set[int], store: SqlReportStore, clock: Clock
) -> None:
    batch = store.claim_due(now=clock.now, owner="a", lease=LEASE, limit=5)
    ids = [d.id for d in batch]
    assert store.release(ids, owner="b") == 0  # not b's to free
    assert store.release(ids, owner="a") == 5
    again = store.claim_due(now=clock.now, owner="b", lease=LEASE, limit=5)
    assert [(d.id, d.attempts) for d in again] == [(i, 0) for i in ids]


def test_a_lease_must_last_some_time(store: SqlReportStore, clock: Clock) -> None:
    with pytest.raises(ValueError, match="lease"):
        store.claim_due(now=clock.now, owner="a", lease=timedelta(0))


def escalate_at_once(store: SqlReportStore, now: datetime, start: threading.Barrier) -> list[str]:
    """Escalate, as every worker's periodic job does; the references escalated."""
    start.wait()
    return [report.reference for report in store.escalate(now=now, after=timedelta(minutes=60))]


def test_workers_escalating_at_once_escalate_each_report_once(
    owed: set[int], make_store: MakeStore, store: SqlReportStore, clock: Clock, link_chat: LinkChat
) -> None:
    link_chat(DUTY_CHAT, duty_district=District.SOMONI)
    for delivery in store.claim_due(now=clock.now, owner="a", lease=LEASE, limit=1000):
        store.delivered(delivery.id, now=clock.now, owner="a")
    later = clock.advance(minutes=61)
    stores = [store, make_store(), make_store(), make_store()]
    start = threading.Barrier(len(stores))
    with ThreadPoolExecutor(max_workers=len(stores)) as pool:
        runs = list(pool.map(lambda s: escalate_at_once(s, later, start), stores))
    escalated = [reference for run in runs for reference in run]
    assert len(escalated) == len(set(escalated)) == OWED
    duty = [d for d in store.due(now=later, limit=1000) if d.chat_id == DUTY_CHAT]
    assert len(duty) == OWED and {d.purpose for d in duty} == {DeliveryPurpose.ESCALATION}
    assert store.escalate(now=later, after=timedelta(minutes=60)) == []
