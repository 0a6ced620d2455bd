"""Reading what Teams sends: tenant, user, conversation, mentions."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

import orjson
from botbuilder.core import TurnContext
from botbuilder.schema import Activity

from bot.domain.people import Person
from bot.services.conversations import Installation
from bot.services.identity import Identity
from bot.teams.wire import model_json

MAX_USER_ID = 200
MAX_CONVERSATION_ID = 400  # the width of conversations.conversation_id
MAX_SERVICE_URL = 400
# Where many people read one card.
SHARED_CONVERSATIONS = ("channel", "groupChat")
# Teams' activities nest a few levels (value.action.data...); far deeper is not an activity, and
# walking it (here, in msrest, in the services) must not hit Python's recursion limit.
MAX_DEPTH = 32
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class TooDeep(ValueError):
    pass


def clean_text(value: str) -> str:
    """NUL removed (PostgreSQL refuses it in text), lone surrogates (from JSON escapes such as
    \\ud800, which cannot be encoded as UTF-8) replaced by U+FFFD."""
    if "\x00" in value:
        value = value.replace("\x00", "")
    if _LONE_SURROGATE.search(value):
        value = _LONE_SURROGATE.sub("\ufffd", value)
    return value


def clean_activity_json(body: Any) -> Any:
    """The parsed request body with every string (keys too) cleaned by `clean_text`, before
    anything reads it: text, card values and data, names, ids. Raises TooDeep past MAX_DEPTH.
    Iterative, so that no nesting makes it recurse."""
    root: list[Any] = [body]
    stack: list[tuple[list[Any] | dict[Any, Any], Any, Any, int]] = [(root, 0, body, 0)]
    while stack:
        parent, key, node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise TooDeep(f"nested deeper than {MAX_DEPTH}")
        if isinstance(node, str):
            parent[key] = clean_text(node)
        elif isinstance(node, dict):
            cleaned = {clean_text(k) if isinstance(k, str) else k: v for k, v in node.items()}
            parent[key] = cleaned
            stack.extend((cleaned, k, v, depth + 1) for k, v in cleaned.items())
        elif isinstance(node, list):
            copy = list(node)
            parent[key] = copy
            stack.extend((copy, i, v, depth + 1) for i, v in enumerate(copy))
    return root[0]


# What may put a NUL or a lone surrogate into a string of the parsed JSON: the character itself
# (JSON text may hold a surrogate only if it was decoded from bytes leniently) or a \u escape of
# one. A surrogate pair (an escaped emoji) matches too: then the full clean runs.
_MAY_NEED_CLEANING = re.compile(r"[\x00\ud800-\udfff]|\\u(?:0000|[dD][89abcdefABCDEF])")


def read_activity_json(text: str) -> Any:
    """`clean_activity_json(json.loads(text))`, without the walk that copies every string,
    list and dict when the text shows that no string can need cleaning: then only the depth is
    checked (TooDeep past MAX_DEPTH, as clean_activity_json raises it). What
    `read_activity_body` falls back on."""
    body = json.loads(text)
    if _MAY_NEED_CLEANING.search(text):
        return clean_activity_json(body)
    _check_depth(body)
    return body


# The same on the body's bytes: in valid UTF-8 JSON a NUL or a surrogate can only be a \u escape.
_MAY_NEED_CLEANING_BYTES = re.compile(rb"\\u(?:0000|[dD][89abcdefABCDEF])")
_UTF8 = ("utf-8", "utf8")


def read_activity_body(raw: bytes, charset: str | None = None) -> Any:
    """The request body as `read_activity_json(raw.decode(charset or "utf-8"))` reads it, for
    the usual body (UTF-8, no \\u escape of a NUL or a surrogate) by orjson: no text is decoded
    first, and the depth is walked only when the body has more than MAX_DEPTH brackets (deeper
    needs more); 3-4 µs for a message or a card action, against 17-28 with json and the
    checks. Where orjson reads differently it is stricter: NaN, Infinity and a number beyond a
    double's range (an integer too) are not JSON (ValueError), and an integer outside
    -2**63..2**64-1 is read as a float. Invalid UTF-8 and an unknown charset are ValueErrors
    (an unknown charset was a LookupError, a 500); no charset, or an empty one, is UTF-8."""
    if charset and charset.lower() not in _UTF8:
        try:
            text = raw.decode(charset)
        except LookupError as unknown:
            raise ValueError(f"unknown charset {charset!r}") from unknown
        return read_activity_json(text)
    if b"\\u" in raw and _MAY_NEED_CLEANING_BYTES.search(raw):
        return read_activity_json(raw.decode())
    body = orjson.loads(raw)
    if raw.count(b"{") + raw.count(b"[") > MAX_DEPTH:
        _check_depth(body)
    return body


def _check_depth(body: Any) -> None:
    """Raise TooDeep where clean_activity_json would: a value nested deeper than MAX_DEPTH."""
    if not isinstance(body, (dict, list)):
        return
    stack: list[tuple[Any, int]] = [(body, 0)]
    while stack:
        node, depth = stack.pop()
        values = node.values() if isinstance(node, dict) else node
        if values and depth >= MAX_DEPTH:  # its values are nested MAX_DEPTH + 1 deep
            raise TooDeep(f"nested deeper than {MAX_DEPTH}")
        stack.extend((v, depth + 1) for v in values if isinstance(v, (dict, list)))


def restore_tenant_id(activity: Activity, body: dict[str, Any]) -> None:
    """msrest reads the conversation's tenant from the key `tenantID`; Teams sends `tenantId`.
    Take it from the raw JSON so that `tenant_of` can fall back on it."""
    conversation = body.get("conversation")
    if activity.conversation is None or not isinstance(conversation, dict):
        return
    raw = conversation.get("tenantId")
    if not activity.conversation.tenant_id and isinstance(raw, str):
        activity.conversation.tenant_id = raw


def tenant_of(activity: Activity) -> str | None:
    data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    tenant = data.get("tenant") if isinstance(data.get("tenant"), dict) else None
    tenant_id = tenant.get("id") if tenant else None
    if not tenant_id and activity.conversation is not None:
        tenant_id = activity.conversation.tenant_id
    if isinstance(tenant_id, str) and 0 < len(tenant_id.strip()) <= 64:
        return tenant_id.strip()
    return None


def shared_conversation(activity: Activity) -> bool:
    """A channel or a group chat: many people read one card there."""
    conversation = activity.conversation
    return conversation is not None and conversation.conversation_type in SHARED_CONVERSATIONS


def sender_id(activity: Activity) -> str | None:
    """The id of the user the activity is from, as the bot stores it (clipped)."""
    sender = activity.from_property
    return sender.id[:MAX_USER_ID] if sender is not None and sender.id else None


def identity_of(activity: Activity, tenant_id: str) -> Identity | None:
    sender = activity.from_property
    user_id = sender_id(activity)
    if sender is None or user_id is None:
        return None
    return Identity(
        tenant_id=tenant_id,
        user_id=user_id,
        name=(sender.name or "")[:200],
        aad_object_id=(sender.aad_object_id or None),
        locale=(activity.locale or None),
        shared=shared_conversation(activity),
    )


def channel_level(conversation_id: str) -> str:
    """A reply thread in a channel is `<channel>;messageid=<n>`; the channel is the part before."""
    return conversation_id.split(";messageid=", 1)[0]


def activity_key(activity: Activity) -> str | None:
    """A key for "this activity was handled": ids are unique per conversation, not globally."""
    if not activity.id or activity.conversation is None:
        return None
    raw = f"{activity.conversation.id}\n{activity.id}".encode()
    return hashlib.sha256(raw).hexdigest()[:40]


def mentions_of(activity: Activity) -> list[Person]:
    """The people @mentioned in a message, the bot itself excluded."""
    bot_id = activity.recipient.id if activity.recipient else None
    people: list[Person] = []
    for entity in activity.entities or []:
        props: dict[str, Any] = entity.additional_properties or {}
        if entity.type != "mention":
            continue
        mentioned = props.get("mentioned") or {}
        if isinstance(mentioned, dict) and mentioned.get("id") and mentioned.get("id") != bot_id:
            people.append(
                Person(str(mentioned["id"])[:200], str(mentioned.get("name") or "")[:200])
            )
    return people


def installation_of(activity: Activity) -> Installation:
    reference = TurnContext.get_conversation_reference(activity)
    conversation_id = channel_level(activity.conversation.id)
    reference.conversation.id = conversation_id
    data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    team: dict[str, Any] = data.get("team") or {}
    channel: dict[str, Any] = data.get("channel") or {}
    team = team if isinstance(team, dict) else {}
    channel = channel if isinstance(channel, dict) else {}
    kind = activity.conversation.conversation_type or "personal"
    if kind not in ("personal", "channel", "groupChat"):
        kind = "channel" if team else "personal"
    user = sender_id(activity) if kind == "personal" else None
    return Installation(
        conversation_id=conversation_id,
        conversation_type=kind,
        service_url=activity.service_url or "",
        reference_json=json.dumps(model_json(reference)),
        team_id=team.get("id"),
        channel_id=channel.get("id") or (team.get("id") if kind == "channel" else None),
        user_id=user,
    )
