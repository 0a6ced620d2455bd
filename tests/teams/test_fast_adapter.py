"""The fast adapter: the Bot Connector's answer, read once, is what aiohttp's own `json()` would
have read; its turn context sends what botbuilder's sends."""

from __future__ import annotations

import copy
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from botbuilder.core import BotAdapter, TurnContext
from botbuilder.integration.aiohttp import ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity, ActivityTypes, DeliveryModes, ResourceResponse

from bot.teams.fast_adapter import FastCloudAdapter, FastTurnContext, _answer_json, _body
from bot.teams.handler import card_reply, invoke_reply
from bot.teams.wire import activity_from_json
from cards.general import welcome_card
from tests.teams.test_wire import INCOMING, _replies

ANSWERS = [
    b'{"id": "1709547072123"}',
    b'  {"id": "a"}\r\n',
    b'\x0c\x0b{"id": "b"}\t',
    b"",
    b"   ",
    b"not json",
    b"[1, 2]",
    b"null",
    '{"id": "\u00e9"}'.encode(),
]


async def _aiohttp_reads(session: aiohttp.ClientSession, url: str) -> tuple[str, Any]:
    async with session.get(url) as answer:
        text = await answer.text()
        try:
            return text, await answer.json(content_type=None)
        except ValueError:
            return text, {}


@pytest.mark.parametrize("content_type", ["application/json", "text/plain", None])
async def test_the_answer_reads_as_aiohttp_reads_it(content_type: str | None) -> None:
    async def answer(request: web.Request) -> web.Response:
        body = ANSWERS[int(request.match_info["i"])]
        response = web.Response(body=body)
        if content_type is not None:
            response.content_type = content_type
        return response

    app = web.Application()
    app.router.add_get("/{i}", answer)
    async with TestServer(app) as server, aiohttp.ClientSession() as session:
        for i in range(len(ANSWERS)):
            text, expected = await _aiohttp_reads(session, str(server.make_url(f"/{i}")))
            assert _answer_json(text) == expected, ANSWERS[i]


# -- FastTurnContext sends what botbuilder's TurnContext sends ---------------------------------


