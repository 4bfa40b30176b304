"""The report flow's pure parts: texts, keyboards, payloads, the draft, and the persistence."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.i18n import LANGUAGES, Catalogue
from bot.render import Reply
from bot.reporting import render
from bot.reporting.draft import STEPS, DraftState, Option, previous_step, read_state
from bot.reporting.persistence import StorePersistence
from bot.reporting.staff import read_redirect, read_staff_press
from reports.model import Action, PlaceRef, Report, ReportKind, ReportStatus
from resolver.gazetteer import District
from tests.bot.reporting import open_sqlite

OPTION = Option(
    place=PlaceRef(label="Rudaki Avenue, house 45", sector_id="SOM-01"),
    inspector="Captain Jamshed Rahimov, sector SOM-01",
)
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def make_report(**overrides: Any) -> Report:
    """A stored report with plausible values."""
    values: dict[str, Any] = {
        "reference": "SOM-01-000007",
        "status": ReportStatus.DELIVERED,
        "kind": ReportKind.INCIDENT,
        "place": OPTION.place,
        "sector_id": "SOM-01",
        "district": District.SOMONI,
        "occurred": "now",
        "occurred_at": T0,
        "text": "A fight <b>outside</b> & shouting",
        "voice_file_id": None,
        "photo_file_ids": (),
        "phone": None,
        "anonymous": True,
        "language": "en",
        "resident_chat_id": 7001,
        "created_at": T0,
        "updated_at": T0,
    }
    return Report(**(values | overrides))


def full_state() -> DraftState:
    """A draft with every step answered."""
    return DraftState(
        kind=ReportKind.NOISE, place=OPTION, occurred="today", text="Loud <music>", phone=None
    )


def payloads(reply: Reply) -> list[str]:
    """Every callback_data of a reply's inline keyboard."""
    rows = getattr(reply.markup, "inline_keyboard", ())
    return [str(button.callback_data) for row in rows for button in row]


def step_replies(catalogue: Catalogue, lang: str) -> dict[str, Reply]:
    """The first prompt of every step."""
    state = full_state().model_copy(update={"origin": OPTION})
    return {
        "gate": render.render_gate(catalogue, lang),
        "kind": render.render_kind(catalogue, lang),
        "place": render.render_place(catalogue, lang, state),
        "when": render.render_when(catalogue, lang),
        "what": render.render_what(catalogue, lang, state),
        "photos": render.render_photos(catalogue, lang, state),
        "contact": render.render_contact(catalogue, lang),
        "notice": render.render_notice(catalogue, lang, retention_days=30),
        "review": render.render_review(catalogue, lang, state),
    }


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_step_has_cancel_and_every_step_but_the_gate_has_back(
    catalogue: Catalogue, lang: str
) -> None:
    for step, reply in step_replies(catalogue, lang).items():
        data = payloads(reply)
        assert f"f:{step}:cancel" in data, step
        assert (f"f:{step}:back" in data) is (step != "gate"), step
        assert all(len(d.encode()) <= 64 for d in data)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_gate_marks_every_102_as_a_phone_number_in_utf16_offsets(
    catalogue: Catalogue, lang: str
) -> None:
    reply = render.render_gate(catalogue, lang)
    phones = [e for e in reply.entities or () if e.type == "phone_number"]
    utf16 = reply.text.encode("utf-16-le")
    assert len(phones) == 2
    for entity in phones:
        start = entity.offset * 2
        assert utf16[start : start + entity.length * 2].decode("utf-16-le") == "102"


def test_the_review_escapes_what_the_resident_wrote(catalogue: Catalogue) -> None:
    text = render.render_review(catalogue, "en", full_state()).text
    assert "Loud &lt;music&gt;" in text and "<music>" not in text
    assert "Anonymous" in text


def test_the_staff_card_escapes_the_text_and_hides_an_anonymous_resident(
    catalogue: Catalogue,
) -> None:
    card = render.render_staff_card(catalogue, "en", make_report())
    assert "A fight &lt;b&gt;outside&lt;/b&gt; &amp; shouting" in card.text
    assert "Anonymous" in card.text and "7001" not in card.text
    assert payloads(card) == [f"s:{code}:SOM-01-000007" for code in "aqrc"]


def test_a_shared_phone_is_on_the_staff_card(catalogue: Catalogue) -> None:
    card = render.render_staff_card(
        catalogue, "en", make_report(phone="+992 00 111 22 33", anonymous=False)
    )
    assert "+992 00 111 22 33" in card.text


def test_a_closed_push_asks_to_confirm_or_dispute(catalogue: Catalogue) -> None:
    report = make_report(status=ReportStatus.CLOSED, outcome="Warned the <owner>")
    push = render.render_status_push(catalogue, "en", report, ReportStatus.CLOSED)
    assert "Warned the &lt;owner&gt;" in push.text
    assert payloads(push) == ["v:c:SOM-01-000007", "v:d:SOM-01-000007"]


