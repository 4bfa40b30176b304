"""The ReportStore contract, on SQLite and on a real PostgreSQL (the ``backend`` fixture)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from reports.model import (
    Action,
    Actor,
    Delivery,
    DeliveryPurpose,
    Report,
    ReportStatus,
    StaffScope,
)
from reports.ports import (
    ActionRefused,
    InviteRefused,
    ReportLimitReached,
    ReportStore,
    UnknownReport,
)
from reports.rows import invite_digest
from reports.store import SqlReportStore
from resolver.gazetteer import District
from tests.reports.conftest import (
    DUTY_CHAT,
    OTHER_CHAT,
    OTHER_RESIDENT,
    RESIDENT,
    SECTOR_CHAT,
    Clock,
    MakeDraft,
    MakeStore,
)

LinkChat = Callable[..., StaffScope]
Status = ReportStatus
OWNER = "worker-a"  # the bot process that claims (tests/reports/test_outbox_lease.py: several)
LEASE = timedelta(seconds=60)


def claim(store: SqlReportStore, clock: Clock, *, limit: int = 50) -> list[Delivery]:
    """Claim what is due now for :data:`OWNER`, as the delivery worker does."""
    return store.claim_due(now=clock.now, owner=OWNER, lease=LEASE, limit=limit)


def test_the_store_is_a_report_store(store: SqlReportStore) -> None:
    role: ReportStore = store
    assert role is store


# ---------------------------------------------------------------- submitting


def test_submit_gives_a_per_sector_reference_and_keeps_the_draft(
    store: SqlReportStore, make_draft: MakeDraft, clock: Clock
) -> None:
    first = store.submit(make_draft(), resident_chat_id=RESIDENT, now=clock.now)
    second = store.submit(make_draft(), resident_chat_id=RESIDENT, now=clock.tick())
    elsewhere = store.submit(
        make_draft(sector_id="SIN-03"), resident_chat_id=OTHER_RESIDENT, now=clock.tick()
    )
    assert [first.reference, second.reference, elsewhere.reference] == [
        "SOM-17-000001",
        "SOM-17-000002",
        "SIN-03-000001",
    ]
    assert store.get(first.reference) == first
    assert first.status is Status.PENDING
    assert first.photo_file_ids == ("photo-1", "photo-2")
    assert first.phone == "+992 00 123 45 67"
    assert not first.anonymous
    assert first.district is District.SOMONI
    assert elsewhere.district is District.SINO
    assert first.created_at == clock.now - timedelta(seconds=2)


def test_an_anonymous_voice_report_keeps_no_phone(
    store: SqlReportStore, make_draft: MakeDraft, clock: Clock
) -> None:
    draft = make_draft(text=None, voice_file_id="voice-1", phone=None, photo_file_ids=())
    report = store.submit(draft, resident_chat_id=RESIDENT, now=clock.now)
    assert (report.anonymous, report.phone, report.text) == (True, None, None)
    assert report.voice_file_id == "voice-1"


def test_timestamps_come_back_as_aware_utc(
    store: SqlReportStore, make_draft: MakeDraft, clock: Clock
) -> None:
    occurred = clock.now - timedelta(hours=3)
    report = store.submit(
        make_draft(occurred_at=occurred), resident_chat_id=RESIDENT, now=clock.now
    )
    stored = store.get(report.reference)
    assert stored.occurred_at == occurred
    assert stored.created_at.utcoffset() == timedelta(0)


def test_for_resident_lists_only_theirs_newest_first(
    store: SqlReportStore, make_draft: MakeDraft, clock: Clock
) -> None:
    old = store.submit(make_draft(), resident_chat_id=RESIDENT, now=clock.now)
    store.submit(make_draft(), resident_chat_id=OTHER_RESIDENT, now=clock.tick())
    new = store.submit(make_draft(), resident_chat_id=RESIDENT, now=clock.tick())
    assert [r.reference for r in store.for_resident(RESIDENT)] == [new.reference, old.reference]
    assert store.for_resident(999) == []


def test_unknown_references_raise(store: SqlReportStore) -> None:
    with pytest.raises(UnknownReport):
        store.get("SOM-17-000404")
    with pytest.raises(UnknownReport):
        store.history("SOM-17-000404")


# ---------------------------------------------------------------- the daily limit


def test_the_daily_limit_is_rolling_and_says_when_to_retry(
    make_store: MakeStore, make_draft: MakeDraft, clock: Clock
) -> None:
    store = make_store(daily_limit=2)
    first_at = clock.now
    store.submit(make_draft(), resident_chat_id=RESIDENT, now=first_at)
    store.submit(make_draft(), resident_chat_id=RESIDENT, now=clock.advance(hours=5))
    with pytest.raises(ReportLimitReached) as refused:
        store.submit(make_draft(), resident_chat_id=RESIDENT, now=clock.advance(hours=5))
    assert refused.value.limit == 2
    assert refused.value.retry_at == first_at + timedelta(hours=24)
    store.submit(make_draft(), resident_chat_id=OTHER_RESIDENT, now=clock.now)  # not theirs
    clock.now = first_at + timedelta(hours=24, seconds=1)
    store.submit(make_draft(), resident_chat_id=RESIDENT, now=clock.now)
    assert len(store.for_resident(RESIDENT)) == 3


def test_a_refused_submit_stores_nothing(
    make_store: MakeStore, make_draft: MakeDraft, clock: Clock
) -> None:
    store = make_store(daily_limit=1)
    store.submit(make_draft(), resident_chat_id=RESIDENT, now=clock.now)
    with pytest.raises(ReportLimitReached):
        store.submit(make_draft(), resident_chat_id=RESIDENT, now=clock.tick())
    assert store.count_reports() == 1
    nxt = store.submit(make_draft(), resident_chat_id=OTHER_RESIDENT, now=clock.tick())
    assert nxt.reference == "SOM-17-000002"


# ---------------------------------------------------------------- the outbox


def test_no_new_report_is_owed_while_the_sector_has_no_chat(
    store: SqlReportStore, make_draft: MakeDraft, clock: Clock, link_chat: LinkChat
) -> None:
    report = store.submit(make_draft(), resident_chat_id=RESIDENT, now=clock.now)
    assert store.due(now=clock.now) == []
    link_chat(SECTOR_CHAT, sector_id="SOM-17")
    (owed,) = store.due(now=clock.now)
    assert (owed.reference, owed.purpose, owed.chat_id) == (
        report.reference,
        DeliveryPurpose.NEW_REPORT,
        SECTOR_CHAT,
    )


def test_a_linked_sector_is_owed_each_new_report_at_once(
    store: SqlReportStore, make_draft: MakeDraft, clock: Clock, link_chat: LinkChat
) -> None:
    link_chat(SECTOR_CHAT, sector_id="SOM-17")
    store.submit(make_draft(sector_id="SIN-03"), resident_chat_id=RESIDENT, now=clock.now)
    report = store.submit(make_draft(), resident_chat_id=RESIDENT, now=clock.now)
    assert [(d.reference, d.chat_id, d.attempts) for d in store.due(now=clock.now)] == [
        (report.reference, SECTOR_CHAT, 0)
    ]


def test_delivering_a_new_report_marks_it_delivered_and_tells_the_resident(
    store: SqlReportStore, make_draft: MakeDraft, clock: Clock, link_chat: LinkChat
) -> None:
    link_chat(SECTOR_CHAT, sector_id="SOM-17")
    report = store.submit(make_draft(), resident_chat_id=RESIDENT, now=clock.now)
    (owed,) = claim(store, clock)
    assert store.delivered(owed.id, now=clock.tick(), owner=OWNER)
    assert store.get(report.reference).status is Status.DELIVERED
    (status,) = claim(store, clock)
    assert (status.purpose, status.chat_id, status.status) == (
        DeliveryPurpose.STATUS,
        RESIDENT,
        Status.DELIVERED,
    )
    assert store.delivered(status.id, now=clock.now, owner=OWNER)
    # twice (a retry after a crash) is harmless
    assert not store.delivered(status.id, now=clock.now, owner=OWNER)
    assert store.due(now=clock.now) == []
    assert [(e.actor, e.status) for e in store.history(report.reference)] == [
        (Actor.RESIDENT, Status.PENDING),
        (Actor.SYSTEM, Status.DELIVERED),
    ]


def test_a_failed_delivery_waits_for_its_retry_time_and_counts_attempts(
    store: SqlReportStore, make_draft: MakeDraft, clock: Clock, link_chat: LinkChat
) -> None:
    link_chat(SECTOR_CHAT, sector_id="SOM-17")
    report = store.submit(make_draft(), resident_chat_id=RESIDENT, now=clock.now)
    (owed,) = claim(store, clock)
    retry_at = clock.now + timedelta(minutes=5)
    store.failed(owed.id, now=clock.now, retry_at=retry_at, owner=OWNER)
    assert store.due(now=retry_at - timedelta(seconds=1)) == []
    (again,) = store.due(now=retry_at)
    assert (again.id, again.attempts, again.next_attempt_at) == (owed.id, 1, retry_at)
    assert store.get(report.reference).status is Status.PENDING


def test_the_parts_of_a_delivery_already_sent_are_kept_for_its_retry(
    store: SqlReportStore, make_draft: MakeDraft, clock: Clock, link_chat: LinkChat
) -> None:
    link_chat(SECTOR_CHAT, sector_id="SOM-17")
    store.submit(make_draft(), resident_chat_id=RESIDENT, now=clock.now)
    (owed,) = claim(store, clock)
    assert owed.parts_sent == 0
    store.sent_part(owed.id, parts=1, owner=OWNER)
    store.failed(owed.id, now=clock.now, retry_at=clock.now, owner=OWNER)
    (again,) = claim(store, clock)
    assert (again.id, again.parts_sent, again.attempts) == (owed.id, 1, 1)
    store.sent_part(10**9, parts=1, owner=OWNER)  # an id no longer in the outbox is ignored


def test_due_returns_the_oldest_first_up_to_the_limit(
    store: SqlReportStore, make_draft: MakeDraft, clock: Clock, link_chat: LinkChat
) -> None:
    link_chat(SECTOR_CHAT, sector_id="SOM-17")
    refs = [
        store.submit(make_draft(), resident_chat_id=RESIDENT, now=clock.tick()).reference
        for _ in range(4)
    ]
    assert [d.reference for d in store.due(now=clock.now, limit=3)] == refs[:3]
    assert store.due(now=clock.now - timedelta(seconds=3)) == [store.due(now=clock.now, limit=1)[0]]


# ---------------------------------------------------------------- actions and statuses


@pytest.fixture
def delivered(
    store: SqlReportStore, make_draft: MakeDraft, clock: Clock, link_chat: LinkChat
) -> Report:
    """A report in SOM-17's linked chat, the outbox emptied."""
    link_chat(SECTOR_CHAT, sector_id="SOM-17")
    report = store.submit(make_draft(), resident_chat_id=RESIDENT, now=clock.now)
    drain(store, clock)
    return store.get(report.reference)


