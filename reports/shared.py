"""What several bot workers share, in the reports database (issue 17).

A worker process keeps nothing a resident relies on in its own memory: when HAProxy sends the
next update of a resident to another worker (the first one died, or was restarted), that worker
finds the same state here.

- **Update ids.** Telegram redelivers an update whose webhook call failed. :meth:`claim_update`
  leases an update to one worker while it is handled; :meth:`finish_update` marks it done, so a
  redelivery is acknowledged without a second answer. A worker killed mid-update leaves a lease
  that runs out, and the redelivery is then handled by another worker.
- **Token buckets.** Per-user query limits, the one-notice-a-window rule, and the bot's overall
  send rate (Telegram's ~30 messages a second is per bot, not per process) are buckets here,
  updated in one transaction each (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's writers take
  turns).
- **Memos.** What the buttons of recent messages refer to (a candidate, a sector, the street a
  chat was asked a house number for), as JSON, kept for a day.

Conversation states and drafts live in the ``conversations`` and ``user_data`` tables of
:class:`reports.store.SqlReportStore`; :mod:`bot.cluster.sync` reloads them per update.
Every method is synchronous: the bot calls them in a thread.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import Engine, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from reports.database import Transactions, make_engine, prepare_sqlite_file
from reports.tables import BucketRow, ConversationRow, MemoRow, UpdateRow, UserDataRow

# Telegram keeps an undelivered update for 24 hours: a record older than that can go.
UPDATE_MEMORY: Final = timedelta(hours=24)
MEMO_MEMORY: Final = timedelta(hours=24)
IDLE_BUCKET_S: Final = 3600.0  # a bucket untouched for an hour is full again: it can go


class UpdateClaim(StrEnum):
    """What a worker may do with an update it received."""

    HANDLE = "handle"  # nobody has it (or a dead worker's lease ran out): handle it
    DONE = "done"  # already answered: acknowledge it and send nothing
    BUSY = "busy"  # another live worker is handling it: ask Telegram to retry later


@dataclass(frozen=True)
class Bucket:
    """A token bucket's rule: ``rate`` tokens a second, at most ``burst`` saved up."""

    rate: float
    burst: float

    def refill(self, tokens: float, elapsed_s: float) -> float:
        """The tokens after ``elapsed_s`` seconds."""
        return min(self.burst, tokens + max(elapsed_s, 0.0) * self.rate)

    def wait_for_one(self, tokens: float) -> float:
        """Seconds until the bucket holds one token."""
        return max(0.0, (1.0 - tokens) / self.rate)


