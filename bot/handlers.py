"""Telegram handlers: read the update, call the service, render, reply. Nothing else.

Every update a handler would answer first passes :func:`gate`, the per-user send limit (see
:mod:`bot.throttle`): past it the user gets one notice per window and then silence.

Privacy: handlers never log a message's text together with the user's id. Logs carry statuses and
counts; unresolved texts go to :class:`bot.unresolved.UnresolvedLog` without any identity (and
never the prefixes of inline queries).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from telegram import Bot, InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import ApplicationHandlerStop, ContextTypes, ConversationHandler

from bot import render
from bot.callbacks import (
    CallbackSigner,
    ChooseLanguage,
    NoneOfThese,
    PickPlace,
    SendContact,
    decode_press,
)
from bot.conversation import PendingStreets, is_greeting, read_bare_house
from bot.i18n import LANGUAGES, Catalogue, pick_language
from bot.ports import PlaceResolver, SectorLocator, ServiceUnavailableError
from bot.recent import RecentlyShown
from bot.reporting.services import Reporting
from bot.throttle import NoticeWindow, QueryLimiter, SharedLimits, Verdict, judge
from bot.unresolved import UnresolvedLog
from resolver.models import Candidate, HouseNumber, Resolution, Status

logger = logging.getLogger(__name__)

Context = ContextTypes.DEFAULT_TYPE
SERVICES_KEY = "services"


@dataclass
class BotServices:
    """What the handlers use; stored once in ``bot_data`` by :func:`bot.app.build_application`."""

    resolver: PlaceResolver
    sectors: SectorLocator
    catalogue: Catalogue
    limiter: QueryLimiter
    unresolved: UnresolvedLog
    # Inline queries arrive as the user types, so they get their own, more generous bucket.
    inline_limiter: QueryLimiter = field(
        default_factory=lambda: QueryLimiter(per_minute=60, burst=30)
    )
    notices: NoticeWindow = field(default_factory=NoticeWindow)
    # Several workers (bot.cluster): limits counted where all of them see them; None: here.
    shared_limits: SharedLimits | None = None
    signer: CallbackSigner = field(default_factory=CallbackSigner.random)
    recent: RecentlyShown = field(default_factory=RecentlyShown)
    pending: PendingStreets = field(default_factory=PendingStreets)
    reply_deadline_s: float = 2.5
    # When the published data being served was built (None: unknown, e.g. a test fake).
    data_date: Callable[[], datetime | None] = lambda: None
    # Reports to the inspector (issue 15); None: the bot only finds inspectors.
    reporting: Reporting | None = None

    @property
    def reports_on(self) -> bool:
        """Tell whether residents can report through the bot (cards get the report button)."""
        return self.reporting is not None


# --- helpers ------------------------------------------------------------------------------


def services_of(context: Context) -> BotServices:
    """Return the typed services stored in ``bot_data``."""
    return services_of_app(context.application)


def services_of_app(application: Any) -> BotServices:
    """Return the typed services stored in an application's ``bot_data``."""
    services = application.bot_data[SERVICES_KEY]
    if not isinstance(services, BotServices):
        raise TypeError(
            "bot_data['services'] is not BotServices: build the app with build_application"
        )
    return services


def language_of(update: Update, context: Context) -> str:
    """Return the language chosen with /lang, else the one of the user's Telegram app."""
    chosen = context.user_data.get("lang") if context.user_data is not None else None
    if isinstance(chosen, str) and chosen in LANGUAGES:
        return chosen
    user = update.effective_user
    return pick_language(user.language_code if user else None)


async def send(update: Update, reply: render.Reply) -> None:
    """Send ``reply`` to the chat the update came from."""
    chat = update.effective_chat
    if chat is not None:
        await send_to(chat.get_bot(), chat.id, reply)


async def send_to(bot: Bot, chat_id: int, reply: render.Reply) -> Message:
    """Send ``reply`` to ``chat_id``: HTML, or plain text styled by its entities."""
    if reply.entities is not None:
        return await bot.send_message(
            chat_id, reply.text, entities=reply.entities, reply_markup=reply.markup
        )
    return await bot.send_message(
        chat_id, reply.text, parse_mode=ParseMode.HTML, reply_markup=reply.markup
    )