Sent = tuple[DeliveryPurpose, int, str | None, Status | None]


def drain(store: SqlReportStore, clock: Clock) -> list[Sent]:
    """Deliver everything due; what was delivered (purpose, chat, text, announced status)."""
    sent = []
    while batch := claim(store, clock, limit=1000):
        for delivery in batch:
            store.delivered(delivery.id, now=clock.now, owner=OWNER)
            sent.append((delivery.purpose, delivery.chat_id, delivery.event_text, delivery.status))
    return sent


def test_accept_then_close_then_confirm(
    store: SqlReportStore, delivered: Report, clock: Clock
) -> None:
    ref = delivered.reference
    assert store.act(ref, Action.ACCEPT, chat_id=SECTOR_CHAT, now=clock.tick()).status is (
        Status.ACCEPTED
    )
    assert drain(store, clock) == [(DeliveryPurpose.STATUS, RESIDENT, None, Status.ACCEPTED)]
    closed = store.act(ref, Action.CLOSE, chat_id=SECTOR_CHAT, now=clock.tick(), text="warned")
    assert (closed.status, closed.outcome) == (Status.CLOSED, "warned")
    assert drain(store, clock) == [(DeliveryPurpose.STATUS, RESIDENT, "warned", Status.CLOSED)]
    confirmed = store.act(ref, Action.CONFIRM, chat_id=RESIDENT, now=clock.tick())
    assert confirmed.status is Status.CONFIRMED
    assert drain(store, clock) == []  # the resident's own verdict is not pushed back to them
    assert [(e.actor, e.action, e.status) for e in store.history(ref)][2:] == [
        (Actor.STAFF, Action.ACCEPT, Status.ACCEPTED),
        (Actor.STAFF, Action.CLOSE, Status.CLOSED),
        (Actor.RESIDENT, Action.CONFIRM, Status.CONFIRMED),
    ]


