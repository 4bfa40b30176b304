"""The resident's report: a ConversationHandler from the emergency gate to Send.

Each step is a prompt (:mod:`bot.reporting.render`) and two small functions: one for its buttons
(``f:<step>:<choice>``) and one for messages. Every step has Back and Cancel; anything a step
cannot use gets one polite answer that repeats the question with its buttons. The draft is
``user_data["report"]`` and the conversation is persistent, so both survive a restart (see
:mod:`bot.reporting.persistence`).

Handlers change the draft before their first ``await``: updates of one user may be handled
concurrently (an album of photos arrives as several updates at once), and asyncio switches tasks
only at an ``await``.

Privacy: nothing here logs what a resident wrote; logs carry the step and the outcome only.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Final

from telegram import Message, ReplyKeyboardRemove, Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot import render as card_render
from bot.callbacks import ReportFrom, decode_report_from
from bot.handlers import (
    BotServices,
    Context,
    language_of,
    resolve_text,
    send_to,
    services_of,
)
from bot.ports import ServiceUnavailableError
from bot.render import Reply
from bot.reporting import render
from bot.reporting.draft import (
    CONTACT,
    GATE,
    KIND,
    MAX_OPTIONS,
    NOTICE,
    PHOTOS,
    PLACE,
    REVIEW,
    STEPS,
    WHAT,
    WHEN,
    DraftState,
    Option,
    drop_state,
    keep_state,
    previous_step,
    read_state,
)
from bot.reporting.services import Reporting, step_buttons_tracked_per_user
from reports.model import MAX_PHOTOS, MAX_TEXT_CHARS, PlaceRef, ReportKind
from reports.ports import ReportError, ReportLimitReached
from resolver.gazetteer import Sector
from resolver.models import Candidate, Resolution, Status

logger = logging.getLogger(__name__)

CONVERSATION_NAME: Final = "report"
END: Final = ConversationHandler.END
MAX_OCCURRED_CHARS: Final = 200
NOW, TODAY = "now", "today"

# --- one update inside the flow -----------------------------------------------------------


@dataclass
class Here:
    """One update in the flow: the services, the reader's language, the draft, the chat."""

    update: Update
    context: Context
    services: BotServices
    reporting: Reporting
    lang: str
    state: DraftState
    notes: list[Reply] = field(default_factory=list)

    @property
    def chat_id(self) -> int:
        """The resident's private chat."""
        chat = self.update.effective_chat
        return chat.id if chat is not None else 0

    @property
    def message(self) -> Message | None:
        """The message of the update (None for a button press)."""
        return self.update.message

    def t(self, key: str, **values: object) -> str:
        """A catalogue text in the reader's language."""
        return self.services.catalogue.text(self.lang, key, **values)

    def keep(self) -> None:
        """Store the draft back in ``user_data`` (before any await)."""
        keep_state(self.context.user_data, self.state)


def here_of(update: Update, context: Context) -> Here:
    """Collect what a step needs; the reporting services must be configured."""
    services = services_of(context)
    if services.reporting is None:
        raise RuntimeError("the report flow needs BotServices.reporting")
    return Here(
        update=update,
        context=context,
        services=services,
        reporting=services.reporting,
        lang=language_of(update, context),
        state=read_state(context.user_data),
    )


async def say(here: Here, reply: Reply) -> None:
    """Send one message to the resident."""
    await send_to(here.context.bot, here.chat_id, reply)


# --- prompts ------------------------------------------------------------------------------


def prompts(here: Here, step: str) -> list[Reply]:
    """The message(s) that ask a step's question (the first one carries the step's buttons)."""
    cat, lang, state = here.services.catalogue, here.lang, here.state
    table: dict[str, Callable[[], list[Reply]]] = {
        GATE: lambda: [render.render_gate(cat, lang)],
        KIND: lambda: [render.render_kind(cat, lang)],
        PLACE: lambda: [
            render.render_place(cat, lang, state),
            render.render_location_request(cat, lang),
        ],
        WHEN: lambda: [render.render_when(cat, lang)],
        WHAT: lambda: [render.render_what(cat, lang, state)],
        PHOTOS: lambda: [render.render_photos(cat, lang, state)],
        CONTACT: lambda: [
            render.render_contact(cat, lang),
            render.render_contact_request(cat, lang),
        ],
        NOTICE: lambda: [
            render.render_notice(cat, lang, retention_days=here.reporting.policy.retention_days)
        ],
        REVIEW: lambda: [render.render_review(cat, lang, state)],
    }
    return table[step]()


