"""Reading what Teams sends: tenant, user, conversation, mentions."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.schema import Activity

from bot.domain.people import Person
from bot.services.conversations import Installation
from bot.services.identity import Identity

MAX_USER_ID = 200
MAX_CONVERSATION_ID = 400  # the width of conversations.conversation_id
MAX_SERVICE_URL = 400


def tenant_of(activity: Activity) -> str | None:
    data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    tenant = data.get("tenant") if isinstance(data.get("tenant"), dict) else None
    tenant_id = tenant.get("id") if tenant else None
    if not tenant_id and activity.conversation is not None:
        tenant_id = activity.conversation.tenant_id
    if isinstance(tenant_id, str) and 0 < len(tenant_id.strip()) <= 64:
        return tenant_id.strip()
    return None


def identity_of(activity: Activity, tenant_id: str) -> Identity | None:
    sender = activity.from_property
    if sender is None or not sender.id:
        return None
    return Identity(
        tenant_id=tenant_id,
        user_id=sender.id[:MAX_USER_ID],
        name=(sender.name or "")[:200],
        aad_object_id=(sender.aad_object_id or None),
        locale=(activity.locale or None),
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
    sender = activity.from_property
    # Clipped as identity_of clips it, so that both name the same user.
    user = sender.id[:MAX_USER_ID] if kind == "personal" and sender and sender.id else None
    return Installation(
        conversation_id=conversation_id,
        conversation_type=kind,
        service_url=activity.service_url or "",
        reference_json=json.dumps(reference.serialize()),
        team_id=team.get("id"),
        channel_id=channel.get("id") or (team.get("id") if kind == "channel" else None),
        user_id=user,
    )