def test_a_question_is_relayed_and_the_answer_comes_back(
    store: SqlReportStore, delivered: Report, clock: Clock
) -> None:
    ref = delivered.reference
    store.act(ref, Action.ACCEPT, chat_id=SECTOR_CHAT, now=clock.tick())
    drain(store, clock)
    asked = store.act(ref, Action.ASK, chat_id=SECTOR_CHAT, now=clock.tick(), text="Which floor?")
    assert (asked.status, asked.open_question) == (Status.NEEDS_INFO, "Which floor?")
    assert drain(store, clock) == [
        (DeliveryPurpose.QUESTION, RESIDENT, "Which floor?", None),
    ]  # the question itself tells the resident: no separate status push
    answered = store.act(ref, Action.ANSWER, chat_id=RESIDENT, now=clock.tick(), text="Fourth")
    assert (answered.status, answered.open_question) == (Status.ACCEPTED, None)
    assert drain(store, clock) == [
        (DeliveryPurpose.ANSWER, SECTOR_CHAT, "Fourth", None),
    ]  # nothing pushed to the resident about their own answer


def test_an_answer_returns_a_report_asked_before_acceptance_to_delivered(
    store: SqlReportStore, delivered: Report, clock: Clock
) -> None:
    ref = delivered.reference
    store.act(ref, Action.ASK, chat_id=SECTOR_CHAT, now=clock.tick(), text="When exactly?")
    answered = store.act(ref, Action.ANSWER, chat_id=RESIDENT, now=clock.tick(), text="11 pm")
    assert answered.status is Status.DELIVERED


