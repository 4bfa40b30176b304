"""The outbox worker: every message owed to a chat is sent, retried with backoff, sent once.

One asyncio task per bot process runs :meth:`DeliveryWorker.run`: every few seconds (or at once
when a handler nudges it) it claims the due deliveries, oldest first, a batch at a time, and
sends them. Several processes may share one reports database: each has its own owner id
(``host:pid:random``), and a claim leases rows to it for ``ReportPolicy.delivery_lease`` (60 s),
so each message is sent by one process. A delivery is marked delivered right after its send
succeeds; a process killed before that leaves the row leased, and another process (or its own
restart) sends it once the lease runs out (at least once: killed between the send and the mark,
it is sent twice). The worker starts a send only with half its lease left, and frees the rest of
a batch when it runs short or stops (not the send in flight). A chat that answers 403, a 5xx or
not at all gets :meth:`~reports.ports.ReportStore.failed` with the next attempt doubled (capped).
The same loop calls ``escalate`` and ``forget_residents`` at their own, longer periods: the store
makes them safe to run from every process at once (each report escalates once).

What each purpose sends (rendered at send time from the stored report):

- NEW_REPORT / ESCALATION: the report card with the staff buttons, its photos (an album, or one
  photo) and its voice message, to the staff chat;
- QUESTION: the inspector's question to the resident, who answers by replying to it;
- ANSWER: the resident's answer to the staff chat, as text (never forwarded);
- STATUS: a status change to the resident (a closed report with Confirm / Dispute).

Privacy: logs carry delivery ids, purposes and error kinds, never texts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
import warnings
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from telegram import Bot, InputMediaPhoto
from telegram.error import RetryAfter, TelegramError
from telegram.warnings import PTBDeprecationWarning

from bot.handlers import send_to
from bot.i18n import LANGUAGES, Catalogue
from bot.reporting import render
from bot.reporting.services import Reporting
from reports.model import Delivery, DeliveryPurpose, Report
from reports.ports import ReportError

logger = logging.getLogger(__name__)


def new_owner_id() -> str:
    """A name for this worker's leases, unique across hosts, processes and restarts."""
    return f"{socket.gethostname()[:64]}:{os.getpid()}:{secrets.token_hex(4)}"