class SqlSharedState:
    """The shared state on the reports database's engine."""

    def __init__(self, engine: Engine) -> None:
        self.transactions = Transactions(engine)
        self._dialect = engine.dialect.name

    # --- update ids -------------------------------------------------------------------------

    def claim_update(
        self, update_id: int, *, owner: str, now: datetime, lease: timedelta
    ) -> UpdateClaim:
        """Lease ``update_id`` to ``owner`` unless it is done or leased to a live worker."""
        with self.transactions.begin() as session:
            self._insert_missing(
                session,
                UpdateRow,
                {"update_id": update_id, "owner": owner, "lease_until": now + lease},
            )
            row = session.scalars(
                select(UpdateRow).where(UpdateRow.update_id == update_id).with_for_update()
            ).one()
            if row.done_at is not None:
                return UpdateClaim.DONE
            if row.owner != owner and row.lease_until > now:
                return UpdateClaim.BUSY
            row.owner, row.lease_until = owner, now + lease
            return UpdateClaim.HANDLE

    def finish_update(self, update_id: int, *, owner: str, now: datetime) -> None:
        """``owner`` answered ``update_id``: a redelivery is only acknowledged from now on."""
        with self.transactions.begin() as session:
            session.execute(
                update(UpdateRow)
                .where(UpdateRow.update_id == update_id, UpdateRow.owner == owner)
                .values(done_at=now)
            )

    def release_update(self, update_id: int, *, owner: str) -> None:
        """``owner`` could not handle ``update_id``: the redelivery may be handled at once."""
        with self.transactions.begin() as session:
            session.execute(
                delete(UpdateRow).where(
                    UpdateRow.update_id == update_id,
                    UpdateRow.owner == owner,
                    UpdateRow.done_at.is_(None),
                )
            )

    # --- token buckets ----------------------------------------------------------------------

    def take(self, key: str, bucket: Bucket, *, now: float) -> float:
        """Take a token from the bucket ``key``: 0.0 when taken, else the seconds to wait."""
        with self.transactions.begin() as session:
            self._insert_missing(
                session, BucketRow, {"key": key, "tokens": bucket.burst, "updated": now}
            )
            row = session.scalars(
                select(BucketRow).where(BucketRow.key == key).with_for_update()
            ).one()
            tokens = bucket.refill(row.tokens, now - row.updated)
            row.updated = max(row.updated, now)
            if tokens >= 1.0:
                row.tokens = tokens - 1.0
                return 0.0
            row.tokens = tokens
            return bucket.wait_for_one(tokens)

    # --- memos ------------------------------------------------------------------------------

    def remember(self, kind: str, key: str, value: str, *, now: datetime) -> None:
        """Keep ``value`` (JSON text) under ``kind``/``key``."""
        self.remember_many([(kind, key, value)], now=now)

    def remember_many(self, entries: Sequence[tuple[str, str, str]], *, now: datetime) -> None:
        """Keep each ``(kind, key, value)`` in one transaction."""
        with self.transactions.begin() as session:
            for kind, key, value in entries:
                session.merge(MemoRow(kind=kind, key=key, value=value, stored_at=now))

    def recall(self, kind: str, key: str) -> str | None:
        """The value kept under ``kind``/``key``, if any."""
        with self.transactions.begin(write=False) as session:
            return session.scalar(
                select(MemoRow.value).where(MemoRow.kind == kind, MemoRow.key == key)
            )

    def forget(self, kind: str, key: str) -> None:
        """Drop what is kept under ``kind``/``key``."""
        with self.transactions.begin() as session:
            session.execute(delete(MemoRow).where(MemoRow.kind == kind, MemoRow.key == key))

    # --- housekeeping -----------------------------------------------------------------------

    def prune(self, *, now: datetime) -> int:
        """Drop update records and memos older than a day and idle buckets; how many rows."""
        with self.transactions.begin() as session:
            dropped = 0
            for statement in (
                delete(UpdateRow).where(UpdateRow.lease_until < now - UPDATE_MEMORY),
                delete(MemoRow).where(MemoRow.stored_at < now - MEMO_MEMORY),
                delete(BucketRow).where(BucketRow.updated < now.timestamp() - IDLE_BUCKET_S),
            ):
                dropped += session.execute(statement).rowcount  # type: ignore[attr-defined]
            return dropped

    def _insert_missing(self, session: Session, table: type, values: dict[str, object]) -> None:
        """Insert a row unless its key exists (two workers may race to the same new key)."""
        dialect = postgresql if self._dialect == "postgresql" else sqlite
        session.execute(dialect.insert(table).values(**values).on_conflict_do_nothing())

    # --- a resident's conversation state and draft (tables of reports.store) -----------------

    def resident_state(
        self, conversations: Sequence[tuple[str, tuple[int | str, ...]]], user_id: int | None
    ) -> tuple[list[object | None], dict[str, Any]]:
        """In one read: the state of each ``(conversation name, key)`` (None: none), and the
        user's stored data (empty when none or no user)."""
        with self.transactions.begin(write=False) as session:
            states = [
                session.scalar(
                    select(ConversationRow.state).where(
                        ConversationRow.name == name, ConversationRow.key == json.dumps(list(key))
                    )
                )
                for name, key in conversations
            ]
            if user_id is None:
                return states, {}
            data = session.scalar(select(UserDataRow.data).where(UserDataRow.user_id == user_id))
            return states, dict(data or {})


def open_shared_state(database_url: str) -> SqlSharedState:
    """The shared state on the reports database (opened, and so migrated, by the store first)."""
    prepare_sqlite_file(database_url)
    return SqlSharedState(make_engine(database_url))
