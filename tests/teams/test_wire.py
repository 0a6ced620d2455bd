"""bot.teams.wire against msrest: the same models from the same JSON, the same JSON from the same
models, and msrest itself for what the fast path leaves to it."""

from __future__ import annotations

import copy
import datetime
import json
import math
from typing import Any

import pytest
from botbuilder.core import InvokeResponse, TurnContext
from botbuilder.core.serializer_helper import serializer_helper
from botbuilder.integration.aiohttp import ConfigurationBotFrameworkAuthentication
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    AdaptiveCardInvokeResponse,
    Attachment,
    CardAction,
    ChannelAccount,
    ConversationAccount,
    ConversationReference,
    DeliveryModes,
    Entity,
    ExpectedReplies,
    InputHints,
    Mention,
    SuggestedActions,
)
from botbuilder.schema.teams import OnBehalfOf, TeamsChannelAccount
from msrest.serialization import Model

from bot.settings import Settings
from bot.teams.activity import installation_of
from bot.teams.adapter import BotFrameworkConfig
from bot.teams.fast_adapter import FastCloudAdapter, _body
from bot.teams.handler import TeamsWorkBot, card_reply, invoke_card, invoke_reply
from bot.teams.wire import (
    ReplyActivity,
    ReplyAttachment,
    SharedCard,
    Unsupported,
    activity_from_json,
    dumps,
    from_json,
    model_json,
    to_json,
)
from cards.general import apology_card, welcome_card

BOT = {"id": "28:2b7e0c1a-bot", "name": "TeamsWork"}
ALICE = {"id": "29:1aLiCe", "name": "Alice Example", "aadObjectId": "7f0c4a52-aad-alice"}
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
SERVICE_URL = "https://smba.trafficmanager.net/emea/"
CHANNEL = "19:4e5f0c0d2b8c4c1ba2f0e1f1b2c3d4e5@thread.tacv2"
TEAM = "19:9a8b7c6d5e4f@thread.tacv2"


def _common(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": "1709547072123",
        "channelId": "msteams",
        "serviceUrl": SERVICE_URL,
        "timestamp": "2024-03-04T10:11:12.1234567Z",
        "localTimestamp": "2024-03-04T11:11:12.1234567+01:00",
        "localTimezone": "Europe/Berlin",
        "locale": "en-US",
        "from": dict(ALICE),
        "recipient": dict(BOT),
        "conversation": {"conversationType": "personal", "tenantId": TENANT, "id": "a:1xyz"},
        "channelData": {"tenant": {"id": TENANT}},
    }
    body.update(fields)
    return body


CHANNEL_DATA = {
    "teamsChannelId": CHANNEL,
    "teamsTeamId": TEAM,
    "channel": {"id": CHANNEL, "name": "General"},
    "team": {"id": TEAM, "name": "Help desk", "aadGroupId": "0d6f-group"},
    "tenant": {"id": TENANT},
}
CHANNEL_CONVERSATION = {
    "isGroup": True,
    "conversationType": "channel",
    "tenantId": TENANT,
    "id": f"{CHANNEL};messageid=1709547000000",
    "name": None,
}
CLIENT_INFO = {
    "locale": "en-US",
    "country": "US",
    "platform": "Web",
    "timezone": "Europe/Berlin",
    "type": "clientInfo",
}

