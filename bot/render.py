"""Pure rendering: resolver values in, Telegram texts and keyboards out.

No network, clock or settings here: every function takes the catalogue, the language and the
values to show, and returns a :class:`Reply` (HTML text plus optional keyboard) or inline results.
All text that came from a user, or from data, is escaped with :func:`html.escape` before it is put
into a template.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import Final

from telegram import (
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    KeyboardButton,
    MessageEntity,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from bot.callbacks import (
    CallbackSigner,
    encode_contact,
    encode_language,
    encode_none,
    encode_pick,
    encode_report_place,
    encode_report_sector,
)
from bot.i18n import LANGUAGES, Catalogue
from resolver.gazetteer import DISTRICT_NAMES, District, Sector
from resolver.models import Candidate, Resolution, Status

MAX_CHOICES: Final = 5  # different places offered at once
SEGMENTS_PER_ROW: Final = 2  # house ranges of one split street: all of them, two to a row
MAX_QUOTED_CHARS: Final = 80
_WEEKDAYS: Final = re.compile(r"\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun)\b")
_NAME_ORDER: Final = {"tg": ("tg", "ru", "en"), "ru": ("ru", "tg", "en"), "en": ("en", "ru", "tg")}

# Type words that open or close a street or area name in the seed, in any of the three languages.
TYPE_WORDS: Final = frozenset(
    {"улица", "ул.", "кӯчаи", "кӯча", "street", "проспект", "хиёбони", "avenue", "площадь"}
    | {"майдони", "square", "махалля", "маҳаллаи", "mahalla", "микрорайон", "шаҳраки"}
    | {"microdistrict", "переулок", "проезд", "гузаргоҳи"}
)

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | ForceReply


@dataclass(frozen=True)
class Reply:
    """One message to send or to edit into: HTML text and an optional keyboard.

    With ``entities`` the text is plain and styled by them instead (the emergency number is
    marked as a phone number, which HTML cannot say).
    """

    text: str
    markup: Markup | None = None
    entities: tuple[MessageEntity, ...] | None = None


# --- small pieces -------------------------------------------------------------------------


def quote_query(text: str) -> str:
    """Escape a user's text for HTML, shortened so a long message cannot flood the reply."""
    flat = " ".join(text.split())
    short = flat if len(flat) <= MAX_QUOTED_CHARS else flat[: MAX_QUOTED_CHARS - 1] + "…"
    return escape(short)


def place_name(catalogue: Catalogue, lang: str, candidate: Candidate) -> str:
    """Return the candidate's name for a reader of ``lang``.

    A place with no name in ``lang`` is named in another language, its type word ("улица",
    "кӯчаи") swapped for the reader's: ``улица Абая`` is ``кӯчаи Абая`` to a Tajik reader and
    ``Абая Street`` to an English one (the proper name stays in its own script).
    """
    own = getattr(candidate, f"name_{lang}", None)
    if own:
        return str(own)
    for code in _NAME_ORDER.get(lang, _NAME_ORDER["en"]):
        name = getattr(candidate, f"name_{code}")
        if name:
            return with_readers_type_word(catalogue, lang, str(name), candidate.kind)
    return candidate.name


def with_readers_type_word(catalogue: Catalogue, lang: str, name: str, kind: str) -> str:
    """Swap a leading or trailing type word of ``name`` for ``lang``'s (``place_<kind>``)."""
    key = f"place_{kind}"
    words = name.split()
    if not catalogue.has(key) or len(words) < 2:
        return name
    if words[0].lower() in TYPE_WORDS:
        return catalogue.text(lang, key, name=" ".join(words[1:]))
    if words[-1].lower() in TYPE_WORDS:
        return catalogue.text(lang, key, name=" ".join(words[:-1]))
    return name


def kind_label(catalogue: Catalogue, lang: str, kind: str) -> str:
    """Translate a place kind (``street``, ``mall`` ...), keeping unknown kinds as they are."""
    key = f"kind_{kind}"
    return catalogue.text(lang, key) if catalogue.has(key) else kind


def district_label(district: str, lang: str) -> str:
    """Name a district code (``somoni``) in ``lang``."""
    try:
        return DISTRICT_NAMES[District(district)][lang]
    except (ValueError, KeyError):
        return district