def test_redirect_keeps_the_reference_and_redelivers_to_the_new_sector(
    store: SqlReportStore, delivered: Report, clock: Clock, link_chat: LinkChat
) -> None:
    link_chat(OTHER_CHAT, sector_id="SIN-03")
    ref = delivered.reference
    moved = store.act(
        ref, Action.REDIRECT, chat_id=SECTOR_CHAT, now=clock.tick(), to_sector="SIN-03",
        text="the house is across the border",
    )  # fmt: skip
    assert (moved.reference, moved.status, moved.sector_id) == (ref, Status.PENDING, "SIN-03")
    assert (moved.district, moved.place.sector_id) == (District.SINO, "SOM-17")
    assert drain(store, clock) == [
        (DeliveryPurpose.NEW_REPORT, OTHER_CHAT, None, None),
        (DeliveryPurpose.STATUS, RESIDENT, None, Status.PENDING),
        (DeliveryPurpose.STATUS, RESIDENT, None, Status.DELIVERED),  # delivered in SIN-03
    ]
    with pytest.raises(UnknownReport):  # the old sector has no say any more
        store.act(ref, Action.ACCEPT, chat_id=SECTOR_CHAT, now=clock.tick())
    assert store.act(ref, Action.ACCEPT, chat_id=OTHER_CHAT, now=clock.tick()).status is (
        Status.ACCEPTED
    )


def test_redirect_withdraws_the_undelivered_message_to_the_old_sector(
    store: SqlReportStore, make_draft: MakeDraft, clock: Clock, link_chat: LinkChat
) -> None:
    link_chat(SECTOR_CHAT, sector_id="SOM-17")
    ref = store.submit(make_draft(), resident_chat_id=RESIDENT, now=clock.now).reference
    (old,) = claim(store, clock)
    store.act(ref, Action.REDIRECT, chat_id=SECTOR_CHAT, now=clock.tick(), to_sector="SIN-03")
    assert store.due(now=clock.now) == []  # SIN-03 has no chat yet; nothing to SOM-17
    assert not store.delivered(old.id, now=clock.now, owner=OWNER)  # was in flight: ignored
    assert store.get(ref).status is Status.PENDING


@pytest.mark.parametrize(
    ("to_sector", "why"),
    [("SOM-17", "already"), ("XYZ-1", "not a sector id"), ("som-18", "not a sector id")],
)
def test_redirect_to_its_own_or_a_malformed_sector_is_refused(
    store: SqlReportStore, delivered: Report, clock: Clock, to_sector: str, why: str
) -> None:
    with pytest.raises(ActionRefused, match=why):
        store.act(
            delivered.reference, Action.REDIRECT, chat_id=SECTOR_CHAT, now=clock.tick(),
            to_sector=to_sector,
        )  # fmt: skip


