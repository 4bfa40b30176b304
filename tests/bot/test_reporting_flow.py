"""Issue 15 end to end: a resident reports, the inspector handles it, through the fake Bot API.

The real application over real HTTP, with the real SQLite ReportStore (see ``reporting.py``).
"""

from __future__ import annotations

import logging

import pytest

from bot.handlers import BotServices
from bot.reporting.services import ReportPolicy
from bot.throttle import QueryLimiter
from reports.model import ReportStatus
from tests.bot.conftest import MakeServices
from tests.bot.fakes import FakeResolver, ambiguous, make_candidate, make_officer, make_sector
from tests.bot.reporting import (
    DUTY,
    FAST,
    INSPECTOR,
    OTHER,
    OTHER_STAFF,
    RESIDENT,
    SOM_01,
    SOM_02,
    SOMONI_DUTY,
    STAFF,
    Rig,
    ShiftedClock,
    eventually,
    file_report,
    running_bot,
    texts,
)


@pytest.fixture
def db(database_url: str) -> str:
    """The test's reports database: a SQLite file, then a database of a real PostgreSQL (the
    store's contract-test fixtures: skipped without PostgreSQL's binaries, failing in CI)."""
    return database_url


def staff_texts(rig: Rig, chat_id: int) -> str:
    """Everything the bot sent to a chat."""
    return texts(rig.api.sent_to(chat_id))


# --- the resident's side ------------------------------------------------------------------


async def test_the_gate_comes_first_with_102_marked_as_a_phone_number(
    make_services: MakeServices, db: str
) -> None:
    async with running_bot(make_services, db) as rig:
        [gate] = await rig.resident.say("/report")
    assert gate.params["text"].startswith("🚨 If someone is in danger, call 102 now.")
    entities = gate.params["entities"]
    assert {"type": "phone_number", "offset": 33, "length": 3} in entities
    rows = gate.params["reply_markup"]["inline_keyboard"]
    assert [b["callback_data"] for row in rows for b in row] == ["f:gate:go", "f:gate:cancel"]


async def test_an_anonymous_report_with_photos_and_voice_reaches_the_staff_chat(
    make_services: MakeServices, db: str
) -> None:
    async with running_bot(make_services, db) as rig:
        await rig.link(STAFF, SOM_01)
        since = rig.api.mark()
        reference = await file_report(rig, photos=("ph-1", "ph-2", "ph-3"), voice="vo-1")
        await rig.staff_gets(STAFF.id, since, method="sendVoice")
        card = staff_texts(rig, STAFF.id)
        album = rig.api.sent_to(STAFF.id, "sendMediaGroup")
        voice = rig.api.sent_to(STAFF.id, "sendVoice")
        await eventually(lambda: rig.store.get(reference).status is ReportStatus.DELIVERED)
    assert reference.startswith("SOM-01-")
    assert "Two men broke the kiosk window" in card and "Anonymous" in card
    assert [m["media"] for m in album[0].params["media"]] == ["ph-1", "ph-2", "ph-3"]
    assert voice[0].params["voice"] == "vo-1"
    assert str(RESIDENT.id) not in card and RESIDENT.first_name not in card
    assert not [c for c in rig.api.calls if c.method == "forwardMessage"]


async def test_a_shared_phone_is_shown_and_someone_elses_contact_is_refused(
    make_services: MakeServices, db: str
) -> None:
    async with running_bot(make_services, db) as rig:
        await rig.link(STAFF, SOM_01)
        resident = rig.resident
        await resident.say("/report")
        for press in ("f:gate:go", "f:kind:complaint"):
            await resident.press(press)
        await resident.say("Rudaki 45")
        for press in ("f:place:pick0", "f:when:today"):
            await resident.press(press)
        await resident.say("The neighbours' dog bites")
        await resident.press("f:what:next")
        await resident.press("f:photos:done")
        foreign = await resident.send(
            lambda: rig.api.share_contact(RESIDENT, "+992 00 999 99 99", owner_id=1)
        )
        own = await resident.send(lambda: rig.api.share_contact(RESIDENT, "+992 00 111 22 33"))
        await resident.press("f:notice:ok")
        review = await resident.press("f:review:send")
        since = rig.api.mark()
        await rig.staff_gets(STAFF.id, 0)
        card = staff_texts(rig, STAFF.id)
    assert "not someone else's contact" in texts(foreign)
    assert "Your phone will be shown to the inspector." in texts(own)
    assert "+992 00 111 22 33" in card and "+992 00 999 99 99" not in card
    assert "registered" in texts(review) and since