INCOMING: dict[str, dict[str, Any]] = {
    "personal message": _common(
        type="message",
        text="new ticket Printer on 3rd floor",
        textFormat="plain",
        entities=[CLIENT_INFO],
    ),
    "channel message with mentions": _common(
        type="message",
        text="<at>TeamsWork</at> assign 12 <at>Bob</at>",
        textFormat="plain",
        attachments=[{"contentType": "text/html", "content": "<div><at>TeamsWork</at></div>"}],
        conversation=CHANNEL_CONVERSATION,
        channelData=CHANNEL_DATA,
        entities=[
            {"mentioned": dict(BOT), "text": "<at>TeamsWork</at>", "type": "mention"},
            {
                "mentioned": {"id": "29:bob", "name": "Bob"},
                "text": "<at>Bob</at>",
                "type": "mention",
            },
            CLIENT_INFO,
        ],
    ),
    "group chat message": _common(
        type="message",
        text="tickets",
        conversation={
            "isGroup": True,
            "conversationType": "groupChat",
            "tenantId": TENANT,
            "id": "19:meeting_abc@thread.v2",
        },
        timestamp="2024-03-04T10:11:12Z",
    ),
    "Action.Submit": _common(
        type="message",
        value={"verb": "tickets.list", "filter": "mine", "page": 2, "x": None},
    ),
    "Action.Execute invoke": _common(
        type="invoke",
        name="adaptiveCard/action",
        replyToId="1709547000001",
        value={
            "action": {
                "type": "Action.Execute",
                "id": "close",
                "verb": "ticket.close",
                "data": {"verb": "ticket.close", "ticket": 41, "ratio": 0.5, "ok": True},
            },
            "trigger": "manual",
        },
        entities=[CLIENT_INFO],
    ),
    "conversationUpdate membersAdded": _common(
        type="conversationUpdate",
        membersAdded=[dict(BOT), {"id": "29:new", "aadObjectId": "aad-new", "userRole": "user"}],
        conversation=dict(CHANNEL_CONVERSATION, id=CHANNEL),
        channelData=dict(CHANNEL_DATA, eventType="teamMemberAdded"),
    ),
    "conversationUpdate membersRemoved": _common(
        type="conversationUpdate",
        membersRemoved=[dict(BOT)],
        channelData={"tenant": {"id": TENANT}, "eventType": "teamMemberRemoved"},
    ),
    "installationUpdate add": _common(
        type="installationUpdate",
        action="add",
        channelData={
            "settings": {"selectedChannel": {"id": CHANNEL}},
            "source": {"name": "message"},
            "tenant": {"id": TENANT},
        },
    ),
    "installationUpdate remove": _common(type="installationUpdate", action="remove"),
    "messageReaction": _common(
        type="messageReaction",
        reactionsAdded=[{"type": "like"}],
        replyToId="1709547000002",
    ),
    "unknown keys and relatesTo": _common(
        type="message",
        text="help",
        deliveryMode="normal",
        relatesTo={
            "activityId": "1",
            "user": dict(ALICE),
            "bot": dict(BOT),
            "conversation": {"id": "a:1xyz"},
            "channelId": "msteams",
            "serviceUrl": SERVICE_URL,
        },
        suggestedActions={
            "to": ["29:1aLiCe"],
            "actions": [{"type": "imBack", "title": "Hi", "value": "hi"}],
        },
        listenFor=["yes", "no"],
        historyDisclosed=False,
        somethingNew={"a": [1, 2, None]},
        attachments=[
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "content": {"type": "AdaptiveCard", "body": [{"type": "TextBlock", "text": "x"}]},
                "name": None,
            }
        ],
    ),
}


def same(a: Any, b: Any, path: str = "$") -> None:
    """Equal, type for type, all the way down (msrest's __eq__ takes 1 for True)."""
    assert type(a) is type(b), f"{path}: {type(a).__name__} != {type(b).__name__}"
    if isinstance(a, Model):
        assert vars(a).keys() == vars(b).keys(), path
        for key in vars(a):
            same(getattr(a, key), getattr(b, key), f"{path}.{key}")
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for key in a:
            same(a[key], b[key], f"{path}[{key!r}]")
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            same(x, y, f"{path}[{i}]")
    elif isinstance(a, datetime.datetime):
        assert (a, a.utcoffset(), a.tzname()) == (b, b.utcoffset(), b.tzname()), path
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b), path
    else:
        assert a == b, path


@pytest.mark.parametrize("name", list(INCOMING))
def test_an_incoming_activity_is_the_one_msrest_builds(name: str) -> None:
    body = INCOMING[name]
    untouched = copy.deepcopy(body)
    fast = from_json(Activity, body)
    same(fast, Activity().deserialize(copy.deepcopy(body)))
    assert body == untouched
    # And back: the same JSON as msrest writes of it.
    assert to_json(fast) == Activity().deserialize(copy.deepcopy(body)).serialize()


@pytest.mark.parametrize(
    ("cls", "body"),
    [
        # A parameter with another default (0, "person"): absent, it is None, as msrest has it.
        (OnBehalfOf, {"displayName": "Bob"}),
        (OnBehalfOf, {"itemId": 2, "mentionType": "person", "mri": "29:bob"}),
        # An attribute that is not a parameter of the class (it takes it through **kwargs).
        (TeamsChannelAccount, {"id": "29:bob", "name": "Bob"}),
        (TeamsChannelAccount, {"id": "29:bob", "aadObjectId": "aad-bob", "x": 1}),
        (ChannelAccount, {}),
    ],
)
def test_a_model_read_from_the_keys_it_has_is_the_one_msrest_builds(
    cls: type[Model], body: dict[str, Any]
) -> None:
    same(from_json(cls, copy.deepcopy(body)), cls.deserialize(copy.deepcopy(body)))


