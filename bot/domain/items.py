"""What the items of every app share: comments and a history of changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain.people import Person


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
