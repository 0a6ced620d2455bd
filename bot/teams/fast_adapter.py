"""A CloudAdapter that sends messages through one kept-alive HTTP client of its own.

The stock adapter sends every reply through msrest and `requests` in a thread pool; on this
machine that and its per-call setup were a large share of a turn. This adapter posts the same
JSON to the same Bot Connector URLs itself (`bot/teams/connector_http.py`), with the bearer
token the SDK's credentials give (cached for a few minutes; the token itself lives an hour).
Anything that is not a plain message (invoke responses, traces, delays) still goes the SDK's way.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Mapping
from copy import deepcopy
from dataclasses import dataclass
from functools import partial
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import requests
from botbuilder.core import InvokeResponse, TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    DeliveryModes,
    ExpectedReplies,
    ResourceResponse,
)
from botframework.connector import Channels

from bot.teams.connector_http import ConnectorHttp
from bot.teams.wire import Unsupported, dump_bytes, to_json

SDK_ONLY = {ActivityTypes.invoke_response, ActivityTypes.trace, "delay"}
HEADER_TTL_SECONDS = 300.0
TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class ConnectorResponse:
    """The part of a failed answer the proactive sender reads (status, Retry-After)."""

    status_code: int
    headers: Mapping[str, str]


class ConnectorError(Exception):
    def __init__(self, response: ConnectorResponse, body: str) -> None:
        super().__init__(f"Bot Connector answered {response.status_code}: {body[:200]}")
        self.response = response


def _copied(model: Any) -> Any:
    """`copy.copy` of an msrest model (a new object of its class with the same attribute
    values), without copy's `__reduce_ex__` round: about 0.2 µs against 1.2."""
    if model is None:
        return None
    kind: Any = type(model)
    clone = kind.__new__(kind)
    clone.__dict__.update(model.__dict__)
    return clone


# The channels whose replies botbuilder does not address to the activity they answer
# (`TurnContext.get_conversation_reference`).
_NO_REPLY_TO = frozenset({Channels.direct_line, Channels.webchat})


class FastTurnContext(TurnContext):  # type: ignore[misc]
    """botbuilder's TurnContext, whose `send_activities` sends what botbuilder's sends.

    botbuilder's builds a ConversationReference of the incoming activity for every send (an
    msrest model and three `copy.copy` of its accounts, about 5 µs) only to set its fields on
    the copies of the replies (`apply_conversation_reference`); this sets them from the
    activity itself, with the same copies of its accounts. Everything else is as botbuilder
    does it, in the same order: each reply deep-copied (the caller's activity stays as it was),
    its type, input hint and id set, the on-send handlers called with the copies, the replies
    buffered for an expectReplies request, and `responded` set after a non-trace reply."""

    async def send_activities(self, activities: list[Activity]) -> list[ResourceResponse]:
        incoming = self.activity
        reply_to = (
            incoming.id
            if incoming.type != ActivityTypes.conversation_update
            and incoming.channel_id not in _NO_REPLY_TO
            else None
        )
        conversation = _copied(incoming.conversation)
        bot = _copied(incoming.recipient)
        user = _copied(incoming.from_property)
        sent_non_trace = False
        output: list[Activity] = []
        for activity in activities:
            sent = deepcopy(activity)
            sent.channel_id = incoming.channel_id
            sent.locale = incoming.locale
            sent.service_url = incoming.service_url
            sent.conversation = conversation
            sent.from_property = bot
            sent.recipient = user
            if reply_to:
                sent.reply_to_id = reply_to
            if not getattr(sent, "type", None):
                sent.type = ActivityTypes.message
            if sent.type != ActivityTypes.trace:
                sent_non_trace = True
            if not sent.input_hint:
                sent.input_hint = "acceptingInput"
            sent.id = None
            output.append(sent)

        async def logic() -> list[ResourceResponse]:
            if self.activity.delivery_mode == DeliveryModes.expect_replies:
                responses = []
                for activity in output:
                    self.buffered_reply_activities.append(activity)
                    if activity.type == ActivityTypes.invoke_response:
                        self.turn_state[TurnContext._INVOKE_RESPONSE_KEY] = activity
                    responses.append(ResourceResponse())
            else:
                responses = await self.adapter.send_activities(self, output)
            if sent_non_trace:
                self.responded = True
            return responses

        return await self._emit(self._on_send_activities, output, logic())  # type: ignore[no-any-return]

    async def _emit(self, plugins: list[Any], arg: Any, logic: Awaitable[Any]) -> Any:
        """botbuilder's: the handlers in order, each given the next as its `next` (to call or
        not), then `logic`, awaited whatever they did. botbuilder's chains them through a
        nested function that calls itself by name, a reference cycle (function, closure cell,
        function) that also holds this context: every turn's context, with its activity, turn
        state and replies, waited for the garbage collector instead of being freed at the
        turn's end, and made it run (about 100 objects a turn)."""
        await self._emit_from(list(plugins), 0, arg)
        return await logic

    async def _emit_from(self, handlers: list[Any], i: int, arg: Any) -> None:
        if i < len(handlers):
            await handlers[i](self, arg, partial(self._emit_from, handlers, i + 1, arg))


