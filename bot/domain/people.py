"""People and who may see an item: shared by every app."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.roles import Role


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


def can_see(actor: Actor, *involved: str | None) -> bool:
    """Agents and admins see every item of the tenant; members the items they are part of
    (requester, assignee, reviewer, owner: whatever the app names `involved`)."""
    if actor.role.works_all_items:
        return True
    return actor.user.id in involved