def with_preface(here: Here, key: str, reply: Reply) -> Reply:
    """Put one line before a prompt, so a refusal and the question are one message."""
    if reply.entities is not None:  # the gate is plain text with entities: keep it as it is
        return reply
    return Reply(f"{here.t(key)}\n\n{reply.text}", reply.markup)


async def go_to(here: Here, step: str) -> str:
    """Move to ``step``: keep the draft, send the notes, then the step's question."""
    here.state.step = step
    here.keep()
    for note in here.notes:
        await say(here, note)
    for reply in prompts(here, step):
        await say(here, reply)
    return step


async def stay(here: Here, key: str) -> str:
    """Stay on the step: one message, a line saying why, then the question with its buttons."""
    here.keep()
    await say(here, with_preface(here, key, prompts(here, here.state.step)[0]))
    return here.state.step


async def cancel(here: Here) -> int:
    """Drop the draft and end the conversation."""
    drop_state(here.context.user_data)
    logger.info("a report was cancelled at step %s", here.state.step)
    reply = render.render_text(here.services.catalogue, here.lang, "report_cancelled")
    await say(here, Reply(reply.text, ReplyKeyboardRemove()))
    return END


# --- entry --------------------------------------------------------------------------------


async def on_report_command(update: Update, context: Context) -> str:
    """``/report``: a new draft, and the emergency gate first."""
    here = here_of(update, context)
    here.state = DraftState()
    logger.info("a report was started")
    return await go_to(here, GATE)


async def on_report_button(update: Update, context: Context) -> str | int:
    """ "Report to this inspector" on a card: the gate first, with the card's place kept."""
    query = update.callback_query
    assert query is not None
    here = here_of(update, context)
    origin = await origin_of(here, decode_report_from(query.data, here.services.signer))
    if origin is None:
        await query.answer(here.t("stale_press"), show_alert=True)
        return END
    await query.answer()
    here.state = DraftState(origin=origin)
    logger.info("a report was started from a card")
    return await go_to(here, GATE)


async def origin_of(here: Here, press: ReportFrom | None) -> Option | None:
    """The card's place and inspector, if the card is still remembered."""
    if press is None:
        return None
    recent = here.services.recent
    if press.document_id is not None:
        candidate = await recent.candidate(press.document_id)
        if candidate is None or candidate.sector is None:
            return None
        return option_of_candidate(here, candidate, press.house)
    sector = await recent.sector(press.sector_id or "")
    return None if sector is None else option_of_sector(here, sector, None)


def option_of_candidate(here: Here, candidate: Candidate, house: str | None) -> Option:
    """A place found by the resolver, and who gets its reports."""
    assert candidate.sector is not None
    catalogue = here.services.catalogue
    name = card_render.place_name(catalogue, here.lang, candidate)
    span = card_render.house_span(catalogue, here.lang, candidate)  # a segment of a split street
    label = here.t("report_place_house", place=name, house=house) if house else name
    label = f"{label}, {span}" if span and not house else label
    place = PlaceRef(
        label=label[:300],
        sector_id=candidate.sector.id,
        place_id=candidate.place_id,
        house=house,
    )
    return Option(place=place, inspector=inspector_of(here, candidate.sector))


def option_of_sector(here: Here, sector: Sector, point: tuple[float, float] | None) -> Option:
    """A shared point (or a location card's sector), and who gets its reports."""
    if point is None:
        label = here.t("report_place_sector", sector_id=sector.id)
        place = PlaceRef(label=label, sector_id=sector.id)
    else:
        label = here.t("report_place_point", lat=f"{point[0]:.5f}", lon=f"{point[1]:.5f}")
        place = PlaceRef(label=label, sector_id=sector.id, lat=point[0], lon=point[1])
    return Option(place=place, inspector=inspector_of(here, sector))