# The status each action may start from (the rest are refused), as ``(setup, action)``: setup
# is the list of actions that brings a delivered report into the status.
SETUPS: dict[Status, list[Action]] = {
    Status.DELIVERED: [],
    Status.ACCEPTED: [Action.ACCEPT],
    Status.NEEDS_INFO: [Action.ASK],
    Status.CLOSED: [Action.CLOSE],
    Status.CONFIRMED: [Action.CLOSE, Action.CONFIRM],
    Status.DISPUTED: [Action.CLOSE, Action.DISPUTE],
}
ALLOWED = {
    Action.ACCEPT: {Status.DELIVERED},
    Action.ASK: {Status.DELIVERED, Status.ACCEPTED},
    Action.ANSWER: {Status.NEEDS_INFO},
    Action.REDIRECT: {Status.DELIVERED, Status.ACCEPTED, Status.NEEDS_INFO},
    Action.CLOSE: {Status.DELIVERED, Status.ACCEPTED, Status.NEEDS_INFO},
    Action.CONFIRM: {Status.CLOSED},
    Action.DISPUTE: {Status.CLOSED},
}
RESIDENT_ACTIONS = {Action.ANSWER, Action.CONFIRM, Action.DISPUTE}


def take(store: SqlReportStore, ref: str, action: Action, clock: Clock) -> Report:
    """Do an action from the right chat with what it needs."""
    chat = RESIDENT if action in RESIDENT_ACTIONS else SECTOR_CHAT
    to_sector = "SIN-03" if action is Action.REDIRECT else None
    return store.act(
        ref, action, chat_id=chat, now=clock.tick(), text="a note", to_sector=to_sector
    )


@pytest.mark.parametrize("status", list(SETUPS))
@pytest.mark.parametrize("action", list(Action))
def test_each_action_applies_only_in_its_statuses(
    store: SqlReportStore, delivered: Report, clock: Clock, status: Status, action: Action
) -> None:
    for step in SETUPS[status]:
        take(store, delivered.reference, step, clock)
    assert store.get(delivered.reference).status is status
    if status in ALLOWED[action]:
        after = take(store, delivered.reference, action, clock)
        assert store.history(delivered.reference)[-1].action is action
        assert after.status is not status or action is Action.ANSWER
    else:
        with pytest.raises(ActionRefused, match="no longer applies"):
            take(store, delivered.reference, action, clock)


@pytest.mark.parametrize("action", [Action.ASK, Action.CLOSE])
def test_staff_texts_are_required(
    store: SqlReportStore, delivered: Report, clock: Clock, action: Action
) -> None:
    with pytest.raises(ActionRefused, match="needs a text"):
        store.act(delivered.reference, action, chat_id=SECTOR_CHAT, now=clock.tick(), text=" ")


def test_a_text_over_the_cap_is_refused(
    store: SqlReportStore, delivered: Report, clock: Clock
) -> None:
    with pytest.raises(ActionRefused, match="longer"):
        store.act(
            delivered.reference, Action.CLOSE, chat_id=SECTOR_CHAT, now=clock.tick(),
            text="x" * 4001,
        )  # fmt: skip


@pytest.mark.parametrize("action", sorted(set(Action) - RESIDENT_ACTIONS))
def test_residents_cannot_take_staff_actions(
    store: SqlReportStore, delivered: Report, clock: Clock, action: Action
) -> None:
    with pytest.raises(ActionRefused, match="inspector"):
        store.act(
            delivered.reference, action, chat_id=RESIDENT, now=clock.tick(), text="x",
            to_sector="SIN-03" if action is Action.REDIRECT else None,
        )  # fmt: skip


@pytest.mark.parametrize("action", sorted(RESIDENT_ACTIONS))
def test_staff_cannot_take_resident_actions(
    store: SqlReportStore, delivered: Report, clock: Clock, action: Action
) -> None:
    with pytest.raises(ActionRefused, match="resident"):
        store.act(delivered.reference, action, chat_id=SECTOR_CHAT, now=clock.tick(), text="x")


def test_a_chat_with_no_part_in_the_report_is_told_it_does_not_exist(
    store: SqlReportStore, delivered: Report, clock: Clock, link_chat: LinkChat
) -> None:
    link_chat(OTHER_CHAT, sector_id="SIN-03")  # another sector's inspector
    for chat in (OTHER_CHAT, OTHER_RESIDENT):
        with pytest.raises(UnknownReport):
            store.act(delivered.reference, Action.ACCEPT, chat_id=chat, now=clock.tick())


