"""The :class:`~reports.ports.ReportStore` over SQLAlchemy 2: SQLite by default, or PostgreSQL.

:func:`open_store` builds the engine and upgrades the schema to the newest migration.

- **One transaction per method.** SQLite runs in WAL mode with foreign keys on and a busy
  timeout; its writing transactions start with ``BEGIN IMMEDIATE``, so two processes on one file
  take turns instead of failing half-way. PostgreSQL runs READ COMMITTED: the report a method
  changes is locked (``SELECT … FOR UPDATE``), and a resident's submits take turns on an advisory
  lock, so the daily limit holds under concurrency.
- **References** are ``<sector>-<number>``, numbered per sector by one atomic upsert of
  ``sector_counters`` (unique under concurrency on both backends). A redirect keeps it.
- **The outbox.** Every message a change owes is written in the same transaction as the change;
  the bot sends it and calls :meth:`SqlReportStore.delivered`. A message sent but not yet marked
  is sent again after a crash (at least once); nothing owed is lost.
- **Secrets and texts.** Invite codes are kept as SHA-256 digests only (they are 59 random bits,
  one-time and expiring, so an unsalted digest cannot be reversed by guessing). The engine hides
  bound parameters, so no report text reaches a log or an error message.

Errors: a database that cannot be reached or used raises
:class:`~reports.ports.DatabaseUnavailable` (mapped once, in :meth:`SqlReportStore._transaction`).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final

from sqlalchemy import Engine, create_engine, delete, event, func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from reports.model import (
    MAX_TEXT_CHARS,
    Action,
    Actor,
    Delivery,
    DeliveryPurpose,
    Draft,
    PlaceRef,
    Report,
    ReportEvent,
    ReportKind,
    ReportStatus,
    StaffScope,
)
from reports.ports import (
    ActionRefused,
    DatabaseUnavailable,
    InviteRefused,
    ReportLimitReached,
    UnknownReport,
)
from reports.tables import (
    Base,
    ConversationRow,
    CounterRow,
    EventRow,
    InviteRow,
    OutboxRow,
    ReportRow,
    StaffChatRow,
    UserDataRow,
)
from resolver.gazetteer import District
from search_platform.files import PRIVATE_DIR_MODE, touch_private

DEFAULT_DAILY_LIMIT: Final = 5
LIMIT_WINDOW: Final = timedelta(hours=24)
SQLITE_BUSY_TIMEOUT_S: Final = 30
# The PostgreSQL advisory lock that serialises schema changes ("NOZIRI" in ASCII, as a number).
SCHEMA_LOCK: Final = 0x4E4F5A495249
DISTRICT_OF_PREFIX: Final = {
    "SOM": District.SOMONI,
    "SIN": District.SINO,
    "FIR": District.FIRDAVSI,
    "SHM": District.SHOHMANSUR,
}
# Invite codes: 12 letters of an alphabet without look-alikes (no 0/O, 1/I/L): 59 random bits.
CODE_ALPHABET: Final = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH: Final = 12

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


# ---------------------------------------------------------------- pure helpers


def district_of(sector_id: str) -> District:
    """The district a sector belongs to, by its id's prefix (``SOM-17`` is Ismoili Somoni)."""
    return DISTRICT_OF_PREFIX[sector_id.split("-", 1)[0]]


def parse_scope(scope: str) -> StaffScope:
    """Read back ``str(StaffScope)``: ``SOM-17`` or ``duty:sino``."""
    kind, _, district = scope.partition(":")
    if kind == "duty" and district:
        return StaffScope(duty_district=District(district))
    return StaffScope(sector_id=scope)


def new_invite_code() -> str:
    """A fresh code to type or paste, in groups of four: ``K7QM-2XRP-9DHT``."""
    letters = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(letters[i : i + 4] for i in range(0, CODE_LENGTH, 4))


def invite_digest(code: str) -> str:
    """The SHA-256 of a code as typed, ignoring case, spaces and dashes."""
    canonical = "".join(ch for ch in code.upper() if ch.isalnum())
    return hashlib.sha256(canonical.encode("ascii", "ignore")).hexdigest()


def to_report(row: ReportRow) -> Report:
    """The stored row as the domain value."""
    place = PlaceRef(
        label=row.place_label,
        sector_id=row.place_sector_id,
        place_id=row.place_id,
        house=row.house,
        lat=row.lat,
        lon=row.lon,
    )
    return Report(
        reference=row.reference,
        status=ReportStatus(row.status),
        kind=ReportKind(row.kind),
        place=place,
        sector_id=row.sector_id,
        district=District(row.district),
        occurred=row.occurred,
        occurred_at=row.occurred_at,
        text=row.text,
        voice_file_id=row.voice_file_id,
        photo_file_ids=tuple(row.photo_file_ids),
        phone=row.phone,
        anonymous=row.anonymous,
        language=row.language,
        resident_chat_id=row.resident_chat_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
        escalated_at=row.escalated_at,
        outcome=row.outcome,
        open_question=row.open_question,
    )


