"""What each action does, inside the store's transaction: who may take it, in which status,
what it changes and which messages it owes (the outbox rows), and the same for deliveries,
escalation, retention and linking.

The functions take the session and the locked row; :class:`reports.store.SqlReportStore` opens
the transaction, calls them, and commits. See :class:`reports.model.ReportStatus` for the
statuses and :meth:`reports.ports.ReportStore.act` for the permissions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Final

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from reports.model import (
    MAX_TEXT_CHARS,
    Action,
    Actor,
    DeliveryPurpose,
    ReportStatus,
    StaffScope,
)
from reports.ports import (
    ActionRefused,
    InviteRefused,
    UnknownReport,
)
from reports.rows import (
    district_of,
    invite_digest,
)
from reports.tables import (
    EventRow,
    InviteRow,
    OutboxRow,
    ReportRow,
    StaffChatRow,
)
from resolver.gazetteer import District

OPEN: Final = frozenset(
    {ReportStatus.PENDING, ReportStatus.DELIVERED, ReportStatus.ACCEPTED, ReportStatus.NEEDS_INFO}
)
ENDED: Final = frozenset({ReportStatus.CLOSED, ReportStatus.CONFIRMED, ReportStatus.DISPUTED})
UNACCEPTED: Final = frozenset({ReportStatus.PENDING, ReportStatus.DELIVERED})
STAFF_ACTIONS: Final = frozenset({Action.ACCEPT, Action.ASK, Action.REDIRECT, Action.CLOSE})
# The statuses each action applies to. Staff may act on a PENDING report too: the message may
# be in their chat before the bot has recorded the delivery, or in the duty chat after an
# escalation of a report its sector never received.
ALLOWED_FROM: Final[Mapping[Action, frozenset[ReportStatus]]] = {
    Action.ACCEPT: UNACCEPTED,
    Action.ASK: UNACCEPTED | {ReportStatus.ACCEPTED},
    Action.REDIRECT: OPEN,
    Action.CLOSE: OPEN,
    Action.ANSWER: frozenset({ReportStatus.NEEDS_INFO}),
    Action.CONFIRM: frozenset({ReportStatus.CLOSED}),
    Action.DISPUTE: frozenset({ReportStatus.CLOSED}),
}
TEXT_REQUIRED: Final = frozenset({Action.ASK, Action.ANSWER, Action.CLOSE})
# Undelivered messages to a staff chat that unlinking it withdraws (linking owes the reports
# again; an answer not yet relayed stays in the history, never reaching a former inspector).
STAFF_PURPOSES: Final = (
    DeliveryPurpose.NEW_REPORT,
    DeliveryPurpose.ESCALATION,
    DeliveryPurpose.ANSWER,
)


def report_row(session: Session, reference: str, *, lock: bool = False) -> ReportRow:
    """The report's row (locked for update when asked); raises UnknownReport."""
    row = session.get(ReportRow, reference, with_for_update=lock)
    if row is None:
        raise UnknownReport(f"no report {reference!r}: check the reference in /myreports")
    return row


def record(
    session: Session,
    row: ReportRow,
    *,
    now: datetime,
    actor: Actor,
    action: Action | None,
    text: str | None = None,
) -> None:
    """Append an event with the report's status after it."""
    session.add(
        EventRow(
            reference=row.reference,
            at=now,
            actor=actor.value,
            action=action.value if action else None,
            status=row.status,
            text=text,
        )
    )


def owe(
    session: Session,
    row: ReportRow,
    purpose: DeliveryPurpose,
    chat_id: int,
    *,
    now: datetime,
    text: str | None = None,
    status: ReportStatus | None = None,
) -> None:
    """Put a message for ``chat_id`` in the outbox, due now (a STATUS names its status)."""
    session.add(
        OutboxRow(
            reference=row.reference,
            purpose=purpose.value,
            chat_id=chat_id,
            event_text=text,
            status=None if status is None else status.value,
            attempts=0,
            parts_sent=0,
            next_attempt_at=now,
            created_at=now,
        )
    )


def chat_of(session: Session, scope: StaffScope) -> int | None:
    """The scope's linked chat, if any."""
    return session.scalar(select(StaffChatRow.chat_id).where(StaffChatRow.scope == str(scope)))


def staff_chats_of(session: Session, row: ReportRow) -> set[int]:
    """The chats whose staff may act on the report: its sector's, and the duty chat's once
    escalated."""
    scopes = [str(StaffScope(sector_id=row.sector_id))]
    if row.escalated_at is not None:
        scopes.append(str(StaffScope(duty_district=District(row.district))))
    chats = session.scalars(select(StaffChatRow.chat_id).where(StaffChatRow.scope.in_(scopes)))
    return set(chats)


