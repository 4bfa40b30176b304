"""Pure texts and keyboards of reports: the steps, the staff card, relays and lists.

Every user text (what happened, questions, answers, notes, typed times) is escaped before it
goes into a template. Button payloads:

    f:<step>:<choice>       a step's button; a press on an earlier step's button is stale
    s:<a|q|r|c>:<ref>       staff: accept, ask (need more info), redirect, close
    v:<c|d>:<ref>           resident: confirm or dispute a closed report
    h:<ref>                 resident: a report's history in /myreports

Staff and resident payloads are not signed: they must still work after a restart (a report is
handled over days), and the store checks that the chat may act on the report.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from html import escape
from typing import Final

from telegram import (
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    MessageEntity,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from bot.i18n import Catalogue
from bot.render import Reply, district_label, officer_name
from bot.reporting.draft import (
    CONTACT,
    GATE,
    KIND,
    NOTICE,
    PHOTOS,
    PLACE,
    REVIEW,
    WHAT,
    WHEN,
    DraftState,
    Option,
)
from reports.model import (
    MAX_PHOTOS,
    Action,
    Report,
    ReportEvent,
    ReportKind,
    ReportStatus,
    StaffScope,
)
from resolver.gazetteer import Sector

EMERGENCY_NUMBER: Final = "102"
MAX_SHOWN_CHARS: Final = 1500  # of what happened, in the review and the staff card's text
# The events whose text the resident sees in the history (questions, answers, notes, reasons).
SHOWN_TEXTS: Final = frozenset(
    {Action.ASK, Action.ANSWER, Action.REDIRECT, Action.CLOSE, Action.DISPUTE}
)
REFERENCE_IN_TEXT: Final = re.compile(r"\b(?:SOM|SIN|FIR|SHM)-[0-9]{2,3}-[0-9]{6}\b")


# --- small pieces -------------------------------------------------------------------------


def step_button(label: str, step: str, choice: str) -> InlineKeyboardButton:
    """A button of one step."""
    return InlineKeyboardButton(label, callback_data=f"f:{step}:{choice}")


def step_keyboard(
    catalogue: Catalogue, lang: str, step: str, rows: Sequence[Sequence[InlineKeyboardButton]]
) -> InlineKeyboardMarkup:
    """The step's own rows, then Back and Cancel (the gate has no Back)."""
    last = [step_button(catalogue.text(lang, "report_cancel"), step, "cancel")]
    if step != GATE:
        last.insert(0, step_button(catalogue.text(lang, "report_back"), step, "back"))
    return InlineKeyboardMarkup([*[list(row) for row in rows], last])


def shorten(text: str, limit: int = MAX_SHOWN_CHARS) -> str:
    """Cut a long text for display (the stored report keeps all of it)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def kind_text(catalogue: Catalogue, lang: str, kind: ReportKind) -> str:
    """Name a kind of report."""
    return catalogue.text(lang, f"report_kind_{kind.value}")


def status_text(catalogue: Catalogue, lang: str, status: ReportStatus) -> str:
    """Name a status."""
    return catalogue.text(lang, f"status_{status.value}")


def inspector_label(catalogue: Catalogue, lang: str, sector: Sector) -> str:
    """Who gets a report of this sector: rank, name, sector (plain text, escaped later)."""
    rank = catalogue.text(lang, f"rank_{sector.officer.rank}")
    return catalogue.text(
        lang, "report_inspector", rank=rank, name=officer_name(sector, lang), sector_id=sector.id
    )


def utf16_length(text: str) -> int:
    """Length in UTF-16 code units, as Telegram counts entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def emergency_entities(text: str) -> tuple[MessageEntity, ...]:
    """Mark every 102 in ``text`` as a phone number (tappable where the client allows) and bold."""
    entities: list[MessageEntity] = []
    for match in re.finditer(rf"(?<!\d){EMERGENCY_NUMBER}(?!\d)", text):
        offset, length = utf16_length(text[: match.start()]), utf16_length(EMERGENCY_NUMBER)
        entities.append(MessageEntity(MessageEntity.PHONE_NUMBER, offset, length))
        entities.append(MessageEntity(MessageEntity.BOLD, offset, length))
    return tuple(entities)


# --- the resident's steps -----------------------------------------------------------------


def render_gate(catalogue: Catalogue, lang: str) -> Reply:
    """The emergency gate: call 102 now; one Continue button for everyone else."""
    text = catalogue.text(lang, "report_gate")
    markup = step_keyboard(
        catalogue, lang, GATE, [[step_button(catalogue.text(lang, "report_continue"), GATE, "go")]]
    )
    return Reply(text, markup, entities=emergency_entities(text))