@dataclass
class DeliveryWorker:
    """Sends the outbox and runs escalation and retention, until stopped."""

    bot: Bot
    reporting: Reporting
    catalogue: Catalogue
    task: asyncio.Task[None] | None = None
    next_escalation: float = 0.0
    next_retention: float = 0.0
    sent: int = field(default=0)
    owner: str = field(default_factory=new_owner_id)

    # --- life cycle -----------------------------------------------------------------------

    def start(self) -> None:
        """Start the loop as a task of the running event loop."""
        if self.task is None:
            self.task = asyncio.create_task(self.run(), name="report-delivery")

    async def stop(self) -> None:
        """Stop the loop (a send in flight is cancelled: it is still owed, not lost)."""
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
            self.task = None

    async def run(self) -> None:
        """Work, then sleep a period or until nudged; a failing round is logged, not fatal."""
        while True:
            try:
                await self.round()
            except Exception:  # the store down, a bug: keep the loop alive and say so
                logger.exception("a delivery round failed; trying again next period")
            await self.sleep(self.reporting.policy.delivery_period_s)

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` or until a handler nudges the worker."""
        wake = self.reporting.wake
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), timeout=seconds)
        wake.clear()

    async def round(self) -> None:
        """Escalate and forget when their time comes, then send what is due."""
        await self.escalate_when_due()
        await self.forget_when_due()
        await self.deliver_due()

    # --- time-driven ----------------------------------------------------------------------

    async def escalate_when_due(self) -> None:
        """Owe the duty chats the reports nobody accepted in time."""
        if time.monotonic() < self.next_escalation:
            return
        policy, store = self.reporting.policy, self.reporting.store
        self.next_escalation = time.monotonic() + policy.escalation_period_s
        escalated = await self.reporting.call(
            store.escalate, now=self.reporting.clock(), after=policy.escalate_after
        )
        if escalated:
            logger.info("escalated %d report(s) to duty chats", len(escalated))

    async def forget_when_due(self) -> None:
        """Drop residents' chat ids and phones from reports closed past retention."""
        if time.monotonic() < self.next_retention:
            return
        policy, store = self.reporting.policy, self.reporting.store
        self.next_retention = time.monotonic() + policy.retention_period_s
        cut = self.reporting.clock() - timedelta(days=policy.retention_days)
        forgotten = await self.reporting.call(store.forget_residents, closed_before=cut)
        if forgotten:
            logger.info("forgot the residents of %d closed report(s)", forgotten)

    # --- the outbox -----------------------------------------------------------------------

    async def deliver_due(self) -> int:
        """Claim due deliveries a batch at a time and send each; returns how many were sent."""
        sent, batch_size = 0, self.reporting.policy.claim_batch
        while batch := await self.claim(batch_size):
            sent += await self.deliver_batch(batch)
            if len(batch) < batch_size:
                break
        return sent

    async def claim(self, limit: int) -> list[Delivery]:
        """Lease up to ``limit`` due deliveries to this worker."""
        store, policy = self.reporting.store, self.reporting.policy
        return await self.reporting.call(
            store.claim_due,
            now=self.reporting.clock(),
            owner=self.owner,
            lease=policy.delivery_lease,
            limit=limit,
        )

    async def deliver_batch(self, batch: Sequence[Delivery]) -> int:
        """Send the claimed deliveries in order while the lease allows; free those not started
        (also when stopped or failing), so another claimer need not wait for the lease to run
        out. One in flight keeps its lease: whether it reached the chat, or its mark the
        database, is not known (it is sent again once the lease runs out, unless marked)."""
        pending, sent = list(batch), 0
        try:
            while pending and self.has_lease_left(pending[0]):
                sent += await self.deliver(pending.pop(0))
        finally:
            if pending:
                ids = [delivery.id for delivery in pending]
                await self.reporting.call(self.reporting.store.release, ids, owner=self.owner)
        return sent

    def has_lease_left(self, delivery: Delivery) -> bool:
        """Whether half the lease is still ahead: time for one more send, with room to spare."""
        if delivery.lease_until is None:
            return False
        half = self.reporting.policy.delivery_lease / 2
        return self.reporting.clock() + half <= delivery.lease_until

    async def deliver(self, delivery: Delivery) -> bool:
        """Send one delivery; mark it delivered at once, or failed with a retry time."""
        store = self.reporting.store
        try:
            await self.send(delivery)
        except (TelegramError, ReportError) as exc:
            await self.retry_later(delivery, exc)
            return False
        counted = await self.reporting.call(
            store.delivered, delivery.id, now=self.reporting.clock(), owner=self.owner
        )
        self.sent += 1
        if counted:
            logger.info("delivery %d (%s) sent", delivery.id, delivery.purpose)
        else:  # withdrawn meanwhile, or the lease ran out and another worker claimed it
            logger.warning("delivery %d (%s) sent, no longer ours", delivery.id, delivery.purpose)
        return True

    async def retry_later(self, delivery: Delivery, exc: Exception) -> None:
        """Count the failed attempt; the next one waits longer (or as long as Telegram asks)."""
        now = self.reporting.clock()
        wait = self.reporting.policy.backoff(delivery.attempts)
        if isinstance(exc, RetryAfter):
            wait = max(wait, retry_after(exc))
        await self.reporting.call(
            self.reporting.store.failed,
            delivery.id,
            now=now,
            retry_at=now + wait,
            owner=self.owner,
        )
        logger.warning(
            "delivery %d (%s) failed (%s); next attempt in %.0f s",
            delivery.id,
            delivery.purpose,
            type(exc).__name__,
            wait.total_seconds(),
        )

    async def send(self, delivery: Delivery) -> None:
        """Render the delivery from its report and send it."""
        report = await self.reporting.call(self.reporting.store.get, delivery.reference)
        purpose = delivery.purpose
        if purpose in (DeliveryPurpose.NEW_REPORT, DeliveryPurpose.ESCALATION):
            await self.send_report(delivery, report, purpose is DeliveryPurpose.ESCALATION)
        elif purpose is DeliveryPurpose.QUESTION:
            await self.send_question(delivery, report)
        elif purpose is DeliveryPurpose.ANSWER:
            reply = render.render_answer_relay(
                self.catalogue, self.staff_lang, report.reference, delivery.event_text or ""
            )
            await send_to(self.bot, delivery.chat_id, reply)
        else:
            await self.send_status(delivery, report)

    @property
    def staff_lang(self) -> str:
        """The language of staff chats."""
        lang = self.reporting.policy.staff_language
        return lang if lang in LANGUAGES else "ru"

    async def send_report(self, delivery: Delivery, report: Report, escalated: bool) -> None:
        """The card with the staff buttons, then the photos and the voice message.

        Each part sent is recorded, so a retry after a failed part sends only the rest: the card
        is never posted twice because its album failed.
        """
        parts = self.report_parts(delivery.chat_id, report, escalated)
        for number, part in enumerate(parts, start=1):
            if number <= delivery.parts_sent:
                continue
            await part()
            if number < len(parts):  # the last one is recorded by delivered()
                await self.reporting.call(
                    self.reporting.store.sent_part, delivery.id, parts=number, owner=self.owner
                )

    def report_parts(
        self, chat_id: int, report: Report, escalated: bool
    ) -> list[Callable[[], Awaitable[object]]]:
        """The messages a report is delivered as, in order: card, photos, voice."""
        card = render.render_staff_card(
            self.catalogue, self.staff_lang, report, escalated=escalated
        )
        parts: list[Callable[[], Awaitable[object]]] = [lambda: send_to(self.bot, chat_id, card)]
        photos = list(report.photo_file_ids)
        if len(photos) == 1:
            parts.append(lambda: self.bot.send_photo(chat_id, photos[0], caption=report.reference))
        elif photos:
            media = [InputMediaPhoto(file_id) for file_id in photos]
            media[0] = InputMediaPhoto(photos[0], caption=report.reference)
            parts.append(lambda: self.bot.send_media_group(chat_id, media))
        if voice := report.voice_file_id:
            parts.append(lambda: self.bot.send_voice(chat_id, voice, caption=report.reference))
        return parts

    async def send_question(self, delivery: Delivery, report: Report) -> None:
        """The inspector's question, to answer by replying."""
        reply = render.render_question_relay(
            self.catalogue, resident_lang(report), report.reference, delivery.event_text or ""
        )
        await send_to(self.bot, delivery.chat_id, reply)

    async def send_status(self, delivery: Delivery, report: Report) -> None:
        """A status change, in the resident's language: the status the store owed it with (so two
        quick changes are told as they happened); the closing one carries the outcome note."""
        if delivery.event_text is not None:
            report = report.model_copy(update={"outcome": delivery.event_text})
        status = delivery.status or report.status
        reply = render.render_status_push(self.catalogue, resident_lang(report), report, status)
        await send_to(self.bot, delivery.chat_id, reply)


def resident_lang(report: Report) -> str:
    """The language the resident filed the report in."""
    return report.language if report.language in LANGUAGES else "ru"


def retry_after(exc: RetryAfter) -> timedelta:
    """How long Telegram asked to wait, as a timedelta.

    python-telegram-bot 22 gives seconds with a deprecation warning (a timedelta in a later
    major version, or now with ``PTB_TIMEDELTA``): either is read, without the warning.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value if isinstance(value, timedelta) else timedelta(seconds=value)