def test_a_relayed_question_names_its_reference_for_the_reply(catalogue: Catalogue) -> None:
    relay = render.render_question_relay(catalogue, "ru", "SOM-01-000007", "Какой <дом>?")
    assert render.find_reference(relay.text) == "SOM-01-000007"
    assert "Какой &lt;дом&gt;?" in relay.text


def test_the_history_shows_people_s_texts_but_not_system_notes(catalogue: Catalogue) -> None:
    from reports.model import Actor, ReportEvent

    events = [
        ReportEvent(reference="SOM-01-000007", at=T0, actor=Actor.SYSTEM, action=None,
                    status=ReportStatus.DELIVERED, text="delivered"),
        ReportEvent(reference="SOM-01-000007", at=T0, actor=Actor.STAFF, action=Action.ASK,
                    status=ReportStatus.NEEDS_INFO, text="Which house?"),
    ]  # fmt: skip
    text = render.render_history(catalogue, "en", make_report(), events).text
    assert "«Which house?»" in text and "«delivered»" not in text


@pytest.mark.parametrize("lang", ["tg", "ru", "en"])
def test_the_history_says_the_resident_answered_rather_than_a_status(
    catalogue: Catalogue, lang: str
) -> None:
    from reports.model import Actor, ReportEvent

    answer = ReportEvent(
        reference="SOM-01-000007",
        at=T0,
        actor=Actor.RESIDENT,
        action=Action.ANSWER,
        status=ReportStatus.DELIVERED,
        text="House 9",
    )
    line = render.render_history(catalogue, lang, make_report(), [answer]).text.splitlines()[-1]
    assert catalogue.text(lang, "history_answered") in line and "«House 9»" in line
    assert render.status_text(catalogue, lang, ReportStatus.DELIVERED) not in line


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("s:a:SOM-01-000007", (Action.ACCEPT, "SOM-01-000007")),
        ("s:q:SIN-123-000001", (Action.ASK, "SIN-123-000001")),
        ("s:z:SOM-01-000007", None),
        ("s:a:SOM-01-7", None),
        ("s:a:SOM-01-000007:x", None),
        ("", None),
        (None, None),
    ],
)
def test_staff_payloads_are_read_strictly(data: str | None, expected: object) -> None:
    assert read_staff_press(data) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SOM-04 the house is across the street", ("SOM-04", "the house is across the street")),
        ("som-04: wrong side", ("SOM-04", "wrong side")),
        ("SOM-04", ("SOM-04", "SOM-04")),
        ("the other side", None),
        ("XYZ-04 nope", None),
    ],
)
def test_a_redirect_starts_with_a_sector_code(text: str, expected: object) -> None:
    assert read_redirect(text) == expected


def test_back_goes_one_step_up_and_stops_at_the_gate() -> None:
    assert [previous_step(step) for step in STEPS][:3] == ["gate", "gate", "kind"]
    assert previous_step("review") == "notice"


@pytest.mark.parametrize(
    "raw", [None, {}, {"report": "junk"}, {"report": {"kind": "unknown-kind"}}, {"x": 1}]
)
def test_a_draft_that_no_longer_reads_starts_over(raw: dict[str, Any] | None) -> None:
    assert read_state(raw) == DraftState()


def test_a_finished_draft_becomes_the_store_s_draft() -> None:
    draft = full_state().to_draft("tg")
    assert draft.kind is ReportKind.NOISE and draft.anonymous and draft.language == "tg"
    with pytest.raises(ValueError, match="not finished"):
        DraftState().to_draft("en")


async def test_the_persistence_keeps_conversations_and_user_data(tmp_path: Path) -> None:
    store, later = (
        open_sqlite(tmp_path / "reports.sqlite3"),
        open_sqlite(tmp_path / "reports.sqlite3"),
    )
    persistence = StorePersistence(store)
    await persistence.update_conversation("report", (7001, 7001), "what")
    await persistence.update_user_data(7001, {"report": full_state().model_dump(mode="json")})
    await persistence.update_user_data(7002, {"lang": "tg"})  # no report: nothing is kept
    again = StorePersistence(later)  # another process, the same database
    conversations = await again.get_conversations("report")
    users = await again.get_user_data()
    await again.update_conversation("report", (7001, 7001), None)
    await again.drop_user_data(7001)
    assert conversations == {(7001, 7001): "what"}
    assert read_state(users[7001]) == full_state() and 7002 not in users
    assert await again.get_conversations("report") == {}
    assert 7001 not in await again.get_user_data()
    assert await again.get_bot_data() == {} and await again.get_callback_data() is None
    store.close()
    later.close()