async def test_a_shared_location_goes_to_the_sector_that_holds_it(
    make_services: MakeServices, db: str
) -> None:
    async with running_bot(make_services, db) as rig:
        reference = await file_report(rig, place="location")
    assert reference.startswith("SOM-02-")


async def test_the_card_button_starts_a_report_with_the_cards_place(
    make_services: MakeServices, db: str
) -> None:
    async with running_bot(make_services, db) as rig:
        [card] = await rig.resident.say("Rudaki 45")
        await rig.resident.press("rp:")
        await rig.resident.press("f:gate:go")
        place = await rig.resident.press("f:kind:noise")
        when = await rig.resident.press("f:place:card")
    [prompt, _location_button] = [c for c in place if c.method == "sendMessage"]
    labels = [b["text"] for row in prompt.params["reply_markup"]["inline_keyboard"] for b in row]
    assert "Report to this inspector" in str(card.params["reply_markup"])
    assert labels[0] == "📍 Rudaki Avenue, house 45"
    assert "When did it happen?" in texts(when)


async def test_back_goes_one_step_up_and_cancel_drops_the_draft(
    make_services: MakeServices, db: str
) -> None:
    async with running_bot(make_services, db) as rig:
        await rig.resident.say("/report")
        await rig.resident.press("f:gate:go")
        await rig.resident.press("f:kind:other")
        back = await rig.resident.press("f:place:back")
        stale = await rig.resident.press("f:gate:go")  # the gate's button, pressed on the kind step
        cancelled = await rig.resident.press("f:kind:cancel")
        after = await rig.resident.say("hello")
    assert "What do you want to report?" in texts(back)
    assert "earlier step" in str(stale[0].params.get("text"))
    assert "cancelled" in texts(cancelled)
    assert "Hello!" in texts(after)  # out of the flow: the ordinary bot answers


async def test_a_sixth_photo_is_refused_politely(make_services: MakeServices, db: str) -> None:
    async with running_bot(make_services, db) as rig:
        resident = rig.resident
        await resident.say("/report")
        await resident.press("f:gate:go")
        await resident.press("f:kind:incident")
        await resident.say("Rudaki 45")
        await resident.press("f:place:pick0")
        await resident.press("f:when:now")
        await resident.say("A car on the pavement")
        await resident.press("f:what:next")
        answers = [
            await resident.send(lambda n=n: rig.api.send_photo_from(RESIDENT, f"p{n}"))  # type: ignore[misc]
            for n in range(6)
        ]
    assert "Photo 5 of 5 added" in texts(answers[4])
    assert "5 photos at most" in texts(answers[5])
    assert all(len(answer) == 1 for answer in answers)


async def test_the_daily_limit_is_said_kindly_with_102(
    make_services: MakeServices, db: str
) -> None:
    async with running_bot(make_services, db, daily_limit=1) as rig:
        await file_report(rig)
        with pytest.raises(AssertionError):
            await file_report(rig)
        last = rig.api.sent_to(RESIDENT.id, "sendMessage")[-1]
    assert "1 reports today" in last.params["text"] and "call 102" in last.params["text"]
    assert any(e["type"] == "phone_number" for e in last.params["entities"])


async def test_myreports_lists_the_reports_and_a_press_shows_the_history(
    make_services: MakeServices, db: str
) -> None:
    async with running_bot(make_services, db) as rig:
        reference = await file_report(rig)
        [listing] = await rig.resident.say("/myreports")
        history = await rig.resident.press("h:")
    assert (
        reference in listing.params["text"]
        and "Waiting for the inspector" in listing.params["text"]
    )
    assert reference in texts(history)


# --- the inspector's side -----------------------------------------------------------------


async def test_linking_owes_the_reports_that_waited_for_the_chat(
    make_services: MakeServices, db: str
) -> None:
    async with running_bot(make_services, db) as rig:
        reference = await file_report(rig)  # no staff chat yet: the report waits
        linked = await rig.link(STAFF, SOM_01)
        await eventually(lambda: reference in staff_texts(rig, STAFF.id))
        refused = await rig.link(OTHER_STAFF, SOM_01)  # nobody else can claim the sector
    assert "staff chat of sector SOM-01" in texts(linked)
    assert "not valid" in texts(refused)