def test_unknown_keys_land_in_additional_properties_as_msrest_puts_them() -> None:
    activity = from_json(Activity, INCOMING["unknown keys and relatesTo"])
    assert activity.additional_properties == {"somethingNew": {"a": [1, 2, None]}}
    mention = from_json(Activity, INCOMING["channel message with mentions"]).entities[1]
    assert mention.additional_properties["mentioned"] == {"id": "29:bob", "name": "Bob"}
    # msrest reads the tenant from `tenantID`; Teams' `tenantId` is an unknown key.
    assert activity.conversation.tenant_id is None
    assert activity.conversation.additional_properties == {"tenantId": TENANT}


@pytest.mark.parametrize(
    "fields",
    [
        {"text": 5},  # msrest makes "5" of it
        {"historyDisclosed": "true"},  # msrest reads the string
        {"membersAdded": [None, {"id": "x"}]},
        {"conversation": {"id": "a", "isGroup": 1}},
    ],
)
def test_shapes_the_fast_path_leaves_to_msrest_are_read_by_msrest(fields: dict[str, Any]) -> None:
    body = _common(type="message", **fields)
    if "membersAdded" not in fields:
        with pytest.raises(Unsupported):
            from_json(Activity, body)
    same(activity_from_json(body), Activity().deserialize(copy.deepcopy(body)))


@pytest.mark.parametrize(
    "fields",
    [{"from": "alice"}, {"timestamp": "yesterday"}, {"membersAdded": {"id": "x"}}],
)
def test_bodies_msrest_refuses_are_refused(fields: dict[str, Any]) -> None:
    body = _common(type="message", **fields)
    with pytest.raises(Exception) as msrest_error:
        Activity().deserialize(copy.deepcopy(body))
    with pytest.raises(type(msrest_error.value)):
        activity_from_json(body)


# -- replies ---------------------------------------------------------------------------------


def _incoming() -> Activity:
    return Activity().deserialize(copy.deepcopy(INCOMING["channel message with mentions"]))


def _as_sent(reply: Activity) -> Activity:
    """A reply as botbuilder hands it to the adapter: copied, the conversation applied."""
    sent = TurnContext.apply_conversation_reference(
        copy.deepcopy(reply), TurnContext.get_conversation_reference(_incoming())
    )
    sent.id = None
    return sent


def _plain(activity: Activity) -> Activity:
    """The same activity with plain dicts where it has SharedCards (msrest writes a dict
    subclass as a string)."""
    plain = copy.copy(activity)
    plain.attachments = [
        Attachment(
            content_type=a.content_type,
            content=dict(a.content) if isinstance(a.content, SharedCard) else a.content,
            name=a.name,
        )
        for a in activity.attachments or []
    ] or None
    return plain


def _replies() -> dict[str, Activity]:
    stamp = datetime.datetime(2024, 3, 4, 10, 11, 12, 345600, tzinfo=datetime.UTC)
    berlin = datetime.timezone(datetime.timedelta(hours=1))
    return {
        "text": Activity(
            type=ActivityTypes.message, text="Done.", input_hint=InputHints.ignoring_input
        ),
        "welcome card": card_reply(welcome_card("en-US")),
        "apology card": card_reply(apology_card("de-DE", "ab12cd34")),
        "mentions": Activity(
            type="message",
            text="<at>Bob</at> was assigned",
            text_format="xml",
            entities=[
                Mention(
                    mentioned=ChannelAccount(id="29:bob", name="Bob"),
                    text="<at>Bob</at>",
                    type="mention",
                ),
                Entity(type="clientInfo"),
            ],
        ),
        "channelData and value": Activity(
            type=ActivityTypes.message,
            text="x",
            channel_data={
                "notification": {"alert": True},
                "feedbackLoopEnabled": False,
                "nested": [{"a": None}, 1.5, "s"],
            },
            value={"verb": "x", "n": 3},
            summary="s",
        ),
        "suggestedActions": Activity(
            type="message",
            text="Pick one",
            suggested_actions=SuggestedActions(
                to=["29:1aLiCe"],
                actions=[
                    CardAction(type="imBack", title="Yes", value="yes"),
                    CardAction(
                        type="messageBack",
                        title="No",
                        text="no",
                        display_text="No",
                        value={"answer": "no"},
                    ),
                ],
            ),
        ),
        "replyToId and timestamps": Activity(
            type=ActivityTypes.message,
            text="In the thread",
            reply_to_id="1709547000000",
            timestamp=stamp,
            local_timestamp=stamp.astimezone(berlin),
            expiration=datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC),
            importance="high",
            delivery_mode=DeliveryModes.normal,
            listen_for=["yes"],
        ),
        "conversation and accounts": Activity(
            type="message",
            text="hi",
            conversation=ConversationAccount(
                id="a:1",
                is_group=False,
                conversation_type="personal",
                tenant_id=TENANT,
                properties={"k": "v"},
            ),
            from_property=ChannelAccount(id=BOT["id"], name=BOT["name"], role="bot"),
            recipient=ChannelAccount(id=ALICE["id"], aad_object_id=ALICE["aadObjectId"]),
            relates_to=ConversationReference(activity_id="1", channel_id="msteams"),
        ),
    }