def check_actor(session: Session, row: ReportRow, action: Action, chat_id: int) -> None:
    """Refuse an action from a chat that may not take it."""
    staff = chat_id in staff_chats_of(session, row)
    resident = row.resident_chat_id is not None and chat_id == row.resident_chat_id
    if not (staff or resident):
        raise UnknownReport(f"no report {row.reference!r} for this chat")
    if (action in STAFF_ACTIONS and not staff) or (action not in STAFF_ACTIONS and not resident):
        side = "the inspector's chat" if action in STAFF_ACTIONS else "the resident's chat"
        raise ActionRefused(f"{action.value} is done from {side} only")


def check_inputs(
    row: ReportRow, action: Action, *, text: str | None, to_sector: str | None
) -> None:
    """Refuse an action that does not apply in the status, or lacks what it needs."""
    status = ReportStatus(row.status)
    if status not in ALLOWED_FROM[action]:
        raise ActionRefused(f"{row.reference} is {status.value}: {action.value} no longer applies")
    if action in TEXT_REQUIRED and not (text and text.strip()):
        raise ActionRefused(f"{action.value} needs a text")
    if text is not None and len(text) > MAX_TEXT_CHARS:
        raise ActionRefused(f"the text is longer than {MAX_TEXT_CHARS} characters")
    if (action is Action.REDIRECT) != (to_sector is not None):
        raise ActionRefused("a sector is given with redirect, and only with it")
    if to_sector is not None:
        check_redirect_target(row, to_sector)


def check_redirect_target(row: ReportRow, to_sector: str) -> None:
    """Refuse a redirect to a malformed sector id or to the report's own sector."""
    try:
        StaffScope(sector_id=to_sector)
    except ValueError as exc:
        raise ActionRefused(f"{to_sector!r} is not a sector id (like SOM-17)") from exc
    if to_sector == row.sector_id:
        raise ActionRefused(f"{row.reference} is already {to_sector}'s")


Apply = Callable[..., None]


def apply_accept(_: Session, row: ReportRow, **__: Any) -> None:
    """The inspector takes the report up."""
    row.status = ReportStatus.ACCEPTED.value


def apply_ask(
    session: Session, row: ReportRow, *, chat_id: int, now: datetime, text: str, **_: Any
) -> None:
    """Need more info: relay the question to the resident, remember where to go back."""
    row.status_before_question, row.status = row.status, ReportStatus.NEEDS_INFO.value
    row.open_question, row.question_chat_id = text, chat_id
    if row.resident_chat_id is not None:
        owe(session, row, DeliveryPurpose.QUESTION, row.resident_chat_id, now=now, text=text)


def apply_answer(session: Session, row: ReportRow, *, now: datetime, text: str, **_: Any) -> None:
    """The resident answers: relay it to the chat that asked (if it still may see the report)."""
    row.status = row.status_before_question or ReportStatus.DELIVERED.value
    chats = staff_chats_of(session, row)
    target = (
        row.question_chat_id
        if row.question_chat_id in chats
        else chat_of(session, StaffScope(sector_id=row.sector_id))
    )
    if target is not None:
        owe(session, row, DeliveryPurpose.ANSWER, target, now=now, text=text)
    clear_question(row)


def apply_redirect(
    session: Session, row: ReportRow, *, now: datetime, to_sector: str, **_: Any
) -> None:
    """Hand the report to another sector, with the same reference, as if newly filed there."""
    session.execute(
        delete(OutboxRow)
        .where(OutboxRow.reference == row.reference)
        .where(OutboxRow.purpose.in_([p.value for p in STAFF_PURPOSES]))
    )
    row.sector_id, row.district = to_sector, district_of(to_sector).value
    row.status, row.waiting_since, row.escalated_at = ReportStatus.PENDING.value, now, None
    clear_question(row)
    if (chat := chat_of(session, StaffScope(sector_id=to_sector))) is not None:
        owe(session, row, DeliveryPurpose.NEW_REPORT, chat, now=now)


def apply_close(_: Session, row: ReportRow, *, now: datetime, text: str, **__: Any) -> None:
    """The inspector closes the report with an outcome note."""
    row.status, row.outcome, row.closed_at = ReportStatus.CLOSED.value, text, now
    clear_question(row)


def apply_confirm(_: Session, row: ReportRow, **__: Any) -> None:
    """The resident confirms the outcome."""
    row.status = ReportStatus.CONFIRMED.value


