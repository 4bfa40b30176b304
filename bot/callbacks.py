"""Button payloads (``callback_data``): short, signed, at most 64 bytes.

Telegram hands ``callback_data`` back verbatim, so anyone can send any string. Payloads that name a
place or a sector carry an HMAC over their fields, keyed by a secret the process draws at start
(several workers derive theirs from the webhook secret they share, :meth:`CallbackSigner.derived`):
a forged press, or a press on a keyboard from before a restart, fails the check and gets a polite
answer instead of an action.

Formats::

    p:<document_id>:<house>:<sig>   pick a candidate place (house may be empty)
    c:<sector_id>:<sig>             send the inspector of a sector as a contact
    x                               none of these
    l:<lang>                        switch language
    rp:<document_id>:<house>:<sig>  report to the inspector of a place card
    rs:<sector_id>:<sig>            report to the inspector of a location card
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Final

MAX_CALLBACK_BYTES: Final = 64
CALLBACK_KEY_LABEL: Final = b"noziri callback signing v1"
SIGNATURE_CHARS: Final = 8
MAX_HOUSE_CHARS: Final = 12
_SAFE_HOUSE: Final = re.compile(r"[^0-9A-Za-zА-Яа-яЁёӢӣӮӯҲҳҚқҒғҶҷ/-]")


class CallbackTooLongError(ValueError):
    """A payload would exceed Telegram's 64-byte limit for ``callback_data``."""


@dataclass(frozen=True)
class CallbackSigner:
    """Signs and checks payload fields with a per-process secret."""

    secret: bytes

    @classmethod
    def random(cls) -> CallbackSigner:
        """Draw a fresh secret: buttons from an earlier process become stale."""
        return cls(secret=secrets.token_bytes(32))

    @classmethod
    def derived(cls, shared_secret: str) -> CallbackSigner:
        """The secret of every worker that shares ``shared_secret`` (the webhook secret), so a
        button one worker signed checks on another, and survives a restart."""
        key = hmac.new(as_bytes(shared_secret), CALLBACK_KEY_LABEL, hashlib.sha256).digest()
        return cls(secret=key)

    def sign(self, *fields: str) -> str:
        """Return a short URL-safe signature over ``fields``."""
        return self.digest(*fields).decode("ascii")

    def digest(self, *fields: str) -> bytes:
        """Return the signature over ``fields`` as ASCII bytes."""
        message = as_bytes("\x1f".join(fields))
        mac = hmac.new(self.secret, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac)[:SIGNATURE_CHARS]

    def verify(self, signature: str, *fields: str) -> bool:
        """Tell whether ``signature`` was made by :meth:`sign` over ``fields``.

        Compared as bytes: ``hmac.compare_digest`` raises ``TypeError`` on a ``str`` with
        non-ASCII characters, and a forged payload may hold anything.
        """
        return hmac.compare_digest(as_bytes(signature), self.digest(*fields))


def as_bytes(text: str) -> bytes:
    """Encode any ``str`` as UTF-8, lone surrogates included (JSON can carry them)."""
    return text.encode("utf-8", "surrogatepass")


@dataclass(frozen=True)
class PickPlace:
    """The user chose one candidate (a place or a street segment)."""

    document_id: str
    house: str | None


@dataclass(frozen=True)
class SendContact:
    """The user asked for the inspector of ``sector_id`` as a contact."""

    sector_id: str


@dataclass(frozen=True)
class NoneOfThese:
    """The user said no candidate was right."""


@dataclass(frozen=True)
class ChooseLanguage:
    """The user picked a language from the /lang menu."""

    lang: str


Press = PickPlace | SendContact | NoneOfThese | ChooseLanguage


def checked(data: str) -> str:
    """Return ``data`` if it fits Telegram's limit, else raise :class:`CallbackTooLongError`."""
    if len(data.encode()) > MAX_CALLBACK_BYTES:
        raise CallbackTooLongError(f"callback_data is {len(data.encode())} bytes: {data!r}")
    return data


def clean_house(house: str | None) -> str:
    """Keep a house label short and free of separators so it fits in a payload."""
    return _SAFE_HOUSE.sub("", house or "")[:MAX_HOUSE_CHARS]


def encode_pick(document_id: str, house: str | None, signer: CallbackSigner) -> str:
    """Build the payload of a candidate button; drop the house if it would not fit."""
    label = clean_house(house)
    data = f"p:{document_id}:{label}:{signer.sign('p', document_id, label)}"
    if label and len(data.encode()) > MAX_CALLBACK_BYTES:
        return encode_pick(document_id, None, signer)
    return checked(data)


def encode_contact(sector_id: str, signer: CallbackSigner) -> str:
    """Build the payload of the "save as contact" button."""
    return checked(f"c:{sector_id}:{signer.sign('c', sector_id)}")


def encode_none() -> str:
    """Build the payload of the "none of these" button."""
    return "x"


def encode_language(lang: str) -> str:
    """Build the payload of a language button."""
    return checked(f"l:{lang}")


def decode_press(
    data: str | None, signer: CallbackSigner, *, languages: tuple[str, ...]
) -> Press | None:
    """Read a payload back; None when it is malformed, forged or stale."""
    parts = (data or "").split(":")
    match parts:
        case ["p", document_id, house, signature] if signer.verify(
            signature, "p", document_id, house
        ):
            return PickPlace(document_id=document_id, house=house or None)
        case ["c", sector_id, signature] if signer.verify(signature, "c", sector_id):
            return SendContact(sector_id=sector_id)
        case ["x"]:
            return NoneOfThese()
        case ["l", lang] if lang in languages:
            return ChooseLanguage(lang=lang)
    return None


@dataclass(frozen=True)
class ReportFrom:
    """The resident pressed "Report to this inspector" on a place card or a location card."""

    document_id: str | None
    house: str | None
    sector_id: str | None


def encode_report_place(document_id: str, house: str | None, signer: CallbackSigner) -> str:
    """Build the "report to this inspector" payload of a place card (the house if it fits)."""
    label = clean_house(house)
    data = f"rp:{document_id}:{label}:{signer.sign('rp', document_id, label)}"
    if label and len(data.encode()) > MAX_CALLBACK_BYTES:
        return encode_report_place(document_id, None, signer)
    return checked(data)


def encode_report_sector(sector_id: str, signer: CallbackSigner) -> str:
    """Build the "report to this inspector" payload of a location card."""
    return checked(f"rs:{sector_id}:{signer.sign('rs', sector_id)}")


def decode_report_from(data: str | None, signer: CallbackSigner) -> ReportFrom | None:
    """Read a "report to this inspector" payload; None when malformed, forged or stale."""
    match (data or "").split(":"):
        case ["rp", document_id, house, signature] if signer.verify(
            signature, "rp", document_id, house
        ):
            return ReportFrom(document_id=document_id, house=house or None, sector_id=None)
        case ["rs", sector_id, signature] if signer.verify(signature, "rs", sector_id):
            return ReportFrom(document_id=None, house=None, sector_id=sector_id)
    return None
