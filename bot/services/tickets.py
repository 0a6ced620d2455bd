"""Ticketing use-cases. Each runs in one unit of work and returns domain values."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from bot.domain.clock import Clock
from bot.domain.errors import Forbidden, InvalidInput, NotFound
from bot.domain.notices import TicketEvent, TicketNotice
from bot.domain.plans import App, PlanCatalog
from bot.domain.quota import DEFAULT_THRESHOLDS
from bot.domain.roles import Role
from bot.domain.tickets import (
    Actor,
    Comment,
    HistoryEntry,
    Person,
    Priority,
    Status,
    Ticket,
    TicketDraft,
    TicketFilter,
    TicketPage,
    can_see,
    check_transition,
)
from bot.services.identity import Identity, resolve_actor
from bot.services.notifications import notice_person, preview
from bot.services.subscriptions import consume
from storage.models import TicketCommentRow, TicketEventRow, TicketRow
from storage.uow import UnitOfWork

DETAIL_ITEMS = 20


@dataclass(frozen=True)
class TicketView:
    """A ticket as one user may see it, with what that user may do to it."""

    ticket: Ticket
    actor: Actor
    agents: tuple[Person, ...]

    @property
    def can_work(self) -> bool:
        return self.actor.role.works_all_items


def _to_ticket(
    row: TicketRow,
    comments: list[TicketCommentRow] | None = None,
    events: list[TicketEventRow] | None = None,
) -> Ticket:
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
        comments=tuple(
            Comment(Person(c.author_id, c.author_name), c.text, c.created_at)
            for c in (comments or [])
        ),
        history=tuple(
            HistoryEntry(Person(e.actor_id, e.actor_name), e.field, e.old, e.new, e.created_at)
            for e in (events or [])
        ),
    )


async def _agents(uow: UnitOfWork) -> tuple[Person, ...]:
    users = await uow.users.with_roles([Role.AGENT.value, Role.ADMIN.value])
    return tuple(Person(u.id, u.name) for u in users)


async def _visible_row(uow: UnitOfWork, actor: Actor, number: int) -> TicketRow:
    row = await uow.tickets.get(number, for_update=True)
    # Another tenant's ticket and a ticket this user may not see look the same: not found.
    if row is None or not can_see(actor, row.requester_id, row.assignee_id):
        raise NotFound(what="ticket", number=number)
    return row


async def _view(uow: UnitOfWork, actor: Actor, row: TicketRow) -> TicketView:
    assert row.id is not None
    comments = (await uow.tickets.comments(row.id))[-DETAIL_ITEMS:]
    events = (await uow.tickets.events(row.id))[-DETAIL_ITEMS:]
    return TicketView(_to_ticket(row, comments, events), actor, await _agents(uow))


async def _record(
    uow: UnitOfWork,
    clock: Clock,
    actor: Actor,
    row: TicketRow,
    field: str,
    old: str | None,
    new: str | None,
) -> None:
    assert row.id is not None
    now = clock.now()
    row.updated_at = now
    await uow.tickets.add(row)
    await uow.tickets.add_event(
        TicketEventRow(
            tenant_id=uow.tenant_id,
            ticket_id=row.id,
            actor_id=actor.user.id,
            actor_name=actor.user.name,
            field=field,
            old=old,
            new=new,
            created_at=now,
        )
    )


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
    catalog: PlanCatalog,
    who: Identity,
    draft: TicketDraft,
    conversation_id: str | None = None,
    *,
    thresholds: Sequence[int] = DEFAULT_THRESHOLDS,
) -> TicketView:
    """Create a ticket; it counts against the tenant's ticket quota in the same transaction,
    and at the limit nothing is created (QuotaExceeded)."""
    async with uow:
        actor = await resolve_actor(uow, clock, who)
        await consume(uow, clock, catalog, App.TICKETS, thresholds=thresholds, locale=who.locale)
        now = clock.now()
        number = await uow.tenants.next_number("ticket")
        row = await uow.tickets.add(
            TicketRow(
                tenant_id=uow.tenant_id,
                number=number,
                title=draft.title,
                description=draft.description,
                priority=draft.priority.value,
                category=draft.category,
                status=Status.NEW.value,
                requester_id=actor.user.id,
                requester_name=actor.user.name,
                due=draft.due,
                conversation_id=conversation_id,
                created_at=now,
                updated_at=now,
            )
        )
        await _record(uow, clock, actor, row, "created", None, draft.title)
        view = await _view(uow, actor, row)
        await uow.commit()
        return view


async def list_tickets(
    uow: UnitOfWork, clock: Clock, who: Identity, flt: TicketFilter, page: int = 0
) -> TicketPage:
    async with uow:
        actor = await resolve_actor(uow, clock, who)
        rows, total = await uow.tickets.page(
            flt, actor.user.id, sees_all=actor.role.works_all_items, page=max(page, 0)
        )
        await uow.commit()
        return TicketPage(tuple(_to_ticket(r) for r in rows), max(page, 0), total, flt)


Change = Callable[[UnitOfWork, Actor, TicketRow], Awaitable[None]]


async def _unchanged(uow: UnitOfWork, actor: Actor, row: TicketRow) -> None:
    return None


async def _work_on(
    uow: UnitOfWork, clock: Clock, who: Identity, number: int, change: Change
) -> TicketView:
    """One ticket the user may see, changed by `change` in one unit of work."""
    async with uow:
        actor = await resolve_actor(uow, clock, who)
        row = await _visible_row(uow, actor, number)
        await change(uow, actor, row)
        view = await _view(uow, actor, row)
        await uow.commit()
        return view


async def get_ticket(uow: UnitOfWork, clock: Clock, who: Identity, number: int) -> TicketView:
    return await _work_on(uow, clock, who, number, _unchanged)


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
            await _record(uow, clock, actor, row, "assignee", old, target.name)
            if target.id != actor.user.id:
                await _tell(uow, clock, who, row, target.id, TicketEvent.ASSIGNED, target.name)

    return await _work_on(uow, clock, who, number, assign)


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
        await _record(uow, clock, actor, row, "status", current.value, status.value)
        if actor.role.works_all_items and actor.user.id != row.requester_id:
            event = TicketEvent.RESOLVED if status is Status.RESOLVED else TicketEvent.STATUS
            await _tell(uow, clock, who, row, row.requester_id, event)

    return await _work_on(uow, clock, who, number, move)


async def change_priority(
    uow: UnitOfWork, clock: Clock, who: Identity, number: int, priority: Priority
) -> TicketView:
    async def reprioritize(uow: UnitOfWork, actor: Actor, row: TicketRow) -> None:
        if row.priority != priority.value:
            old = row.priority
            row.priority = priority.value
            await _record(uow, clock, actor, row, "priority", old, priority.value)

    return await _work_on(uow, clock, who, number, reprioritize)


async def add_comment(
    uow: UnitOfWork, clock: Clock, who: Identity, number: int, text: str
) -> TicketView:
    async def comment(uow: UnitOfWork, actor: Actor, row: TicketRow) -> None:
        assert row.id is not None
        now = clock.now()
        await uow.tickets.add_comment(
            TicketCommentRow(
                tenant_id=uow.tenant_id,
                ticket_id=row.id,
                author_id=actor.user.id,
                author_name=actor.user.name,
                text=text,
                created_at=now,
            )
        )
        row.updated_at = now
        await uow.tickets.add(row)
        if actor.role.works_all_items and actor.user.id != row.requester_id:
            await _tell(uow, clock, who, row, row.requester_id, TicketEvent.COMMENTED, text)

    return await _work_on(uow, clock, who, number, comment)
