"""Ticketing rules: fields, statuses and the transitions between them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from bot.domain.errors import InvalidTransition
from bot.domain.fields import FieldErrors
from bot.domain.items import Comment, HistoryEntry
from bot.domain.people import Person

TITLE_MAX = 200
DESCRIPTION_MAX = 4000
CATEGORY_MAX = 60
COMMENT_MAX = 4000


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class Status(StrEnum):
    NEW = "new"
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    PENDING = "pending"
    RESOLVED = "resolved"
    CLOSED = "closed"

    @property
    def is_closed(self) -> bool:
        return self in (Status.RESOLVED, Status.CLOSED)


# The workflow moves forward one step at a time, may skip ahead to resolved or closed, may step
# back from pending to in progress, and reopens (to open) from resolved or closed.
TRANSITIONS: dict[Status, tuple[Status, ...]] = {
    Status.NEW: (Status.OPEN, Status.IN_PROGRESS, Status.RESOLVED, Status.CLOSED),
    Status.OPEN: (Status.IN_PROGRESS, Status.PENDING, Status.RESOLVED, Status.CLOSED),
    Status.IN_PROGRESS: (Status.PENDING, Status.RESOLVED, Status.CLOSED),
    Status.PENDING: (Status.IN_PROGRESS, Status.RESOLVED, Status.CLOSED),
    Status.RESOLVED: (Status.CLOSED, Status.OPEN),
    Status.CLOSED: (Status.OPEN,),
}


def check_transition(current: Status, target: Status) -> None:
    allowed = TRANSITIONS[current]
    if target not in allowed:
        raise InvalidTransition(current=current, target=target, allowed=allowed)


class TicketFilter(StrEnum):
    MINE = "mine"
    ASSIGNED = "assigned"
    UNASSIGNED = "unassigned"
    OPEN = "open"
    CLOSED = "closed"
    ALL = "all"


@dataclass(frozen=True)
class Ticket:
    number: int
    title: str
    description: str
    priority: Priority
    category: str
    status: Status
    requester: Person
    assignee: Person | None
    due: date | None
    created_at: datetime
    updated_at: datetime
    comments: tuple[Comment, ...] = field(default=())
    history: tuple[HistoryEntry, ...] = field(default=())


@dataclass(frozen=True)
class TicketDraft:
    """What a user asked to create, already validated."""

    title: str
    description: str = ""
    priority: Priority = Priority.NORMAL
    category: str = ""
    due: date | None = None


def parse_draft(data: Mapping[str, Any], today: date) -> TicketDraft:
    """Validate the fields of a new ticket; every problem is reported at once. A due date
    cannot lie before `today`."""
    errors = FieldErrors()
    title = errors.text("title", data.get("title"), required=True, maximum=TITLE_MAX)
    description = errors.text(
        "description", data.get("description"), required=False, maximum=DESCRIPTION_MAX
    )
    category = errors.text("category", data.get("category"), required=False, maximum=CATEGORY_MAX)
    priority = errors.enum("priority", data.get("priority"), Priority, Priority.NORMAL)
    due = errors.date("due", data.get("due"), not_before=today)
    errors.raise_if_any()
    return TicketDraft(title, description, priority, category, due)


def parse_comment(value: object) -> str:
    errors = FieldErrors()
    text = errors.text("comment", value, required=True, maximum=COMMENT_MAX)
    errors.raise_if_any()
    return text


def parse_priority(value: object) -> Priority:
    errors = FieldErrors()
    priority = errors.required_enum("priority", value, Priority, Priority.NORMAL)
    errors.raise_if_any()
    return priority


def parse_status(value: object) -> Status:
    errors = FieldErrors()
    status = errors.required_enum("status", value, Status, Status.NEW)
    errors.raise_if_any()
    return status
