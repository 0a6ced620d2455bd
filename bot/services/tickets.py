"""Ticketing use-cases, on the shared item machinery (bot/services/items.py)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.clock import Clock
from bot.domain.errors import Forbidden, InvalidInput, NotFound
from bot.domain.notices import TicketEvent, TicketNotice
from bot.domain.paging import Page
from bot.domain.people import Actor, Person, can_see
from bot.domain.plans import App
from bot.domain.quota import QuotaPolicy
from bot.domain.roles import Role
from bot.domain.tickets import (
    Priority,
    Status,
    Ticket,
    TicketDraft,
    TicketFilter,
    check_transition,
)
from bot.services.identity import Identity, resolve_actor
from bot.services.items import (
    ItemLog,
    Load,
    NewItem,
    View,
    create_item,
    item_log,
    read_item,
    record_change,
    work_on_item,
)
from bot.services.items import (
    add_comment as add_item_comment,
)
from bot.services.notifications import notice_person, preview
from storage.models import TicketRow
from storage.repositories import TicketLine
from storage.statements import new_row, table_name
from storage.uow import UnitOfWork

APP = App.TICKETS
COUNTER = "ticket"
# The roles of the help desk, whom a ticket's view lists (`_view_for`): read with the actor
# when the actor is one of them.
HELP_DESK = (Role.AGENT.value, Role.ADMIN.value)


@dataclass(frozen=True)
class TicketView:
    """A ticket as one user may see it, with what that user may do to it."""

    ticket: Ticket
    actor: Actor
    # The help desk, where the card needs it (see `_view_for`); empty otherwise.
    agents: tuple[Person, ...]

    @property
    def can_work(self) -> bool:
        return self.actor.role.works_all_items


def _to_ticket(row: TicketLine, log: ItemLog | None = None) -> Ticket:
    return Ticket(
        number=row.number,
        title=row.title,
        description=row.description,
        priority=Priority(row.priority),
        category=row.category,
        status=Status(row.status),
        requester=Person(row.requester_id, row.requester_name),
        assignee=Person(row.assignee_id, row.assignee_name or "") if row.assignee_id else None,
        due=row.due,
        created_at=row.created_at,
        updated_at=row.updated_at,
        comments=log.comments if log else (),
        history=log.history if log else (),
    )


async def _agents(uow: UnitOfWork) -> tuple[Person, ...]:
    users = await uow.users.with_roles(HELP_DESK)
    return tuple(Person(u.id, u.name) for u in users)


def _visible(number: int, *, for_update: bool = True) -> Load[TicketRow]:
    async def load(uow: UnitOfWork, actor: Actor) -> TicketRow:
        row = await uow.tickets.get(number, for_update=for_update)
        # Another tenant's ticket and a ticket this user may not see look the same: not found.
        if row is None or not can_see(actor, row.requester_id, row.assignee_id):
            raise NotFound(what="ticket", number=number)
        return row

    return load


def _view_for(who: Identity) -> View[TicketRow, TicketView]:
    """The view of a ticket for `who`. The help desk (its agents and admins) is read only for
    a card that needs it: one for an agent or admin, which offers them to assign to, and one in
    a shared conversation, where each of them gets a view of their own (its refresh). A
    member's card in their personal chat, a requester's usual one, needs no one's names."""

    async def view(uow: UnitOfWork, actor: Actor, row: TicketRow) -> TicketView:
        needs_agents = actor.role.works_all_items or who.shared
        agents = await _agents(uow) if needs_agents else ()
        return TicketView(_to_ticket(row, await item_log(uow, APP, row)), actor, agents)

    return view


async def _changed(
    uow: UnitOfWork,
    clock: Clock,
    actor: Actor,
    row: TicketRow,
    field: str,
    old: str | None,
    new: str | None,
) -> None:
    row.updated_at = clock.now()
    await uow.tickets.add(row)
    await record_change(uow, clock, actor, APP, row, field, old, new)


async def _tell(
    uow: UnitOfWork,
    clock: Clock,
    who: Identity,
    row: TicketRow,
    person_id: str,
    event: TicketEvent,
    detail: str = "",
) -> None:
    notice = TicketNotice(
        event, row.number, row.title, who.name, Status(row.status), preview(detail)
    )
    await notice_person(uow, clock, person_id, notice, row.conversation_id, who.locale)