def render_kind(catalogue: Catalogue, lang: str) -> Reply:
    """Ask what the resident reports."""
    rows = [
        [step_button(kind_text(catalogue, lang, kind), KIND, kind.value)] for kind in ReportKind
    ]
    return Reply(
        catalogue.text(lang, "report_kind_prompt"), step_keyboard(catalogue, lang, KIND, rows)
    )


def render_place(catalogue: Catalogue, lang: str, state: DraftState) -> Reply:
    """Ask where: the card's place as a button, else a typed address or a shared location."""
    rows = []
    if state.origin is not None:
        label = catalogue.text(lang, "report_place_card", place=state.origin.place.label)
        rows.append([step_button(label[:64], PLACE, "card")])
    return Reply(
        catalogue.text(lang, "report_place_prompt"), step_keyboard(catalogue, lang, PLACE, rows)
    )


def render_location_request(catalogue: Catalogue, lang: str) -> Reply:
    """The reply keyboard with the "send my location" button, for the place step."""
    button = KeyboardButton(catalogue.text(lang, "location_button"), request_location=True)
    markup = ReplyKeyboardMarkup([[button]], resize_keyboard=True, one_time_keyboard=True)
    return Reply(catalogue.text(lang, "report_place_location_hint"), markup)


def render_place_options(catalogue: Catalogue, lang: str, options: Sequence[Option]) -> Reply:
    """Show who will get the report from each place found; one button per place."""
    if len(options) == 1:
        option = options[0]
        text = catalogue.text(
            lang,
            "report_place_found",
            place=escape(option.place.label),
            inspector=escape(option.inspector),
        )
        rows = [[step_button(catalogue.text(lang, "report_place_yes"), PLACE, "pick0")]]
        return Reply(text, step_keyboard(catalogue, lang, PLACE, rows))
    lines = [catalogue.text(lang, "report_place_choose")]
    lines += [
        f"{n}. {escape(o.place.label)} — {escape(o.inspector)}" for n, o in enumerate(options, 1)
    ]
    rows = [
        [step_button(f"{n}. {o.place.label}"[:64], PLACE, f"pick{n - 1}")]
        for n, o in enumerate(options, 1)
    ]
    return Reply("\n".join(lines), step_keyboard(catalogue, lang, PLACE, rows))


def render_when(catalogue: Catalogue, lang: str) -> Reply:
    """Ask when: now, today, or a typed time."""
    rows = [
        [
            step_button(catalogue.text(lang, "report_when_now"), WHEN, "now"),
            step_button(catalogue.text(lang, "report_when_today"), WHEN, "today"),
        ]
    ]
    return Reply(
        catalogue.text(lang, "report_when_prompt"), step_keyboard(catalogue, lang, WHEN, rows)
    )


def render_what(catalogue: Catalogue, lang: str, state: DraftState) -> Reply:
    """Ask what happened; once there is a text or a voice, offer Next."""
    key = "report_what_got" if state.has_story else "report_what_prompt"
    rows = []
    if state.has_story:
        rows.append([step_button(catalogue.text(lang, "report_next"), WHAT, "next")])
    return Reply(catalogue.text(lang, key), step_keyboard(catalogue, lang, WHAT, rows))


def render_photos(catalogue: Catalogue, lang: str, state: DraftState) -> Reply:
    """Ask for photos (or say how many there are), with Done."""
    count = len(state.photo_file_ids)
    if count == 0:
        text = catalogue.text(lang, "report_photos_prompt", limit=MAX_PHOTOS)
    else:
        text = catalogue.text(lang, "report_photo_got", count=count, limit=MAX_PHOTOS)
    rows = [[step_button(catalogue.text(lang, "report_done"), PHOTOS, "done")]]
    return Reply(text, step_keyboard(catalogue, lang, PHOTOS, rows))


def render_contact(catalogue: Catalogue, lang: str) -> Reply:
    """Ask whether the inspector may call: the phone button comes in the next message."""
    rows = [[step_button(catalogue.text(lang, "report_contact_anonymous"), CONTACT, "anon")]]
    return Reply(
        catalogue.text(lang, "report_contact_prompt"), step_keyboard(catalogue, lang, CONTACT, rows)
    )


def render_contact_request(catalogue: Catalogue, lang: str) -> Reply:
    """The reply keyboard with the "share my phone" button (Telegram sends the user's own)."""
    button = KeyboardButton(catalogue.text(lang, "report_contact_button"), request_contact=True)
    markup = ReplyKeyboardMarkup([[button]], resize_keyboard=True, one_time_keyboard=True)
    return Reply(catalogue.text(lang, "report_contact_hint"), markup)


def render_contact_chosen(catalogue: Catalogue, lang: str, state: DraftState) -> Reply:
    """Confirm the choice and take the reply keyboard away."""
    key = "report_contact_kept" if state.phone else "report_contact_hidden"
    return Reply(catalogue.text(lang, key), ReplyKeyboardRemove())


