"""The :class:`~reports.ports.ReportStore` over SQLAlchemy 2: SQLite by default, or PostgreSQL.

:func:`open_store` builds the engine and upgrades the schema to the newest migration.

- **One transaction per method.** SQLite writers take the lock at ``BEGIN IMMEDIATE``
  (:mod:`reports.database`), so two processes on one file take turns. PostgreSQL runs READ
  COMMITTED: the report a method changes is locked (``SELECT … FOR UPDATE``), and a resident's
  submits take turns on an advisory lock, so the daily limit holds under concurrency.
- **References** are ``<sector>-<number>``, numbered per sector by one atomic upsert of
  ``sector_counters`` (unique under concurrency on both backends). A redirect keeps it.
- **The rules** of each action, delivery, escalation and retention are in :mod:`reports.rules`;
  rows become values in :mod:`reports.rows`.
- **The outbox.** Every message a change owes is written in the same transaction as the change.
  Each bot process claims the due rows it sends (:meth:`SqlReportStore.claim_due`: a lease to
  its owner id, ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, the write lock on SQLite), sends them
  and calls :meth:`SqlReportStore.delivered`, which counts only for the lease's owner. A message
  sent but not yet marked is sent again once its lease runs out (at least once: a process that
  died after the send, or a send that outlasted its lease, may reach the chat twice); nothing
  owed is lost.
- **Escalation and retention** from several processes at once: the rows they change are locked
  (``FOR UPDATE``; PostgreSQL re-checks ``escalated_at IS NULL`` on a row another transaction
  changed while it waited), so each report escalates once.
- **Secrets and texts.** Invite codes are kept as SHA-256 digests only (they are 59 random bits,
  one-time and expiring, so an unsalted digest cannot be reversed by guessing). The engine hides
  bound parameters, so no report text reaches a log or an error message.

Errors: a database that cannot be reached or used raises
:class:`~reports.ports.DatabaseUnavailable` (mapped in :meth:`SqlReportStore._transaction`, and
in :func:`open_store` for the connection and the migration).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import Any, Final

from alembic.util import CommandError
from sqlalchemy import Engine, delete, func, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from reports.database import (
    Transactions,
    make_engine,
    migrate,
    prepare_sqlite_file,
    unavailable,
)
from reports.model import (
    Action,
    Actor,
    Delivery,
    DeliveryPurpose,
    Draft,
    Report,
    ReportEvent,
    ReportStatus,
    StaffScope,
)
from reports.ports import (
    DatabaseUnavailable,
    InviteRefused,
    ReportLimitReached,
)
from reports.rows import (
    check_json,
    export_row,
    invite_digest,
    new_invite_code,
    new_report_row,
    parse_scope,
    to_delivery,
    to_event,
    to_report,
)
from reports.rules import (
    APPLY,
    ENDED,
    STAFF_ACTIONS,
    STAFF_PURPOSES,
    UNACCEPTED,
    chat_of,
    check_actor,
    check_inputs,
    escalate_row,
    forget_resident,
    in_scope,
    mark_delivered,
    owe,
    owe_waiting,
    pushes_status,
    record,
    report_row,
    usable_invite,
)
from reports.tables import (
    ConversationRow,
    CounterRow,
    EventRow,
    InviteRow,
    OutboxRow,
    ReportRow,
    StaffChatRow,
    UserDataRow,
)

DEFAULT_DAILY_LIMIT: Final = 5
LIMIT_WINDOW: Final = timedelta(hours=24)


class SqlReportStore:
    """Reports, history, staff chats, the outbox and bot persistence in one SQL database."""

    def __init__(self, engine: Engine, *, daily_limit: int = DEFAULT_DAILY_LIMIT) -> None:
        self.engine = engine
        self.daily_limit = daily_limit
        self._transactions = Transactions(engine)
        self._postgres = engine.dialect.name == "postgresql"

    def close(self) -> None:
        """Close the connections of the pool."""
        self.engine.dispose()

    def _transaction(self, *, write: bool = True) -> AbstractContextManager[Session]:
        """One transaction, committed on success; database failures become DatabaseUnavailable."""
        return self._transactions.begin(write=write)

    # --- residents -------------------------------------------------------------------------

    def submit(self, draft: Draft, *, resident_chat_id: int, now: datetime) -> Report:
        """Store a report with a new reference and owe its delivery to the sector's staff chat."""
        with self._transaction() as session:
            self._check_limit(session, resident_chat_id, now)
            sector_id = draft.place.sector_id
            reference = f"{sector_id}-{self._next_number(session, sector_id):06d}"
            row = new_report_row(
                draft, reference=reference, resident_chat_id=resident_chat_id, now=now
            )
            session.add(row)
            session.flush()  # the report's row first: its events and outbox rows refer to it
            record(session, row, now=now, actor=Actor.RESIDENT, action=None)
            if (chat := chat_of(session, StaffScope(sector_id=sector_id))) is not None:
                owe(session, row, DeliveryPurpose.NEW_REPORT, chat, now=now)
            return to_report(row)

    def _check_limit(self, session: Session, resident_chat_id: int, now: datetime) -> None:
        """Raise ReportLimitReached if the resident filed the most allowed in the last 24 h."""
        if self._postgres:  # concurrent submits of one resident take turns
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": resident_chat_id})
        recent = session.scalars(
            select(ReportRow.created_at)
            .where(ReportRow.resident_chat_id == resident_chat_id)
            .where(ReportRow.created_at > now - LIMIT_WINDOW)
            .order_by(ReportRow.created_at.desc())
            .limit(self.daily_limit)
        ).all()
        if len(recent) >= self.daily_limit:
            raise ReportLimitReached(limit=self.daily_limit, retry_at=recent[-1] + LIMIT_WINDOW)

    def _next_number(self, session: Session, sector_id: str) -> int:
        """Take the sector's next reference number (one atomic upsert)."""
        dialect_insert = postgresql.insert if self._postgres else sqlite.insert
        statement = (
            dialect_insert(CounterRow)
            .values(sector_id=sector_id, last_number=1)
            .on_conflict_do_update(
                index_elements=[CounterRow.sector_id],
                set_={"last_number": CounterRow.last_number + 1},
            )
            .returning(CounterRow.last_number)
        )
        return int(session.execute(statement).scalar_one())

    def for_resident(self, resident_chat_id: int) -> list[Report]:
        """The resident's reports, newest first (reports past retention are no longer theirs)."""
        with self._transaction(write=False) as session:
            rows = session.scalars(
                select(ReportRow)
                .where(ReportRow.resident_chat_id == resident_chat_id)
                .order_by(ReportRow.created_at.desc(), ReportRow.reference.desc())
            )
            return [to_report(row) for row in rows]

    def get(self, reference: str) -> Report:
        """The report; raises UnknownReport."""
        with self._transaction(write=False) as session:
            return to_report(report_row(session, reference))

    def history(self, reference: str) -> list[ReportEvent]:
        """The report's events, oldest first; raises UnknownReport."""
        with self._transaction(write=False) as session:
            report_row(session, reference)
            rows = session.scalars(
                select(EventRow).where(EventRow.reference == reference).order_by(EventRow.id)
            )
            return [to_event(row) for row in rows]

    def act(
        self,
        reference: str,
        action: Action,
        *,
        chat_id: int,
        now: datetime,
        text: str | None = None,
        to_sector: str | None = None,
    ) -> Report:
        """Apply a resident's or staff chat's action, record it, and owe the messages it causes.

        Staff actions (accept, ask, redirect, close) come from the sector's chat, or from the
        district's duty chat once escalated; resident actions (answer, confirm, dispute) from the
        resident's chat. A chat with no part in the report gets UnknownReport (its existence is
        not revealed); a chat with a part but not this one, or an action that does not apply in
        the report's status, gets ActionRefused. ASK, ANSWER and CLOSE need a text.
        """
        with self._transaction() as session:
            row = report_row(session, reference, lock=True)
            check_actor(session, row, action, chat_id)
            check_inputs(row, action, text=text, to_sector=to_sector)
            before = ReportStatus(row.status)
            APPLY[action](session, row, chat_id=chat_id, now=now, text=text, to_sector=to_sector)
            row.updated_at = now
            actor = Actor.STAFF if action in STAFF_ACTIONS else Actor.RESIDENT
            record(session, row, now=now, actor=actor, action=action, text=text)
            if pushes_status(action) and row.status != before and row.resident_chat_id:
                carried = text if action is Action.CLOSE else None
                owe(
                    session,
                    row,
                    DeliveryPurpose.STATUS,
                    row.resident_chat_id,
                    now=now,
                    text=carried,
                    status=ReportStatus(row.status),
                )
            return to_report(row)

    # --- staff chats -----------------------------------------------------------------------

    def invite(self, scope: StaffScope, *, now: datetime, valid_for: timedelta) -> str:
        """A one-time code for ``/link <code>``; earlier unused codes of the scope stay valid."""
        if valid_for <= timedelta(0):
            raise ValueError("an invite must be valid for some time")
        code = new_invite_code()
        with self._transaction() as session:
            session.add(
                InviteRow(
                    code_sha256=invite_digest(code),
                    scope=str(scope),
                    created_at=now,
                    expires_at=now + valid_for,
                )
            )
        return code

    def link(self, code: str, *, chat_id: int, now: datetime) -> StaffScope:
        """Make the chat the scope's staff chat and owe it the scope's waiting reports.

        Raises InviteRefused if the code is unknown, used or expired, or the scope already has a
        chat (a maintainer unlinks first). Linking a sector owes a NEW_REPORT for each of its
        open reports (the PENDING ones waiting for a chat, and those a previous chat had, so a
        new inspector gets the caseload); linking a duty chat owes an ESCALATION for each
        escalated report of the district nobody has accepted.
        """
        with self._transaction() as session:
            invite = usable_invite(session, code, now=now)
            scope = parse_scope(invite.scope)
            if chat_of(session, scope) is not None:
                raise InviteRefused(
                    f"{scope} already has a staff chat: a maintainer unlinks it first "
                    f"(python -m bot staff unlink {scope}), then invites again"
                )
            invite.used_at, invite.used_by_chat_id = now, chat_id
            session.add(StaffChatRow(scope=str(scope), chat_id=chat_id, linked_at=now))
            try:
                session.flush()
            except IntegrityError as exc:  # another chat linked the scope at the same moment
                raise InviteRefused(f"{scope} already has a staff chat") from exc
            owe_waiting(session, scope, chat_id, now=now)
            return scope

    def unlink(self, scope: StaffScope) -> int | None:
        """Forget the scope's staff chat, and withdraw the reports still owed to it."""
        with self._transaction() as session:
            row = session.get(StaffChatRow, str(scope), with_for_update=True)
            if row is None:
                return None
            session.delete(row)
            session.execute(
                delete(OutboxRow)
                .where(OutboxRow.chat_id == row.chat_id)
                .where(OutboxRow.purpose.in_([p.value for p in STAFF_PURPOSES]))
                .where(OutboxRow.reference.in_(select(ReportRow.reference).where(in_scope(scope))))
            )
            return row.chat_id

    def staff_scopes(self, chat_id: int) -> list[StaffScope]:
        """What a chat is the staff chat of (empty for residents)."""
        with self._transaction(write=False) as session:
            scopes = session.scalars(
                select(StaffChatRow.scope)
                .where(StaffChatRow.chat_id == chat_id)
                .order_by(StaffChatRow.scope)
            )
            return [parse_scope(scope) for scope in scopes]

    def staff_chats(self) -> dict[str, int]:
        """Every linked scope (``str(scope)``) and its chat id."""
        with self._transaction(write=False) as session:
            rows = session.execute(select(StaffChatRow.scope, StaffChatRow.chat_id))
            return {scope: chat for scope, chat in rows}

    # --- the outbox ------------------------------------------------------------------------

    def due(self, *, now: datetime, limit: int = 50) -> list[Delivery]:
        """What a claim would take now, oldest first, without claiming it."""
        with self._transaction(write=False) as session:
            rows = session.scalars(claimable(now).limit(limit))
            return [to_delivery(row) for row in rows]

    def claim_due(
        self, *, now: datetime, owner: str, lease: timedelta, limit: int = 50
    ) -> list[Delivery]:
        """Lease the due deliveries with a free or expired lease to ``owner``, oldest first.

        PostgreSQL skips the rows another claimer has locked (``FOR UPDATE SKIP LOCKED``), and
        re-checks the lease of a row committed while it read; SQLite claimers take turns on the
        write lock (``BEGIN IMMEDIATE``).
        """
        if lease <= timedelta(0):
            raise ValueError("a lease must last some time")
        with self._transaction() as session:
            query = claimable(now).limit(limit).with_for_update(skip_locked=True)
            rows = session.scalars(query).all()
            for row in rows:
                row.lease_owner, row.lease_until = owner, now + lease
            return [to_delivery(row) for row in rows]

    def delivered(self, delivery_id: int, *, now: datetime, owner: str) -> bool:
        """The message was sent: remove it (a NEW_REPORT marks its report DELIVERED).

        Counts only while ``owner`` holds the row's lease; returns whether it counted (see the
        Protocol for what is ignored).
        """
        with self._transaction() as session:
            row = session.get(OutboxRow, delivery_id, with_for_update=True)
            if row is None or row.lease_owner != owner:
                return False
            session.delete(row)
            if row.purpose == DeliveryPurpose.NEW_REPORT.value:
                mark_delivered(session, report_row(session, row.reference, lock=True), now=now)
            return True

    def failed(self, delivery_id: int, *, now: datetime, retry_at: datetime, owner: str) -> None:
        """The chat could not be reached: count the attempt, free the lease, retry at
        ``retry_at`` (only for the lease's owner)."""
        with self._transaction() as session:
            session.execute(
                update(OutboxRow)
                .where(OutboxRow.id == delivery_id)
                .where(OutboxRow.lease_owner == owner)
                .values(
                    attempts=OutboxRow.attempts + 1,
                    next_attempt_at=retry_at,
                    lease_owner=None,
                    lease_until=None,
                )
            )

    def sent_part(self, delivery_id: int, *, parts: int, owner: str) -> None:
        """Record how many messages of a several-message delivery are sent (see the Protocol)."""
        with self._transaction() as session:
            session.execute(
                update(OutboxRow)
                .where(OutboxRow.id == delivery_id)
                .where(OutboxRow.lease_owner == owner)
                .values(parts_sent=parts)
            )

    def release(self, delivery_ids: Sequence[int], *, owner: str) -> int:
        """Free ``owner``'s leases on these deliveries, counting no attempt; how many."""
        if not delivery_ids:
            return 0
        with self._transaction() as session:
            freed = session.scalars(
                update(OutboxRow)
                .where(OutboxRow.id.in_(list(delivery_ids)))
                .where(OutboxRow.lease_owner == owner)
                .values(lease_owner=None, lease_until=None)
                .returning(OutboxRow.id)
            )
            return len(freed.all())

    # --- time-driven -----------------------------------------------------------------------

    def escalate(self, *, now: datetime, after: timedelta) -> list[Report]:
        """Reports nobody accepted within ``after``: set ``escalated_at`` and owe an ESCALATION.

        A report waits from its delivery to the staff chat, or, while still PENDING (its sector
        has no chat, or the chat cannot be reached), from its filing or redirection: a report
        that never reaches its sector reaches the duty chat all the same. Each report escalates
        once (a redirect starts it afresh in the new sector).
        """
        with self._transaction() as session:
            rows = session.scalars(
                select(ReportRow)
                .where(ReportRow.status.in_([s.value for s in UNACCEPTED]))
                .where(ReportRow.escalated_at.is_(None))
                .where(ReportRow.waiting_since <= now - after)
                .order_by(ReportRow.waiting_since, ReportRow.reference)
                .with_for_update()
            ).all()
            for row in rows:
                escalate_row(session, row, now=now)
            return [to_report(row) for row in rows]

    def forget_residents(self, *, closed_before: datetime) -> int:
        """Drop the chat id and phone of reports closed before the cut; returns how many.

        Messages still owed to those residents are dropped with them.
        """
        with self._transaction() as session:
            rows = session.scalars(
                select(ReportRow)
                .where(ReportRow.status.in_([s.value for s in ENDED]))
                .where(ReportRow.closed_at < closed_before)
                .where((ReportRow.resident_chat_id.is_not(None)) | (ReportRow.phone.is_not(None)))
                .with_for_update()
            ).all()
            for row in rows:
                forget_resident(session, row)
            return len(rows)

    def export(self, *, sector_id: str | None, since: datetime) -> Iterator[Mapping[str, Any]]:
        """Rows for the precinct's CSV (no chat ids), oldest first, filed at ``since`` or later."""
        query = select(ReportRow).where(ReportRow.created_at >= since)
        if sector_id is not None:
            query = query.where(ReportRow.sector_id == sector_id)
        with self._transaction(write=False) as session:
            rows = session.scalars(query.order_by(ReportRow.created_at, ReportRow.reference))
            return iter([export_row(row) for row in rows])

    # --- conversation state (python-telegram-bot persistence) -------------------------------

    def conversations(self, name: str) -> dict[tuple[int | str, ...], object]:
        """Every stored state of a conversation handler, by its key."""
        with self._transaction(write=False) as session:
            rows = session.scalars(select(ConversationRow).where(ConversationRow.name == name))
            return {tuple(json.loads(row.key)): row.state for row in rows}

    def save_conversation(self, name: str, key: tuple[int | str, ...], state: object) -> None:
        """Store (or, for None, forget) one conversation's state; ``state`` is JSON-able."""
        check_json(state, what="a conversation state")
        stored_key = json.dumps(list(key))
        with self._transaction() as session:
            if state is None:
                session.execute(
                    delete(ConversationRow)
                    .where(ConversationRow.name == name)
                    .where(ConversationRow.key == stored_key)
                )
            else:
                session.merge(ConversationRow(name=name, key=stored_key, state=state))

    def user_data(self) -> dict[int, dict[str, Any]]:
        """Every resident's stored draft data (JSON-able), by user id."""
        with self._transaction(write=False) as session:
            rows = session.scalars(select(UserDataRow))
            return {row.user_id: dict(row.data) for row in rows}

    def save_user_data(self, user_id: int, data: Mapping[str, Any]) -> None:
        """Store one user's data (an empty mapping forgets it)."""
        check_json(dict(data), what="user data")
        with self._transaction() as session:
            if not data:
                session.execute(delete(UserDataRow).where(UserDataRow.user_id == user_id))
            else:
                session.merge(UserDataRow(user_id=user_id, data=dict(data)))

    # --- for the maintainer commands and the bench --------------------------------------------

    def count_reports(self) -> int:
        """How many reports are stored."""
        with self._transaction(write=False) as session:
            return int(session.scalar(select(func.count()).select_from(ReportRow)) or 0)


def claimable(now: datetime) -> Select[OutboxRow]:
    """The outbox rows due at ``now`` whose lease is free or has run out, oldest first."""
    return (
        select(OutboxRow)
        .where(OutboxRow.next_attempt_at <= now)
        .where(or_(OutboxRow.lease_until.is_(None), OutboxRow.lease_until <= now))
        .order_by(OutboxRow.id)
    )


def open_store(database_url: str, *, daily_limit: int = DEFAULT_DAILY_LIMIT) -> SqlReportStore:
    """Open the reports database, creating or upgrading its schema first.

    Raises DatabaseUnavailable when the database cannot be reached or upgraded.
    """
    prepare_sqlite_file(database_url)
    engine = make_engine(database_url)
    try:
        migrate(engine)
    except (OperationalError, InterfaceError) as exc:
        engine.dispose()
        raise unavailable(exc) from exc
    except CommandError as exc:  # the database is at a revision this code does not know
        engine.dispose()
        raise DatabaseUnavailable(
            f"the reports database's schema is newer than this version of Noziri knows ({exc}): "
            "run the newer version, or restore a backup made before its migration"
        ) from exc
    return SqlReportStore(engine, daily_limit=daily_limit)