@pytest.mark.parametrize("name", list(_replies()))
def test_a_reply_body_is_what_msrest_writes(name: str) -> None:
    reply = _replies()[name]
    for activity in (reply, _as_sent(reply)):
        expected = _plain(activity).serialize()
        assert to_json(_plain(activity)) == expected
        assert _body(activity) == expected
        # The same JSON text too: keys in the same order.
        assert json.dumps(_body(activity)) == json.dumps(expected)


@pytest.mark.parametrize("name", list(_replies()))
def test_a_reply_is_sent_as_the_json_value_json_dumps_writes(name: str) -> None:
    body = _body(_replies()[name])
    assert json.loads(dumps(body)) == json.loads(json.dumps(body))
    assert "ü" in dumps({"text": "Grüße"})  # UTF-8, not \\u escapes: orjson wrote it


@pytest.mark.parametrize(
    "value",
    [{"text": "a lone \ud800 surrogate"}, {"n": 2**70}, {1: "a key that is no string"}],
    ids=["lone surrogate", "int beyond 64 bits", "int key"],
)
def test_what_orjson_refuses_is_written_as_json_dumps_writes_it(value: Any) -> None:
    assert dumps(value) == json.dumps(value)


def test_a_shape_to_json_does_not_know_still_goes_msrest_s_way() -> None:
    reply = card_reply(welcome_card("en-US"))
    reply.channel_data = {"when": datetime.date(2024, 1, 1)}  # msrest writes str(date)
    with pytest.raises(Unsupported):
        to_json(reply)
    expected = _plain(reply).serialize()
    assert expected["channelData"] == {"when": "2024-01-01"}
    assert _body(reply) == expected


def test_botbuilder_s_copy_of_a_reply_shares_the_card() -> None:
    card = welcome_card("en-US")
    reply = card_reply(card)
    content = reply.attachments[0].content
    assert isinstance(content, SharedCard) and content == card
    sent = copy.deepcopy(reply)
    assert sent is not reply and sent.attachments[0] is not reply.attachments[0]
    assert sent.attachments[0].content is content


def _in_botbuilder_classes(activity: Activity) -> Activity:
    """The same activity and attachments as botbuilder's own classes."""
    stock = Activity()
    stock.__dict__.update(activity.__dict__)
    if activity.attachments:
        stock.attachments = []
        for attachment in activity.attachments:
            plain = Attachment()
            plain.__dict__.update(attachment.__dict__)
            stock.attachments.append(plain)
    return stock


def _shares_what_deepcopy_shares(ours: Any, stock: Any, original: Any) -> None:
    """Node by node: ours is the original's node exactly where deepcopy's is, and equal."""
    assert (ours is original) == (stock is original), original
    assert type(ours) is type(stock) or isinstance(original, (ReplyActivity, ReplyAttachment))
    if isinstance(original, Model):
        assert vars(ours).keys() == vars(stock).keys() == vars(original).keys()
        for name in vars(original):
            _shares_what_deepcopy_shares(
                getattr(ours, name), getattr(stock, name), getattr(original, name)
            )
    elif isinstance(original, dict):
        assert ours.keys() == stock.keys() == original.keys()
        for key in original:
            _shares_what_deepcopy_shares(ours[key], stock[key], original[key])
    elif isinstance(original, list):
        assert len(ours) == len(stock) == len(original)
        for a, b, c in zip(ours, stock, original, strict=True):
            _shares_what_deepcopy_shares(a, b, c)
    else:
        assert ours == stock == original