def render_notice(catalogue: Catalogue, lang: str, *, retention_days: int) -> Reply:
    """Warn about false reports and say how the data is used and how long it is kept."""
    rows = [[step_button(catalogue.text(lang, "report_notice_ok"), NOTICE, "ok")]]
    text = catalogue.text(lang, "report_notice", days=retention_days)
    return Reply(text, step_keyboard(catalogue, lang, NOTICE, rows))


def summary_lines(catalogue: Catalogue, lang: str, state: DraftState) -> list[str]:
    """The report as the resident will send it, one line per answer."""
    t = catalogue.text
    lines = []
    if state.kind is not None:
        lines.append(
            t(lang, "report_line_kind", kind=escape(kind_text(catalogue, lang, state.kind)))
        )
    if state.place is not None:
        lines.append(t(lang, "report_line_place", place=escape(state.place.place.label)))
        lines.append(t(lang, "report_line_inspector", inspector=escape(state.place.inspector)))
    if state.occurred is not None:
        lines.append(
            t(lang, "report_line_when", when=escape(occurred_text(catalogue, lang, state.occurred)))
        )
    if state.text:
        lines.append(t(lang, "report_line_text", text=escape(shorten(state.text))))
    if state.voice_file_id:
        lines.append(t(lang, "report_line_voice"))
    lines.append(t(lang, "report_line_photos", count=len(state.photo_file_ids)))
    phone = escape(state.phone) if state.phone else t(lang, "report_anonymous")
    lines.append(t(lang, "report_line_phone", phone=phone))
    return lines


def occurred_text(catalogue: Catalogue, lang: str, occurred: str) -> str:
    """Show "now" and "today" in the reader's language, a typed time as typed."""
    if occurred in ("now", "today"):
        return catalogue.text(lang, f"report_when_{occurred}")
    return occurred


def render_review(catalogue: Catalogue, lang: str, state: DraftState) -> Reply:
    """The whole report, then Send."""
    text = "\n".join(
        [catalogue.text(lang, "report_review"), *summary_lines(catalogue, lang, state)]
    )
    rows = [[step_button(catalogue.text(lang, "report_send"), REVIEW, "send")]]
    return Reply(text, step_keyboard(catalogue, lang, REVIEW, rows))


def render_sent(catalogue: Catalogue, lang: str, reference: str) -> Reply:
    """The reference number, at once."""
    return Reply(
        catalogue.text(lang, "report_sent", reference=escape(reference)), ReplyKeyboardRemove()
    )


def render_limit(catalogue: Catalogue, lang: str, *, limit: int, retry_at: datetime) -> Reply:
    """The daily limit, kindly, with 102 for emergencies."""
    text = catalogue.text(lang, "report_limit", limit=limit, retry=f"{retry_at:%Y-%m-%d %H:%M}")
    return Reply(text, entities=emergency_entities(text))


def render_text(catalogue: Catalogue, lang: str, key: str, **values: object) -> Reply:
    """A one-line message of the reporting catalogue (values already escaped)."""
    return Reply(catalogue.text(lang, key, **values))


# --- the staff chat -----------------------------------------------------------------------


