"""Roles inside a tenant: admins grant them."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.clock import Clock
from bot.domain.errors import DomainError, OnlyAdmins
from bot.domain.people import Actor, Person
from bot.domain.roles import Role
from bot.services.identity import Identity, resolve_actor
from storage.uow import UnitOfWork


class LastAdmin(DomainError):
    key = "roles.last_admin"


class UnknownUser(DomainError):
    """Roles go only to people the bot knows in the tenant (they have written to it or were
    seen in a conversation with it), never to an id a card made up."""

    key = "roles.unknown_user"


@dataclass(frozen=True)
class RolesView:
    admins: tuple[Person, ...]
    agents: tuple[Person, ...]
    changed: tuple[Person, Role] | None = None


async def admins_of(uow: UnitOfWork) -> tuple[Person, ...]:
    return tuple(Person(u.id, u.name) for u in await uow.users.with_roles([Role.ADMIN.value]))


async def require_admin(uow: UnitOfWork, actor: Actor) -> None:
    if actor.role is not Role.ADMIN:
        names = ", ".join(p.name for p in await admins_of(uow)) or "-"
        raise OnlyAdmins(admins=names)


async def list_roles(uow: UnitOfWork, clock: Clock, who: Identity) -> RolesView:
    async with uow:
        await resolve_actor(uow, clock, who)
        agents = await uow.users.with_roles([Role.AGENT.value])
        view = RolesView(await admins_of(uow), tuple(Person(u.id, u.name) for u in agents))
        await uow.commit()
        return view


async def set_role(
    uow: UnitOfWork, clock: Clock, who: Identity, user_id: str, role: Role
) -> RolesView:
    """Give a known user of the tenant a role. The name shown is the one Teams gave that user;
    the last admin cannot be demoted."""
    async with uow:
        actor = await resolve_actor(uow, clock, who)
        await require_admin(uow, actor)
        user = await uow.users.get(user_id)
        if user is None:
            raise UnknownUser()
        demoting = user.role == Role.ADMIN.value and role is not Role.ADMIN
        if demoting and len(await admins_of(uow)) <= 1:
            raise LastAdmin()
        user.role = role.value
        await uow.users.add(user)
        agents = await uow.users.with_roles([Role.AGENT.value])
        view = RolesView(
            await admins_of(uow),
            tuple(Person(u.id, u.name) for u in agents),
            changed=(Person(user.id, user.name), role),
        )
        await uow.commit()
        return view