def test_a_refused_action_changes_nothing(
    store: SqlReportStore, delivered: Report, clock: Clock
) -> None:
    with pytest.raises(ActionRefused):
        store.act(delivered.reference, Action.CONFIRM, chat_id=RESIDENT, now=clock.tick())
    assert store.get(delivered.reference) == delivered
    assert len(store.history(delivered.reference)) == 2
    assert store.due(now=clock.now) == []


# ---------------------------------------------------------------- escalation


def test_an_unaccepted_report_escalates_once_to_the_duty_chat(
    store: SqlReportStore, delivered: Report, clock: Clock, link_chat: LinkChat
) -> None:
    link_chat(DUTY_CHAT, duty_district="somoni")
    after = timedelta(minutes=60)
    assert store.escalate(now=clock.advance(minutes=59), after=after) == []
    (escalated,) = store.escalate(now=clock.advance(minutes=2), after=after)
    assert (escalated.reference, escalated.escalated_at) == (delivered.reference, clock.now)
    assert drain(store, clock) == [(DeliveryPurpose.ESCALATION, DUTY_CHAT, None, None)]
    assert store.escalate(now=clock.advance(hours=5), after=after) == []
    accepted = store.act(delivered.reference, Action.ACCEPT, chat_id=DUTY_CHAT, now=clock.now)
    assert accepted.status is Status.ACCEPTED
    assert store.history(delivered.reference)[2].text == "escalated"


def test_the_duty_chat_has_no_say_before_escalation(
    store: SqlReportStore, delivered: Report, clock: Clock, link_chat: LinkChat
) -> None:
    link_chat(DUTY_CHAT, duty_district="somoni")
    with pytest.raises(UnknownReport):
        store.act(delivered.reference, Action.ACCEPT, chat_id=DUTY_CHAT, now=clock.tick())


def test_accepted_reports_and_other_districts_do_not_escalate(
    store: SqlReportStore, delivered: Report, clock: Clock, link_chat: LinkChat
) -> None:
    link_chat(DUTY_CHAT, duty_district="sino")
    store.act(delivered.reference, Action.ACCEPT, chat_id=SECTOR_CHAT, now=clock.tick())
    assert store.escalate(now=clock.advance(days=1), after=timedelta(minutes=60)) == []


def test_a_report_that_never_reaches_its_sector_escalates_and_waits_for_a_duty_chat(
    store: SqlReportStore, make_draft: MakeDraft, clock: Clock, link_chat: LinkChat
) -> None:
    ref = store.submit(make_draft(), resident_chat_id=RESIDENT, now=clock.now).reference
    (escalated,) = store.escalate(now=clock.advance(minutes=61), after=timedelta(minutes=60))
    assert escalated.status is Status.PENDING
    assert store.due(now=clock.now) == []  # no duty chat yet
    link_chat(DUTY_CHAT, duty_district="somoni")
    assert drain(store, clock) == [(DeliveryPurpose.ESCALATION, DUTY_CHAT, None, None)]
    assert store.act(ref, Action.ACCEPT, chat_id=DUTY_CHAT, now=clock.tick()).status is (
        Status.ACCEPTED
    )


def test_an_escalated_question_answered_goes_back_to_the_duty_chat(
    store: SqlReportStore, delivered: Report, clock: Clock, link_chat: LinkChat
) -> None:
    link_chat(DUTY_CHAT, duty_district="somoni")
    store.escalate(now=clock.advance(hours=2), after=timedelta(minutes=60))
    ref = delivered.reference
    store.act(ref, Action.ASK, chat_id=DUTY_CHAT, now=clock.tick(), text="Address?")
    drain(store, clock)
    store.act(ref, Action.ANSWER, chat_id=RESIDENT, now=clock.tick(), text="No. 10")
    assert (DeliveryPurpose.ANSWER, DUTY_CHAT, "No. 10", None) in drain(store, clock)


# ---------------------------------------------------------------- staff chats and invites


def test_an_invite_links_its_scope_once(
    store: SqlReportStore, clock: Clock, make_draft: MakeDraft
) -> None:
    scope = StaffScope(sector_id="SOM-17")
    code = store.invite(scope, now=clock.now, valid_for=timedelta(hours=48))
    assert store.link(code.lower().replace("-", " "), chat_id=SECTOR_CHAT, now=clock.now) == scope
    assert store.staff_scopes(SECTOR_CHAT) == [scope]
    assert store.staff_chats() == {"SOM-17": SECTOR_CHAT}
    with pytest.raises(InviteRefused, match="already used"):
        store.link(code, chat_id=OTHER_CHAT, now=clock.now)


