"""The report a resident is building, step by step: a JSON-able value kept in ``user_data``.

Stored as ``user_data["report"]`` (python-telegram-bot persists it through the ReportStore), so a
restart halfway through keeps every answer given so far. Pure: no Telegram, no clock.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from reports.model import MAX_PHOTOS, Draft, PlaceRef, ReportKind

DRAFT_KEY: Final = "report"
STAFF_KEY: Final = "staff_input"  # the staff action waiting for its text (bot.reporting.staff)
# The only user data kept in the database: a report in progress. The rest (the /lang choice)
# stays in memory, as without reports, so nobody's id is stored for having used the bot.
KEPT_KEYS: Final = frozenset({DRAFT_KEY, STAFF_KEY})
# The steps in order; Back goes one up. "gate" is the emergency message.
GATE, KIND, PLACE, WHEN, WHAT, PHOTOS, CONTACT, NOTICE, REVIEW = (
    "gate", "kind", "place", "when", "what", "photos", "contact", "notice", "review",
)  # fmt: skip
STEPS: Final = (GATE, KIND, PLACE, WHEN, WHAT, PHOTOS, CONTACT, NOTICE, REVIEW)
MAX_OPTIONS: Final = 5


class Option(BaseModel):
    """A place the resident may pick, and who would get the report (rendered when found)."""

    model_config = ConfigDict(frozen=True, extra="ignore", hide_input_in_errors=True)

    place: PlaceRef
    inspector: str = Field(max_length=300)


class DraftState(BaseModel):
    """Every answer so far; fields stay None until their step is answered."""

    # What a resident wrote must not reach a log through a validation error's message.
    model_config = ConfigDict(extra="ignore", validate_assignment=True, hide_input_in_errors=True)

    step: str = GATE  # where the resident is (the conversation's state, kept here too)
    origin: Option | None = None  # the place of the card the resident came from
    kind: ReportKind | None = None
    options: list[Option] = Field(default_factory=list, max_length=MAX_OPTIONS)
    place: Option | None = None
    occurred: str | None = Field(default=None, max_length=200)
    occurred_at: datetime | None = None
    text: str | None = None
    voice_file_id: str | None = None
    photo_file_ids: list[str] = Field(default_factory=list, max_length=MAX_PHOTOS)
    phone: str | None = Field(default=None, max_length=32)

    @property
    def has_story(self) -> bool:
        """Tell whether the resident said what happened (a text or a voice message)."""
        return bool(self.text and self.text.strip()) or self.voice_file_id is not None

    def to_draft(self, language: str) -> Draft:
        """The finished report; raises ValueError if a step is missing."""
        if self.kind is None or self.place is None or self.occurred is None:
            raise ValueError("the report is not finished")
        return Draft(
            kind=self.kind,
            place=self.place.place,
            occurred=self.occurred,
            occurred_at=self.occurred_at,
            text=self.text,
            voice_file_id=self.voice_file_id,
            photo_file_ids=tuple(self.photo_file_ids),
            phone=self.phone,
            language=language,
        )


def previous_step(step: str) -> str:
    """The step Back goes to (the gate stays the gate)."""
    index = STEPS.index(step) if step in STEPS else 0
    return STEPS[max(index - 1, 0)]


def next_step(step: str) -> str:
    """The step after ``step``."""
    index = STEPS.index(step) if step in STEPS else 0
    return STEPS[min(index + 1, len(STEPS) - 1)]


def read_state(user_data: dict[str, Any] | None) -> DraftState:
    """The draft kept in ``user_data``; a new one when there is none or it no longer reads."""
    raw = (user_data or {}).get(DRAFT_KEY)
    if not isinstance(raw, dict):
        return DraftState()
    try:
        return DraftState.model_validate(raw)
    except ValidationError:
        return DraftState()


def keep_state(user_data: dict[str, Any] | None, state: DraftState) -> None:
    """Store the draft back as JSON-able data."""
    if user_data is not None:
        user_data[DRAFT_KEY] = state.model_dump(mode="json")


def drop_state(user_data: dict[str, Any] | None) -> None:
    """Forget the draft (sent or cancelled)."""
    if user_data is not None:
        user_data.pop(DRAFT_KEY, None)
