"""The adapter's pipeline: log context, idempotency, conversation tracking."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from botbuilder.core import Middleware, TurnContext
from botbuilder.schema import ActivityTypes

from bot.domain.clock import Clock
from bot.logcontext import log_context
from bot.services import conversations
from bot.teams.activity import (
    activity_key,
    channel_level,
    identity_of,
    installation_of,
    sender_id,
    tenant_of,
)
from bot.teams.handler import invoke_reply
from cards.general import notice_card
from storage.repositories import turn_outbox
from storage.uow import UnitOfWorkFactory

log = logging.getLogger(__name__)

USER_TURNS = (ActivityTypes.message, ActivityTypes.invoke)


class LogContextMiddleware(Middleware):  # type: ignore[misc]
    async def on_turn(self, context: TurnContext, logic: Callable[[], Awaitable[None]]) -> None:
        # The HTTP endpoint sets the context for user turns; this covers proactive turns too.
        activity = context.activity
        with log_context(tenant_of(activity), activity.id):
            await logic()


class IdempotencyMiddleware(Middleware):  # type: ignore[misc]
    """Teams may deliver an activity twice; the second delivery does nothing.

    A user turn is one transaction (`UnitOfWorkFactory.turn`): the claim, first-contact
    recording, the use-case and its notice and outbox rows commit together, just before the
    turn's first reply is sent (so the reply never announces what did not commit, and SQLite's
    write lock is not held across the reply's HTTP call). A turn that fails before that commits
    nothing, claim included, so that Teams' retry is handled instead of lost; a claim and its
    effect are atomic, so a retry after the commit finds the claim and does nothing again.
    """

    def __init__(self, units: UnitOfWorkFactory, clock: Clock) -> None:
        self.units = units
        self.clock = clock

    async def on_turn(self, context: TurnContext, logic: Callable[[], Awaitable[None]]) -> None:
        activity = context.activity
        tenant_id = tenant_of(activity)
        key = activity_key(activity)
        if activity.type not in USER_TURNS or tenant_id is None or key is None:
            await logic()
            return
        turn = self.units.turn(tenant_id)
        async with turn as unit:
            # The claim is the turn's first write, on the turn's own unit: a failure fails the
            # whole turn, so it needs no savepoint of its own (one round trip each way fewer).
            # The sender's user row comes along on PostgreSQL: the use-case reads it next.
            sender = sender_id(activity)
            if not await unit.activities.claim(
                key, self.clock.now(), sender=sender, users=unit.users
            ):
                await turn.commit()
                log.info("duplicate delivery of %s ignored", activity.type)
                if activity.type == ActivityTypes.invoke:
                    card = notice_card(activity.locale, "error.duplicate")
                    await context.send_activity(invoke_reply(card))
                return

            async def commit_first(
                _context: TurnContext, _activities: object, send: Callable[[], Awaitable[Any]]
            ) -> Any:
                await turn.commit()
                return await send()

            context.on_send_activities(commit_first)
            await logic()


class ConversationMiddleware(Middleware):  # type: ignore[misc]
    """Remember every conversation the bot hears from, not only those it saw installed:
    proactive messages (warnings, notifications) need their references."""

    def __init__(self, units: UnitOfWorkFactory, clock: Clock) -> None:
        self.units = units
        self.clock = clock
        self._known: set[tuple[str, str]] = set()

    async def on_turn(self, context: TurnContext, logic: Callable[[], Awaitable[None]]) -> None:
        activity = context.activity
        tenant_id = tenant_of(activity)
        if activity.type in USER_TURNS and tenant_id and activity.conversation is not None:
            # The key without the installation: that (a conversation reference serialized as
            # JSON) is only needed the first time.
            key = (tenant_id, channel_level(activity.conversation.id))
            if key not in self._known:
                installation = installation_of(activity)
                await conversations.record_installation(
                    self.units(tenant_id),
                    self.clock,
                    identity_of(activity, tenant_id),
                    installation,
                )
                await logic()
                # Known once the turn that recorded it went through (it commits with the turn).
                self._known.add(key)
                return
        await logic()


class OutboxWakeMiddleware(Middleware):  # type: ignore[misc]
    """Wakes the proactive sender once the turn's own reply has gone, if the turn wrote outbox
    messages (quota warnings, item notifications).

    The proactive turns the sender starts are events, not user turns: they pass straight
    through, so a delivery never triggers another round."""

    def __init__(self, wake_sender: Callable[[], None]) -> None:
        self.wake_sender = wake_sender

    async def on_turn(self, context: TurnContext, logic: Callable[[], Awaitable[None]]) -> None:
        if context.activity.type not in USER_TURNS:
            await logic()
            return
        collected: list[int] = []
        token = turn_outbox.set(collected)
        try:
            await logic()
        finally:
            turn_outbox.reset(token)
        if collected:
            log.debug("turn queued %d proactive messages", len(collected))
            self.wake_sender()