def test_an_expired_or_unknown_code_is_refused(store: SqlReportStore, clock: Clock) -> None:
    code = store.invite(StaffScope(sector_id="SOM-17"), now=clock.now, valid_for=timedelta(hours=1))
    with pytest.raises(InviteRefused, match="expired"):
        store.link(code, chat_id=SECTOR_CHAT, now=clock.advance(hours=1))
    with pytest.raises(InviteRefused, match="not known"):
        store.link("AAAA-BBBB-CCCC", chat_id=SECTOR_CHAT, now=clock.now)
    assert store.staff_chats() == {}


def test_nobody_else_can_claim_a_linked_sector(
    store: SqlReportStore, clock: Clock, link_chat: LinkChat
) -> None:
    scope = StaffScope(sector_id="SOM-17")
    spare = store.invite(scope, now=clock.now, valid_for=timedelta(hours=48))
    link_chat(SECTOR_CHAT, sector_id="SOM-17")
    with pytest.raises(InviteRefused, match="already has a staff chat"):
        store.link(spare, chat_id=OTHER_CHAT, now=clock.now)
    assert store.unlink(scope) == SECTOR_CHAT
    assert store.unlink(scope) is None
    assert store.link(spare, chat_id=OTHER_CHAT, now=clock.now) == scope  # it stayed unused


def test_a_code_links_only_the_scope_it_was_made_for(
    store: SqlReportStore, clock: Clock, delivered: Report
) -> None:
    code = store.invite(
        StaffScope(duty_district=District.SINO), now=clock.now, valid_for=timedelta(hours=1)
    )
    assert store.link(code, chat_id=OTHER_CHAT, now=clock.now) == StaffScope(duty_district="sino")
    store.escalate(now=clock.advance(hours=2), after=timedelta(minutes=60))  # a Somoni report
    with pytest.raises(UnknownReport):
        store.act(delivered.reference, Action.ACCEPT, chat_id=OTHER_CHAT, now=clock.tick())


def test_codes_are_kept_only_as_digests(store: SqlReportStore, clock: Clock) -> None:
    code = store.invite(StaffScope(sector_id="SOM-17"), now=clock.now, valid_for=timedelta(1))
    with store.engine.connect() as connection:
        dumped = "\n".join(
            str(row) for row in connection.exec_driver_sql("SELECT * FROM staff_invites")
        )
    assert code.replace("-", "") not in dumped.replace("-", "")
    assert invite_digest(code) in dumped


def test_unlinking_withdraws_what_the_chat_was_owed_and_relinking_owes_the_caseload(
    store: SqlReportStore, make_draft: MakeDraft, clock: Clock, link_chat: LinkChat
) -> None:
    link_chat(SECTOR_CHAT, sector_id="SOM-17")
    waiting = store.submit(make_draft(), resident_chat_id=RESIDENT, now=clock.now).reference
    store.unlink(StaffScope(sector_id="SOM-17"))
    assert store.due(now=clock.now) == []
    link_chat(OTHER_CHAT, sector_id="SOM-17")
    assert [(d.reference, d.chat_id) for d in store.due(now=clock.now)] == [(waiting, OTHER_CHAT)]


def test_one_chat_may_serve_several_scopes(store: SqlReportStore, link_chat: LinkChat) -> None:
    link_chat(SECTOR_CHAT, sector_id="SOM-17")
    link_chat(SECTOR_CHAT, duty_district="somoni")
    assert store.staff_scopes(SECTOR_CHAT) == [
        StaffScope(sector_id="SOM-17"),
        StaffScope(duty_district=District.SOMONI),
    ]
    assert store.staff_scopes(RESIDENT) == []


# ---------------------------------------------------------------- retention and export


def close(store: SqlReportStore, ref: str, clock: Clock) -> None:
    store.act(ref, Action.CLOSE, chat_id=SECTOR_CHAT, now=clock.tick(), text="done")


