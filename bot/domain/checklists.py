"""Checklists: templates of ordered items, checklists started from them (or blank), items
checked off, and the way a checklist is submitted, reviewed and approved or returned."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any, ClassVar

from bot.domain.errors import DomainError
from bot.domain.fields import FieldErrors
from bot.domain.items import Comment, HistoryEntry
from bot.domain.people import Actor, Person

TITLE_MAX = 200
DESCRIPTION_MAX = 4000
ITEM_MAX = 300
ITEMS_MAX = 100
NOTE_MAX = 300
COMMENT_MAX = 2000
REQUIRED_MARK = "*"


class ChecklistStatus(StrEnum):
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    RETURNED = "returned"  # back with the assignee after a review: works like in progress


class ChecklistFilter(StrEnum):
    MINE = "mine"  # started by me or assigned to me
    ASSIGNED = "assigned"
    REVIEW = "review"  # submitted, waiting for my review
    OPEN = "open"
    OVERDUE = "overdue"
    ALL = "all"


@dataclass(frozen=True)
class ItemSpec:
    text: str
    required: bool = False


@dataclass(frozen=True)
class TemplateDraft:
    title: str
    description: str
    items: tuple[ItemSpec, ...]


@dataclass(frozen=True)
class Template:
    number: int
    title: str
    description: str
    items: tuple[ItemSpec, ...]
    archived: bool
    author: Person
    updated_at: datetime


@dataclass(frozen=True)
class ChecklistItem:
    position: int  # 1-based
    text: str
    required: bool
    checked_by: Person | None = None
    checked_at: datetime | None = None
    note: str = ""

    @property
    def checked(self) -> bool:
        return self.checked_by is not None


@dataclass(frozen=True)
class ChecklistDraft:
    title: str
    items: tuple[ItemSpec, ...]
    template: int | None = None  # the template's number
    assignee_id: str | None = None
    reviewer_id: str | None = None
    due: date | None = None


@dataclass(frozen=True)
class Checklist:
    number: int
    title: str
    status: ChecklistStatus
    starter: Person
    assignee: Person | None
    reviewer: Person | None
    due: date | None
    items: tuple[ChecklistItem, ...]
    template: int | None
    created_at: datetime
    updated_at: datetime
    comments: tuple[Comment, ...] = ()
    history: tuple[HistoryEntry, ...] = ()
    # (checked, total) where the items are not loaded (a list).
    progress: tuple[int, int] | None = None

    @property
    def done(self) -> int:
        if self.progress is not None and not self.items:
            return self.progress[0]
        return sum(1 for item in self.items if item.checked)

    @property
    def total(self) -> int:
        if self.progress is not None and not self.items:
            return self.progress[1]
        return len(self.items)

    @property
    def is_open(self) -> bool:
        return is_open(self.status)

    def overdue(self, today: date) -> bool:
        return self.is_open and self.due is not None and self.due < today


class TemplateAmbiguous(DomainError):
    """A template name matched several templates: the user picks one."""

    key = "checklists.template_ambiguous"

    def __init__(self, typed: str, matches: Sequence[Template]) -> None:
        super().__init__(typed=typed, count=len(matches))
        self.matches = tuple(matches)


def is_open(status: ChecklistStatus) -> bool:
    return status in (ChecklistStatus.IN_PROGRESS, ChecklistStatus.RETURNED)


def parse_items(errors: FieldErrors, name: str, value: object) -> tuple[ItemSpec, ...]:
    """Items typed one per line; a leading `*` marks a required item. Empty lines are skipped."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors.add(name, "field.not_text")
        return ()
    items: list[ItemSpec] = []
    for line in value.splitlines():
        text = line.strip()
        required = text.startswith(REQUIRED_MARK)
        text = text.removeprefix(REQUIRED_MARK).strip()
        if not text:
            continue
        if len(text) > ITEM_MAX:
            errors.add(name, "checklists.item_too_long", line=len(items) + 1, max=ITEM_MAX)
        items.append(ItemSpec(text, required))
    if not items:
        errors.add(name, "checklists.no_items")
    elif len(items) > ITEMS_MAX:
        errors.add(name, "checklists.too_many_items", max=ITEMS_MAX, count=len(items))
    return tuple(items)


def items_text(items: Sequence[ItemSpec]) -> str:
    """The items as the form shows them: one per line, required ones marked."""
    return "\n".join(f"{REQUIRED_MARK} {i.text}" if i.required else i.text for i in items)


def parse_template(data: Mapping[str, Any]) -> TemplateDraft:
    errors = FieldErrors()
    title = errors.text("title", data.get("title"), required=True, maximum=TITLE_MAX)
    description = errors.text(
        "description", data.get("description"), required=False, maximum=DESCRIPTION_MAX
    )
    items = parse_items(errors, "items", data.get("items"))
    errors.raise_if_any()
    return TemplateDraft(title, description, items)