def new_report_row(
    draft: Draft, *, reference: str, resident_chat_id: int, now: datetime
) -> ReportRow:
    """The row of a report just filed."""
    sector_id = draft.place.sector_id
    return ReportRow(
        reference=reference,
        status=ReportStatus.PENDING.value,
        kind=draft.kind.value,
        place_label=draft.place.label,
        place_sector_id=sector_id,
        place_id=draft.place.place_id,
        house=draft.place.house,
        lat=draft.place.lat,
        lon=draft.place.lon,
        sector_id=sector_id,
        district=district_of(sector_id).value,
        occurred=draft.occurred,
        occurred_at=draft.occurred_at,
        text=draft.text,
        voice_file_id=draft.voice_file_id,
        photo_file_ids=list(draft.photo_file_ids),
        phone=draft.phone,
        anonymous=draft.anonymous,
        language=draft.language,
        resident_chat_id=resident_chat_id,
        created_at=now,
        updated_at=now,
        waiting_since=now,
    )


def export_row(row: ReportRow) -> dict[str, Any]:
    """One CSV row for the precinct: the report without any chat id."""
    return {
        "reference": row.reference,
        "status": row.status,
        "kind": row.kind,
        "sector_id": row.sector_id,
        "district": row.district,
        "place": row.place_label,
        "place_id": row.place_id,
        "house": row.house,
        "lat": row.lat,
        "lon": row.lon,
        "occurred": row.occurred,
        "occurred_at": row.occurred_at,
        "text": row.text,
        "voice": row.voice_file_id is not None,
        "photos": len(row.photo_file_ids),
        "anonymous": row.anonymous,
        "phone": row.phone,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
        "escalated_at": row.escalated_at,
        "closed_at": row.closed_at,
        "outcome": row.outcome,
    }


def check_json(value: object, *, what: str) -> None:
    """Refuse what the JSON columns could not store, before the transaction starts."""
    try:
        json.dumps(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what} must be JSON-able (dicts, lists, str, int, float, bool)") from exc


# ---------------------------------------------------------------- the engine


def make_engine(database_url: str) -> Engine:
    """An engine for SQLite (WAL, foreign keys, busy timeout, IMMEDIATE writes) or PostgreSQL."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return sqlite_engine(database_url)
    return create_engine(
        url,
        hide_parameters=True,
        pool_pre_ping=True,
        connect_args={"connect_timeout": 10},
    )


def sqlite_engine(database_url: str) -> Engine:
    """SQLite with the transaction handling done by us: DEFERRED reads, IMMEDIATE writes."""
    engine = create_engine(
        database_url,
        hide_parameters=True,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False},
    )
    event.listen(engine, "connect", configure_sqlite_connection)
    event.listen(engine, "begin", begin_sqlite_transaction)
    return engine


def configure_sqlite_connection(connection: Any, _record: Any) -> None:
    """WAL, foreign keys and the busy timeout on every new connection; we issue BEGIN."""
    connection.isolation_level = None  # the driver's own implicit BEGIN is off
    cursor = connection.cursor()
    for pragma in (
        "PRAGMA journal_mode=WAL",
        "PRAGMA foreign_keys=ON",
        f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}",
        "PRAGMA synchronous=NORMAL",
    ):
        cursor.execute(pragma)
    cursor.close()


def begin_sqlite_transaction(connection: Any) -> None:
    """Take the write lock at BEGIN for writers, so no transaction fails to upgrade later."""
    reading = connection.get_execution_options().get("noziri_read", False)
    connection.exec_driver_sql("BEGIN" if reading else "BEGIN IMMEDIATE")


def prepare_sqlite_file(database_url: str) -> None:
    """Create the database file 0600 (and its directory 0700) before SQLite opens it."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return
    path = Path(url.database).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR_MODE)
    touch_private(path)


def unavailable(exc: Exception) -> DatabaseUnavailable:
    """The error to show for a database that cannot be used (no SQL, no parameters)."""
    cause = type(getattr(exc, "orig", None) or exc).__name__
    return DatabaseUnavailable(
        f"the reports database cannot be used ({cause}): check DATABASE_URL and that the "
        "database is running, then run `python -m bot reports migrate`"
    )


# ---------------------------------------------------------------- the store


