"""The role the bot depends on: :class:`ReportStore`, and the errors it raises.

The bot (``bot/reporting/``) and the maintainer commands (``python -m bot staff …``, ``python -m
bot reports …``) use only this Protocol; :mod:`reports.store` implements it over SQLAlchemy, and
the tests run the same contract tests against SQLite and a real PostgreSQL.

Every method is one transaction: what it returns is committed. Several bot processes may share
one database: each claims the outbox rows it sends (:meth:`ReportStore.claim_due`), and the
time-driven methods are safe to run from all of them at once. Methods are synchronous (the
database is local or near, each call is a few milliseconds); the bot calls them through
``asyncio.to_thread``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from reports.model import Action, Delivery, Draft, Report, ReportEvent, StaffScope
from resolver.errors import NoziriError


class ReportError(NoziriError):
    """Base of the errors of reports; ``str(error)`` says what to do."""


class ReportLimitReached(ReportError):  # noqa: N818
    """The resident filed the most reports allowed in a day; the message says when to retry."""

    def __init__(self, *, limit: int, retry_at: datetime) -> None:
        self.limit = limit
        self.retry_at = retry_at
        super().__init__(
            f"{limit} reports a day is the most one resident can file; "
            f"try again after {retry_at:%Y-%m-%d %H:%M} UTC, or call 102 in an emergency"
        )


class UnknownReport(ReportError):  # noqa: N818
    """No report has this reference (or it is not this resident's or this staff chat's)."""


class ActionRefused(ReportError):  # noqa: N818
    """The action does not apply to the report in its status, or not from this chat."""


class InviteRefused(ReportError):  # noqa: N818
    """A staff invite code is unknown, used or expired: ask the maintainer for a new one."""


class DatabaseUnavailable(ReportError):  # noqa: N818
    """The reports database cannot be reached or migrated: check DATABASE_URL, then run
    ``python -m bot reports migrate``."""


class ReportStore(Protocol):
    """Reports, their history, staff chats and the outbox of messages owed to chats."""

    # --- residents -------------------------------------------------------------------------

    def submit(self, draft: Draft, *, resident_chat_id: int, now: datetime) -> Report:
        """Store a report with a new reference and owe its delivery to the sector's staff chat.

        The outbox gets a NEW_REPORT delivery when the sector has a staff chat; otherwise the
        report stays PENDING until one is linked (linking owes the waiting ones). Raises
        ReportLimitReached past the daily limit of this resident.
        """
        ...

    def for_resident(self, resident_chat_id: int) -> list[Report]:
        """The resident's reports, newest first (reports past retention are no longer theirs)."""
        ...

    def get(self, reference: str) -> Report:
        """The report; raises UnknownReport."""
        ...

    def history(self, reference: str) -> list[ReportEvent]:
        """The report's events, oldest first; raises UnknownReport."""
        ...

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

        Staff actions are accepted from the report's sector chat, or from its district's duty
        chat once escalated; resident actions only from the resident's chat. ``ASK`` owes a
        QUESTION to the resident, ``ANSWER`` an ANSWER to the staff chat, ``REDIRECT`` a
        NEW_REPORT to the new sector, and every status change a STATUS to the resident. Raises
        UnknownReport or ActionRefused.
        """
        ...

    # --- staff chats -----------------------------------------------------------------------

    def invite(self, scope: StaffScope, *, now: datetime, valid_for: timedelta) -> str:
        """A one-time code for ``/link <code>``; earlier unused codes of the scope stay valid."""
        ...

    def link(self, code: str, *, chat_id: int, now: datetime) -> StaffScope:
        """Make the chat the scope's staff chat; raises InviteRefused if the code is not valid
        or the scope already has a chat (a maintainer unlinks first).

        A sector's chat is owed a NEW_REPORT for each of the sector's open reports (the PENDING
        ones waiting for a chat, and those a previous chat had); a duty chat an ESCALATION for
        each escalated report of its district nobody has accepted.
        """
        ...

    def unlink(self, scope: StaffScope) -> int | None:
        """Forget the scope's staff chat and withdraw what it is still owed (linking owes the
        reports again); returns the chat id it had."""
        ...

    def staff_scopes(self, chat_id: int) -> list[StaffScope]:
        """What a chat is the staff chat of (empty for residents)."""
        ...

    def staff_chats(self) -> dict[str, int]:
        """Every linked scope (``str(scope)``) and its chat id."""
        ...

    # --- the outbox ------------------------------------------------------------------------

    def due(self, *, now: datetime, limit: int = 50) -> list[Delivery]:
        """A look at what a claim would take now (due, lease free or expired), oldest first;
        nothing is claimed. The worker uses :meth:`claim_due`."""
        ...

    def claim_due(
        self, *, now: datetime, owner: str, lease: timedelta, limit: int = 50
    ) -> list[Delivery]:
        """Lease deliveries due at ``now`` to ``owner`` until ``now + lease``, oldest first.

        One transaction takes the due rows whose lease is free or has run out, and marks them
        ``owner``'s: claimers at the same moment (threads, processes) get disjoint rows. A
        process that dies mid-send leaves its rows leased; another claims them once the lease
        runs out. ``lease`` must comfortably exceed one send.
        """
        ...

    def delivered(self, delivery_id: int, *, now: datetime, owner: str) -> bool:
        """The message was sent: remove it from the outbox (and mark a NEW_REPORT DELIVERED).

        Counts only while the row is still leased to ``owner`` (its lease may have run out, as
        long as nobody claimed it since); returns whether it counted. An id no longer in the
        outbox (marked already, withdrawn by a redirect or an unlink while it was being sent),
        or claimed by another owner after this one's lease ran out, is ignored: that owner sends
        it again (at least once: a send that outlasts its lease may reach the chat twice).
        """
        ...

    def failed(self, delivery_id: int, *, now: datetime, retry_at: datetime, owner: str) -> None:
        """The chat could not be reached: count the attempt, free the lease, and try again at
        ``retry_at``. Ignored unless the row is leased to ``owner``."""
        ...

    def sent_part(self, delivery_id: int, *, parts: int, owner: str) -> None:
        """The first ``parts`` messages of a delivery made of several (a report card, its
        photos, its voice message) are sent: a retry sends only the rest. The lease stays.
        Ignored for an unknown id or one not leased to ``owner``."""
        ...

    def release(self, delivery_ids: Sequence[int], *, owner: str) -> int:
        """Free the leases ``owner`` holds on these deliveries without counting an attempt (a
        worker stopping, or running short of lease): they are due at once for any claimer.
        Returns how many were freed."""
        ...

    # --- time-driven -----------------------------------------------------------------------

    def escalate(self, *, now: datetime, after: timedelta) -> list[Report]:
        """Reports delivered longer than ``after`` ago and not accepted: set ``escalated_at``
        and owe an ESCALATION to the district's duty chat. Returns the reports escalated.

        A report still PENDING that long after it was filed or redirected (its sector has no
        chat, or the chat cannot be reached) escalates too: a report that never reaches its
        sector reaches the duty chat all the same. Each report escalates once, also when several
        processes escalate at the same moment.
        """
        ...

    def forget_residents(self, *, closed_before: datetime) -> int:
        """Drop the chat id and phone of reports closed before the cut (and the messages still
        owed to those chats); returns how many."""
        ...

    def export(self, *, sector_id: str | None, since: datetime) -> Iterator[Mapping[str, Any]]:
        """Rows for the precinct's CSV (no chat ids), oldest first."""
        ...

    # --- conversation state (python-telegram-bot persistence) -------------------------------

    def conversations(self, name: str) -> dict[tuple[int | str, ...], object]:
        """Every stored state of a conversation handler, by its key."""
        ...

    def save_conversation(self, name: str, key: tuple[int | str, ...], state: object) -> None:
        """Store (or, for None, forget) one conversation's state; ``state`` is JSON-able."""
        ...

    def user_data(self) -> dict[int, dict[str, Any]]:
        """Every resident's stored draft data (JSON-able), by user id."""
        ...

    def save_user_data(self, user_id: int, data: Mapping[str, Any]) -> None:
        """Store one user's data (an empty mapping forgets it)."""
        ...