async def create_ticket(
    uow: UnitOfWork,
    clock: Clock,
    policy: QuotaPolicy,
    who: Identity,
    draft: TicketDraft,
    conversation_id: str | None = None,
) -> TicketView:
    """Create a ticket; it counts against the tenant's ticket quota in the same transaction,
    and at the limit nothing is created (QuotaExceeded)."""

    async def insert(uow: UnitOfWork, actor: Actor, new: NewItem) -> TicketRow:
        return await uow.tickets.insert(
            new_row(
                TicketRow,
                id=new.id,
                tenant_id=uow.tenant_id,
                number=new.number,
                title=draft.title,
                description=draft.description,
                priority=draft.priority.value,
                category=draft.category,
                status=Status.NEW.value,
                requester_id=actor.user.id,
                requester_name=actor.user.name,
                due=draft.due,
                conversation_id=conversation_id,
                created_at=new.at,
                updated_at=new.at,
            )
        )

    return await create_item(
        uow,
        clock,
        policy,
        who,
        APP,
        COUNTER,
        draft.title,
        insert,
        _view_for(who),
        table=table_name(TicketRow),
        listed=HELP_DESK,
    )


async def list_tickets(
    uow: UnitOfWork, clock: Clock, who: Identity, flt: TicketFilter, page: int = 0
) -> Page[Ticket]:
    async with uow:
        actor = await resolve_actor(uow, clock, who)
        rows, total, shown = await uow.tickets.page(
            flt, actor.user.id, sees_all=actor.role.works_all_items, page=page
        )
        await uow.commit()
        return Page(tuple(_to_ticket(r) for r in rows), shown, total)


async def get_ticket(uow: UnitOfWork, clock: Clock, who: Identity, number: int) -> TicketView:
    """One ticket; `uow` may be a reading unit of work."""
    return await read_item(
        uow, clock, who, _visible(number, for_update=False), _view_for(who), listed=HELP_DESK
    )


async def assign_ticket(
    uow: UnitOfWork, clock: Clock, who: Identity, number: int, assignee_id: str | None
) -> TicketView:
    """Assign to an agent or admin of the tenant; `None` means "to me"."""

    async def assign(uow: UnitOfWork, actor: Actor, row: TicketRow) -> None:
        if not actor.role.works_all_items:
            raise Forbidden("tickets.only_agents_assign")
        target = await uow.users.get(assignee_id or actor.user.id)
        if target is None or not Role(target.role).works_all_items:
            raise InvalidInput({"assignee": ("tickets.assignee_not_agent", {})})
        if row.assignee_id != target.id:
            old = row.assignee_name
            row.assignee_id, row.assignee_name = target.id, target.name
            await _changed(uow, clock, actor, row, "assignee", old, target.name)
            if target.id != actor.user.id:
                await _tell(uow, clock, who, row, target.id, TicketEvent.ASSIGNED, target.name)

    return await work_on_item(
        uow, clock, who, _visible(number), assign, _view_for(who), listed=HELP_DESK
    )


async def change_status(
    uow: UnitOfWork, clock: Clock, who: Identity, number: int, status: Status
) -> TicketView:
    async def move(uow: UnitOfWork, actor: Actor, row: TicketRow) -> None:
        current = Status(row.status)
        # Members may close and reopen their own tickets; the rest of the workflow is the
        # help desk's.
        reopening = status is Status.OPEN and current.is_closed
        if not actor.role.works_all_items and not (status is Status.CLOSED or reopening):
            raise Forbidden("tickets.members_close_only")
        check_transition(current, status)
        row.status = status.value
        await _changed(uow, clock, actor, row, "status", current.value, status.value)
        if actor.role.works_all_items and actor.user.id != row.requester_id:
            event = TicketEvent.RESOLVED if status is Status.RESOLVED else TicketEvent.STATUS
            await _tell(uow, clock, who, row, row.requester_id, event)

    return await work_on_item(
        uow, clock, who, _visible(number), move, _view_for(who), listed=HELP_DESK
    )


async def change_priority(
    uow: UnitOfWork, clock: Clock, who: Identity, number: int, priority: Priority
) -> TicketView:
    async def reprioritize(uow: UnitOfWork, actor: Actor, row: TicketRow) -> None:
        if row.priority != priority.value:
            old = row.priority
            row.priority = priority.value
            await _changed(uow, clock, actor, row, "priority", old, priority.value)

    return await work_on_item(
        uow, clock, who, _visible(number), reprioritize, _view_for(who), listed=HELP_DESK
    )


async def add_comment(
    uow: UnitOfWork, clock: Clock, who: Identity, number: int, text: str
) -> TicketView:
    async def comment(uow: UnitOfWork, actor: Actor, row: TicketRow) -> None:
        await add_item_comment(uow, clock, actor, APP, row, text)
        row.updated_at = clock.now()
        await uow.tickets.add(row)
        if actor.role.works_all_items and actor.user.id != row.requester_id:
            await _tell(uow, clock, who, row, row.requester_id, TicketEvent.COMMENTED, text)

    return await work_on_item(
        uow, clock, who, _visible(number), comment, _view_for(who), listed=HELP_DESK
    )
