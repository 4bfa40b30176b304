"""Between the tables and the domain values: rows to reports, events and deliveries, drafts to
rows, reports to export rows; the small pure rules of ids and codes.

Sector ids map to their district by prefix (``SOM`` is Ismoili Somoni: the fictional sectors of
``seed/sectors.yaml`` follow it). Invite codes are 12 letters of an alphabet without look-alikes,
typed in any case with or without dashes, and kept as the SHA-256 of their letters.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import datetime
from typing import Any, Final

from reports.model import (
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
from reports.tables import (
    EventRow,
    OutboxRow,
    ReportRow,
)
from resolver.gazetteer import District

DISTRICT_OF_PREFIX: Final = {
    "SOM": District.SOMONI,
    "SIN": District.SINO,
    "FIR": District.FIRDAVSI,
    "SHM": District.SHOHMANSUR,
}
# Invite codes: 12 letters of an alphabet without look-alikes (no 0/O, 1/I/L): 59 random bits.
CODE_ALPHABET: Final = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH: Final = 12


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
        status=None if row.status is None else ReportStatus(row.status),
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        parts_sent=row.parts_sent,
        lease_owner=row.lease_owner,
        lease_until=row.lease_until,
    )
