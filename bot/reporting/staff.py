"""The inspector's side and the resident's after Send: /link, staff buttons, answers, verdicts.

- ``/link <code>`` makes the chat a sector's staff chat (or a district's duty chat).
- Staff buttons on a report card (``s:<a|q|r|c>:<ref>``): Accept acts at once; Need more info,
  Redirect and Close ask for a text first, and the staff member's next message in that chat is it
  (a small persistent conversation, so a restart in between loses nothing).
- A resident answers an inspector's question by replying to the relayed question.
- ``/myreports`` lists a resident's reports; a press shows one's history; Confirm / Dispute
  (``v:<c|d>:<ref>``) give the verdict on a closed report.

The store decides who may act (the report's staff chat, its duty chat once escalated, its
resident): forged or stale payloads end as UnknownReport or ActionRefused, answered politely.
Relays carry text only: nothing is forwarded, so no resident's identity reaches a staff chat.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Final

from telegram import Message, Update
from telegram.error import BadRequest
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.handlers import Context, language_of, send_to, services_of
from bot.render import Reply
from bot.reporting import render
from bot.reporting.draft import STAFF_KEY
from bot.reporting.services import Reporting, step_buttons_tracked_per_user
from reports.model import MAX_TEXT_CHARS, Action
from reports.ports import ActionRefused, InviteRefused, ReportError, UnknownReport
from resolver.gazetteer import SECTOR_ID_PATTERN

logger = logging.getLogger(__name__)

STAFF_CONVERSATION: Final = "staff"
AWAIT_TEXT: Final = "await_text"
END: Final = ConversationHandler.END
ACTIONS: Final = {
    "a": Action.ACCEPT,
    "q": Action.ASK,
    "r": Action.REDIRECT,
    "c": Action.CLOSE,
}
PROMPTS: Final = {Action.ASK: "ask", Action.REDIRECT: "redirect", Action.CLOSE: "close"}
_SECTOR_FIRST: Final = re.compile(
    r"^\s*(?P<sector>[A-Za-z]{3}-[0-9]{2,3})\b[\s,.:;-]*(?P<rest>.*)$", re.S
)


def reporting_of(context: Context) -> Reporting:
    """The reporting services (the handlers here are only added when they are configured)."""
    reporting = services_of(context).reporting
    if reporting is None:
        raise RuntimeError("the staff handlers need BotServices.reporting")
    return reporting


def chat_id_of(update: Update) -> int:
    """The chat the update came from."""
    return update.effective_chat.id if update.effective_chat is not None else 0


def lang_of(update: Update, context: Context) -> str:
    """A group (a staff chat) reads the staff language; a private chat its user's language."""
    chat = update.effective_chat
    if chat is not None and chat.type != "private":
        return reporting_of(context).policy.staff_language
    return language_of(update, context)


def text_of(context: Context, update: Update, key: str, **values: object) -> str:
    """A catalogue text in the reader's language."""
    return services_of(context).catalogue.text(lang_of(update, context), key, **values)


async def answer_chat(update: Update, context: Context, key: str, **values: object) -> None:
    """Send one catalogue message to the chat of the update."""
    reply = Reply(text_of(context, update, key, **values))
    await send_to(context.bot, chat_id_of(update), reply)


# --- /link --------------------------------------------------------------------------------


async def on_link(update: Update, context: Context) -> None:
    """``/link <code>``: this chat becomes the staff chat the code was made for."""
    reporting = reporting_of(context)
    code = " ".join(context.args or []).strip()
    if not code or len(code) > 64:
        await answer_chat(update, context, "link_usage")
        return
    try:
        scope = await reporting.call(
            reporting.store.link, code, chat_id=chat_id_of(update), now=reporting.clock()
        )
    except InviteRefused:
        logger.info("a /link code was refused")
        await answer_chat(update, context, "link_refused")
        return
    logger.info("a staff chat was linked: %s", scope)
    reporting.nudge()  # reports that waited for this chat are owed now
    catalogue, lang = services_of(context).catalogue, lang_of(update, context)
    await send_to(context.bot, chat_id_of(update), render.render_linked(catalogue, lang, scope))


# --- staff buttons ------------------------------------------------------------------------


def read_staff_press(data: str | None) -> tuple[Action, str] | None:
    """``s:<a|q|r|c>:<ref>`` as (action, reference); None when malformed."""
    parts = (data or "").split(":")
    if len(parts) != 3 or parts[0] != "s" or parts[1] not in ACTIONS:
        return None
    if render.REFERENCE_IN_TEXT.fullmatch(parts[2]) is None:
        return None
    return ACTIONS[parts[1]], parts[2]