async def test_need_more_info_goes_to_the_resident_and_the_answer_comes_back(
    make_services: MakeServices, db: str
) -> None:
    async with running_bot(make_services, db) as rig:
        await rig.link(STAFF, SOM_01)
        reference = await file_report(rig)
        await eventually(lambda: reference in staff_texts(rig, STAFF.id))
        await rig.inspector.press("s:q:")
        since = rig.api.mark()
        await rig.inspector.say("Which kiosk, the one by the bus stop?")
        question = await rig.api.wait_for("sendMessage", since=since, chat_id=RESIDENT.id)
        await eventually(lambda: "asks about" in texts(rig.api.sent_to(RESIDENT.id)))
        asked = rig.resident.last_bot_message_with("asks about")
        since = rig.api.mark()
        answered = await rig.resident.say("Yes, by the bus stop", reply_to=asked)
        await eventually(lambda: "Yes, by the bus stop" in staff_texts(rig, STAFF.id))
        status = rig.store.get(reference).status
    assert "Which kiosk" in texts(rig.api.sent_to(RESIDENT.id)) and question
    assert "sent to the inspector" in texts(answered)
    assert status is ReportStatus.DELIVERED  # back where it was
    assert str(RESIDENT.id) not in staff_texts(rig, STAFF.id)


async def test_redirect_sends_the_report_to_the_other_sectors_chat(
    make_services: MakeServices, db: str
) -> None:
    async with running_bot(make_services, db) as rig:
        await rig.link(STAFF, SOM_01)
        await rig.link(OTHER_STAFF, SOM_02)
        reference = await file_report(rig)
        await eventually(lambda: reference in staff_texts(rig, STAFF.id))
        await rig.inspector.press("s:r:")
        bad = await rig.inspector.say("the other side")
        await rig.inspector.say("SOM-02 the house is across the street")
        await eventually(lambda: reference in staff_texts(rig, OTHER_STAFF.id))
        report = rig.store.get(reference)
    assert "Start with the code of a sector" in texts(bad)
    assert report.sector_id == "SOM-02"


@pytest.mark.parametrize(("verdict", "status"), [("v:c:", "confirmed"), ("v:d:", "disputed")])
async def test_close_asks_for_a_note_and_the_resident_confirms_or_disputes(
    make_services: MakeServices, db: str, verdict: str, status: str
) -> None:
    async with running_bot(make_services, db) as rig:
        await rig.link(STAFF, SOM_01)
        reference = await file_report(rig)
        await eventually(lambda: reference in staff_texts(rig, STAFF.id))
        await rig.inspector.press("s:a:")
        prompt = await rig.inspector.press("s:c:")
        await rig.inspector.say("The kiosk owner was warned")
        await eventually(lambda: "is closed" in texts(rig.api.sent_to(RESIDENT.id)))
        thanks = await rig.resident.press(verdict)
        final = rig.store.get(reference).status
    assert "outcome note" in texts(prompt)
    assert "The kiosk owner was warned" in texts(rig.api.sent_to(RESIDENT.id))
    assert "recorded" in str(thanks[0].params.get("text"))
    assert final.value == status


async def test_a_forged_staff_button_from_another_chat_is_refused(
    make_services: MakeServices, db: str
) -> None:
    async with running_bot(make_services, db) as rig:
        await rig.link(STAFF, SOM_01)
        await rig.link(OTHER_STAFF, SOM_02)
        reference = await file_report(rig)
        await eventually(lambda: reference in staff_texts(rig, STAFF.id))
        intruder = rig.talker(INSPECTOR, OTHER_STAFF)
        message_id = rig.api.sent_to(OTHER_STAFF.id)[-1]  # any bot message of that chat
        del message_id
        since = rig.api.mark()
        last = max(mid for (cid, mid) in rig.api.messages if cid == OTHER_STAFF.id)
        rig.api.press_button(INSPECTOR, last, f"s:a:{reference}", chat=OTHER_STAFF)
        answer = await intruder.answer(since)
        status = rig.store.get(reference).status
    assert status is ReportStatus.DELIVERED
    assert "has no report" in texts(answer) or "does not apply" in texts(answer)


