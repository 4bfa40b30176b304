"""The state bot workers share: update ids answered once, token buckets, button memos."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from reports.shared import Bucket, SqlSharedState, UpdateClaim
from tests.reports.conftest import T0, MakeStore

LEASE = timedelta(seconds=5)


@pytest.fixture
def shared(make_store: MakeStore) -> SqlSharedState:
    """The shared state on a fresh, migrated database."""
    return SqlSharedState(make_store().engine)


def test_an_update_is_handled_by_the_first_worker_and_busy_for_the_second(
    shared: SqlSharedState,
) -> None:
    assert shared.claim_update(1, owner="a", now=T0, lease=LEASE) is UpdateClaim.HANDLE
    assert shared.claim_update(1, owner="b", now=T0, lease=LEASE) is UpdateClaim.BUSY


def test_a_finished_update_is_done_for_every_worker(shared: SqlSharedState) -> None:
    shared.claim_update(7, owner="a", now=T0, lease=LEASE)
    shared.finish_update(7, owner="a", now=T0)
    for owner in ("a", "b"):
        assert shared.claim_update(7, owner=owner, now=T0, lease=LEASE) is UpdateClaim.DONE


def test_a_dead_workers_lease_runs_out_and_another_takes_the_update(
    shared: SqlSharedState,
) -> None:
    shared.claim_update(3, owner="dead", now=T0, lease=LEASE)
    later = T0 + LEASE + timedelta(milliseconds=1)
    assert shared.claim_update(3, owner="b", now=later, lease=LEASE) is UpdateClaim.HANDLE
    shared.finish_update(3, owner="dead", now=later)  # the late one's finish does not count
    assert shared.claim_update(3, owner="c", now=later, lease=LEASE) is UpdateClaim.BUSY


def test_a_released_update_can_be_handled_at_once_by_another_worker(
    shared: SqlSharedState,
) -> None:
    shared.claim_update(4, owner="a", now=T0, lease=LEASE)
    shared.release_update(4, owner="a")
    assert shared.claim_update(4, owner="b", now=T0, lease=LEASE) is UpdateClaim.HANDLE


def test_workers_claiming_one_update_at_once_let_exactly_one_handle_it(
    shared: SqlSharedState,
) -> None:
    def claim(owner: int) -> UpdateClaim:
        return shared.claim_update(99, owner=f"w{owner}", now=T0, lease=LEASE)

    with ThreadPoolExecutor(max_workers=6) as pool:
        claims = list(pool.map(claim, range(12)))
    assert claims.count(UpdateClaim.HANDLE) == 1
    assert claims.count(UpdateClaim.BUSY) == 11


def test_a_bucket_gives_its_burst_then_says_how_long_to_wait(shared: SqlSharedState) -> None:
    bucket = Bucket(rate=2.0, burst=3)
    waits = [shared.take("user:1", bucket, now=1000.0) for _ in range(4)]
    assert waits[:3] == [0.0, 0.0, 0.0]
    assert waits[3] == pytest.approx(0.5)
    assert shared.take("user:1", bucket, now=1000.5) == 0.0  # one token earned in 0.5 s
    assert shared.take("user:2", bucket, now=1000.5) == 0.0  # buckets are per key


def test_threads_taking_from_one_bucket_never_get_more_than_its_burst(
    shared: SqlSharedState,
) -> None:
    bucket = Bucket(rate=0.001, burst=10)
    with ThreadPoolExecutor(max_workers=6) as pool:
        waits = list(pool.map(lambda _: shared.take("send", bucket, now=50.0), range(30)))
    assert waits.count(0.0) == 10


def test_a_memo_is_recalled_by_any_worker_until_forgotten(make_store: MakeStore) -> None:
    one, other = SqlSharedState(make_store().engine), SqlSharedState(make_store().engine)
    one.remember("candidate", "way-1", '{"id": 1}', now=T0)
    one.remember("candidate", "way-1", '{"id": 2}', now=T0)  # shown again: the newer one
    assert other.recall("candidate", "way-1") == '{"id": 2}'
    assert other.recall("sector", "way-1") is None
    other.forget("candidate", "way-1")
    assert one.recall("candidate", "way-1") is None


def test_pruning_drops_what_is_older_than_a_day_only(shared: SqlSharedState) -> None:
    shared.claim_update(1, owner="a", now=T0, lease=LEASE)
    shared.finish_update(1, owner="a", now=T0)
    shared.remember("street", "42", "way-9", now=T0)
    shared.take("user:1", Bucket(rate=1, burst=1), now=T0.timestamp())
    shared.claim_update(2, owner="a", now=T0 + timedelta(hours=23), lease=LEASE)
    assert shared.prune(now=T0 + timedelta(hours=25)) == 3
    assert shared.claim_update(2, owner="b", now=T0, lease=LEASE) is UpdateClaim.BUSY
    assert shared.claim_update(1, owner="b", now=T0, lease=LEASE) is UpdateClaim.HANDLE


def test_a_residents_conversation_states_and_draft_come_back_in_one_read(
    make_store: MakeStore,
) -> None:
    store = make_store()
    store.save_conversation("report", (42, 42), "when")
    store.save_user_data(42, {"draft": {"kind": "incident"}})
    shared = SqlSharedState(store.engine)
    wanted = [("report", (42, 42)), ("staff", (42, 42)), ("report", (43, 43))]
    assert shared.resident_state(wanted, 42) == (
        ["when", None, None],
        {"draft": {"kind": "incident"}},
    )
    assert shared.resident_state([], None) == ([], {})