def inspector_of(here: Here, sector: Sector) -> str:
    """Who gets the report, in the reader's language."""
    return render.inspector_label(here.services.catalogue, here.lang, sector)[:300]


# --- buttons ------------------------------------------------------------------------------


async def on_step_button(update: Update, context: Context) -> str | int:
    """A step's button: Back, Cancel, or the step's own choice; an earlier step's is stale."""
    query = update.callback_query
    assert query is not None
    here = here_of(update, context)
    step, choice = read_press(query.data)
    if step != here.state.step:
        await query.answer(here.t("report_stale"), show_alert=True)
        return here.state.step if here.state.step in STEPS else GATE
    await query.answer()
    if choice == "cancel":
        return await cancel(here)
    if choice == "back":
        return await go_to(here, previous_step(step))
    return await PRESSES[step](here, choice)


def read_press(data: str | None) -> tuple[str, str]:
    """``f:<step>:<choice>`` as (step, choice); ("", "") when malformed."""
    parts = (data or "").split(":")
    return (parts[1], parts[2]) if len(parts) == 3 and parts[0] == "f" else ("", "")


async def press_gate(here: Here, choice: str) -> str:
    """Continue past the emergency gate."""
    return await go_to(here, KIND) if choice == "go" else await stay(here, "report_stale")


async def press_kind(here: Here, choice: str) -> str:
    """Choose what is reported."""
    if choice not in {kind.value for kind in ReportKind}:
        return await stay(here, "report_stale")
    here.state.kind = ReportKind(choice)
    return await go_to(here, PLACE)


async def press_place(here: Here, choice: str) -> str:
    """Take the card's place, or one of the places found."""
    option = chosen_option(here.state, choice)
    if option is None:
        return await stay(here, "report_stale")
    here.state.place = option
    here.state.options = []
    here.notes.append(Reply(here.t("report_place_taken"), ReplyKeyboardRemove()))
    return await go_to(here, WHEN)


def chosen_option(state: DraftState, choice: str) -> Option | None:
    """The option a place button names ("card" or "pick<n>")."""
    if choice == "card":
        return state.origin
    if choice.startswith("pick") and choice[4:].isdigit():
        index = int(choice[4:])
        return state.options[index] if index < len(state.options) else None
    return None


async def press_when(here: Here, choice: str) -> str:
    """Now or today."""
    if choice not in (NOW, TODAY):
        return await stay(here, "report_stale")
    here.state.occurred = choice
    here.state.occurred_at = here.reporting.clock() if choice == NOW else None
    return await go_to(here, WHAT)


async def press_what(here: Here, choice: str) -> str:
    """Next, once there is a text or a voice message."""
    if choice != "next" or not here.state.has_story:
        return await stay(here, "report_what_needed")
    return await go_to(here, PHOTOS)


async def press_photos(here: Here, choice: str) -> str:
    """Done with photos (none is fine)."""
    return await go_to(here, CONTACT) if choice == "done" else await stay(here, "report_stale")


async def press_contact(here: Here, choice: str) -> str:
    """Stay anonymous to the inspector."""
    if choice != "anon":
        return await stay(here, "report_stale")
    here.state.phone = None
    here.notes.append(render.render_contact_chosen(here.services.catalogue, here.lang, here.state))
    return await go_to(here, NOTICE)


async def press_notice(here: Here, choice: str) -> str:
    """The resident read the warning and the data notice."""
    return await go_to(here, REVIEW) if choice == "ok" else await stay(here, "report_stale")


async def press_review(here: Here, choice: str) -> str | int:
    """Send: store the report, then the reference number at once."""
    if choice != "send":
        return await stay(here, "report_stale")
    return await submit(here)