def translate_weekdays(catalogue: Catalogue, lang: str, hours: str) -> str:
    """Replace English weekday abbreviations in reception hours with ``lang``'s."""
    return _WEEKDAYS.sub(lambda match: catalogue.text(lang, f"day_{match.group(1)}"), hours)


def house_span(catalogue: Catalogue, lang: str, candidate: Candidate) -> str | None:
    """Describe a street segment's house range, e.g. ``houses 1–45, odd``; None if no range."""
    if candidate.house_start is None:
        return None
    if candidate.house_end is None:
        span = catalogue.text(lang, "houses_from", start=candidate.house_start)
    else:
        span = catalogue.text(
            lang, "houses_range", start=candidate.house_start, end=candidate.house_end
        )
    if candidate.house_parity in ("odd", "even"):
        return f"{span}, {catalogue.text(lang, f'houses_{candidate.house_parity}')}"
    return span


def officer_name(sector: Sector, lang: str) -> str:
    """Return the inspector's name spelt for ``lang``."""
    officer = sector.officer
    return {"tg": officer.name_tg, "ru": officer.name_ru}.get(lang, officer.name_en)


def capitalise(text: str) -> str:
    """Start a sentence with a capital letter, leaving the rest as it is (``проспект`` ...)."""
    return text[:1].upper() + text[1:]


def readable_phone(phone: str) -> str:
    """The one written form of a phone, as the seed keeps it: ``+992 00 123 45 67``."""
    return " ".join(phone.split())


def phone_link(phone: str) -> str:
    """The readable phone, as plain text: Telegram clients make a phone number tappable.

    Not an ``<a href="tel:...">``: the Bot API accepts only http(s) and tg:// links in HTML,
    and one refused link would make every card fail. The card's contact button dials it too.
    """
    return escape(readable_phone(phone))


def sector_line(catalogue: Catalogue, lang: str, sector: Sector) -> str:
    """Name the sector once: its id, its area if it has one, its district."""
    district = escape(district_label(sector.district, lang))
    area = sector.area_name(lang)
    if area is None:
        return catalogue.text(lang, "card_sector", sector_id=escape(sector.id), district=district)
    return catalogue.text(
        lang, "card_sector_area", sector_id=escape(sector.id), area=escape(area), district=district
    )


def location_keyboard(catalogue: Catalogue, lang: str) -> ReplyKeyboardMarkup:
    """Build the reply keyboard with the "send my location" button."""
    button = KeyboardButton(catalogue.text(lang, "location_button"), request_location=True)
    return ReplyKeyboardMarkup([[button]], resize_keyboard=True)


# --- the inspector card -------------------------------------------------------------------


def card_text(catalogue: Catalogue, lang: str, sector: Sector, place_line: str) -> str:
    """Write the inspector card body under an already rendered place line."""
    t = catalogue.text
    officer = sector.officer
    lines = [
        t(lang, "card_title"),
        place_line,
        t(
            lang,
            "card_officer",
            rank=escape(t(lang, f"rank_{officer.rank}")),
            name=escape(officer_name(sector, lang)),
        ),
        t(lang, "card_phone", phone=phone_link(officer.phone)),
        sector_line(catalogue, lang, sector),
        t(lang, "card_office", office=escape(sector.office_address(lang))),
        t(
            lang,
            "card_hours",
            hours=escape(translate_weekdays(catalogue, lang, officer.reception_hours)),
        ),
        "",
        t(lang, "card_demo"),
    ]
    return "\n".join(lines)


def place_line(catalogue: Catalogue, lang: str, candidate: Candidate, house: str | None) -> str:
    """Write the "place understood" line (with the house, or the old name the resident used)."""
    name = escape(place_name(catalogue, lang, candidate))
    if house:
        line = catalogue.text(lang, "card_place_house", place=name, house=escape(house))
    else:
        span = house_span(catalogue, lang, candidate)
        line = catalogue.text(lang, "card_place", place=f"{name}, {escape(span)}" if span else name)
    return "\n".join([line, *old_name_lines(catalogue, lang, candidate)])