async def resolve_text(services: BotServices, text: str) -> Resolution:
    """Resolve ``text`` within the reply deadline."""
    return await within_deadline(services, services.resolver.resolve(text))


async def within_deadline(services: BotServices, call: Awaitable[Resolution]) -> Resolution:
    """Await a resolver call; past the deadline it is cancelled and the service counts as down."""
    try:
        return await asyncio.wait_for(call, timeout=services.reply_deadline_s)
    except TimeoutError as exc:
        raise ServiceUnavailableError(f"no answer within {services.reply_deadline_s} s") from exc


async def resolve_in_chat(services: BotServices, chat_id: int, text: str, lang: str) -> Resolution:
    """Read a bare house number as the house on the street just asked about; else search."""
    street = await services.pending.street_for(chat_id)
    house = read_bare_house(text) if street else None
    if street and house:
        answer = await choose_house(services, street, house, lang)
        resolution = answer.model_copy(update={"query": text})  # logs and prompts quote the text
    else:
        resolution = await resolve_text(services, text)
    if render.is_one_street(resolution):
        await services.pending.ask(chat_id, resolution.candidates[0].place_id)
    else:
        await services.pending.forget(chat_id)
    return resolution


async def choose_house(
    services: BotServices, street: str, house: HouseNumber, lang: str
) -> Resolution:
    """Resolve house ``house`` on the split street ``street``."""
    return await within_deadline(services, services.resolver.choose(street, house=house, lang=lang))


async def record_unresolved(services: BotServices, resolution: Resolution) -> None:
    """Keep the text of a query the resolver did not settle (no user identity)."""
    if resolution.status is not Status.RESOLVED:
        await asyncio.to_thread(
            services.unresolved.append, resolution.query, resolution.status.value
        )


# --- the per-user send limit ------------------------------------------------------------


async def gate(update: object, context: Context) -> None:
    """Let an update through within its sender's limit; past it, one notice, then silence.

    Runs before every other handler (group -1). Only updates some handler would answer count,
    so a live location's edits or a chosen inline result cost nothing.
    """
    if not isinstance(update, Update) or update.effective_user is None:
        return
    if not is_answered(context, update):
        return
    services = services_of(context)
    role, limiter = limiter_for(services, context, update)
    user_id = update.effective_user.id
    if services.shared_limits is None:
        verdict = judge(limiter, services.notices, user_id)
    else:
        verdict = await services.shared_limits.judge(role, limiter, services.notices, user_id)
    if verdict is Verdict.ANSWER:
        return
    if verdict is Verdict.NOTICE:
        logger.info("a user went over the send limit; told them once for this window")
        await tell_to_slow_down(update, services, language_of(update, context))
    raise ApplicationHandlerStop


def limiter_for(
    services: BotServices, context: Context, update: Update
) -> tuple[str, QueryLimiter]:
    """The bucket an update takes from, and its name: inline queries', a report in progress's,
    or the usual."""
    if update.inline_query:
        return "inline", services.inline_limiter
    if services.reporting is not None and in_conversation(context, update):
        return "report", services.reporting.limiter  # a report is a dozen updates in a minute
    return "query", services.limiter


def in_conversation(context: Context, update: Update) -> bool:
    """Tell whether a conversation (a report, a staff action) of group 0 takes ``update``."""
    handlers = context.application.handlers.get(0, [])
    return any(
        isinstance(handler, ConversationHandler) and handler.check_update(update) is not None
        for handler in handlers
    )


def is_answered(context: Context, update: Update) -> bool:
    """Tell whether a handler of the default group would take ``update``."""
    handlers = context.application.handlers.get(0, [])
    return any(handler.check_update(update) not in (None, False) for handler in handlers)


async def tell_to_slow_down(update: Update, services: BotServices, lang: str) -> None:
    """Send the one "slow down" notice of a window, in the form the update allows."""
    text = services.catalogue.text(lang, "slow_down")
    if update.callback_query is not None:
        await update.callback_query.answer(text, show_alert=True)
    elif update.inline_query is not None:
        await update.inline_query.answer([], cache_time=0, is_personal=True)
    else:
        await send(update, render.render_notice(services.catalogue, lang, "slow_down"))


# --- commands -----------------------------------------------------------------------------


