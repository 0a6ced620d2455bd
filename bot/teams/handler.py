"""The activity handler: thin. Parse, call one route (one service), render one card."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from botbuilder.core import CardFactory, InvokeResponse, MessageFactory, TurnContext
from botbuilder.core.teams import TeamsActivityHandler
from botbuilder.schema import (
    ActivityTypes,
    AdaptiveCardInvokeResponse,
    AdaptiveCardInvokeValue,
    ChannelAccount,
)

from bot.apps.dispatch import Dispatcher, Turn, refusal_card
from bot.domain.clock import Clock
from bot.domain.errors import DomainError, MissingSender, MissingTenant
from bot.domain.quota import QuotaPolicy
from bot.services import conversations
from bot.teams.activity import identity_of, installation_of, mentions_of, tenant_of
from bot.teams.wire import ReplyActivity, ReplyAttachment, SharedCard, to_json
from cards.common import Card
from cards.general import welcome_card
from storage.uow import UnitOfWorkFactory

log = logging.getLogger(__name__)

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
# The keys AdaptiveCardInvokeValue knows; Teams also sends `trigger`, which msrest would warn
# about on every click.
INVOKE_VALUE_KEYS = ("action", "authentication", "state")


# Replies carry their card as a SharedCard, which botbuilder's deep copy of every outgoing
# activity leaves uncopied (see SharedCard for why that is safe), and are ReplyActivities (and
# ReplyAttachments), whose deep copy skips the fields they leave unset.


def card_reply(card: Card) -> ReplyActivity:
    attachment = ReplyAttachment.of(CardFactory.adaptive_card(SharedCard(card)))
    return ReplyActivity.of(MessageFactory.attachment(attachment))


def invoke_card(card: Card) -> AdaptiveCardInvokeResponse:
    return AdaptiveCardInvokeResponse(
        status_code=200, type=CARD_CONTENT_TYPE, value=SharedCard(card)
    )


class SharedInvokeResponse(InvokeResponse):  # type: ignore[misc]
    """An invoke's answer that botbuilder's deep copy of the outgoing activity leaves shared,
    as it leaves a SharedCard: botbuilder sets fields of the activity itself on its copy (ids,
    accounts, conversation), never of its value, and the adapter only reads the answer back to
    write it. deepcopy rebuilt the answer and walked its body: 2.5 % of a card action's
    instructions."""

    def __deepcopy__(self, memo: dict[int, Any]) -> SharedInvokeResponse:
        return self


def invoke_response_reply(response: InvokeResponse) -> ReplyActivity:
    """The activity that carries an invoke's answer (botbuilder's ActivityHandler builds the
    same as a plain Activity), the answer shared by its copies (SharedInvokeResponse)."""
    shared = SharedInvokeResponse(status=response.status, body=response.body)
    return ReplyActivity(type=ActivityTypes.invoke_response, value=shared)


def invoke_reply(card: Card) -> ReplyActivity:
    """The answer to an Action.Execute, for code outside the handler (middleware, errors)."""
    body = {"statusCode": 200, "type": CARD_CONTENT_TYPE, "value": SharedCard(card)}
    return invoke_response_reply(InvokeResponse(status=200, body=body))


class TeamsWorkBot(TeamsActivityHandler):  # type: ignore[misc]
    def __init__(
        self, units: UnitOfWorkFactory, clock: Clock, policy: QuotaPolicy, dispatcher: Dispatcher
    ) -> None:
        self.units = units
        self.clock = clock
        self.policy = policy
        self.dispatcher = dispatcher
        self.registry = dispatcher.registry

    def _turn(self, context: TurnContext) -> Turn | DomainError:
        """The turn of an identified user, or the error that says what is missing."""
        activity = context.activity
        tenant_id = tenant_of(activity)
        if tenant_id is None:
            return MissingTenant()
        who = identity_of(activity, tenant_id)
        if who is None:
            return MissingSender()
        conversation_id = activity.conversation.id if activity.conversation else ""
        kind = activity.conversation.conversation_type if activity.conversation else None
        in_channel = kind == "channel"
        # A top-level channel message starts a thread: what follows belongs in it.
        if in_channel and ";messageid=" not in conversation_id and activity.id:
            conversation_id = f"{conversation_id};messageid={activity.id}"
        return Turn(
            who,
            activity.locale,
            conversation_id,
            self.units,
            self.clock,
            self.policy,
            self.registry,
            # A typed command is answered with a message everyone there reads; a card action
            # (an invoke) with a card for the one who pressed.
            everyone=who.shared and activity.type != ActivityTypes.invoke,
        )

    async def _run(self, turn_context: TurnContext, verb: object, data: object) -> Card:
        turn = self._turn(turn_context)
        if isinstance(turn, DomainError):
            return refusal_card(turn_context.activity.locale, turn)
        return await self.dispatcher.dispatch(turn, verb, data)

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        if isinstance(activity.value, dict) and not (activity.text or "").strip():
            # Action.Submit from a card: same verbs and data as Action.Execute.
            verb, data = str(activity.value.get("verb") or ""), activity.value
        else:
            parsed = self.registry.parse(activity.text, mentions_of(activity))
            verb, data = parsed.verb, parsed.data
        await turn_context.send_activity(card_reply(await self._run(turn_context, verb, data)))

    @staticmethod
    def _create_invoke_response(body: object = None) -> InvokeResponse:
        """botbuilder's, but a card answer written by `to_json`: botbuilder's msrest walk would
        copy the whole card, and write a SharedCard as `str(card)`."""
        if isinstance(body, AdaptiveCardInvokeResponse):
            return InvokeResponse(status=int(HTTPStatus.OK), body=to_json(body))
        return TeamsActivityHandler._create_invoke_response(body)

    async def on_turn(self, turn_context: TurnContext) -> None:
        if turn_context.activity.type != ActivityTypes.invoke:
            await super().on_turn(turn_context)
            return
        # ActivityHandler.on_turn's invoke branch, with the answer sent as a ReplyActivity.
        response = await self.on_invoke_activity(turn_context)
        if response and not turn_context.turn_state.get(TurnContext._INVOKE_RESPONSE_KEY):
            await turn_context.send_activity(invoke_response_reply(response))

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse | None:
        # botbuilder answers a malformed card action with an error object it cannot serialize;
        # refuse those shapes here with a plain 400.
        activity = turn_context.activity
        if activity.name == "adaptiveCard/action":
            value = activity.value
            action = value.get("action") if isinstance(value, dict) else None
            if not isinstance(action, dict) or action.get("type") != "Action.Execute":
                return InvokeResponse(
                    status=400,
                    body={
                        "statusCode": 400,
                        "type": "application/vnd.microsoft.error",
                        "value": {"code": "BadRequest", "message": "not an Action.Execute"},
                    },
                )
            activity.value = {k: value[k] for k in INVOKE_VALUE_KEYS if k in value}
        return await super().on_invoke_activity(turn_context)

    async def on_adaptive_card_invoke(
        self, turn_context: TurnContext, invoke_value: AdaptiveCardInvokeValue
    ) -> AdaptiveCardInvokeResponse:
        # botbuilder leaves `action` as the raw dict of the invoke's value.
        action = invoke_value.action
        if not isinstance(action, dict):
            action = action.serialize() if action is not None else {}
        data = action.get("data")
        verb = action.get("verb")
        return invoke_card(
            await self._run(turn_context, verb or "", data if data is not None else {})
        )

    # -- installation ----------------------------------------------------------------------

    async def _installed(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        tenant_id = tenant_of(activity)
        if tenant_id is None:
            log.warning("installation without a tenant ignored")
            return
        who = identity_of(activity, tenant_id)
        fresh = await conversations.record_installation(
            self.units(tenant_id), self.clock, who, installation_of(activity)
        )
        if fresh:
            await turn_context.send_activity(card_reply(welcome_card(activity.locale)))

    async def _uninstalled(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        tenant_id = tenant_of(activity)
        if tenant_id is None:
            return
        installation = installation_of(activity)
        await conversations.record_uninstallation(
            self.units(tenant_id), self.clock, installation.conversation_id
        )

    def _is_bot(self, member: ChannelAccount, turn_context: TurnContext) -> bool:
        recipient = turn_context.activity.recipient
        return recipient is not None and member.id == recipient.id

    async def on_conversation_update_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        if any(self._is_bot(m, turn_context) for m in activity.members_added or []):
            await self._installed(turn_context)
        elif any(self._is_bot(m, turn_context) for m in activity.members_removed or []):
            await self._uninstalled(turn_context)

    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        await self._installed(turn_context)

    async def on_installation_update_remove(self, turn_context: TurnContext) -> None:
        await self._uninstalled(turn_context)