class FastCloudAdapter(CloudAdapter):  # type: ignore[misc]
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._http = ConnectorHttp(timeout=TIMEOUT_SECONDS)
        self._headers: dict[int, tuple[float, str | None]] = {}

    def _create_turn_context(
        self,
        activity: Activity,
        claims_identity: Any,
        oauth_scope: str,
        connector_client: Any,
        user_token_client: Any,
        logic: Any,
        connector_factory: Any,
    ) -> TurnContext:
        """botbuilder's (CloudAdapterBase), with a FastTurnContext."""
        context = FastTurnContext(self, activity)
        context.turn_state[self.BOT_IDENTITY_KEY] = claims_identity
        context.turn_state[self.BOT_CONNECTOR_CLIENT_KEY] = connector_client
        context.turn_state[self.USER_TOKEN_CLIENT_KEY] = user_token_client
        context.turn_state[self.BOT_CALLBACK_HANDLER_KEY] = logic
        context.turn_state[self.CONNECTOR_FACTORY_KEY] = connector_factory
        context.turn_state[self.BOT_OAUTH_SCOPE_KEY] = oauth_scope
        return context

    async def close(self) -> None:
        await self._http.close()

    async def _authorization(self, connector_client: Any) -> str | None:
        credentials = getattr(getattr(connector_client, "config", None), "credentials", None)
        if credentials is None:
            return None
        key = id(credentials)
        cached = self._headers.get(key)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        # signed_session asks msal, which may call the token endpoint: not on the event loop.
        session = await asyncio.to_thread(credentials.signed_session, requests.Session())
        raw = session.headers.get("Authorization")
        header = raw if isinstance(raw, str) else None
        self._headers[key] = (time.monotonic() + HEADER_TTL_SECONDS, header)
        return header

    def _process_turn_results(self, context: TurnContext) -> InvokeResponse | None:
        # botbuilder answers an expectReplies request with msrest's serialization of the
        # buffered replies, which would write their SharedCards as strings.
        if context.activity.delivery_mode == DeliveryModes.expect_replies:
            replies = ExpectedReplies(activities=context.buffered_reply_activities)
            try:
                body = to_json(replies)
            except Unsupported:
                body = {"activities": [_body(a) for a in context.buffered_reply_activities]}
            return InvokeResponse(status=HTTPStatus.OK, body=body)
        return super()._process_turn_results(context)

    async def send_activities(
        self, context: TurnContext, activities: list[Activity]
    ) -> list[ResourceResponse]:
        if not activities or any(a.type in SDK_ONLY for a in activities):
            return await super().send_activities(context, activities)  # type: ignore[no-any-return]
        connector_client = context.turn_state.get(self.BOT_CONNECTOR_CLIENT_KEY)
        authorization = await self._authorization(connector_client)
        headers = {"Authorization": authorization} if authorization else {}
        responses = []
        for activity in activities:
            activity.id = None
            path = f"/v3/conversations/{quote(activity.conversation.id, safe='')}/activities"
            if activity.reply_to_id:
                path += f"/{quote(activity.reply_to_id, safe='')}"
            body = dump_bytes(_body(activity))
            answer = await self._http.post_json(activity.service_url or "", path, body, headers)
            if answer.status >= 400:
                raise ConnectorError(ConnectorResponse(answer.status, answer.headers), answer.text)
            data = _answer_json(answer.text)
            responses.append(ResourceResponse(id=(data or {}).get("id", "")))
        return responses


# What aiohttp's ClientResponse.json strips (bytes.strip) before it parses.
_ASCII_WHITESPACE = " \t\n\r\x0b\x0c"


def _answer_json(text: str) -> Any:
    """`answer.json(content_type=None)` (None for an empty body), {} for one that is not JSON,
    from the text already read (json() would decode the body a second time)."""
    stripped = text.strip(_ASCII_WHITESPACE)
    if not stripped:
        return None
    try:
        return json.loads(stripped)
    except ValueError:
        return {}


def _body(activity: Activity) -> dict[str, Any]:
    """The activity as JSON: `to_json` (msrest's output, without msrest's walk), or, for a shape
    it leaves to msrest, msrest with the attachments written apart (a card's content is plain
    JSON already, and msrest would write a SharedCard as a string)."""
    try:
        return to_json(activity)
    except Unsupported:
        return _msrest_body(activity)


def _msrest_body(activity: Activity) -> dict[str, Any]:
    attachments = activity.attachments or []
    activity.attachments = None
    try:
        body: dict[str, Any] = activity.serialize()
    finally:
        activity.attachments = attachments or None
    if attachments:
        body["attachments"] = [
            {
                key: value
                for key, value in (
                    ("contentType", a.content_type),
                    ("contentUrl", a.content_url),
                    ("content", a.content),
                    ("name", a.name),
                    ("thumbnailUrl", a.thumbnail_url),
                )
                if value is not None
            }
            for a in attachments
        ]
    return body