async def on_start(update: Update, context: Context) -> None:
    """Answer /start: what the bot does, an example, the location button."""
    await send(
        update, render.render_welcome(services_of(context).catalogue, language_of(update, context))
    )


async def on_help(update: Update, context: Context) -> None:
    """Answer /help: how to type an address."""
    await send(
        update, render.render_help(services_of(context).catalogue, language_of(update, context))
    )


async def on_about(update: Update, context: Context) -> None:
    """Answer /about: what the bot is, and the date of the data it serves."""
    services = services_of(context)
    reply = render.render_about(
        services.catalogue, language_of(update, context), services.data_date()
    )
    await send(update, reply)


async def on_lang(update: Update, context: Context) -> None:
    """Answer /lang with the language buttons."""
    menu = render.render_language_menu(services_of(context).catalogue, language_of(update, context))
    await send(update, menu)


# --- queries ------------------------------------------------------------------------------


async def on_text(update: Update, context: Context) -> None:
    """Resolve a typed place and answer with a card, a choice or help."""
    services, lang = services_of(context), language_of(update, context)
    text = update.effective_message.text if update.effective_message else None
    if not text:
        return
    if is_greeting(text):
        await send(update, render.render_greeting(services.catalogue, lang))
        return
    chat_id = update.effective_chat.id if update.effective_chat else 0
    try:
        resolution = await resolve_in_chat(services, chat_id, text, lang)
    except ServiceUnavailableError:
        logger.warning("resolver unavailable; told the user to retry")
        await send(update, render.render_notice(services.catalogue, lang, "unavailable"))
        return
    logger.info(
        "query answered: status=%s candidates=%d", resolution.status, len(resolution.candidates)
    )
    await services.recent.keep(resolution.candidates[: render.choice_limit(resolution)])
    await record_unresolved(services, resolution)
    await send(
        update,
        render.render_resolution(
            services.catalogue,
            lang,
            resolution,
            signer=services.signer,
            reporting=services.reports_on,
        ),
    )


async def on_location(update: Update, context: Context) -> None:
    """Answer a shared location with the card of the sector that holds it."""
    services, lang = services_of(context), language_of(update, context)
    location = update.effective_message.location if update.effective_message else None
    if location is None:
        return
    await send(update, await locate(services, lang, location.latitude, location.longitude))


async def locate(services: BotServices, lang: str, lat: float, lon: float) -> render.Reply:
    """Pick the reply for a point: outside the city, no sector, or the sector's card."""
    if not services.sectors.is_in_dushanbe(lat, lon):
        return render.render_notice(services.catalogue, lang, "outside_city")
    sector = services.sectors.sector_at(lat, lon)
    if sector is None:
        return render.render_notice(services.catalogue, lang, "no_sector_here")
    await services.recent.keep_sector(sector)
    logger.info("location answered: sector found")
    return render.render_location_card(
        services.catalogue, lang, sector, signer=services.signer, reporting=services.reports_on
    )


# --- button presses -----------------------------------------------------------------------


async def on_button(update: Update, context: Context) -> None:
    """Act on an inline button; a forged or stale payload gets a polite answer."""
    query = update.callback_query
    if query is None:
        return
    services, lang = services_of(context), language_of(update, context)
    press = decode_press(query.data, services.signer, languages=LANGUAGES)
    if isinstance(press, PickPlace):
        await on_pick(update, services, lang, press)
    elif isinstance(press, SendContact):
        await on_contact(update, services, lang, press)
    elif isinstance(press, NoneOfThese):
        await query.answer()
        await edit(update, render.render_none_chosen(services.catalogue, lang))
    elif isinstance(press, ChooseLanguage):
        await on_language_chosen(update, context, services, press)
    else:
        logger.info("rejected a button press with an invalid or stale payload")
        await query.answer(services.catalogue.text(lang, "stale_press"), show_alert=True)


async def edit(update: Update, reply: render.Reply) -> None:
    """Edit the pressed message into ``reply`` (inline keyboards only survive an edit)."""
    assert update.callback_query is not None
    markup = reply.markup if isinstance(reply.markup, InlineKeyboardMarkup) else None
    try:
        await update.callback_query.edit_message_text(
            reply.text, parse_mode=ParseMode.HTML, reply_markup=markup
        )
    except BadRequest as exc:
        if "not modified" not in exc.message.lower():  # a double press is harmless
            raise


