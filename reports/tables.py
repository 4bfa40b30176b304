"""The reports database: one table per kind of row, as SQLAlchemy 2 typed ORM models.

Every timestamp is stored as UTC (:class:`UtcDateTime`: naive UTC text in SQLite, ``timestamptz``
in PostgreSQL) and read back timezone-aware. Chat and user ids are 64-bit (Telegram's ids do not
fit in 32 bits). The migrations in ``reports/migrations/`` build exactly this metadata (a test
compares them).

=============== ===========================================================================
table           holds
=============== ===========================================================================
reports         one row per report, keyed by its reference (``SOM-17-000123``)
report_events   the history of each report, oldest first by ``id``
outbox          the messages owed to chats, until the bot says they were sent; each leased
                to the one bot process sending it (``lease_owner`` until ``lease_until``)
staff_chats     the linked chat of each scope (``SOM-17``, ``duty:sino``)
staff_invites   one-time link codes, as SHA-256 digests only
sector_counters the last reference number given in each sector
conversations   python-telegram-bot conversation states (JSON)
user_data       python-telegram-bot user data: the drafts being written (JSON)
bot_updates     the update ids workers took, leased while handled, then done (redelivery)
bot_buckets     token buckets shared by workers: per-user limits, notices, the send rate
bot_memo        what recent buttons refer to (candidates, sectors, streets), as JSON
=============== ===========================================================================
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Constraint names fixed by convention, so that migrations can name what they alter.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite gives rowids only to INTEGER primary keys; PostgreSQL gets 64-bit ids.
RowId = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on both backends; naive values are refused."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Store UTC; SQLite keeps no zone, so the value goes in naive (and sorts as text)."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("reports store timezone-aware datetimes only")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Read back an aware UTC datetime."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """The reports tables' metadata."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UtcDateTime(),
        int: BigInteger(),
        dict[str, Any]: JSON(),
    }


class ReportRow(Base):
    """A report; ``resident_chat_id`` and ``phone`` become NULL after retention."""

    __tablename__ = "reports"

    reference: Mapped[str] = mapped_column(String(20), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    place_label: Mapped[str] = mapped_column(String(300))
    place_sector_id: Mapped[str] = mapped_column(String(8))
    place_id: Mapped[str | None] = mapped_column(String(32))
    house: Mapped[str | None] = mapped_column(String(64))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    sector_id: Mapped[str] = mapped_column(String(8))
    district: Mapped[str] = mapped_column(String(16))
    occurred: Mapped[str] = mapped_column(String(200))
    occurred_at: Mapped[datetime | None]
    text: Mapped[str | None] = mapped_column(Text)
    voice_file_id: Mapped[str | None] = mapped_column(String(256))
    photo_file_ids: Mapped[list[str]] = mapped_column(JSON)
    phone: Mapped[str | None] = mapped_column(String(32))
    anonymous: Mapped[bool] = mapped_column(Boolean)
    language: Mapped[str] = mapped_column(String(8))
    resident_chat_id: Mapped[int | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # Since when nobody has taken the report up: filed or redirected (PENDING), or delivered.
    waiting_since: Mapped[datetime]
    escalated_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(Text)
    open_question: Mapped[str | None] = mapped_column(Text)
    # While NEEDS_INFO: the status to go back to, and the chat that asked.
    status_before_question: Mapped[str | None] = mapped_column(String(16))
    question_chat_id: Mapped[int | None]

    __table_args__ = (
        Index("ix_reports_resident_created", "resident_chat_id", "created_at"),
        Index("ix_reports_sector_status", "sector_id", "status"),
        Index("ix_reports_status_waiting", "status", "waiting_since"),
        Index("ix_reports_closed_at", "closed_at"),
        Index("ix_reports_created_at", "created_at"),
    )


class EventRow(Base):
    """One line of a report's history."""

    __tablename__ = "report_events"

    id: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=True)
    reference: Mapped[str] = mapped_column(
        String(20), ForeignKey("reports.reference", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(16))
    action: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    text: Mapped[str | None] = mapped_column(Text)


class OutboxRow(Base):
    """A message owed to a chat."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=True)
    reference: Mapped[str] = mapped_column(
        String(20), ForeignKey("reports.reference", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[int]
    event_text: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str | None] = mapped_column(String(16))  # what a STATUS message announces
    attempts: Mapped[int] = mapped_column(Integer)
    # Of a delivery made of several messages (card, album, voice), those already sent.
    parts_sent: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime]
    created_at: Mapped[datetime]
    # The bot process sending it, and until when: nobody else claims it before then.
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_until: Mapped[datetime | None]

    # The claim reads the due rows with a free or expired lease, in the order they were owed.
    __table_args__ = (Index("ix_outbox_claim", "next_attempt_at", "lease_until", "id"),)


class StaffChatRow(Base):
    """The one chat linked to a scope (``str(StaffScope)``)."""

    __tablename__ = "staff_chats"

    scope: Mapped[str] = mapped_column(String(24), primary_key=True)
    chat_id: Mapped[int] = mapped_column(index=True)
    linked_at: Mapped[datetime]


class InviteRow(Base):
    """A one-time link code, known by its SHA-256 digest only."""

    __tablename__ = "staff_invites"

    code_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    scope: Mapped[str] = mapped_column(String(24))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by_chat_id: Mapped[int | None]


class CounterRow(Base):
    """The last reference number given in a sector."""

    __tablename__ = "sector_counters"

    sector_id: Mapped[str] = mapped_column(String(8), primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer)


class ConversationRow(Base):
    """One conversation handler's state for one key (the key as a JSON array)."""

    __tablename__ = "conversations"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    state: Mapped[Any] = mapped_column(JSON)


class UserDataRow(Base):
    """One user's python-telegram-bot ``user_data``."""

    __tablename__ = "user_data"

    user_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    data: Mapped[dict[str, Any]]


# --- what several bot workers share (issue 17): see reports/shared.py ------------------------


class UpdateRow(Base):
    """A Telegram update a worker took: leased while it is handled, then marked done."""

    __tablename__ = "bot_updates"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    owner: Mapped[str] = mapped_column(String(96))
    lease_until: Mapped[datetime] = mapped_column(index=True)
    done_at: Mapped[datetime | None]


class BucketRow(Base):
    """A token bucket (a user's query limit, a notice window, the bot's send rate)."""

    __tablename__ = "bot_buckets"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    tokens: Mapped[float] = mapped_column(Float)
    updated: Mapped[float] = mapped_column(Float, index=True)  # seconds since the epoch


class MemoRow(Base):
    """Something a button of a recent message refers to (a candidate, a sector, a street)."""

    __tablename__ = "bot_memo"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    stored_at: Mapped[datetime] = mapped_column(index=True)
