"""The proactive sender: delivers the outbox with Teams' rate limits, retries and backoff.

Messages are claimed row by row (FOR UPDATE SKIP LOCKED on PostgreSQL), so several bot
processes deliver each message once; a process that dies mid-send loses its claim when the
lease runs out, and the message goes out from another (or after a restart).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.schema import ChannelAccount, ConversationParameters, ConversationReference

from bot.apps.banner import QuotaBanner
from bot.apps.registry import Registry
from bot.domain.clock import Clock
from bot.teams.handler import card_reply
from bot.teams.ratelimit import ConversationRateLimiter
from cards.common import Card
from storage.outbox import Claimed, OutboxStore

log = logging.getLogger(__name__)

RETRYABLE = {412, 429, 502, 503, 504}
GONE = {403, 404}
MAX_AGE = timedelta(hours=24)
BASE_DELAY = timedelta(seconds=2)
MAX_DELAY = timedelta(minutes=30)
MAX_DOUBLINGS = 20
PRUNE_EVERY = timedelta(hours=1)


class DeliveryError(Exception):
    def __init__(self, status: int | None, retry_after: float | None, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.retry_after = retry_after


async def render(message: Claimed, registry: Registry, banner: QuotaBanner | None) -> Card:
    """The card of an outbox message, by the app that declared its kind; it carries the
    near-limit banner like any card unless it is the quota news itself."""
    notice = registry.notice(message.kind)
    card = notice.render(message.locale, message.payload)
    if banner is None or not notice.banner:
        return card
    return await banner.add_to(card, message.tenant_id, message.locale)


def _delivery_error(error: BaseException) -> DeliveryError:
    """Read the HTTP status and Retry-After out of what the connector client raised."""
    response: Any = getattr(error, "response", None)
    status = getattr(response, "status_code", None) or getattr(response, "status", None)
    retry_after: float | None = None
    headers = getattr(response, "headers", None)
    if headers is not None:
        raw = headers.get("Retry-After")
        try:
            retry_after = float(raw) if raw is not None else None
        except ValueError:
            retry_after = None
    code = int(status) if status else None
    return DeliveryError(code, retry_after, f"{code or 'no status'}: {error!r}"[:300])


class ProactiveSender:
    def __init__(
        self,
        adapter: Any,
        store: OutboxStore,
        clock: Clock,
        app_id: str,
        registry: Registry,
        *,
        limiter: ConversationRateLimiter | None = None,
        banner: QuotaBanner | None = None,
        batch: int = 100,
        concurrency: int = 16,
        lease: timedelta = timedelta(minutes=2),
        poll_interval: float = 1.0,
        jitter: Callable[[], float] | None = None,
        daily: Callable[[], Awaitable[int]] | None = None,
        daily_hour: int = 7,
    ) -> None:
        self.adapter = adapter
        self.store = store
        self.clock = clock
        self.app_id = app_id
        self.registry = registry
        self.limiter = limiter or ConversationRateLimiter()
        self.banner = banner
        self.batch = batch
        self.concurrency = concurrency
        self.lease = lease
        self.poll_interval = poll_interval
        self.jitter = jitter or (lambda: random.uniform(0.5, 1.5))
        # A job for once a UTC day from `daily_hour` on (the reminder digests).
        self.daily = daily
        self.daily_hour = daily_hour
        self._daily_done: date | None = None
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    # -- life -------------------------------------------------------------------------------

    def wake(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="proactive-sender")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        pruned_at = None
        while True:
            try:
                now = self.clock.now()
                if pruned_at is None or now - pruned_at >= PRUNE_EVERY:
                    removed = await self.store.prune(now)
                    pruned_at = now
                    log.info("pruned %d old activity ids and outbox rows", removed)
                await self.run_daily()
                delivered = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("proactive sender round failed; trying again")
                delivered = 0
            if delivered == 0:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self.poll_interval)

    # -- work -------------------------------------------------------------------------------

    async def run_daily(self) -> int:
        """Run the daily job if its hour has come and it has not run today in this process
        (the job itself records what it sent, so other processes do not send it again)."""
        now = self.clock.now()
        if self.daily is None or now.hour < self.daily_hour or self._daily_done == now.date():
            return 0
        done = await self.daily()
        self._daily_done = now.date()
        return done

    async def run_once(self) -> int:
        """Claim the due messages and deliver them; returns how many were claimed. Messages
        of one conversation go in order, conversations in parallel."""
        claimed = await self.store.claim(self.clock.now(), self.batch, self.lease)
        if not claimed:
            return 0
        by_conversation: dict[str, list[Claimed]] = defaultdict(list)
        for message in claimed:
            by_conversation[message.conversation_id].append(message)
        gate = asyncio.Semaphore(self.concurrency)

        async def deliver_all(messages: list[Claimed]) -> None:
            async with gate:
                for message in messages:
                    await self._deliver(message)

        await asyncio.gather(*(deliver_all(group) for group in by_conversation.values()))
        self.limiter.forget_idle(self.clock.now())
        return len(claimed)

    async def drain(self, rounds: int = 1000) -> int:
        """Deliver until nothing is due now (tests and shutdown)."""
        total = 0
        for _ in range(rounds):
            claimed = await self.run_once()
            if claimed == 0:
                break
            total += claimed
        return total

    async def _deliver(self, message: Claimed) -> None:
        now = self.clock.now()
        # A chat still to be opened is a conversation of its own for the limits.
        rate_key = message.conversation_id
        if message.recipient_id:
            rate_key = f"{message.conversation_id}>{message.recipient_id}"
        wait = self.limiter.wait(rate_key, now)
        if wait > timedelta(0):
            await self.store.postpone(message.id, now + wait)
            return
        try:
            card = await render(message, self.registry, self.banner)
        except (ValueError, KeyError) as error:
            log.error("outbox message %s cannot be rendered: %s", message.id, error)
            await self.store.failed(message.id, message.attempts, f"unrenderable: {error}")
            return
        self.limiter.record(rate_key, now)
        try:
            if message.recipient_id:
                await self._open_and_send(message, message.recipient_id, card)
            else:
                await self._send(message, card)
        except DeliveryError as error:
            await self._failed_attempt(message, error)
            return
        await self.store.sent(message.id, self.clock.now())

    async def _send(self, message: Claimed, card: Card) -> None:
        reference = ConversationReference().deserialize(json.loads(message.reference))
        if message.thread_conversation_id:
            reference.conversation.id = message.thread_conversation_id
        failure: list[BaseException] = []

        async def callback(context: TurnContext) -> None:
            # A continuation turn would send its message as a reply to the continuation's own
            # made-up activity id; a proactive message is a new message in the conversation
            # (or in the thread named by the conversation id), so it goes without one.
            activity = TurnContext.apply_conversation_reference(
                card_reply(card), TurnContext.get_conversation_reference(context.activity)
            )
            activity.reply_to_id = None
            # Errors inside a turn go to the adapter's error handler; catch them here to act.
            try:
                await context.adapter.send_activities(context, [activity])
            except Exception as error:
                failure.append(error)

        try:
            await self.adapter.continue_conversation(reference, callback, self.app_id)
        except Exception as error:
            failure.append(error)
        if failure:
            raise _delivery_error(failure[0])

    async def _open_and_send(self, message: Claimed, user_id: str, card: Card) -> None:
        """Open a personal chat with `user_id` through the (team) conversation's service,
        send the card there, and remember the chat for next time."""
        via = ConversationReference().deserialize(json.loads(message.reference))
        parameters = ConversationParameters(
            is_group=False,
            bot=via.bot,
            members=[ChannelAccount(id=user_id)],
            tenant_id=message.tenant_id,
            channel_data={"tenant": {"id": message.tenant_id}},
        )
        failure: list[BaseException] = []
        opened: list[ConversationReference] = []

        async def callback(context: TurnContext) -> None:
            reference = TurnContext.get_conversation_reference(context.activity)
            activity = TurnContext.apply_conversation_reference(card_reply(card), reference)
            activity.reply_to_id = None
            try:
                await context.adapter.send_activities(context, [activity])
                opened.append(reference)
            except Exception as error:
                failure.append(error)

        try:
            await self.adapter.create_conversation(
                self.app_id, callback, parameters, via.channel_id, via.service_url
            )
        except Exception as error:
            failure.append(error)
        if failure:
            raise _delivery_error(failure[0])
        if opened:
            reference = opened[0]
            reference.conversation.conversation_type = "personal"
            reference.conversation.tenant_id = message.tenant_id
            await self.store.remember_personal_chat(
                message.tenant_id,
                user_id,
                reference.conversation.id,
                via.service_url,
                json.dumps(reference.serialize()),
                self.clock.now(),
            )

    async def _failed_attempt(self, message: Claimed, error: DeliveryError) -> None:
        attempts = message.attempts + 1
        now = self.clock.now()
        if error.status in GONE and message.recipient_id:
            # The person cannot be reached through that team; the team itself is fine.
            await self.store.failed(message.id, attempts, f"{error.status}: recipient unreachable")
            return
        if error.status in GONE:
            log.warning(
                "conversation %s answered %s: the bot was removed; marking it inactive",
                message.conversation_id,
                error.status,
            )
            await self.store.deactivate(message.conversation_ref_id, now)
            await self.store.failed(message.id, attempts, f"{error.status}: conversation gone")
            return
        retryable = error.status is None or error.status in RETRYABLE
        next_at = now + self._backoff(attempts, error.retry_after)
        if not retryable or next_at - message.created_at > MAX_AGE:
            log.error(
                "proactive message %s to %s failed after %d attempts (status %s): %s",
                message.id,
                message.conversation_id,
                attempts,
                error.status,
                error,
            )
            await self.store.failed(message.id, attempts, str(error))
            return
        log.info(
            "message %s: status %s, attempt %d, retrying at %s",
            message.id,
            error.status,
            attempts,
            next_at.isoformat(),
        )
        await self.store.retry(message.id, next_at, attempts, str(error))

    def _backoff(self, attempts: int, retry_after: float | None) -> timedelta:
        # Cap the exponent first: 2**46 seconds no longer fits in a timedelta.
        doublings = min(attempts - 1, MAX_DOUBLINGS)
        exponential = min(MAX_DELAY, BASE_DELAY * (2**doublings))
        delay: timedelta = exponential * self.jitter()
        if retry_after is not None:
            delay = max(delay, timedelta(seconds=retry_after))
        return delay
