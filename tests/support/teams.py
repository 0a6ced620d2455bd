"""Teams-shaped activities, as a Teams client and the channel service would send them."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

BOT_ID = "28:teamswork-bot"
BOT_NAME = "TeamsWork"
_ids = itertools.count(1000)


@dataclass(frozen=True)
class TeamsUser:
    tenant_id: str
    user_id: str
    name: str
    aad_object_id: str
    locale: str = "en-US"

    @property
    def personal_chat(self) -> str:
        return f"a:personal-{self.user_id}"


@dataclass(frozen=True)
class Conversation:
    id: str
    type: str = "personal"  # personal | channel | groupChat
    team_id: str | None = None


def base(user: TeamsUser, conversation: Conversation, service_url: str) -> dict[str, Any]:
    channel_data: dict[str, Any] = {"tenant": {"id": user.tenant_id}}
    if conversation.type == "channel":
        channel_data["team"] = {"id": conversation.team_id, "name": "Help desk team"}
        channel_data["channel"] = {"id": conversation.id.split(";")[0], "name": "General"}
    return {
        "id": f"act-{next(_ids)}",
        "channelId": "msteams",
        "serviceUrl": service_url,
        "timestamp": "2026-11-02T09:00:00.000Z",
        "locale": user.locale,
        "from": {"id": user.user_id, "name": user.name, "aadObjectId": user.aad_object_id},
        "recipient": {"id": BOT_ID, "name": BOT_NAME},
        "conversation": {
            "id": conversation.id,
            "conversationType": conversation.type,
            "tenantId": user.tenant_id,
            **({"isGroup": True} if conversation.type != "personal" else {}),
        },
        "channelData": channel_data,
    }


def message(
    user: TeamsUser,
    conversation: Conversation,
    service_url: str,
    text: str,
    mentions: list[tuple[str, str]] = (),  # type: ignore[assignment]
) -> dict[str, Any]:
    activity = base(user, conversation, service_url)
    entities: list[dict[str, Any]] = []
    if conversation.type != "personal":
        text = f"<at>{BOT_NAME}</at> {text}"
        entities.append(
            {
                "type": "mention",
                "text": f"<at>{BOT_NAME}</at>",
                "mentioned": {"id": BOT_ID, "name": BOT_NAME},
            }
        )
    for user_id, name in mentions:
        text = text.replace(f"@{name}", f"<at>{name}</at>")
        entities.append(
            {
                "type": "mention",
                "text": f"<at>{name}</at>",
                "mentioned": {"id": user_id, "name": name},
            }
        )
    activity.update(type="message", text=text, textFormat="plain", entities=entities)
    return activity


def execute(
    user: TeamsUser, conversation: Conversation, service_url: str, verb: str, data: dict[str, Any]
) -> dict[str, Any]:
    """An Action.Execute press: an `adaptiveCard/action` invoke."""
    activity = base(user, conversation, service_url)
    activity.update(
        type="invoke",
        name="adaptiveCard/action",
        value={
            "action": {"type": "Action.Execute", "verb": verb, "data": data},
            "trigger": "manual",
        },
        replyToId="card-message-1",
    )
    return activity


def installed(user: TeamsUser, conversation: Conversation, service_url: str) -> dict[str, Any]:
    activity = base(user, conversation, service_url)
    activity.update(type="conversationUpdate", membersAdded=[{"id": BOT_ID}])
    return activity


def installation_update(
    user: TeamsUser, conversation: Conversation, service_url: str, action: str
) -> dict[str, Any]:
    activity = base(user, conversation, service_url)
    activity.update(type="installationUpdate", action=action)
    return activity


def uninstalled(user: TeamsUser, conversation: Conversation, service_url: str) -> dict[str, Any]:
    activity = base(user, conversation, service_url)
    activity.update(type="conversationUpdate", membersRemoved=[{"id": BOT_ID}])
    return activity
