"""What the bot tells people without being asked: quota warnings and ticket notifications.

A notice is data (kind + fields); the Teams edge renders it into a card when it is delivered,
in the locale recorded with it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import date
from enum import StrEnum
from typing import Any, ClassVar, Protocol

from bot.domain.plans import App
from bot.domain.tickets import Status


class Notice(Protocol):
    """A proactive message as data: its outbox kind (the app registry renders each kind) and
    its payload."""

    KIND: ClassVar[str]

    def to_json(self) -> str: ...


class TicketEvent(StrEnum):
    COMMENTED = "commented"
    STATUS = "status"
    RESOLVED = "resolved"
    ASSIGNED = "assigned"


@dataclass(frozen=True)
class QuotaNotice:
    KIND: ClassVar[str] = "quota"

    app: App
    used: int
    limit: int
    threshold: int  # percent; 100 means the quota is reached
    renews_on: date

    def to_json(self) -> str:
        data = asdict(self)
        data["renews_on"] = self.renews_on.isoformat()
        return json.dumps(data)

    @classmethod
    def from_json(cls, text: str) -> QuotaNotice:
        data: dict[str, Any] = json.loads(text)
        return cls(
            App(data["app"]),
            int(data["used"]),
            int(data["limit"]),
            int(data["threshold"]),
            date.fromisoformat(data["renews_on"]),
        )


@dataclass(frozen=True)
class TicketNotice:
    KIND: ClassVar[str] = "ticket"

    event: TicketEvent
    number: int
    title: str
    actor: str
    status: Status
    detail: str = ""  # the comment's text, or the assignee's name

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> TicketNotice:
        data: dict[str, Any] = json.loads(text)
        return cls(
            TicketEvent(data["event"]),
            int(data["number"]),
            str(data["title"]),
            str(data["actor"]),
            Status(data["status"]),
            str(data.get("detail", "")),
        )