class SqlReportStore:
    """Reports, history, staff chats, the outbox and bot persistence in one SQL database."""

    def __init__(self, engine: Engine, *, daily_limit: int = DEFAULT_DAILY_LIMIT) -> None:
        self.engine = engine
        self.daily_limit = daily_limit
        self._writer = sessionmaker(engine, expire_on_commit=False)
        self._reader = sessionmaker(
            engine.execution_options(noziri_read=True), expire_on_commit=False
        )
        self._postgres = engine.dialect.name == "postgresql"

    def close(self) -> None:
        """Close the connections of the pool."""
        self.engine.dispose()

    @contextmanager
    def _transaction(self, *, write: bool = True) -> Iterator[Session]:
        """One transaction, committed on success; database failures become DatabaseUnavailable."""
        sessions = self._writer if write else self._reader
        try:
            with sessions.begin() as session:
                yield session
        except (OperationalError, InterfaceError) as exc:
            raise unavailable(exc) from exc

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
            if row.status != before and row.resident_chat_id is not None:
                carried = text if action is Action.CLOSE else None
                owe(
                    session,
                    row,
                    DeliveryPurpose.STATUS,
                    row.resident_chat_id,
                    now=now,
                    text=carried,
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
        """Deliveries whose next attempt is due, in the order they were owed."""
        with self._transaction(write=False) as session:
            rows = session.scalars(
                select(OutboxRow)
                .where(OutboxRow.next_attempt_at <= now)
                .order_by(OutboxRow.id)
                .limit(limit)
            )
            return [to_delivery(row) for row in rows]

    def delivered(self, delivery_id: int, *, now: datetime) -> None:
        """The message was sent: remove it (a NEW_REPORT marks its report DELIVERED).

        An id no longer in the outbox (already marked, or withdrawn by a redirect or an unlink
        while it was being sent) is ignored.
        """
        with self._transaction() as session:
            row = session.get(OutboxRow, delivery_id, with_for_update=True)
            if row is None:
                return
            session.delete(row)
            if row.purpose == DeliveryPurpose.NEW_REPORT.value:
                mark_delivered(session, report_row(session, row.reference, lock=True), now=now)

    def failed(self, delivery_id: int, *, now: datetime, retry_at: datetime) -> None:
        """The chat could not be reached: count the attempt and try again at ``retry_at``."""
        with self._transaction() as session:
            session.execute(
                update(OutboxRow)
                .where(OutboxRow.id == delivery_id)
                .values(attempts=OutboxRow.attempts + 1, next_attempt_at=retry_at)
            )

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


# ---------------------------------------------------------------- inside a transaction


def report_row(session: Session, reference: str, *, lock: bool = False) -> ReportRow:
    """The report's row (locked for update when asked); raises UnknownReport."""
    row = session.get(ReportRow, reference, with_for_update=lock)
    if row is None:
        raise UnknownReport(f"no report {reference!r}: check the reference in /myreports")
    return row


def to_event(row: EventRow) -> ReportEvent:
    """A history row as the domain value."""
    return ReportEvent(
        reference=row.reference,
        at=row.at,
        actor=Actor(row.actor),
        action=Action(row.action) if row.action else None,
        status=ReportStatus(row.status),
        text=row.text,
    )


def to_delivery(row: OutboxRow) -> Delivery:
    """An outbox row as the domain value."""
    return Delivery(
        id=row.id,
        reference=row.reference,
        purpose=DeliveryPurpose(row.purpose),
        chat_id=row.chat_id,
        event_text=row.event_text,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
    )


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
) -> None:
    """Put a message for ``chat_id`` in the outbox, due now."""
    session.add(
        OutboxRow(
            reference=row.reference,
            purpose=purpose.value,
            chat_id=chat_id,
            event_text=text,
            attempts=0,
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
        owe(session, row, DeliveryPurpose.STATUS, row.resident_chat_id, now=now)


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


# ---------------------------------------------------------------- opening


def create_schema(engine: Engine) -> None:
    """Create the tables, one process at a time (the others wait, then find them)."""
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK})
        Base.metadata.create_all(connection)


def open_store(database_url: str, *, daily_limit: int = DEFAULT_DAILY_LIMIT) -> SqlReportStore:
    """Open the reports database, creating or upgrading its schema first.

    Raises DatabaseUnavailable when the database cannot be reached or upgraded.
    """
    prepare_sqlite_file(database_url)
    engine = make_engine(database_url)
    try:
        create_schema(engine)
    except (OperationalError, InterfaceError) as exc:
        engine.dispose()
        raise unavailable(exc) from exc
    return SqlReportStore(engine, daily_limit=daily_limit)