@pytest.mark.parametrize("name", list(_replies()))
def test_a_reply_activity_copies_as_deeply_as_deepcopy(name: str) -> None:
    stock_reply = _in_botbuilder_classes(_replies()[name])
    assert type(stock_reply) is Activity
    reply = ReplyActivity.of(stock_reply)
    if stock_reply.attachments:
        reply.attachments = [ReplyAttachment.of(a) for a in stock_reply.attachments]
    assert vars(reply).keys() == vars(stock_reply).keys()
    sent, stock = copy.deepcopy(reply), copy.deepcopy(stock_reply)
    assert type(sent) is ReplyActivity and sent is not reply
    assert _body(sent) == _body(stock) == _body(stock_reply)
    _shares_what_deepcopy_shares(sent, stock, reply)
    if reply.attachments:
        assert all(type(a) is ReplyAttachment for a in sent.attachments)


def test_a_card_reply_is_a_reply_activity_with_a_reply_attachment() -> None:
    reply = card_reply(welcome_card("en-US"))
    assert type(reply) is ReplyActivity
    assert [type(a) for a in reply.attachments] == [ReplyAttachment]
    stock = _in_botbuilder_classes(reply)
    _shares_what_deepcopy_shares(copy.deepcopy(reply), copy.deepcopy(stock), reply)


def test_sending_a_reply_activity_leaves_it_as_it_was() -> None:
    reply = ReplyActivity.of(_replies()["channelData and value"])
    before = _body(reply)
    sent = _as_sent(reply)
    sent.channel_data["notification"]["alert"] = False
    sent.value["n"] = 4
    assert sent.conversation is not None and reply.conversation is None
    assert _body(reply) == before


def test_invoke_answers_are_reply_activities() -> None:
    answer = invoke_reply(welcome_card("en-US"))
    assert isinstance(answer, ReplyActivity)
    assert answer.type == ActivityTypes.invoke_response
    copied = copy.deepcopy(answer)
    # botbuilder's copy of the activity is a copy; the answer it carries is shared, as a
    # SharedCard is: nothing changes it once it is sent.
    assert copied is not answer and copied.value is answer.value
    assert isinstance(copied.value, InvokeResponse) and copied.value.status == 200
    assert copied.value.body["value"] == welcome_card("en-US")


def _adapter() -> FastCloudAdapter:
    """The bot's adapter, without an app id (nothing here authenticates or posts)."""
    return FastCloudAdapter(
        ConfigurationBotFrameworkAuthentication(
            BotFrameworkConfig.from_settings(Settings(database_url="sqlite://"))
        )
    )


async def test_an_invoke_answer_is_written_as_it_was_answered() -> None:
    adapter = _adapter()
    incoming = _incoming()
    incoming.type = ActivityTypes.invoke
    context = TurnContext(adapter, incoming)
    answer = invoke_reply(welcome_card("en-US"))
    await context.send_activity(answer)
    response = adapter._process_turn_results(context)
    assert response is answer.value
    assert response.body == {
        "statusCode": 200,
        "type": "application/vnd.microsoft.card.adaptive",
        "value": welcome_card("en-US"),
    }


def test_a_card_invoke_answer_is_the_one_botbuilder_writes() -> None:
    card = welcome_card("en-US")
    ours = TeamsWorkBot._create_invoke_response(invoke_card(card))
    stock = serializer_helper(
        AdaptiveCardInvokeResponse(status_code=200, type=invoke_card(card).type, value=card)
    )
    assert ours.status == 200
    assert ours.body == stock
    assert json.dumps(ours.body) == json.dumps(stock)


def test_expect_replies_answers_with_the_cards_as_json() -> None:
    adapter = _adapter()
    incoming = _incoming()
    incoming.delivery_mode = DeliveryModes.expect_replies
    context = TurnContext(adapter, incoming)
    replies = [_as_sent(card_reply(welcome_card("en-US"))), _as_sent(_replies()["text"])]
    context.buffered_reply_activities.extend(replies)
    response = adapter._process_turn_results(context)
    assert response.status == 200
    expected = ExpectedReplies(activities=[_plain(a) for a in replies]).serialize()
    assert response.body == expected
    assert response.body["activities"][0]["attachments"][0]["content"]["type"] == "AdaptiveCard"


@pytest.mark.parametrize("name", list(INCOMING))
def test_the_stored_conversation_reference_is_msrest_s_json(name: str) -> None:
    activity = activity_from_json(INCOMING[name])
    reference = TurnContext.get_conversation_reference(activity)
    reference.conversation.id = reference.conversation.id.split(";messageid=")[0]
    assert installation_of(activity).reference_json == json.dumps(reference.serialize())
    assert model_json(reference) == reference.serialize()