def contact_keyboard(
    catalogue: Catalogue,
    lang: str,
    sector: Sector,
    signer: CallbackSigner,
    *,
    report_data: str | None = None,
) -> InlineKeyboardMarkup:
    """Build the card's keyboard: save the inspector as a contact (and report, when on)."""
    button = InlineKeyboardButton(
        catalogue.text(lang, "save_contact"), callback_data=encode_contact(sector.id, signer)
    )
    rows = [[button]]
    if report_data is not None:
        rows.append(
            [
                InlineKeyboardButton(
                    catalogue.text(lang, "report_to_inspector"), callback_data=report_data
                )
            ]
        )
    return InlineKeyboardMarkup(rows)


def render_card(
    catalogue: Catalogue,
    lang: str,
    candidate: Candidate,
    *,
    house: str | None,
    signer: CallbackSigner,
    reporting: bool = False,
) -> Reply:
    """Render the inspector card for a chosen place, or ask for a house on a split street.

    With ``reporting``, the card has a "Report to this inspector" button for this place.
    """
    if candidate.sector is None:
        return render_need_house(catalogue, lang, candidate)
    text = card_text(
        catalogue, lang, candidate.sector, place_line(catalogue, lang, candidate, house)
    )
    data = encode_report_place(candidate.document_id, house, signer) if reporting else None
    return Reply(
        text, contact_keyboard(catalogue, lang, candidate.sector, signer, report_data=data)
    )


def render_location_card(
    catalogue: Catalogue,
    lang: str,
    sector: Sector,
    *,
    signer: CallbackSigner,
    reporting: bool = False,
) -> Reply:
    """Render the inspector card for a shared location (no specific place)."""
    text = card_text(catalogue, lang, sector, catalogue.text(lang, "card_your_location"))
    data = encode_report_sector(sector.id, signer) if reporting else None
    return Reply(text, contact_keyboard(catalogue, lang, sector, signer, report_data=data))


def render_need_house(catalogue: Catalogue, lang: str, candidate: Candidate) -> Reply:
    """Ask for the house number of a street served by several inspectors."""
    example = escape(catalogue.text(lang, "example"))
    place = escape(capitalise(place_name(catalogue, lang, candidate)))
    text = catalogue.text(lang, "need_house", place=place, example=example)
    return Reply(text, location_keyboard(catalogue, lang))


# --- resolutions --------------------------------------------------------------------------


def choice_label(catalogue: Catalogue, lang: str, candidate: Candidate) -> str:
    """Label a candidate button: name · kind, district (· house range of a street segment)."""
    districts = ", ".join(district_label(code, lang) for code in candidate.district)
    parts = [
        place_name(catalogue, lang, candidate),
        " · ",
        kind_label(catalogue, lang, candidate.kind),
    ]
    if districts:
        parts.append(f", {districts}")
    span = house_span(catalogue, lang, candidate)
    return "".join(parts) + (f" · {span}" if span else "")


def none_button(catalogue: Catalogue, lang: str) -> list[InlineKeyboardButton]:
    """The "none of these" row."""
    return [InlineKeyboardButton(catalogue.text(lang, "choices_none"), callback_data=encode_none())]


def pick_button(
    label: str, candidate: Candidate, house: str | None, signer: CallbackSigner
) -> InlineKeyboardButton:
    """A button that picks ``candidate`` (with the house typed, if any)."""
    return InlineKeyboardButton(
        label, callback_data=encode_pick(candidate.document_id, house, signer)
    )


def render_choices(
    catalogue: Catalogue, lang: str, resolution: Resolution, *, signer: CallbackSigner
) -> Reply:
    """Ask which of up to five places was meant, with a "none of these" button."""
    if is_one_street(resolution):
        return render_segments(catalogue, lang, resolution, signer=signer)
    house = resolution.house.label() if resolution.house else None
    rows = [
        [pick_button(choice_label(catalogue, lang, c), c, house, signer)]
        for c in resolution.candidates[:MAX_CHOICES]
    ]
    rows.append(none_button(catalogue, lang))
    prompt = catalogue.text(lang, "choices_prompt", query=quote_query(resolution.query))
    return Reply(prompt, InlineKeyboardMarkup(rows))