PRESSES: Final[dict[str, Callable[[Here, str], Awaitable[str | int]]]] = {
    GATE: press_gate,
    KIND: press_kind,
    PLACE: press_place,
    WHEN: press_when,
    WHAT: press_what,
    PHOTOS: press_photos,
    CONTACT: press_contact,
    NOTICE: press_notice,
    REVIEW: press_review,
}


async def submit(here: Here) -> str | int:
    """Store the draft; the daily limit and an unreachable database get a kind answer."""
    try:
        draft = here.state.to_draft(here.lang)
    except ValueError:
        return await go_to(here, first_unanswered(here.state))
    store, now = here.reporting.store, here.reporting.clock()
    try:
        report = await here.reporting.call(
            store.submit, draft, resident_chat_id=here.chat_id, now=now
        )
    except ReportLimitReached as exc:
        logger.info("a report was refused: the daily limit")
        drop_state(here.context.user_data)
        cat = here.services.catalogue
        await say(here, render.render_limit(cat, here.lang, limit=exc.limit, retry_at=exc.retry_at))
        return END
    except ReportError:
        logger.warning("a report could not be stored; the resident was told to retry")
        return await stay(here, "report_unavailable")
    drop_state(here.context.user_data)
    here.reporting.nudge()
    logger.info("a report was filed: kind=%s photos=%d", draft.kind, len(draft.photo_file_ids))
    await say(here, render.render_sent(here.services.catalogue, here.lang, report.reference))
    return END


def first_unanswered(state: DraftState) -> str:
    """The first step whose answer the draft lacks."""
    if state.kind is None:
        return KIND
    if state.place is None:
        return PLACE
    if state.occurred is None:
        return WHEN
    return WHAT


# --- messages -----------------------------------------------------------------------------


async def on_step_message(update: Update, context: Context) -> str | int:
    """A message during the flow: the step uses it, or says what it needs."""
    here = here_of(update, context)
    step = here.state.step if here.state.step in STEPS else GATE
    here.state.step = step
    handler = MESSAGES.get(step)
    if handler is None or here.message is None:
        return await stay(here, "report_wrong_input")
    return await handler(here, here.message)


async def message_place(here: Here, message: Message) -> str:
    """A typed address (through the resolver) or a shared location (through the sectors)."""
    if message.location is not None:
        return await place_at(here, message.location.latitude, message.location.longitude)
    text = (message.text or "").strip()
    if not text or message.text is None:
        return await stay(here, "report_place_needed")
    try:
        resolution = await resolve_text(here.services, text)
    except ServiceUnavailableError:
        return await stay(here, "unavailable")
    return await offer_places(here, resolution)


async def place_at(here: Here, lat: float, lon: float) -> str:
    """The sector of a shared point, or why there is none."""
    sectors = here.services.sectors
    if not sectors.is_in_dushanbe(lat, lon):
        return await stay(here, "outside_city")
    sector = sectors.sector_at(lat, lon)
    if sector is None:
        return await stay(here, "no_sector_here")
    return await show_options(here, [option_of_sector(here, sector, (lat, lon))])


async def offer_places(here: Here, resolution: Resolution) -> str:
    """Offer the places found that have an inspector; none: ask for the house or another way."""
    house = resolution.house.label() if resolution.house else None
    found = [c for c in resolution.candidates if c.sector is not None]
    if resolution.status is Status.NOT_FOUND or not resolution.candidates:
        return await stay(here, "report_place_not_found")
    if not found:
        return await stay(here, "report_place_need_house")
    options = [option_of_candidate(here, c, house) for c in found[:MAX_OPTIONS]]
    return await show_options(here, options)


async def show_options(here: Here, options: list[Option]) -> str:
    """Keep the options and show who would get the report from each."""
    here.state.options = options
    here.keep()
    await say(here, render.render_place_options(here.services.catalogue, here.lang, options))
    return PLACE