def parse_start(data: Mapping[str, Any], today: date, *, from_template: bool) -> ChecklistDraft:
    """A checklist to start: from a template (its items are copied by the service) or blank
    with the items typed in."""
    errors = FieldErrors()
    title = errors.text("title", data.get("title"), required=True, maximum=TITLE_MAX)
    template = errors.integer("template", data.get("template"), minimum=1, maximum=2**31 - 1)
    items: tuple[ItemSpec, ...] = ()
    if not from_template or template is None:
        items = parse_items(errors, "items", data.get("items"))
    assignee = _person_id(errors, "assignee", data.get("assignee"))
    reviewer = _person_id(errors, "reviewer", data.get("reviewer"))
    due = errors.date("due", data.get("due"), not_before=today)
    errors.raise_if_any()
    return ChecklistDraft(title, items, template, assignee, reviewer, due)


def _person_id(errors: FieldErrors, name: str, value: object) -> str | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str) or len(value) > 200:
        errors.add(name, "field.choose_one", allowed="-")
        return None
    return value.strip() or None


def parse_note(value: object) -> str:
    errors = FieldErrors()
    note = errors.text("note", value, required=False, maximum=NOTE_MAX)
    errors.raise_if_any()
    return note


def parse_return_comment(value: object) -> str:
    errors = FieldErrors()
    text = errors.text("comment", value, required=True, maximum=COMMENT_MAX)
    errors.raise_if_any()
    return text


def check_can_change_items(status: ChecklistStatus) -> None:
    if not is_open(status):
        raise DomainError("checklists.not_open", status=status)


def open_required(items: Sequence[ChecklistItem]) -> tuple[ChecklistItem, ...]:
    return tuple(i for i in items if i.required and not i.checked)


def check_submit(actor: Actor, checklist: Checklist) -> ChecklistStatus:
    """Who may submit, and what the checklist becomes: submitted for review, or, without a
    reviewer, submitted as final."""
    check_can_change_items(checklist.status)
    doer = checklist.assignee or checklist.starter
    if actor.user.id != doer.id and not actor.role.works_all_items:
        raise DomainError("checklists.only_assignee_submits", name=doer.name)
    missing = open_required(checklist.items)
    if missing:
        raise DomainError(
            "checklists.required_open",
            items="; ".join(f"{i.text} ({i.position})" for i in missing[:10]),
            count=len(missing),
        )
    return ChecklistStatus.SUBMITTED


def check_review(actor: Actor, checklist: Checklist) -> None:
    """Only the named reviewer approves or returns a submitted checklist."""
    if checklist.status is not ChecklistStatus.SUBMITTED or checklist.reviewer is None:
        raise DomainError("checklists.not_for_review", status=checklist.status)
    if actor.user.id != checklist.reviewer.id:
        raise DomainError("checklists.only_reviewer", name=checklist.reviewer.name)


class ChecklistEvent(StrEnum):
    ASSIGNED = "assigned"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    RETURNED = "returned"


@dataclass(frozen=True)
class ChecklistNotice:
    KIND: ClassVar[str] = "checklist"

    event: ChecklistEvent
    number: int
    title: str
    actor: str
    detail: str = ""  # the reviewer's comment on a return

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> ChecklistNotice:
        data: dict[str, Any] = json.loads(text)
        return cls(
            ChecklistEvent(data["event"]),
            int(data["number"]),
            str(data["title"]),
            str(data["actor"]),
            str(data.get("detail", "")),
        )


@dataclass(frozen=True)
class DueItem:
    """One thing of a reminder digest: a ticket or a checklist due today or overdue."""

    app: str  # "tickets" | "checklists"
    number: int
    title: str
    due: date


@dataclass(frozen=True)
class ReminderNotice:
    KIND: ClassVar[str] = "reminder"

    day: date
    items: tuple[DueItem, ...]

    def to_json(self) -> str:
        return json.dumps(
            {
                "day": self.day.isoformat(),
                "items": [
                    {"app": i.app, "number": i.number, "title": i.title, "due": i.due.isoformat()}
                    for i in self.items
                ],
            }
        )

    @classmethod
    def from_json(cls, text: str) -> ReminderNotice:
        data: dict[str, Any] = json.loads(text)
        return cls(
            date.fromisoformat(data["day"]),
            tuple(
                DueItem(
                    str(i["app"]), int(i["number"]), str(i["title"]), date.fromisoformat(i["due"])
                )
                for i in data["items"]
            ),
        )