async def on_pick(update: Update, services: BotServices, lang: str, press: PickPlace) -> None:
    """Edit the choice message into the chosen candidate's card (or its street's segments)."""
    assert update.callback_query is not None
    candidate = await services.recent.candidate(press.document_id)
    if candidate is None:
        await update.callback_query.answer(
            services.catalogue.text(lang, "stale_press"), show_alert=True
        )
        return
    await update.callback_query.answer()
    chat_id = update.effective_chat.id if update.effective_chat else 0
    if candidate.sector is None:
        await services.pending.ask(chat_id, candidate.place_id)
        await edit(update, await street_segments(services, lang, candidate))
        return
    await services.pending.forget(chat_id)  # a card answers the "which house?" question
    card = render.render_card(
        services.catalogue,
        lang,
        candidate,
        house=press.house,
        signer=services.signer,
        reporting=services.reports_on,
    )
    await edit(update, card)


async def street_segments(services: BotServices, lang: str, street: Candidate) -> render.Reply:
    """Offer the house-range segments of a split street, or ask for the house number."""
    try:
        resolution = await within_deadline(
            services, services.resolver.choose(street.document_id, lang=lang)
        )
    except ServiceUnavailableError:
        return render.render_notice(services.catalogue, lang, "unavailable")
    if resolution.status is Status.NOT_FOUND or not resolution.candidates:
        return render.render_need_house(services.catalogue, lang, street)
    await services.recent.keep(resolution.candidates[: render.choice_limit(resolution)])
    return render.render_resolution(
        services.catalogue, lang, resolution, signer=services.signer, reporting=services.reports_on
    )


async def on_contact(update: Update, services: BotServices, lang: str, press: SendContact) -> None:
    """Send the sector's inspector as a contact the user can save."""
    query = update.callback_query
    assert query is not None
    sector = await services.recent.sector(press.sector_id)
    chat = update.effective_chat
    if sector is None or chat is None:
        await query.answer(services.catalogue.text(lang, "stale_press"), show_alert=True)
        return
    await query.answer(services.catalogue.text(lang, "contact_sent"))
    officer = sector.officer
    await chat.send_contact(
        phone_number=render.readable_phone(officer.phone),
        first_name=render.officer_name(sector, lang),
    )


async def on_language_chosen(
    update: Update, context: Context, services: BotServices, press: ChooseLanguage
) -> None:
    """Store the chosen language and show the help in it."""
    if context.user_data is not None:
        context.user_data["lang"] = press.lang
    assert update.callback_query is not None
    await update.callback_query.answer()
    await edit(update, render.render_notice(services.catalogue, press.lang, "language_set"))
    await send(update, render.render_help(services.catalogue, press.lang))


# --- inline mode --------------------------------------------------------------------------


async def on_inline_query(update: Update, context: Context) -> None:
    """Offer inspector cards for ``@bot <address>`` typed in any chat."""
    inline = update.inline_query
    if inline is None or not inline.query.strip():
        return
    services, lang = services_of(context), language_of(update, context)
    try:
        resolution = await resolve_text(services, inline.query)
    except ServiceUnavailableError:
        await inline.answer(
            render.render_inline_unavailable(services.catalogue, lang), cache_time=0
        )
        return
    # Not recorded as unresolved: inline queries arrive as the user types, one per prefix.
    results = render.render_inline_results(services.catalogue, lang, resolution)
    await inline.answer(results, cache_time=60, is_personal=True)


# --- errors -------------------------------------------------------------------------------


async def on_error(update: object, context: Context) -> None:
    """Log the failure (never the message text with the user id) and apologise to the user."""
    logger.error("handling an update failed", exc_info=context.error)
    if not isinstance(update, Update):
        return
    lang = language_of(update, context)
    services = services_of(context)
    try:
        await apologise(update, services.catalogue.text(lang, "error"))
    except TelegramError:
        logger.warning("could not tell the user about the failure")


async def apologise(update: Update, text: str) -> None:
    """Tell the user something went wrong, as a toast for a button or a message otherwise."""
    if update.callback_query is not None:
        await update.callback_query.answer(text, show_alert=True)
    elif update.inline_query is not None:
        await update.inline_query.answer([], cache_time=0)
    elif update.effective_chat is not None:
        await update.effective_chat.send_message(text)