def test_retention_forgets_residents_of_reports_closed_before_the_cut(
    store: SqlReportStore, delivered: Report, make_draft: MakeDraft, clock: Clock
) -> None:
    open_ref = store.submit(make_draft(), resident_chat_id=RESIDENT, now=clock.now).reference
    close(store, delivered.reference, clock)
    cut = clock.now + timedelta(days=90)
    assert store.forget_residents(closed_before=clock.now) == 0
    assert store.forget_residents(closed_before=cut) == 1
    forgotten = store.get(delivered.reference)
    assert (forgotten.resident_chat_id, forgotten.phone, forgotten.text) == (
        None,
        None,
        delivered.text,
    )
    assert [r.reference for r in store.for_resident(RESIDENT)] == [open_ref]
    assert all(d.chat_id != RESIDENT or d.reference == open_ref for d in store.due(now=cut))
    assert store.forget_residents(closed_before=cut) == 0


def test_a_forgotten_resident_can_no_longer_act(
    store: SqlReportStore, delivered: Report, clock: Clock
) -> None:
    close(store, delivered.reference, clock)
    store.forget_residents(closed_before=clock.advance(days=91))
    with pytest.raises(UnknownReport):
        store.act(delivered.reference, Action.CONFIRM, chat_id=RESIDENT, now=clock.now)


def test_export_has_no_chat_ids_and_filters_by_sector_and_date(
    store: SqlReportStore, make_draft: MakeDraft, clock: Clock
) -> None:
    early = store.submit(make_draft(), resident_chat_id=RESIDENT, now=clock.now).reference
    since = clock.advance(days=1)
    mine = store.submit(make_draft(), resident_chat_id=RESIDENT, now=clock.now).reference
    other = store.submit(
        make_draft(sector_id="FIR-05"), resident_chat_id=RESIDENT, now=clock.tick()
    )
    rows = list(store.export(sector_id="SOM-17", since=since))
    assert [row["reference"] for row in rows] == [mine]
    assert all("chat" not in key for key in rows[0])
    assert str(RESIDENT) not in str(rows)
    everything = [row["reference"] for row in store.export(sector_id=None, since=since)]
    assert everything == [mine, other.reference]
    assert early not in everything


# ---------------------------------------------------------------- persistence


def test_conversation_states_round_trip_and_none_forgets(store: SqlReportStore) -> None:
    store.save_conversation("report", (RESIDENT, RESIDENT), 3)
    store.save_conversation("report", (RESIDENT, RESIDENT), "PHOTOS")
    store.save_conversation("report", (7, "x"), {"step": [1, 2]})
    store.save_conversation("other", (RESIDENT,), 1)
    assert store.conversations("report") == {
        (RESIDENT, RESIDENT): "PHOTOS",
        (7, "x"): {"step": [1, 2]},
    }
    store.save_conversation("report", (7, "x"), None)
    assert store.conversations("report") == {(RESIDENT, RESIDENT): "PHOTOS"}
    assert store.conversations("missing") == {}


def test_user_data_round_trips_and_an_empty_mapping_forgets(store: SqlReportStore) -> None:
    draft = {"kind": "noise", "photos": ["a", "b"], "phone": None, "n": 1.5}
    store.save_user_data(RESIDENT, draft)
    store.save_user_data(OTHER_RESIDENT, {"kind": "other"})
    store.save_user_data(OTHER_RESIDENT, {"kind": "incident"})
    assert store.user_data() == {RESIDENT: draft, OTHER_RESIDENT: {"kind": "incident"}}
    store.save_user_data(RESIDENT, {})
    assert store.user_data() == {OTHER_RESIDENT: {"kind": "incident"}}


def test_what_is_not_json_is_refused_before_storing(store: SqlReportStore) -> None:
    with pytest.raises(ValueError, match="JSON"):
        store.save_user_data(RESIDENT, {"when": object()})
    assert store.user_data() == {}


def test_everything_survives_reopening_the_database(
    make_store: MakeStore, make_draft: MakeDraft, clock: Clock
) -> None:
    first = make_store()
    ref = first.submit(make_draft(), resident_chat_id=RESIDENT, now=clock.now).reference
    first.save_conversation("report", (RESIDENT, RESIDENT), 2)
    first.close()
    again = make_store()
    assert again.get(ref).reference == ref
    assert again.conversations("report") == {(RESIDENT, RESIDENT): 2}
    assert again.submit(make_draft(), resident_chat_id=RESIDENT, now=clock.now).reference == (
        "SOM-17-000002"
    )