def segment_label(catalogue: Catalogue, lang: str, segment: Candidate) -> str:
    """Label a house-range button: the range (the street is named in the question)."""
    return house_span(catalogue, lang, segment) or place_name(catalogue, lang, segment)


def render_segments(
    catalogue: Catalogue, lang: str, resolution: Resolution, *, signer: CallbackSigner
) -> Reply:
    """Ask for the house on a split street, with every house range as a button, two a row."""
    buttons = [
        pick_button(capitalise(segment_label(catalogue, lang, c)), c, None, signer)
        for c in resolution.candidates
    ]
    rows = [buttons[i : i + SEGMENTS_PER_ROW] for i in range(0, len(buttons), SEGMENTS_PER_ROW)]
    street = resolution.candidates[0]
    place = escape(capitalise(place_name(catalogue, lang, street)))
    lines = [*old_name_lines(catalogue, lang, street)]
    lines.append(catalogue.text(lang, "segments_prompt", place=place))
    return Reply("\n".join(lines), InlineKeyboardMarkup([*rows, none_button(catalogue, lang)]))


def old_name_lines(catalogue: Catalogue, lang: str, candidate: Candidate) -> list[str]:
    """Say the old name the resident typed and the name the place has now (none if not old)."""
    if not candidate.matched_old_name:
        return []
    old = escape(candidate.matched_old_name)
    name = escape(place_name(catalogue, lang, candidate))
    return [catalogue.text(lang, "card_old_name", old=old, place=name)]


def render_confirm(
    catalogue: Catalogue, lang: str, resolution: Resolution, *, signer: CallbackSigner
) -> Reply:
    """Ask about a single unsure candidate, saying why the bot asks instead of answering."""
    candidate = resolution.candidates[0]
    house = resolution.house.label() if resolution.house else None
    text = catalogue.text(
        lang,
        "confirm_prompt",
        query=quote_query(resolution.query),
        why=catalogue.text(lang, f"confirm_why_{unsure_because(candidate)}"),
    )
    rows = [
        [pick_button(choice_label(catalogue, lang, candidate), candidate, house, signer)],
        none_button(catalogue, lang),
    ]
    return Reply(text, InlineKeyboardMarkup(rows))


def unsure_because(candidate: Candidate) -> str:
    """Why one candidate is asked about: ``typos``, ``words`` (not all matched) or ``reading``."""
    if any(reason.endswith("typo(s)") for reason in candidate.reasons):
        return "typos"
    if any(reason.startswith("words ") and reason != "words 100%" for reason in candidate.reasons):
        return "words"
    return "reading"


def is_one_street(resolution: Resolution) -> bool:
    """Tell whether every candidate is a segment of the same place."""
    return len({c.place_id for c in resolution.candidates}) == 1 and len(resolution.candidates) > 1


def choice_limit(resolution: Resolution) -> int:
    """Offer up to five places, or every house range of one street."""
    return len(resolution.candidates) if is_one_street(resolution) else MAX_CHOICES


def render_not_found(catalogue: Catalogue, lang: str, query: str) -> Reply:
    """Say the place was not found and show how to ask, with the location button."""
    example = escape(catalogue.text(lang, "example"))
    text = catalogue.text(lang, "not_found", query=quote_query(query), example=example)
    return Reply(text, location_keyboard(catalogue, lang))


def render_other_town(catalogue: Catalogue, lang: str, query: str) -> Reply:
    """Say the text names another town: only Dushanbe is covered, 102 in an emergency."""
    example = escape(catalogue.text(lang, "example"))
    text = catalogue.text(lang, "other_town", query=quote_query(query), example=example)
    return Reply(text, location_keyboard(catalogue, lang))


def render_resolution(
    catalogue: Catalogue,
    lang: str,
    resolution: Resolution,
    *,
    signer: CallbackSigner,
    reporting: bool = False,
) -> Reply:
    """Render whatever the resolver decided: a card, a choice, or help."""
    house = resolution.house.label() if resolution.house else None
    if resolution.status is Status.RESOLVED and resolution.best is not None:
        return render_card(
            catalogue, lang, resolution.best, house=house, signer=signer, reporting=reporting
        )
    if resolution.status is Status.AMBIGUOUS and len(resolution.candidates) == 1:
        return render_confirm(catalogue, lang, resolution, signer=signer)
    if resolution.status is Status.AMBIGUOUS and resolution.candidates:
        return render_choices(catalogue, lang, resolution, signer=signer)
    if resolution.parts.elsewhere:
        return render_other_town(catalogue, lang, resolution.query)
    return render_not_found(catalogue, lang, resolution.query)


