"""The domain values of reports: what a resident files, what the store keeps, what it sends.

Pure data. Every timestamp is timezone-aware UTC. A report's sector is fictional police data
(see ``seed/sectors.yaml``); its place is a real place of the gazetteer, or a shared point.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Final

from pydantic import BaseModel, ConfigDict, Field, model_validator

from resolver.gazetteer import SECTOR_ID_PATTERN, District

MAX_PHOTOS: Final = 5
MAX_TEXT_CHARS: Final = 4000
# SOM-17-000123: the sector the report was filed to, then a number per sector.
REFERENCE_PATTERN: Final = r"^(SOM|SIN|FIR|SHM)-[0-9]{2,3}-[0-9]{6}$"


class Frozen(BaseModel):
    """Immutable values that reject unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class ReportKind(StrEnum):
    """What the resident reports (the first step of the flow)."""

    INCIDENT = "incident"  # witnessed an incident
    COMPLAINT = "complaint"
    NOISE = "noise"  # noise or neighbours
    OTHER = "other"


class ReportStatus(StrEnum):
    """Where a report is. ``PENDING`` until it is in a staff chat; the resident sees every change.

    ========== ============================================= ==========================
    status     moves on by                                   to
    ========== ============================================= ==========================
    PENDING    delivery to the staff chat (system)            DELIVERED
    DELIVERED  accept / ask / close / redirect (staff)        ACCEPTED / NEEDS_INFO /
                                                              CLOSED / PENDING (new sector)
    ACCEPTED   ask / close / redirect (staff)                 NEEDS_INFO / CLOSED / PENDING
    NEEDS_INFO answer (resident); close / redirect (staff)    back where it was / CLOSED /
                                                              PENDING
    CLOSED     confirm / dispute (resident)                   CONFIRMED / DISPUTED
    ========== ============================================= ==========================

    Staff may also accept, ask, close or redirect a PENDING report: their chat may show it before
    the delivery is recorded, and a duty chat gets escalated reports that never reached a sector.

    Escalation (nobody accepted in time) is not a status: ``Report.escalated_at`` is set and the
    report also goes to the district's duty chat, whose staff may act on it like the sector's.
    """

    PENDING = "pending"
    DELIVERED = "delivered"
    ACCEPTED = "accepted"
    NEEDS_INFO = "needs_info"
    CLOSED = "closed"
    CONFIRMED = "confirmed"
    DISPUTED = "disputed"


class Action(StrEnum):
    """What someone does to a report; :meth:`reports.ports.ReportStore.act` checks who may."""

    ACCEPT = "accept"  # staff
    ASK = "ask"  # staff: "Need more info", with the question as text
    ANSWER = "answer"  # resident: the answer to the question, as text
    REDIRECT = "redirect"  # staff: to another sector (``to_sector``), with a reason as text
    CLOSE = "close"  # staff, with the outcome note as text
    CONFIRM = "confirm"  # resident, after CLOSED
    DISPUTE = "dispute"  # resident, after CLOSED, with a reason as text (optional)


class Actor(StrEnum):
    """Who did something."""

    RESIDENT = "resident"
    STAFF = "staff"
    SYSTEM = "system"  # delivery, escalation, retention


class PlaceRef(Frozen):
    """Where it happened, and so which sector receives the report."""

    label: str = Field(min_length=1, max_length=300)  # as shown to the resident and the inspector
    sector_id: str = Field(pattern=SECTOR_ID_PATTERN)
    place_id: str | None = None  # a gazetteer place; None for a shared point
    house: str | None = None
    lat: float | None = None
    lon: float | None = None


class Draft(Frozen):
    """A report as the resident finished it, before Send. Media are Telegram file ids only."""

    kind: ReportKind
    place: PlaceRef
    occurred: str = Field(min_length=1, max_length=200)  # "now", "today" or the typed time
    occurred_at: datetime | None = None  # when the step could read a moment
    text: str | None = Field(default=None, max_length=MAX_TEXT_CHARS)
    voice_file_id: str | None = None
    photo_file_ids: tuple[str, ...] = Field(default=(), max_length=MAX_PHOTOS)
    phone: str | None = Field(default=None, max_length=32)  # None: anonymous to the inspector
    language: str = "ru"

    @model_validator(mode="after")
    def _says_what_happened(self) -> Draft:
        if not (self.text and self.text.strip()) and self.voice_file_id is None:
            raise ValueError("a report needs a text or a voice message")
        return self

    @property
    def anonymous(self) -> bool:
        """True when the inspector gets no way to reach the resident but through the bot."""
        return self.phone is None


class Report(Frozen):
    """A stored report. ``resident_chat_id`` and ``phone`` become None after retention."""

    reference: str = Field(pattern=REFERENCE_PATTERN)
    status: ReportStatus
    kind: ReportKind
    place: PlaceRef
    sector_id: str = Field(pattern=SECTOR_ID_PATTERN)  # now; differs from place's after redirect
    district: District
    occurred: str
    occurred_at: datetime | None
    text: str | None
    voice_file_id: str | None
    photo_file_ids: tuple[str, ...]
    phone: str | None
    anonymous: bool
    language: str
    resident_chat_id: int | None
    created_at: datetime
    updated_at: datetime
    escalated_at: datetime | None = None
    outcome: str | None = None  # the inspector's closing note
    open_question: str | None = None  # set while NEEDS_INFO


class ReportEvent(Frozen):
    """One line of a report's history, oldest first in :meth:`ReportStore.history`."""

    reference: str
    at: datetime
    actor: Actor
    action: Action | None  # None for system events (delivered, escalated, redirected in)
    status: ReportStatus  # the status after the event
    text: str | None = None


class DeliveryPurpose(StrEnum):
    """Why a message must reach a chat; the bot renders it from the report at send time."""

    NEW_REPORT = "new_report"  # the report, its photos and voice, to the sector's staff chat
    ESCALATION = "escalation"  # the same, to the district's duty chat
    QUESTION = "question"  # the inspector's question, relayed to the resident
    ANSWER = "answer"  # the resident's answer, relayed to the staff chat
    STATUS = "status"  # a status change, pushed to the resident


class Delivery(Frozen):
    """A row of the outbox: one message owed to one chat, retried until it is sent."""

    id: int
    reference: str
    purpose: DeliveryPurpose
    chat_id: int
    event_text: str | None  # the question, answer or outcome it carries
    status: ReportStatus | None = None  # the status a STATUS message announces
    attempts: int
    next_attempt_at: datetime
    parts_sent: int = 0  # of a delivery made of several messages, those already sent
    lease_owner: str | None = None  # the bot process that claimed it (see ReportStore.claim_due)
    lease_until: datetime | None = None  # until when nobody else may claim it


class StaffScope(Frozen):
    """What a staff chat answers for: one sector's reports, or a district's escalations."""

    sector_id: str | None = Field(default=None, pattern=SECTOR_ID_PATTERN)
    duty_district: District | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> StaffScope:
        if (self.sector_id is None) == (self.duty_district is None):
            raise ValueError("a staff scope is a sector or a district's duty chat, not both")
        return self

    def __str__(self) -> str:
        return self.sector_id or f"duty:{self.duty_district}"