async def on_staff_press(update: Update, context: Context) -> str | int:
    """Accept at once; for the others, ask for the text first (the next message)."""
    query = update.callback_query
    assert query is not None
    press = read_staff_press(query.data)
    reporting = reporting_of(context)
    scopes = await reporting.call(reporting.store.staff_scopes, chat_id_of(update))
    if press is None or not scopes:
        await query.answer(text_of(context, update, "staff_not_here"), show_alert=True)
        return END
    action, reference = press
    await query.answer()
    if action is Action.ACCEPT:
        await staff_act(update, context, reference, action, text=None)
        return END
    if context.user_data is not None:
        context.user_data[STAFF_KEY] = {
            "chat": chat_id_of(update),
            "reference": reference,
            "action": action.value,
        }
    catalogue, lang = services_of(context).catalogue, lang_of(update, context)
    prompt = render.render_staff_prompt(catalogue, lang, PROMPTS[action], reference)
    await send_to(context.bot, chat_id_of(update), prompt)
    return AWAIT_TEXT


def pending_input(context: Context, chat_id: int) -> tuple[Action, str] | None:
    """The action waiting for this staff member's text in this chat."""
    raw: Any = (context.user_data or {}).get(STAFF_KEY)
    if not isinstance(raw, dict) or raw.get("chat") != chat_id:
        return None
    try:
        return Action(raw["action"]), str(raw["reference"])
    except (KeyError, ValueError):
        return None


async def on_staff_text(update: Update, context: Context) -> str | int:
    """The question, the outcome note, or the sector and reason, as the next message."""
    message = update.message
    pending = pending_input(context, chat_id_of(update))
    if pending is None or message is None:
        return END
    action, reference = pending
    text = (message.text or "").strip()
    if not text:
        await answer_chat(update, context, "staff_text_needed")
        return AWAIT_TEXT
    if len(text) > MAX_TEXT_CHARS:
        await answer_chat(update, context, "report_too_long", limit=MAX_TEXT_CHARS)
        return AWAIT_TEXT
    to_sector = None
    if action is Action.REDIRECT:
        parsed = read_redirect(text)
        if parsed is None:
            await answer_chat(update, context, "staff_redirect_bad")
            return AWAIT_TEXT
        to_sector, text = parsed
    forget_input(context)
    await staff_act(update, context, reference, action, text=text, to_sector=to_sector)
    return END


def read_redirect(text: str) -> tuple[str, str] | None:
    """``SOM-04 the reason`` as (sector id, reason); None without a sector id first."""
    match = _SECTOR_FIRST.match(text)
    if match is None:
        return None
    sector = match["sector"].upper()
    if re.fullmatch(SECTOR_ID_PATTERN, sector) is None:
        return None
    return sector, match["rest"].strip() or sector


def forget_input(context: Context) -> None:
    """The staff member's text arrived (or they cancelled)."""
    if context.user_data is not None:
        context.user_data.pop(STAFF_KEY, None)


async def on_staff_cancel(update: Update, context: Context) -> int:
    """``/cancel`` while the bot waits for a staff text."""
    forget_input(context)
    await answer_chat(update, context, "staff_cancelled")
    return END


async def on_staff_other(update: Update, context: Context) -> str:
    """Anything but a text while the bot waits for one."""
    await answer_chat(update, context, "staff_text_needed")
    return AWAIT_TEXT


async def staff_act(
    update: Update,
    context: Context,
    reference: str,
    action: Action,
    *,
    text: str | None,
    to_sector: str | None = None,
) -> None:
    """Apply a staff action and say the new status in the chat (or why it does not apply)."""
    reporting = reporting_of(context)
    try:
        report = await reporting.call(
            reporting.store.act,
            reference,
            action,
            chat_id=chat_id_of(update),
            now=reporting.clock(),
            text=text,
            to_sector=to_sector,
        )
    except UnknownReport:
        await answer_chat(update, context, "staff_unknown", reference=reference)
        return
    except ActionRefused:
        await answer_chat(update, context, "staff_refused", reference=reference)
        return
    logger.info("staff acted on a report: %s -> %s", action, report.status)
    reporting.nudge()
    catalogue, lang = services_of(context).catalogue, lang_of(update, context)
    status = render.status_text(catalogue, lang, report.status)
    await answer_chat(update, context, "staff_done", reference=reference, status=status)


def staff_conversation(*, persistent: bool = True) -> ConversationHandler[Context]:
    """Staff buttons, and the text some of them wait for, per chat and staff member."""
    text = filters.TEXT & ~filters.COMMAND
    states: dict[object, list[BaseHandler[Update, Context, object]]] = {
        AWAIT_TEXT: [
            MessageHandler(text, on_staff_text),
            MessageHandler(filters.ALL & ~filters.COMMAND, on_staff_other),
        ]
    }
    with step_buttons_tracked_per_user():
        return ConversationHandler(
            entry_points=[CallbackQueryHandler(on_staff_press, pattern=r"^s:")],
            states=states,
            fallbacks=[
                CommandHandler("cancel", on_staff_cancel),
                CallbackQueryHandler(on_staff_press, pattern=r"^s:"),
            ],
            name=STAFF_CONVERSATION,
            persistent=persistent,
            per_chat=True,
            per_user=True,
            per_message=False,
            allow_reentry=True,
        )