class _Recording(BotAdapter):  # type: ignore[misc]
    """An adapter that keeps what it is asked to send and answers with ids."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[Activity] = []

    async def send_activities(
        self, context: TurnContext, activities: list[Activity]
    ) -> list[ResourceResponse]:
        self.sent += activities
        return [ResourceResponse(id=f"r{len(self.sent)}-{i}") for i in range(len(activities))]

    async def update_activity(self, context: TurnContext, activity: Activity) -> None:
        raise NotImplementedError

    async def delete_activity(self, context: TurnContext, reference: Any) -> None:
        raise NotImplementedError


async def _send_through(
    kind: type[TurnContext], incoming: Activity, replies: list[Activity]
) -> tuple[list[Activity], list[Any], list[Activity], bool, list[Activity], Any]:
    adapter = _Recording()
    context = kind(adapter, incoming)
    seen: list[Activity] = []

    async def handler(_context: TurnContext, activities: list[Activity], send: Any) -> Any:
        seen.extend(activities)
        for activity in activities:  # what a handler changes deep in a copy is the copy's
            activity.additional_properties["seen"] = True
            if activity.attachments:
                activity.attachments.append(activity.attachments[0])
        return await send()

    context.on_send_activities(handler)
    answers = await context.send_activities(replies)
    invoke = context.turn_state.get(TurnContext._INVOKE_RESPONSE_KEY)
    return adapter.sent, answers, seen, context.responded, context.buffered_reply_activities, invoke


def _incoming_activities() -> dict[str, Activity]:
    found = {name: activity_from_json(copy.deepcopy(body)) for name, body in INCOMING.items()}
    webchat = activity_from_json(copy.deepcopy(INCOMING["personal message"]))
    webchat.channel_id = "webchat"
    expecting = activity_from_json(copy.deepcopy(INCOMING["personal message"]))
    expecting.delivery_mode = DeliveryModes.expect_replies
    return {**found, "webchat message": webchat, "expectReplies message": expecting}


def _reply_lists() -> dict[str, list[Activity]]:
    replies = _replies()
    trace = Activity(type=ActivityTypes.trace, name="t", value={"a": 1})
    untyped = Activity(text="no type", input_hint=None)
    return {
        **{name: [reply] for name, reply in replies.items()},
        "two at once": [card_reply(welcome_card("en-US")), replies["text"]],
        "a trace alone": [trace],
        "no type, no input hint": [untyped],
        "an invoke answer": [invoke_reply(welcome_card("en-US"))],
    }


@pytest.mark.parametrize("incoming_name", list(_incoming_activities()))
@pytest.mark.parametrize("replies_name", list(_reply_lists()))
async def test_a_fast_turn_context_sends_what_botbuilder_s_sends(
    incoming_name: str, replies_name: str
) -> None:
    incoming = _incoming_activities()[incoming_name]
    before = _body(incoming)
    stock_replies, fast_replies = _reply_lists()[replies_name], _reply_lists()[replies_name]
    originals = [_body(r) for r in fast_replies]
    stock = await _send_through(TurnContext, incoming, stock_replies)
    fast = await _send_through(FastTurnContext, incoming, fast_replies)
    # What the adapter sends, what the handlers see, what is buffered: the same JSON.
    for ours, theirs in ((fast[0], stock[0]), (fast[2], stock[2]), (fast[4], stock[4])):
        assert [_body(a) for a in ours] == [_body(a) for a in theirs]
        assert [type(a) for a in ours] == [type(a) for a in theirs]
    assert [a.id for a in fast[1]] == [a.id for a in stock[1]]
    assert fast[3] == stock[3]  # responded
    assert (fast[5] is None) == (stock[5] is None)
    # The replies and the incoming activity are left as they were, and the sent ones share
    # no account with the incoming activity (botbuilder copies them too).
    assert [_body(r) for r in fast_replies] == originals
    assert _body(incoming) == before
    for sent in fast[0] + fast[4]:
        assert sent is not None and all(
            getattr(sent, name) is not getattr(incoming, name)
            for name in ("conversation", "from_property", "recipient")
            if getattr(incoming, name) is not None
        )


async def test_the_adapter_makes_fast_turn_contexts() -> None:
    adapter = FastCloudAdapter(ConfigurationBotFrameworkAuthentication(_NoAppId()))
    incoming = _incoming_activities()["personal message"]
    made: list[TurnContext] = []

    async def logic(context: TurnContext) -> None:
        made.append(context)

    context = adapter._create_turn_context(incoming, None, "scope", None, None, logic, None)
    assert type(context) is FastTurnContext
    assert context.turn_state[adapter.BOT_CALLBACK_HANDLER_KEY] is logic
    assert context.turn_state[adapter.BOT_OAUTH_SCOPE_KEY] == "scope"
    await adapter.close()


class _NoAppId:
    APP_ID = ""
    APP_PASSWORD = ""
    APP_TYPE = "MultiTenant"
    APP_TENANTID = ""


async def _emit_through(kind: type[TurnContext], stops_at: int | None, fails_at: int | None) -> Any:
    """The on-send handlers' calls and what the send returns or raises, through `kind`."""
    context = kind(_Recording(), _incoming_activities()["personal message"])
    calls: list[str] = []

    def handler(n: int) -> Any:
        async def handle(_context: TurnContext, activities: list[Activity], send: Any) -> Any:
            assert _context is context
            calls.append(f"{n} before, {len(activities)} replies")
            if n == fails_at:
                raise ValueError(f"handler {n}")
            if n == stops_at:
                return None
            answer = await send()
            calls.append(f"{n} after")
            return answer

        return handle

    for n in range(3):
        context.on_send_activities(handler(n))
    try:
        answers = await context.send_activities([Activity(type="message", text="hi")])
    except ValueError as error:
        return calls, repr(error), context.adapter.sent
    return calls, [a.id for a in answers], [_body(a) for a in context.adapter.sent]


@pytest.mark.parametrize(("stops_at", "fails_at"), [(None, None), (1, None), (0, None), (None, 2)])
async def test_the_on_send_handlers_run_as_botbuilder_runs_them(
    stops_at: int | None, fails_at: int | None
) -> None:
    # In order, each given the next; one that does not call it ends the chain, and the replies
    # are sent all the same (botbuilder's way); one that raises stops the send.
    assert await _emit_through(FastTurnContext, stops_at, fails_at) == await _emit_through(
        TurnContext, stops_at, fails_at
    )