async def test_a_report_nobody_accepts_goes_to_the_duty_chat(
    make_services: MakeServices, db: str
) -> None:
    clock = ShiftedClock()
    async with running_bot(make_services, db, clock=clock) as rig:
        await rig.link(STAFF, SOM_01)
        await rig.link(DUTY, SOMONI_DUTY)
        reference = await file_report(rig)
        await eventually(lambda: rig.store.get(reference).status is ReportStatus.DELIVERED)
        clock.advance(minutes=61)
        await eventually(lambda: reference in staff_texts(rig, DUTY.id))
        duty = staff_texts(rig, DUTY.id)
        escalated = rig.store.get(reference).escalated_at
    assert "nobody accepted" in duty and escalated is not None


# --- nothing lost, nothing twice ----------------------------------------------------------


async def test_a_staff_chat_that_is_down_gets_the_report_once_it_is_back(
    make_services: MakeServices, db: str
) -> None:
    async with running_bot(make_services, db) as rig:
        await rig.link(STAFF, SOM_01)
        rig.api.make_unreachable(STAFF.id, 403)
        reference = await file_report(rig)
        await eventually(lambda: len(rig.api.refused) >= 2)  # retried, with backoff
        assert rig.store.get(reference).status is ReportStatus.PENDING
        rig.api.make_unreachable(STAFF.id, 500)
        await eventually(lambda: len(rig.api.refused) >= 3)
        rig.api.make_reachable(STAFF.id)
        await eventually(lambda: rig.store.get(reference).status is ReportStatus.DELIVERED)
        await rig.api.replies(since=rig.api.mark(), timeout=0.5, quiet=0.5)
        cards = [
            c for c in rig.api.sent_to(STAFF.id, "sendMessage") if reference in c.params["text"]
        ]
    assert len(cards) == 1


async def test_a_restart_mid_report_carries_on_at_the_same_step(
    make_services: MakeServices, db: str
) -> None:
    async with running_bot(make_services, db) as rig:
        await rig.resident.say("/report")
        await rig.resident.press("f:gate:go")
        await rig.resident.press("f:kind:incident")
        await rig.resident.say("Rudaki 45")
        await rig.resident.press("f:place:pick0")
        await rig.resident.press("f:when:now")
    async with running_bot(make_services, db) as rig:  # a new application, the same database
        what = await rig.resident.say("Someone is shouting in the stairwell")
        await rig.resident.press("f:what:next")
        await rig.resident.press("f:photos:done")
        await rig.resident.press("f:contact:anon")
        await rig.resident.press("f:notice:ok")
        review = await rig.resident.press("f:review:send")
        [report] = rig.store.for_resident(RESIDENT.id)
    assert "Got it" in texts(what)
    assert "registered" in texts(review)
    assert report.text == "Someone is shouting in the stairwell"
    assert report.place.label == "Rudaki Avenue, house 45" and report.occurred == "now"


