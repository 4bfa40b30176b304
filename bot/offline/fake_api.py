"""A fake Telegram Bot API server on 127.0.0.1, for the offline chat and the end-to-end tests.

It speaks the Bot API over real HTTP (tornado, which python-telegram-bot's webhook extra already
brings), so the bot under test runs its real network layer: ``getUpdates`` long polling,
``sendMessage``, ``editMessageText``, ``editMessageReplyMarkup``, ``answerCallbackQuery``,
``answerInlineQuery``, ``sendContact``, ``sendPhoto``, ``sendMediaGroup``, ``sendVoice``,
``copyMessage``, ``forwardMessage`` and the start-up calls. Every call is recorded as an
:class:`ApiCall`; tests and the terminal chat inject updates (a text, a location, a photo, a
voice message, a contact, a reply, a button press, an inline query), in a private chat or in a
group (:class:`FakeChat`, e.g. an inspectors' staff chat), and await the bot's calls.

:meth:`FakeBotApi.make_unreachable` makes every send to one chat fail (403 as a bot blocked or
removed from a group, 500 as a server error) until :meth:`FakeBotApi.make_reachable`; refused
sends are kept in ``refused``, not in ``calls``.

**Webhook mode.** ``setWebhook`` (``url``, ``secret_token``, ``max_connections``, default 40,
``drop_pending_updates``, an uploaded ``certificate``; ``allowed_updates`` is kept but not applied),
``deleteWebhook`` and ``getWebhookInfo`` behave as the Bot API documents them; while a webhook is
set, ``getUpdates`` fails with 409 Conflict and every pushed update is POSTed to the URL by
:mod:`bot.offline.webhook_delivery` (secret header, at most ``max_connections`` in flight,
redelivery of the same ``update_id`` with back-off after a non-2xx answer, a connection error or
a timeout). ``deliveries[update_id]`` holds each update's :class:`Delivery` history and
:meth:`FakeBotApi.webhook_stats` the totals, so a bench can count lost and redelivered updates.
Deliveries go to loopback hosts only. Python code can call :meth:`FakeBotApi.set_webhook` and
:meth:`FakeBotApi.delete_webhook` directly.

Parameters arrive form-encoded with JSON-encoded values for non-strings (python-telegram-bot's
``RequestData.json_parameters``); text fields are kept as sent.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Final

import tornado.httpserver
import tornado.netutil
import tornado.web

from bot.offline.webhook_delivery import (
    Attempt,
    Delivery,
    DeliveryPolicy,
    DeliveryState,
    WebhookConfig,
    WebhookDeliverer,
    WebhookStats,
    delivery_ssl,
    sum_deliveries,
)

FAKE_TOKEN: Final = "1234567:FAKE-offline-token"
TEXT_PARAMS: Final = frozenset(
    {
        "text",
        "caption",
        "first_name",
        "last_name",
        "phone_number",
        "vcard",
        "callback_query_id",
        "inline_query_id",
        "inline_message_id",
        "parse_mode",
        "url",
        "language_code",
        "next_offset",
        "secret_token",
        "photo",
        "voice",
        "document",
    }
)
SEND_METHODS: Final = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendMediaGroup",
        "sendVoice",
        "sendContact",
        "copyMessage",
        "forwardMessage",
    }
)
UNREACHABLE: Final = {
    403: "Forbidden: bot was kicked from the group chat",
    500: "Internal Server Error",
}
# Calls a bot makes on its own (start-up, housekeeping), not in reply to a user.
HOUSEKEEPING: Final = frozenset(
    {
        "getMe",
        "setMyCommands",
        "setWebhook",
        "deleteWebhook",
        "getWebhookInfo",
        "close",
        "logOut",
        "getUpdates",
    }
)
WEBHOOK_METHODS: Final = frozenset({"setWebhook", "deleteWebhook", "getWebhookInfo"})
WEBHOOK_CONFLICT: Final = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
HTTPS_WANTED: Final = "An HTTPS URL must be provided for webhook"
SECRET_TOKEN: Final = re.compile(r"[A-Za-z0-9_-]{1,256}")

Json = dict[str, Any]


class BotApiError(Exception):
    """An error the fake server answers with, as Telegram would (``ok: false``)."""

    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


@dataclass(frozen=True)
class ApiCall:
    """One Bot API request the bot made."""

    index: int
    method: str
    params: Json
    result: Any = None  # what the fake answered (the message sent, for sends)
    at: float = field(default_factory=time.monotonic, compare=False)  # when it was answered

    @property
    def chat_id(self) -> int | None:
        """The chat the call addresses, if any."""
        value = self.params.get("chat_id")
        return value if isinstance(value, int) else None


@dataclass(frozen=True)
class FakeUser:
    """A Telegram user talking to the bot in a private chat."""

    id: int
    first_name: str = "Resident"
    language_code: str | None = "ru"

    def as_json(self) -> Json:
        """Return the Bot API ``User`` object."""
        user: Json = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.language_code:
            user["language_code"] = self.language_code
        return user

    def chat_json(self) -> Json:
        """Return the private ``Chat`` with this user."""
        return {"id": self.id, "type": "private", "first_name": self.first_name}


@dataclass(frozen=True)
class FakeChat:
    """A group chat (for example a sector's staff chat) the bot is a member of."""

    id: int
    title: str = "Staff"
    type: str = "group"

    def as_json(self) -> Json:
        """Return the Bot API ``Chat`` object."""
        return {"id": self.id, "type": self.type, "title": self.title}


def decode_params(raw: dict[str, str]) -> Json:
    """Turn form values back into Bot API values (JSON for everything but text fields)."""
    return {name: decode_value(name, value) for name, value in raw.items()}


def decode_value(name: str, value: str) -> Any:
    """Decode one parameter: text stays text, the rest is JSON when it parses."""
    if name in TEXT_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def command_entities(text: str) -> list[Json]:
    """Mark a leading ``/command`` the way Telegram does, so CommandHandler sees it."""
    if not text.startswith("/"):
        return []
    return [{"type": "bot_command", "offset": 0, "length": len(text.split(maxsplit=1)[0])}]


@dataclass
class FakeBotApi:
    """The fake server: state, update queue, call log and the HTTP front end.

    ``webhook_policy`` sets the per-attempt timeout, back-off and give-up of webhook deliveries;
    ``webhook_ssl`` (used as given) or ``webhook_cafile`` (trusted with any uploaded certificate)
    verify an https webhook.
    """

    token: str = FAKE_TOKEN
    username: str = "noziri_offline_bot"
    calls: list[ApiCall] = field(default_factory=list)
    messages: dict[tuple[int, int], Json] = field(default_factory=dict)
    updates: list[Json] = field(default_factory=list)
    poll_count: int = 0
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _message_ids: dict[int, itertools.count[int]] = field(default_factory=dict)
    _update_arrived: asyncio.Event = field(default_factory=asyncio.Event)
    _call_recorded: asyncio.Event = field(default_factory=asyncio.Event)
    refused: list[ApiCall] = field(default_factory=list)
    unreachable: dict[int, int] = field(default_factory=dict)
    webhook_policy: DeliveryPolicy = field(default_factory=DeliveryPolicy)
    webhook_ssl: ssl.SSLContext | None = None
    webhook_cafile: str | None = None
    deliveries: dict[int, Delivery] = field(default_factory=dict)
    _closing: bool = False
    _server: tornado.httpserver.HTTPServer | None = None
    _port: int = 0
    _webhook: WebhookConfig | None = None
    _deliverer: WebhookDeliverer | None = None
    _pushed_at: dict[int, float] = field(default_factory=dict)
    _last_error: tuple[int, str] | None = None
    _peak_in_flight: int = 0
    _settled: asyncio.Event = field(default_factory=asyncio.Event)
    _webhook_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    # --- life cycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Listen on a free port of 127.0.0.1."""
        sockets = tornado.netutil.bind_sockets(0, "127.0.0.1", backlog=1024)
        self._port = sockets[0].getsockname()[1]
        routes = [(r"/bot([^/]+)/(\w+)", MethodHandler, {"api": self})]
        app = tornado.web.Application(routes, log_function=lambda _handler: None)
        self._server = tornado.httpserver.HTTPServer(app)
        self._server.add_sockets(sockets)

    async def stop(self) -> None:
        """End pending long polls and close the server."""
        self._closing = True
        self._update_arrived.set()
        await self.close_deliverer()
        if self._server is not None:
            self._server.stop()
            await self._server.close_all_connections()

    async def __aenter__(self) -> FakeBotApi:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.stop()

    @property
    def root(self) -> str:
        """The server root to give the bot as ``TELEGRAM_API_BASE_URL``."""
        return f"http://127.0.0.1:{self._port}"

    @property
    def bot_user(self) -> Json:
        """The bot's own ``User`` object."""
        bot_id = int(self.token.split(":")[0])
        return {"id": bot_id, "is_bot": True, "first_name": "Noziri", "username": self.username}

    # --- serving requests ---------------------------------------------------------------

    async def call(self, token: str, method: str, params: Json) -> Any:
        """Answer one Bot API request; raise :class:`BotApiError` like Telegram would."""
        if token != self.token:
            raise BotApiError(401, "Unauthorized")
        if method == "getUpdates":
            return await self.get_updates(params)
        if method in WEBHOOK_METHODS:
            result = await self.webhook_method(method, params)
            self.record(method, params, result)
            return result
        handler = self.methods().get(method)
        if handler is None:
            raise BotApiError(404, f"Not Found: method {method} is not faked")
        self.refuse_if_unreachable(method, params)
        result = handler(params)
        self.record(method, params, result)
        return result

    def methods(self) -> dict[str, Callable[[Json], Any]]:
        """Map Bot API method names to their fake implementations."""
        done: Callable[[Json], Any] = lambda _params: True  # noqa: E731
        return {
            "getMe": lambda _params: self.bot_user | {"supports_inline_queries": True},
            "sendMessage": self.send_message,
            "editMessageText": self.edit_message_text,
            "sendContact": self.send_contact,
            "sendPhoto": self.send_photo,
            "sendVoice": self.send_voice,
            "sendMediaGroup": self.send_media_group,
            "copyMessage": lambda params: {
                "message_id": self.store_bot_message(params)["message_id"]
            },
            "forwardMessage": self.store_bot_message,
            "editMessageReplyMarkup": self.edit_message_reply_markup,
            "deleteMessage": lambda _params: True,
            "getMyCommands": lambda _params: [],
            **dict.fromkeys(
                [
                    "answerCallbackQuery",
                    "answerInlineQuery",
                    "setMyCommands",
                    "deleteMyCommands",
                    "sendChatAction",
                    "close",
                    "logOut",
                ],
                done,
            ),
        }

    def make_unreachable(self, chat_id: int, code: int = 403) -> None:
        """Fail every send to ``chat_id`` with ``code`` (403 or 500) until made reachable."""
        self.unreachable[chat_id] = code

    def make_reachable(self, chat_id: int) -> None:
        """Let sends to ``chat_id`` through again."""
        self.unreachable.pop(chat_id, None)

    def refuse_if_unreachable(self, method: str, params: Json) -> None:
        """Raise the chat's error for a send to an unreachable chat (and keep the attempt)."""
        code = self.unreachable.get(int(params.get("chat_id") or 0))
        if code is None or method not in SEND_METHODS:
            return
        self.refused.append(ApiCall(index=len(self.refused), method=method, params=params))
        raise BotApiError(code, UNREACHABLE.get(code, "Error"))

    def sent_to(self, chat_id: int, *methods: str) -> list[ApiCall]:
        """The calls that reached ``chat_id`` (of ``methods``, or every send)."""
        wanted = frozenset(methods) or SEND_METHODS
        return [c for c in self.calls if c.chat_id == chat_id and c.method in wanted]

    def record(self, method: str, params: Json, result: Any = None) -> None:
        """Log a call and wake whoever waits for one."""
        call = ApiCall(index=len(self.calls), method=method, params=params, result=result)
        self.calls.append(call)
        self._call_recorded.set()

    async def get_updates(self, params: Json) -> list[Json]:
        """Long-poll: return updates from ``offset`` on, waiting up to ``timeout`` seconds.

        Fails with 409 Conflict while a webhook is set, also when one is set during the wait.
        """
        self.poll_count += 1
        self.refuse_poll_while_webhook()
        offset, limit = int(params.get("offset") or 0), int(params.get("limit") or 100)
        self.updates = [u for u in self.updates if u["update_id"] >= offset]
        deadline = asyncio.get_running_loop().time() + float(params.get("timeout") or 0)
        while not self.updates and not self._closing and self._webhook is None:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                break
            self._update_arrived.clear()
            await wait_or_timeout(self._update_arrived.wait(), remaining)
        self.refuse_poll_while_webhook()
        return self.updates[:limit]

    def refuse_poll_while_webhook(self) -> None:
        """Raise Telegram's 409 Conflict when a webhook is set."""
        if self._webhook is not None:
            raise BotApiError(409, WEBHOOK_CONFLICT)

    # --- webhook ------------------------------------------------------------------------

    async def webhook_method(self, method: str, params: Json) -> Any:
        """Answer ``setWebhook``, ``deleteWebhook`` or ``getWebhookInfo``."""
        if method == "getWebhookInfo":
            return self.webhook_info()
        drop = is_true(params.get("drop_pending_updates"))
        if method == "deleteWebhook":
            await self.delete_webhook(drop_pending_updates=drop)
            return True
        await self.set_webhook(
            str(params.get("url") or ""),
            secret_token=optional_text(params.get("secret_token")),
            max_connections=int(params.get("max_connections") or 40),
            drop_pending_updates=drop,
            certificate=uploaded_bytes(params.get("certificate")),
            ip_address=optional_text(params.get("ip_address")),
            allowed_updates=text_list(params.get("allowed_updates")),
        )
        return True

    async def set_webhook(
        self,
        url: str,
        *,
        secret_token: str | None = None,
        max_connections: int = 40,
        drop_pending_updates: bool = False,
        certificate: bytes | None = None,
        ip_address: str | None = None,
        allowed_updates: list[str] | None = None,
    ) -> None:
        """Register a webhook as ``setWebhook`` does (an empty ``url`` deletes it).

        Raises:
            BotApiError: 400 for a URL that is not http(s), a secret Telegram refuses, or an
                uploaded certificate that does not parse.
        """
        if not url:
            await self.delete_webhook(drop_pending_updates=drop_pending_updates)
            return
        config = WebhookConfig(
            url=checked_webhook_url(url),
            secret_token=checked_secret(secret_token),
            max_connections=min(max(max_connections, 1), 100),  # Telegram's range, 1-100
            certificate=certificate,
            ip_address=ip_address,
            allowed_updates=tuple(allowed_updates) if allowed_updates is not None else None,
        )
        tls = self.webhook_tls(config)
        async with self._webhook_lock:  # workers starting together register at the same time
            if config == self._webhook and not drop_pending_updates:
                return  # every worker registers the same webhook at start: nothing changes
            await self.close_deliverer()
            if drop_pending_updates:
                self.drop_pending("dropped by drop_pending_updates")
            self.start_deliverer(config, tls)

    async def delete_webhook(self, *, drop_pending_updates: bool = False) -> None:
        """Remove the webhook; pending updates go back to ``getUpdates`` unless dropped."""
        async with self._webhook_lock:
            await self.close_deliverer()
            self._webhook = None
            if drop_pending_updates:
                self.drop_pending("dropped by drop_pending_updates")

    def webhook_info(self) -> Json:
        """Return the ``WebhookInfo`` object of ``getWebhookInfo``."""
        config = self._webhook
        info: Json = {
            "url": config.url if config else "",
            "has_custom_certificate": bool(config and config.certificate),
            "pending_update_count": len(self.updates),
        }
        if config is not None:
            info["max_connections"] = config.max_connections
            info |= {"ip_address": config.ip_address} if config.ip_address else {}
            if config.allowed_updates is not None:
                info["allowed_updates"] = list(config.allowed_updates)
        if self._last_error is not None:
            info["last_error_date"], info["last_error_message"] = self._last_error
        return info

    def webhook_stats(self) -> WebhookStats:
        """Totals over :attr:`deliveries`: delivered, pending, dropped, redelivered, attempts."""
        deliverer = self._deliverer
        in_flight = deliverer.in_flight if deliverer else 0
        peak = max(self._peak_in_flight, deliverer.max_in_flight if deliverer else 0)
        records = list(self.deliveries.values())
        return sum_deliveries(records, in_flight=in_flight, max_in_flight=peak)

    async def wait_for_deliveries(self, *, timeout: float = 10.0) -> WebhookStats:
        """Wait until no webhook delivery is pending; return the totals.

        Updates handed back to ``getUpdates`` by ``deleteWebhook`` stay pending in their records
        (the webhook never delivered them), so this times out on them.

        Raises:
            TimeoutError: some update is still pending after ``timeout`` seconds.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while (stats := self.webhook_stats()).pending:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"{stats.pending} webhook deliveries pending after {timeout} s")
            self._settled.clear()
            await wait_or_timeout(self._settled.wait(), remaining)
        return stats

    def webhook_tls(self, config: WebhookConfig) -> ssl.SSLContext | bool:
        """The TLS setting for ``config``'s deliveries (400 for an unusable certificate)."""
        try:
            return delivery_ssl(config, context=self.webhook_ssl, cafile=self.webhook_cafile)
        except ssl.SSLError as exc:
            raise BotApiError(400, f"Bad Request: bad webhook: bad certificate ({exc})") from exc

    def start_deliverer(self, config: WebhookConfig, tls: ssl.SSLContext | bool) -> None:
        """Deliver to ``config`` from now on, beginning with the updates already pending."""
        self._webhook = config
        self._deliverer = WebhookDeliverer(
            config,
            policy=self.webhook_policy,
            tls=tls,
            on_settled=self.settle,
            on_failure=self.note_failure,
        )
        self._update_arrived.set()  # a long poll in progress ends with 409
        for update in list(self.updates):
            self.offer(update)

    async def close_deliverer(self) -> None:
        """Stop delivering (in-flight attempts are cancelled and recorded so)."""
        deliverer, self._deliverer = self._deliverer, None
        if deliverer is not None:
            self._peak_in_flight = max(self._peak_in_flight, deliverer.max_in_flight)
            await deliverer.close()

    def offer(self, update: Json) -> None:
        """Hand ``update`` to the webhook, opening its delivery record on first offer."""
        if self._deliverer is None:
            return
        update_id = int(update["update_id"])
        delivery = self.deliveries.get(update_id)
        if delivery is None:
            pushed_at = self._pushed_at.get(update_id, time.monotonic())
            delivery = self.deliveries[update_id] = Delivery(update_id, pushed_at)
        self._deliverer.offer(update, delivery)

    def settle(self, delivery: Delivery) -> None:
        """Take a delivered or dropped update off the queue."""
        self.updates = [u for u in self.updates if u["update_id"] != delivery.update_id]
        self._settled.set()

    def note_failure(self, attempt: Attempt) -> None:
        """Keep the last error for ``getWebhookInfo``."""
        self._last_error = (int(time.time()), attempt.error)

    def drop_pending(self, reason: str) -> None:
        """Drop every pending update, as ``drop_pending_updates`` does."""
        for update in self.updates:
            delivery = self.deliveries.get(int(update["update_id"]))
            if delivery is not None and delivery.state is DeliveryState.PENDING:
                delivery.state, delivery.dropped_reason = DeliveryState.DROPPED, reason
        self.updates = []
        self._settled.set()

    def send_message(self, params: Json) -> Json:
        """Store and return a message the bot sent."""
        return self.store_bot_message(params, text=str(params.get("text", "")))

    def send_contact(self, params: Json) -> Json:
        """Store and return a contact the bot sent."""
        contact = {
            "phone_number": params.get("phone_number"),
            "first_name": params.get("first_name"),
        }
        return self.store_bot_message(params, contact=contact)

    def send_photo(self, params: Json) -> Json:
        """Store and return a photo the bot sent (by file id)."""
        photo = [photo_size(str(params.get("photo")))]
        return self.store_bot_message(params, photo=photo, caption=params.get("caption"))

    def send_voice(self, params: Json) -> Json:
        """Store and return a voice message the bot sent (by file id)."""
        voice = {"file_id": str(params.get("voice")), "file_unique_id": "v", "duration": 1}
        return self.store_bot_message(params, voice=voice, caption=params.get("caption"))

    def send_media_group(self, params: Json) -> list[Json]:
        """Store an album: one photo message per item."""
        items = params.get("media") or []
        return [
            self.store_bot_message(
                params, photo=[photo_size(str(item.get("media")))], caption=item.get("caption")
            )
            for item in items
        ]

    def edit_message_reply_markup(self, params: Json) -> Json | bool:
        """Replace (or drop) the inline keyboard of a stored message."""
        key = (int(params["chat_id"]), int(params["message_id"]))
        old = self.messages.get(key)
        if old is None:
            raise BotApiError(400, "Bad Request: message to edit not found")
        new = {k: v for k, v in old.items() if k != "reply_markup"}
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and markup.get("inline_keyboard"):
            new["reply_markup"] = markup
        if new == old:
            raise BotApiError(400, "Bad Request: message is not modified")
        self.messages[key] = new
        return new

    def store_bot_message(self, params: Json, **content: Any) -> Json:
        """Create a bot message in the chat of ``params`` (only inline keyboards are kept)."""
        chat_id = int(params["chat_id"])
        message: Json = {
            "message_id": self.next_message_id(chat_id),
            "date": int(time.time()),
            "chat": bot_chat_json(chat_id),
            "from": self.bot_user,
            **content,
        }
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        self.messages[(chat_id, message["message_id"])] = message
        return message

    def edit_message_text(self, params: Json) -> Json | bool:
        """Edit a stored message, refusing an edit that changes nothing, as Telegram does."""
        if "inline_message_id" in params:
            return True
        key = (int(params["chat_id"]), int(params["message_id"]))
        old = self.messages.get(key)
        if old is None:
            raise BotApiError(400, "Bad Request: message to edit not found")
        new = {k: v for k, v in old.items() if k != "reply_markup"} | {
            "text": params.get("text", "")
        }
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            new["reply_markup"] = markup
        if new == old:
            raise BotApiError(400, "Bad Request: message is not modified")
        self.messages[key] = new
        return new

    def next_message_id(self, chat_id: int) -> int:
        """Number messages per chat, as Telegram does."""
        return next(self._message_ids.setdefault(chat_id, itertools.count(1)))

    # --- injecting updates --------------------------------------------------------------

    def push_update(self, **payload: Json) -> int:
        """Queue an update (``message=...``, ``callback_query=...``) and return its id."""
        update_id = next(self._ids)
        update = {"update_id": update_id, **payload}
        self.updates.append(update)
        self._pushed_at[update_id] = time.monotonic()
        self._update_arrived.set()
        self.offer(update)  # while a webhook is set; call from the server's event loop
        return update_id

    def user_message(self, user: FakeUser, *, chat: FakeChat | None = None, **content: Any) -> Json:
        """Store a message the user sent in their private chat (or in the group ``chat``)."""
        chat_json = chat.as_json() if chat is not None else user.chat_json()
        message: Json = {
            "message_id": self.next_message_id(chat_json["id"]),
            "date": int(time.time()),
            "chat": chat_json,
            "from": user.as_json(),
            **{k: v for k, v in content.items() if v is not None},
        }
        self.messages[(chat_json["id"], message["message_id"])] = message
        return message

    def send_text(
        self,
        user: FakeUser,
        text: str,
        *,
        chat: FakeChat | None = None,
        reply_to: int | None = None,
    ) -> int:
        """The user types ``text`` (a ``/command`` gets its entity), perhaps as a reply."""
        entities = command_entities(text)
        content: Json = {"text": text, **({"entities": entities} if entities else {})}
        if reply_to is not None:
            chat_id = chat.id if chat is not None else user.id
            content["reply_to_message"] = self.messages[(chat_id, reply_to)]
        return self.push_update(message=self.user_message(user, chat=chat, **content))

    def send_photo_from(self, user: FakeUser, file_id: str, *, caption: str | None = None) -> int:
        """The user sends a photo (Telegram sends several sizes; the last is the largest)."""
        sizes = [photo_size(f"{file_id}-small", 90), photo_size(file_id, 1280)]
        return self.push_update(message=self.user_message(user, photo=sizes, caption=caption))

    def send_voice_from(self, user: FakeUser, file_id: str, *, duration: int = 5) -> int:
        """The user sends a voice message."""
        voice = {"file_id": file_id, "file_unique_id": f"u-{file_id}", "duration": duration}
        return self.push_update(message=self.user_message(user, voice=voice))

    def share_contact(self, user: FakeUser, phone: str, *, owner_id: int | None = None) -> int:
        """The user shares a contact: their own (the button's) unless ``owner_id`` says whose."""
        contact = {
            "phone_number": phone,
            "first_name": user.first_name,
            "user_id": user.id if owner_id is None else owner_id,
        }
        return self.push_update(message=self.user_message(user, contact=contact))

    def send_content(self, user: FakeUser, **content: Any) -> int:
        """The user sends any other message content (a sticker, a document, a poll …)."""
        return self.push_update(message=self.user_message(user, **content))

    def edit_text(self, user: FakeUser, message_id: int, text: str) -> int:
        """The user edits one of their earlier messages."""
        message = self.messages[(user.id, message_id)] | {
            "text": text,
            "edit_date": int(time.time()),
        }
        self.messages[(user.id, message_id)] = message
        return self.push_update(edited_message=message)

    def share_location(self, user: FakeUser, lat: float, lon: float) -> int:
        """The user shares a location."""
        return self.push_update(
            message=self.user_message(user, location={"latitude": lat, "longitude": lon})
        )

    def press_button(
        self, user: FakeUser, message_id: int, data: str, *, chat: FakeChat | None = None
    ) -> int:
        """The user presses an inline button whose ``callback_data`` is ``data``."""
        chat_id = chat.id if chat is not None else user.id
        message = self.messages.get((chat_id, message_id))
        if message is None:
            raise KeyError(f"no message {message_id} in chat {chat_id}")
        query = {
            "id": f"cb{len(self.calls)}-{message_id}",
            "from": user.as_json(),
            "chat_instance": f"ci{user.id}",
            "message": message,
            "data": data,
        }
        return self.push_update(callback_query=query)

    def type_inline(self, user: FakeUser, query: str) -> int:
        """The user types ``@bot <query>`` in some chat."""
        inline = {
            "id": f"iq{len(self.calls)}",
            "from": user.as_json(),
            "query": query,
            "offset": "",
        }
        return self.push_update(inline_query=inline)

    # --- awaiting the bot ---------------------------------------------------------------

    def mark(self) -> int:
        """Return the index the next recorded call will get."""
        return len(self.calls)

    async def wait_for(
        self, *methods: str, since: int = 0, chat_id: int | None = None, timeout: float = 5.0
    ) -> ApiCall:
        """Wait for the first call to one of ``methods`` (to ``chat_id``) at or after ``since``."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            for call in self.calls[since:]:
                if call.method in methods and (chat_id is None or call.chat_id == chat_id):
                    return call
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise TimeoutError(f"the bot made no {'/'.join(methods)} call within {timeout} s")
            self._call_recorded.clear()
            await wait_or_timeout(self._call_recorded.wait(), remaining)

    async def replies(
        self, *, since: int, timeout: float = 5.0, quiet: float = 0.25
    ) -> list[ApiCall]:
        """Collect the bot's reply calls after ``since``: wait for the first, then for quiet."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self.reply_calls(since) and loop.time() < deadline:
            self._call_recorded.clear()
            await wait_or_timeout(self._call_recorded.wait(), deadline - loop.time())
        count = -1
        while count != len(self.calls):
            count = len(self.calls)
            self._call_recorded.clear()
            await wait_or_timeout(self._call_recorded.wait(), quiet)
        return self.reply_calls(since)

    def reply_calls(self, since: int) -> list[ApiCall]:
        """The calls after ``since`` that are not the bot's own housekeeping."""
        return [call for call in self.calls[since:] if call.method not in HOUSEKEEPING]


def bot_chat_json(chat_id: int) -> Json:
    """The ``Chat`` of a message the bot sent: private for users, a group below zero."""
    if chat_id > 0:
        return {"id": chat_id, "type": "private"}
    return {"id": chat_id, "type": "group", "title": "Staff"}


def photo_size(file_id: str, width: int = 1280) -> Json:
    """A ``PhotoSize`` for a file id."""
    return {"file_id": file_id, "file_unique_id": f"u-{file_id}", "width": width, "height": width}


def is_true(value: Any) -> bool:
    """Read a Bot API boolean (JSON ``true`` or the text ``"true"``)."""
    return value is True or str(value).lower() == "true"


def optional_text(value: Any) -> str | None:
    """A text parameter, None when absent or empty."""
    return str(value) if value not in (None, "") else None


def text_list(value: Any) -> list[str] | None:
    """A list-of-strings parameter (``allowed_updates``), None when absent or malformed."""
    return [str(item) for item in value] if isinstance(value, list) else None


def uploaded_bytes(value: Any) -> bytes | None:
    """The content of an uploaded file parameter (``certificate``), if one was uploaded."""
    return value if isinstance(value, bytes) and value else None


def checked_webhook_url(url: str) -> str:
    """Refuse a webhook URL that is not http(s), as Telegram refuses one that is not https."""
    if not url.lower().startswith(("https://", "http://")):
        raise BotApiError(400, f"Bad Request: bad webhook: {HTTPS_WANTED}")
    return url


def checked_secret(secret: str | None) -> str | None:
    """Refuse a secret token Telegram refuses (1-256 of ``A-Z a-z 0-9 _ -``)."""
    if secret is not None and not SECRET_TOKEN.fullmatch(secret):
        raise BotApiError(400, "Bad Request: secret token contains unallowed characters")
    return secret


async def wait_or_timeout(waiter: Awaitable[Any], timeout: float) -> None:
    """Await ``waiter`` for at most ``timeout`` seconds, without raising on timeout."""
    try:
        await asyncio.wait_for(waiter, timeout=max(timeout, 0))
    except TimeoutError:
        return


class MethodHandler(tornado.web.RequestHandler):
    """``/bot<token>/<method>``: decode the parameters and answer like the Bot API."""

    def initialize(self, api: FakeBotApi) -> None:
        """Keep the fake server this handler serves."""
        self.api = api

    async def post(self, token: str, method: str) -> None:
        """Answer a Bot API call (python-telegram-bot uses POST)."""
        try:
            result = await self.api.call(token, method, self.parameters())
        except BotApiError as exc:
            self.set_status(exc.code)
            self.write({"ok": False, "error_code": exc.code, "description": exc.description})
            return
        self.set_header("Content-Type", "application/json")
        self.write(json.dumps({"ok": True, "result": result}))

    async def get(self, token: str, method: str) -> None:
        """Answer a Bot API call made with GET."""
        await self.post(token, method)

    def parameters(self) -> Json:
        """Read form, query-string or JSON-body parameters."""
        if self.request.headers.get("Content-Type", "").startswith("application/json"):
            body = json.loads(self.request.body or b"{}")
            return body if isinstance(body, dict) else {}
        raw = {name: self.get_argument(name) for name in self.request.arguments}
        return decode_params(raw) | self.uploads(raw)

    def uploads(self, raw: dict[str, str]) -> Json:
        """Uploaded files by parameter name (also one sent as ``attach://<name>``)."""
        files = {name: parts[0].body for name, parts in self.request.files.items() if parts}
        attached = {
            name: files[value.removeprefix("attach://")]
            for name, value in raw.items()
            if value.startswith("attach://") and value.removeprefix("attach://") in files
        }
        return files | attached