def apply_dispute(_: Session, row: ReportRow, **__: Any) -> None:
    """The resident disputes the outcome (the reason, if any, is in the history)."""
    row.status = ReportStatus.DISPUTED.value


APPLY: Final[Mapping[Action, Apply]] = {
    Action.ACCEPT: apply_accept,
    Action.ASK: apply_ask,
    Action.ANSWER: apply_answer,
    Action.REDIRECT: apply_redirect,
    Action.CLOSE: apply_close,
    Action.CONFIRM: apply_confirm,
    Action.DISPUTE: apply_dispute,
}


def pushes_status(action: Action) -> bool:
    """Whether the resident is told the status an action leads to: after staff actions, but not
    after a question (the relayed question tells) nor after the resident's own actions."""
    return action in STAFF_ACTIONS and action is not Action.ASK


def clear_question(row: ReportRow) -> None:
    """Leave NEEDS_INFO's bookkeeping."""
    row.open_question = row.status_before_question = row.question_chat_id = None


def mark_delivered(session: Session, row: ReportRow, *, now: datetime) -> None:
    """The report reached its staff chat: DELIVERED (if still PENDING), and tell the resident."""
    if row.status_before_question == ReportStatus.PENDING.value:
        row.status_before_question = ReportStatus.DELIVERED.value  # asked before we knew
    if row.status != ReportStatus.PENDING.value:
        return
    row.status, row.waiting_since, row.updated_at = ReportStatus.DELIVERED.value, now, now
    record(session, row, now=now, actor=Actor.SYSTEM, action=None, text="delivered")
    if row.resident_chat_id is not None:
        owe(
            session,
            row,
            DeliveryPurpose.STATUS,
            row.resident_chat_id,
            now=now,
            status=ReportStatus.DELIVERED,
        )


def escalate_row(session: Session, row: ReportRow, *, now: datetime) -> None:
    """Send the report to its district's duty chat too (when one is linked)."""
    row.escalated_at = row.updated_at = now
    record(session, row, now=now, actor=Actor.SYSTEM, action=None, text="escalated")
    duty = chat_of(session, StaffScope(duty_district=District(row.district)))
    if duty is not None:
        owe(session, row, DeliveryPurpose.ESCALATION, duty, now=now)


def forget_resident(session: Session, row: ReportRow) -> None:
    """Drop the resident's chat id and phone, and what is still owed to that chat."""
    if row.resident_chat_id is not None:
        session.execute(
            delete(OutboxRow)
            .where(OutboxRow.reference == row.reference)
            .where(OutboxRow.chat_id == row.resident_chat_id)
        )
    row.resident_chat_id = row.phone = None


def in_scope(scope: StaffScope) -> Any:
    """The SQL condition of a scope's reports."""
    if scope.sector_id is not None:
        return ReportRow.sector_id == scope.sector_id
    return ReportRow.district == str(scope.duty_district)


def usable_invite(session: Session, code: str, *, now: datetime) -> InviteRow:
    """The invite of a code, locked; raises InviteRefused if unknown, used or expired."""
    invite = session.get(InviteRow, invite_digest(code), with_for_update=True)
    if invite is None:
        raise InviteRefused("this code is not known: check it, or ask the maintainer for a new one")
    if invite.used_at is not None:
        raise InviteRefused("this code was already used: ask the maintainer for a new one")
    if invite.expires_at <= now:
        raise InviteRefused(
            f"this code expired at {invite.expires_at:%Y-%m-%d %H:%M} UTC: "
            "ask the maintainer for a new one"
        )
    return invite


def owe_waiting(session: Session, scope: StaffScope, chat_id: int, *, now: datetime) -> None:
    """Owe a newly linked chat the scope's reports (see :meth:`SqlReportStore.link`)."""
    if scope.sector_id is not None:
        statuses, purpose = OPEN, DeliveryPurpose.NEW_REPORT
        query = select(ReportRow).where(ReportRow.sector_id == scope.sector_id)
    else:
        statuses, purpose = UNACCEPTED, DeliveryPurpose.ESCALATION
        query = select(ReportRow).where(ReportRow.district == str(scope.duty_district))
        query = query.where(ReportRow.escalated_at.is_not(None))
    rows = session.scalars(
        query.where(ReportRow.status.in_([s.value for s in statuses])).order_by(
            ReportRow.created_at, ReportRow.reference
        )
    )
    for row in rows:
        owe(session, row, purpose, chat_id, now=now)