async def test_report_texts_never_reach_the_logs_even_at_debug(
    make_services: MakeServices, db: str, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "Zebra-quartz-4471 hides behind the garages"
    caplog.set_level(logging.DEBUG)
    async with running_bot(make_services, db) as rig:
        await rig.link(STAFF, SOM_01)
        rig.api.make_unreachable(STAFF.id, 500)
        reference = await file_report(rig, text=secret)
        await eventually(lambda: len(rig.api.refused) >= 1)
        rig.api.make_reachable(STAFF.id)
        await eventually(lambda: secret in staff_texts(rig, STAFF.id))
        await rig.inspector.press("s:c:")
        await rig.inspector.say("Closed: Quokka-outcome-9931")
        await eventually(lambda: rig.store.get(reference).status is ReportStatus.CLOSED)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert caplog.records  # the bot did log (statuses, counts)
    assert "Zebra-quartz" not in logged and "Quokka-outcome" not in logged


def test_backoff_doubles_and_stops_at_its_cap() -> None:
    policy = ReportPolicy(backoff_base_s=5, backoff_cap_s=60)
    waits = [policy.backoff(n).total_seconds() for n in range(6)]
    assert waits == [5, 10, 20, 40, 60, 60]
    assert FAST.backoff(100).total_seconds() == FAST.backoff_cap_s
    assert OTHER.id != RESIDENT.id


async def test_a_closed_report_forgets_its_resident_after_the_retention_days(
    make_services: MakeServices, db: str
) -> None:
    clock = ShiftedClock()
    async with running_bot(make_services, db, clock=clock) as rig:
        await rig.link(STAFF, SOM_01)
        reference = await file_report(rig, phone="+992 00 111 22 33")
        await eventually(lambda: reference in staff_texts(rig, STAFF.id))
        await rig.inspector.press("s:c:")
        await rig.inspector.say("Resolved on the spot")
        await eventually(lambda: rig.store.get(reference).status is ReportStatus.CLOSED)
        kept = rig.store.get(reference)
        clock.advance(days=FAST.retention_days + 1)
        await eventually(lambda: rig.store.get(reference).resident_chat_id is None)
        forgotten = rig.store.get(reference)
    assert kept.resident_chat_id == RESIDENT.id and kept.phone == "+992 00 111 22 33"
    assert forgotten.phone is None and forgotten.text == kept.text  # the report itself stays


async def test_a_second_question_goes_back_and_forth_too(
    make_services: MakeServices, db: str
) -> None:
    async with running_bot(make_services, db) as rig:
        await rig.link(STAFF, SOM_01)
        reference = await file_report(rig)
        await eventually(lambda: reference in staff_texts(rig, STAFF.id))
        for question, answer in (("Which kiosk?", "By the stop"), ("What time?", "At 23:10")):
            await rig.inspector.press("s:q:")
            await rig.inspector.say(question)
            await eventually(lambda q=question: q in texts(rig.api.sent_to(RESIDENT.id)))  # type: ignore[misc]
            asked = rig.resident.last_bot_message_with(question)
            await rig.resident.say(answer, reply_to=asked)
            await eventually(lambda a=answer: a in staff_texts(rig, STAFF.id))  # type: ignore[misc]
        history = [event.text for event in rig.store.history(reference)]
    assert {"Which kiosk?", "By the stop", "What time?", "At 23:10"} <= set(history)


async def test_link_without_a_code_says_how(make_services: MakeServices, db: str) -> None:
    async with running_bot(make_services, db) as rig:
        usage = await rig.talker(INSPECTOR, STAFF).say("/link")
        wrong = await rig.talker(INSPECTOR, STAFF).say("/link NOPE-NOPE")
    assert "/link" in texts(usage) and "not valid" in texts(wrong)


async def test_a_whole_report_is_not_cut_off_by_the_usual_send_limit(
    make_services: MakeServices, db: str
) -> None:
    def strict(**overrides: object) -> BotServices:
        return make_services(limiter=QueryLimiter(per_minute=5, burst=5), **overrides)

    async with running_bot(strict, db) as rig:
        reference = await file_report(rig, photos=("a", "b", "c", "d", "e"), voice="v")
        slowed = "too fast" in texts(rig.api.sent_to(RESIDENT.id))
    assert reference.startswith("SOM-01-") and not slowed


async def test_a_split_street_offers_its_house_ranges_each_with_its_inspector(
    make_services: MakeServices, db: str
) -> None:
    segments = tuple(
        make_candidate(
            document_id=f"dyu-0001--{n}",
            house_start=start,
            house_end=end,
            sector=make_sector(id=f"SOM-0{n}", officer=make_officer(name_en=f"Officer {n}")),
        )
        for n, (start, end) in enumerate([(1, 45), (47, 99)], 1)
    )
    resolver = FakeResolver({"Rudaki": ambiguous("Rudaki", *segments)})

    def with_streets(**overrides: object) -> BotServices:
        return make_services(**(overrides | {"resolver": resolver}))

    async with running_bot(with_streets, db) as rig:
        await rig.resident.say("/report")
        await rig.resident.press("f:gate:go")
        await rig.resident.press("f:kind:other")
        [choice] = await rig.resident.say("Rudaki")
        await rig.resident.press("f:place:pick1")
        await rig.resident.press("f:when:now")
        await rig.resident.say("A pothole")
        for step in ("f:what:next", "f:photos:done", "f:contact:anon", "f:notice:ok"):
            await rig.resident.press(step)
        await rig.resident.press("f:review:send")
        [report] = rig.store.for_resident(RESIDENT.id)
    assert "Rudaki Avenue, houses 1–45 — Captain Officer 1, sector SOM-01" in choice.params["text"]
    assert "houses 47–99" in choice.params["text"]
    assert report.sector_id == "SOM-02"
