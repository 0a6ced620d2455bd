"""Ticketing rules: fields, statuses and the transitions between them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any, TypeVar

from bot.domain.errors import InvalidInput, InvalidTransition
from bot.domain.roles import Role

TITLE_MAX = 200
DESCRIPTION_MAX = 4000
CATEGORY_MAX = 60
COMMENT_MAX = 4000
PAGE_SIZE = 10

E = TypeVar("E", bound=StrEnum)


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
class Person:
    id: str
    name: str


@dataclass(frozen=True)
class Actor:
    """Who is acting in this turn: the tenant comes from the authenticated activity."""

    tenant_id: str
    user: Person
    role: Role


@dataclass(frozen=True)
class Comment:
    author: Person
    text: str
    at: datetime


@dataclass(frozen=True)
class HistoryEntry:
    actor: Person
    field: str
    old: str | None
    new: str | None
    at: datetime


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


@dataclass(frozen=True)
class TicketPage:
    tickets: tuple[Ticket, ...]
    page: int
    total: int
    filter: TicketFilter

    @property
    def has_next(self) -> bool:
        return (self.page + 1) * PAGE_SIZE < self.total

    @property
    def has_previous(self) -> bool:
        return self.page > 0


def _text(
    errors: dict[str, tuple[str, dict[str, Any]]],
    name: str,
    value: object,
    *,
    required: bool,
    maximum: int,
) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors[name] = ("field.not_text", {})
        return ""
    value = value.strip()
    if required and not value:
        errors[name] = ("field.required", {})
    elif len(value) > maximum:
        errors[name] = ("field.too_long", {"max": maximum, "length": len(value)})
    return value


def _enum(
    errors: dict[str, tuple[str, dict[str, Any]]],
    name: str,
    value: object,
    enum: type[E],
    default: E,
) -> E:
    if value in (None, ""):
        return default
    try:
        return enum(value.strip().lower() if isinstance(value, str) else str(value))
    except ValueError:
        errors[name] = ("field.choose_one", {"allowed": ", ".join(e.value for e in enum)})
        return default


def _date(errors: dict[str, tuple[str, dict[str, Any]]], name: str, value: object) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    errors[name] = ("field.bad_date", {})
    return None


def parse_draft(data: dict[str, Any]) -> TicketDraft:
    """Validate the fields of a new ticket; every problem is reported at once."""
    errors: dict[str, tuple[str, dict[str, Any]]] = {}
    title = _text(errors, "title", data.get("title"), required=True, maximum=TITLE_MAX)
    description = _text(
        errors, "description", data.get("description"), required=False, maximum=DESCRIPTION_MAX
    )
    category = _text(errors, "category", data.get("category"), required=False, maximum=CATEGORY_MAX)
    priority = _enum(errors, "priority", data.get("priority"), Priority, Priority.NORMAL)
    due = _date(errors, "due", data.get("due"))
    if errors:
        raise InvalidInput(errors)
    return TicketDraft(title, description, priority, category, due)


def parse_comment(value: object) -> str:
    errors: dict[str, tuple[str, dict[str, Any]]] = {}
    text = _text(errors, "comment", value, required=True, maximum=COMMENT_MAX)
    if errors:
        raise InvalidInput(errors)
    return text


def parse_priority(value: object) -> Priority:
    errors: dict[str, tuple[str, dict[str, Any]]] = {}
    if value in (None, ""):
        errors["priority"] = ("field.required", {})
    priority = _enum(errors, "priority", value, Priority, Priority.NORMAL)
    if errors:
        raise InvalidInput(errors)
    return priority


def parse_status(value: object) -> Status:
    errors: dict[str, tuple[str, dict[str, Any]]] = {}
    if value in (None, ""):
        errors["status"] = ("field.required", {})
    status = _enum(errors, "status", value, Status, Status.NEW)
    if errors:
        raise InvalidInput(errors)
    return status


def can_see(actor: Actor, requester_id: str, assignee_id: str | None) -> bool:
    if actor.role.works_all_items:
        return True
    return actor.user.id in (requester_id, assignee_id)