def staff_keyboard(catalogue: Catalogue, lang: str, reference: str) -> InlineKeyboardMarkup:
    """Accept / Need more info / Redirect / Close."""
    t = catalogue.text

    def button(key: str, code: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(t(lang, key), callback_data=f"s:{code}:{reference}")

    return InlineKeyboardMarkup(
        [
            [button("staff_accept", "a"), button("staff_ask", "q")],
            [button("staff_redirect", "r"), button("staff_close", "c")],
        ]
    )


def render_staff_card(
    catalogue: Catalogue, lang: str, report: Report, *, escalated: bool = False
) -> Reply:
    """The report for the staff chat: kind, place, time, text, phone or anonymous, reference."""
    t = catalogue.text
    title = "staff_escalated_title" if escalated else "staff_title"
    lines = [
        t(lang, title, reference=escape(report.reference)),
        t(lang, "report_line_kind", kind=escape(kind_text(catalogue, lang, report.kind))),
        t(lang, "report_line_place", place=escape(report.place.label)),
        t(
            lang,
            "staff_line_sector",
            sector_id=escape(report.sector_id),
            district=escape(district_label(report.district, lang)),
        ),
        t(lang, "report_line_when", when=escape(occurred_text(catalogue, lang, report.occurred))),
    ]
    if report.text:
        lines.append(t(lang, "report_line_text", text=escape(shorten(report.text))))
    if report.voice_file_id:
        lines.append(t(lang, "staff_line_voice"))
    if report.photo_file_ids:
        lines.append(t(lang, "report_line_photos", count=len(report.photo_file_ids)))
    phone = escape(report.phone) if report.phone else t(lang, "staff_anonymous")
    lines.append(t(lang, "report_line_phone", phone=phone))

    return Reply("\n".join(lines), staff_keyboard(catalogue, lang, report.reference))


def render_staff_prompt(catalogue: Catalogue, lang: str, action: str, reference: str) -> Reply:
    """Ask the inspector for the question, the outcome note, or the sector and reason."""
    return Reply(
        catalogue.text(lang, f"staff_{action}_prompt", reference=escape(reference)),
        ForceReply(),
    )


def render_answer_relay(catalogue: Catalogue, lang: str, reference: str, answer: str) -> Reply:
    """The resident's answer, as text only (never forwarded: no identity travels)."""
    text = catalogue.text(
        lang, "relay_answer", reference=escape(reference), answer=escape(shorten(answer))
    )
    return Reply(text, staff_keyboard(catalogue, lang, reference))


def render_linked(catalogue: Catalogue, lang: str, scope: StaffScope) -> Reply:
    """Say what the chat now receives."""
    if scope.sector_id is not None:
        return Reply(catalogue.text(lang, "link_ok", sector_id=escape(scope.sector_id)))
    district = district_label(str(scope.duty_district), lang)
    return Reply(catalogue.text(lang, "link_ok_duty", district=escape(district)))


# --- the resident's side after Send -------------------------------------------------------


def render_question_relay(catalogue: Catalogue, lang: str, reference: str, question: str) -> Reply:
    """The inspector's question, to answer by replying to this message."""
    text = catalogue.text(
        lang, "relay_question", reference=escape(reference), question=escape(shorten(question))
    )
    return Reply(text, ForceReply(input_field_placeholder=reference))


def verdict_keyboard(catalogue: Catalogue, lang: str, reference: str) -> InlineKeyboardMarkup:
    """Confirm / Dispute a closed report."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    catalogue.text(lang, "verdict_confirm"), callback_data=f"v:c:{reference}"
                ),
                InlineKeyboardButton(
                    catalogue.text(lang, "verdict_dispute"), callback_data=f"v:d:{reference}"
                ),
            ]
        ]
    )


def render_status_push(
    catalogue: Catalogue, lang: str, report: Report, status: ReportStatus
) -> Reply:
    """A status change for the resident; a closed report asks to confirm or dispute."""
    reference = escape(report.reference)
    if status is ReportStatus.CLOSED:
        outcome = escape(shorten(report.outcome or "—"))
        text = catalogue.text(lang, "relay_closed", reference=reference, outcome=outcome)
        return Reply(text, verdict_keyboard(catalogue, lang, report.reference))
    return Reply(
        catalogue.text(
            lang,
            "relay_status",
            reference=reference,
            status=escape(status_text(catalogue, lang, status)),
        )
    )


def render_my_reports(catalogue: Catalogue, lang: str, reports: Sequence[Report]) -> Reply:
    """The resident's reports, newest first, each a button that shows its history."""
    if not reports:
        return Reply(catalogue.text(lang, "myreports_none"))
    lines = [catalogue.text(lang, "myreports_title")]
    rows = []
    for report in reports[:20]:
        status = status_text(catalogue, lang, report.status)
        kind = kind_text(catalogue, lang, report.kind)
        lines.append(f"• <b>{escape(report.reference)}</b> · {escape(kind)} · {escape(status)}")
        rows.append([InlineKeyboardButton(report.reference, callback_data=f"h:{report.reference}")])
    return Reply("\n".join(lines), InlineKeyboardMarkup(rows))


def render_history(
    catalogue: Catalogue, lang: str, report: Report, events: Sequence[ReportEvent]
) -> Reply:
    """A report's history, oldest first: when, the status after, and the text it carried."""
    status = escape(status_text(catalogue, lang, report.status))
    lines = [
        catalogue.text(lang, "history_title", reference=escape(report.reference), status=status)
    ]
    for event in events:
        line = f"{event.at:%Y-%m-%d %H:%M} · {escape(event_label(catalogue, lang, event))}"
        if event.text and event.action in SHOWN_TEXTS:  # system events' texts are not for people
            line += f": «{escape(shorten(event.text, 300))}»"
        lines.append(line)
    markup = (
        verdict_keyboard(catalogue, lang, report.reference)
        if report.status is ReportStatus.CLOSED
        else None
    )
    return Reply("\n".join(lines), markup)


def event_label(catalogue: Catalogue, lang: str, event: ReportEvent) -> str:
    """What a line of the history says happened: the resident's own answer, or the status."""
    if event.action is Action.ANSWER:
        return catalogue.text(lang, "history_answered")
    return status_text(catalogue, lang, event.status)


def find_reference(text: str | None) -> str | None:
    """The first reference number in a message the bot sent (a relayed question)."""
    match = REFERENCE_IN_TEXT.search(text or "")
    return match.group(0) if match else None