# --- fixed messages -----------------------------------------------------------------------


def render_welcome(catalogue: Catalogue, lang: str) -> Reply:
    """Say what the bot does, how to type an address, with an example and the location button."""
    example = escape(catalogue.text(lang, "example"))
    return Reply(
        catalogue.text(lang, "welcome", example=example), location_keyboard(catalogue, lang)
    )


def render_greeting(catalogue: Catalogue, lang: str) -> Reply:
    """Greet back and say in one line how to ask, with the location button."""
    example = escape(catalogue.text(lang, "example"))
    return Reply(
        catalogue.text(lang, "greeting", example=example), location_keyboard(catalogue, lang)
    )


def render_help(catalogue: Catalogue, lang: str) -> Reply:
    """Explain how to ask, with an example and the location button."""
    example = escape(catalogue.text(lang, "example"))
    return Reply(catalogue.text(lang, "help", example=example), location_keyboard(catalogue, lang))


def render_about(catalogue: Catalogue, lang: str, built_at: datetime | None) -> Reply:
    """Say what the bot is and the date of the published data it serves."""
    date = f"{built_at:%Y-%m-%d %H:%M}" if built_at is not None else "?"
    return Reply(catalogue.text(lang, "about", date=date))


def render_notice(catalogue: Catalogue, lang: str, key: str) -> Reply:
    """Render a one-line notice: unavailable, slow_down, outside_city, no_sector_here, error."""
    return Reply(catalogue.text(lang, key))


def render_none_chosen(catalogue: Catalogue, lang: str) -> Reply:
    """Answer "none of these" with another way to ask."""
    example = escape(catalogue.text(lang, "example"))
    return Reply(catalogue.text(lang, "none_chosen", example=example))


def render_language_menu(catalogue: Catalogue, lang: str) -> Reply:
    """Offer the three languages as inline buttons, each named in its own language."""
    buttons = [
        InlineKeyboardButton(
            catalogue.text(code, "language_name"), callback_data=encode_language(code)
        )
        for code in LANGUAGES
    ]
    return Reply(catalogue.text(lang, "language_prompt"), InlineKeyboardMarkup([buttons]))


# --- inline mode --------------------------------------------------------------------------


def render_inline_results(
    catalogue: Catalogue, lang: str, resolution: Resolution
) -> list[InlineQueryResultArticle]:
    """Offer an inspector card per candidate that has a sector (at most five)."""
    house = resolution.house.label() if resolution.house else None
    if resolution.status is Status.NOT_FOUND:
        return []
    shown = [c for c in resolution.candidates[:MAX_CHOICES] if c.sector is not None]
    return [inline_article(catalogue, lang, candidate, house) for candidate in shown]


def inline_article(
    catalogue: Catalogue, lang: str, candidate: Candidate, house: str | None
) -> InlineQueryResultArticle:
    """Build one inline result: the card as the message, the inspector as the description."""
    assert candidate.sector is not None  # filtered by the caller
    sector = candidate.sector
    text = card_text(catalogue, lang, sector, place_line(catalogue, lang, candidate, house))
    rank = catalogue.text(lang, f"rank_{sector.officer.rank}")
    return InlineQueryResultArticle(
        id=candidate.document_id[:64],
        title=choice_label(catalogue, lang, candidate),
        description=f"{rank} {officer_name(sector, lang)} · {readable_phone(sector.officer.phone)}",
        input_message_content=InputTextMessageContent(text, parse_mode="HTML"),
    )


def render_inline_unavailable(catalogue: Catalogue, lang: str) -> list[InlineQueryResultArticle]:
    """Offer one result that says the service is briefly unavailable."""
    content = InputTextMessageContent(
        escape(catalogue.text(lang, "unavailable")), parse_mode="HTML"
    )
    title = catalogue.text(lang, "inline_unavailable")
    return [InlineQueryResultArticle(id="unavailable", title=title, input_message_content=content)]
