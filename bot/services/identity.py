"""Who is acting: the user of the activity, resolved inside the tenant."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.domain.clock import Clock
from bot.domain.people import Actor, Person
from bot.domain.roles import Role
from storage.models import UserAccount
from storage.statements import new_row
from storage.uow import UnitOfWork


@dataclass(frozen=True)
class Identity:
    """What the authenticated activity says about its sender; never taken from a card."""

    tenant_id: str
    user_id: str
    name: str
    aad_object_id: str | None = None
    locale: str | None = None  # the language of the activity, for what is sent later
    # Said in a channel or a group chat, where many people read one card.
    shared: bool = False


async def resolve_actor(
    uow: UnitOfWork, clock: Clock, who: Identity, listed: Sequence[str] = ()
) -> Actor:
    """Load the user, creating the tenant and the user on first contact. `listed`: the roles
    whose users the use-case lists if the user has one of them (`UserRepository.get`).

    The user whose activity creates the tenant becomes its admin; so does the first user of a
    tenant that somehow has no admin left, so that nobody is ever locked out of the subscription.
    """
    now = clock.now()
    user = await uow.users.get(who.user_id, listed=listed)
    if user is None:
        created = await uow.tenants.ensure(now)
        admins = [] if created else await uow.users.with_roles([Role.ADMIN.value])
        role = Role.ADMIN if created or not admins else Role.MEMBER
        # Whoever bought the tenant's subscription in the marketplace is an admin too.
        if who.aad_object_id and await uow.marketplace.claim_purchaser(who.aad_object_id):
            role = Role.ADMIN
        # A user's first messages may arrive together: the first insert wins.
        user = await uow.users.add_if_absent(
            new_row(
                UserAccount,
                tenant_id=who.tenant_id,
                id=who.user_id,
                aad_object_id=who.aad_object_id,
                name=who.name,
                role=role.value,
                locale=who.locale,
                created_at=now,
            )
        )
    elif (
        (who.name and user.name != who.name)
        or (who.aad_object_id and not user.aad_object_id)
        or (who.locale and user.locale != who.locale)
    ):
        user.name = who.name or user.name
        user.aad_object_id = user.aad_object_id or who.aad_object_id
        user.locale = who.locale or user.locale
        await uow.users.add(user)
    return Actor(who.tenant_id, Person(user.id, user.name), Role(user.role))


async def find_actor(uow: UnitOfWork, who: Identity, listed: Sequence[str] = ()) -> Actor:
    """The user as `resolve_actor` would make them, for a reading use-case: writes nothing. A
    user the bot has not stored yet gets the role they would get on first contact."""
    user = await uow.users.get(who.user_id, listed=listed)
    if user is not None:
        return Actor(who.tenant_id, Person(user.id, user.name), Role(user.role))
    admins = await uow.users.with_roles([Role.ADMIN.value])
    role = Role.MEMBER if admins else Role.ADMIN
    return Actor(who.tenant_id, Person(who.user_id, who.name), role)