async def message_when(here: Here, message: Message) -> str:
    """A typed time, kept as typed."""
    text = " ".join((message.text or "").split())
    if not text or message.text is None:
        return await stay(here, "report_when_needed")
    if len(text) > MAX_OCCURRED_CHARS:
        return await stay(here, "report_when_too_long")
    here.state.occurred, here.state.occurred_at = text, None
    return await go_to(here, WHAT)


async def message_what(here: Here, message: Message) -> str:
    """A text (added to what was written) or a voice message (the last one counts)."""
    if message.voice is not None:
        here.state.voice_file_id = message.voice.file_id
        return await go_to(here, WHAT)
    if message.text is None or not message.text.strip():
        return await stay(here, "report_what_needed")
    text = "\n".join(part for part in (here.state.text, message.text.strip()) if part)
    if len(text) > MAX_TEXT_CHARS:
        return await stay(here, "report_too_long")
    here.state.text = text
    return await go_to(here, WHAT)


async def message_photos(here: Here, message: Message) -> str:
    """A photo (its largest size's file id); past five, a polite refusal."""
    if not message.photo:
        return await stay(here, "report_photo_needed")
    if len(here.state.photo_file_ids) >= MAX_PHOTOS:
        return await stay(here, "report_photo_limit")
    here.state.photo_file_ids = [*here.state.photo_file_ids, message.photo[-1].file_id]
    return await go_to(here, PHOTOS)


async def message_contact(here: Here, message: Message) -> str:
    """The resident's own contact (from the button); anyone else's is refused."""
    contact = message.contact
    sender = message.from_user
    if contact is None:
        return await stay(here, "report_contact_needed")
    if sender is None or contact.user_id != sender.id:
        return await stay(here, "report_contact_not_yours")
    here.state.phone = contact.phone_number[:32]
    here.notes.append(render.render_contact_chosen(here.services.catalogue, here.lang, here.state))
    return await go_to(here, NOTICE)


MESSAGES: Final[dict[str, Callable[[Here, Message], Awaitable[str]]]] = {
    PLACE: message_place,
    WHEN: message_when,
    WHAT: message_what,
    PHOTOS: message_photos,
    CONTACT: message_contact,
}


# --- commands and presses outside the steps -----------------------------------------------


async def on_cancel(update: Update, context: Context) -> int:
    """``/cancel`` during the flow."""
    return await cancel(here_of(update, context))


async def on_other_command(update: Update, context: Context) -> str:
    """Any other command during the flow: say a report is open, and repeat the question."""
    here = here_of(update, context)
    here.state.step = here.state.step if here.state.step in STEPS else GATE
    return await stay(here, "report_in_progress")


async def on_stale_press(update: Update, context: Context) -> str:
    """A step button that the current step does not have."""
    here = here_of(update, context)
    query = update.callback_query
    assert query is not None
    await query.answer(here.t("report_stale"), show_alert=True)
    return here.state.step if here.state.step in STEPS else GATE


def state_handlers() -> dict[object, list[BaseHandler[Update, Context, object]]]:
    """Every step takes its buttons and any message (commands go to the fallbacks)."""
    not_command = filters.ALL & ~filters.COMMAND
    return {
        step: [
            CallbackQueryHandler(on_step_button, pattern=rf"^f:{step}:"),
            MessageHandler(not_command, on_step_message),
        ]
        for step in STEPS
    }


def report_conversation(*, persistent: bool = True) -> ConversationHandler[Context]:
    """The persistent report conversation, per private chat and user."""
    private = filters.ChatType.PRIVATE
    with step_buttons_tracked_per_user():
        return ConversationHandler(
            entry_points=[
                CommandHandler("report", on_report_command, filters=private),
                CallbackQueryHandler(on_report_button, pattern=r"^r[ps]:"),
            ],
            states=state_handlers(),
            fallbacks=[
                CommandHandler("cancel", on_cancel),
                MessageHandler(filters.COMMAND, on_other_command),
                CallbackQueryHandler(on_stale_press, pattern=r"^f:"),
            ],
            name=CONVERSATION_NAME,
            persistent=persistent,
            per_chat=True,
            per_user=True,
            per_message=False,
            allow_reentry=False,
        )