# --- the resident after Send --------------------------------------------------------------


class RepliesToQuestion(filters.MessageFilter):
    """A resident's reply to a question the bot relayed (it names the report's reference)."""

    def filter(self, message: Message) -> bool:
        """Tell whether ``message`` replies to a bot message that carries a reference."""
        replied = message.reply_to_message
        if replied is None or replied.from_user is None or not replied.from_user.is_bot:
            return False
        return render.find_reference(replied.text) is not None


async def on_answer(update: Update, context: Context) -> None:
    """Relay the resident's answer to the staff chat (through the store's outbox)."""
    message = update.message
    assert message is not None and message.reply_to_message is not None
    reference = render.find_reference(message.reply_to_message.text)
    text = (message.text or "").strip()
    if reference is None or not text:
        await answer_chat(update, context, "answer_needed")
        return
    if len(text) > MAX_TEXT_CHARS:
        await answer_chat(update, context, "report_too_long", limit=MAX_TEXT_CHARS)
        return
    await resident_act(update, context, reference, Action.ANSWER, text=text, done="answer_sent")


async def resident_act(
    update: Update,
    context: Context,
    reference: str,
    action: Action,
    *,
    text: str | None,
    done: str,
) -> bool:
    """Apply a resident's action; say it was recorded, or that it no longer applies."""
    reporting = reporting_of(context)
    try:
        await reporting.call(
            reporting.store.act,
            reference,
            action,
            chat_id=chat_id_of(update),
            now=reporting.clock(),
            text=text,
        )
    except (UnknownReport, ActionRefused):
        await tell(update, context, "resident_refused")
        return False
    logger.info("a resident acted on a report: %s", action)
    reporting.nudge()
    await tell(update, context, done)
    return True


async def tell(update: Update, context: Context, key: str) -> None:
    """Answer a press as a toast, a message as a message."""
    if update.callback_query is not None:
        await update.callback_query.answer(text_of(context, update, key), show_alert=True)
    else:
        await answer_chat(update, context, key)


async def on_verdict(update: Update, context: Context) -> None:
    """Confirm or Dispute a closed report; the buttons go once it is recorded."""
    query = update.callback_query
    assert query is not None
    parts = (query.data or "").split(":")
    if len(parts) != 3 or parts[1] not in ("c", "d"):
        await tell(update, context, "resident_refused")
        return
    action = Action.CONFIRM if parts[1] == "c" else Action.DISPUTE
    if await resident_act(update, context, parts[2], action, text=None, done="verdict_thanks"):
        try:
            await query.edit_message_reply_markup(reply_markup=None)
        except BadRequest:
            logger.info("could not remove the verdict buttons (message too old)")


async def on_my_reports(update: Update, context: Context) -> None:
    """``/myreports``: the resident's reports with their status."""
    reporting = reporting_of(context)
    reports = await reporting.call(reporting.store.for_resident, chat_id_of(update))
    catalogue, lang = services_of(context).catalogue, lang_of(update, context)
    await send_to(
        context.bot, chat_id_of(update), render.render_my_reports(catalogue, lang, reports)
    )


async def on_history(update: Update, context: Context) -> None:
    """A report's history, for its resident only."""
    query = update.callback_query
    assert query is not None
    reporting = reporting_of(context)
    reference = (query.data or "")[2:]
    try:
        report = await reporting.call(reporting.store.get, reference)
        events = await reporting.call(reporting.store.history, reference)
    except ReportError:
        report, events = None, []
    if report is None or report.resident_chat_id != chat_id_of(update):
        await query.answer(text_of(context, update, "stale_press"), show_alert=True)
        return
    await query.answer()
    catalogue, lang = services_of(context).catalogue, lang_of(update, context)
    reply = render.render_history(catalogue, lang, report, events)
    await send_to(context.bot, chat_id_of(update), reply)


async def on_finished_step(update: Update, context: Context) -> None:
    """A step's button after the report was sent or cancelled."""
    await tell(update, context, "report_over")


def resident_handlers() -> list[BaseHandler[Update, Context, object]]:
    """``/myreports``, history presses, verdicts, answers, and steps of finished reports."""
    private = filters.ChatType.PRIVATE
    answers = private & filters.UpdateType.MESSAGE & filters.REPLY & RepliesToQuestion()
    return [
        CommandHandler("myreports", on_my_reports, filters=private),
        CallbackQueryHandler(on_history, pattern=r"^h:"),
        CallbackQueryHandler(on_verdict, pattern=r"^v:"),
        CallbackQueryHandler(on_finished_step, pattern=r"^f:"),
        MessageHandler(answers & ~filters.COMMAND, on_answer),
    ]


def link_handler() -> CommandHandler[Context, None]:
    """``/link <code>`` in any chat."""
    return CommandHandler("link", on_link)
