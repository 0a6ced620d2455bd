"""A new item's first history line, "created", on both databases. On PostgreSQL the statement
that counts the item against the quota also takes the item's id from its table's sequence and
writes that line with it (`BillingRepository.count_number_and_record`); the app's insert then
stores the item with that id. On SQLite the line is written after the insert. Either way: one
line, with the item's id, as the create's view shows it; nothing at all when the create fails
after the count or is refused at the limit."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from sqlmodel import func, select

from bot.domain.checklists import ChecklistDraft, ItemSpec
from bot.domain.clock import FixedClock
from bot.domain.crm import OpportunityDraft
from bot.domain.errors import InvalidInput
from bot.domain.items import HistoryEntry
from bot.domain.plans import App, load_catalog
from bot.domain.quota import QuotaExceeded, QuotaPolicy
from bot.domain.tickets import TicketDraft
from bot.services import checklists, crm, subscriptions, tickets
from bot.services.identity import Identity, resolve_actor
from storage.db import Database
from storage.models import (
    ChecklistRow,
    ItemEventRow,
    OpportunityRow,
    QuotaUsageRow,
    TicketRow,
)
from storage.statements import new_row
from storage.uow import UnitOfWorkFactory

TENANT = "t-created"
ADA = Identity(TENANT, "29:ada", "Ada")
POLICY = QuotaPolicy(load_catalog(), (80, 90))

# app -> (its table's model, a create of one item giving (number, history shown))
Create = Callable[[UnitOfWorkFactory, FixedClock], Awaitable[tuple[int, tuple[HistoryEntry, ...]]]]


async def _ticket(
    units: UnitOfWorkFactory, clock: FixedClock
) -> tuple[int, tuple[HistoryEntry, ...]]:
    view = await tickets.create_ticket(units(TENANT), clock, POLICY, ADA, TicketDraft("Printer"))
    return view.ticket.number, view.ticket.history


async def _checklist(
    units: UnitOfWorkFactory, clock: FixedClock
) -> tuple[int, tuple[HistoryEntry, ...]]:
    draft = ChecklistDraft("Onboarding", (ItemSpec("Laptop"),))
    view = await checklists.start_checklist(units(TENANT), clock, POLICY, ADA, draft)
    return view.checklist.number, view.checklist.history


async def _opportunity(
    units: UnitOfWorkFactory, clock: FixedClock
) -> tuple[int, tuple[HistoryEntry, ...]]:
    view = await crm.create_opportunity(units(TENANT), clock, POLICY, ADA, OpportunityDraft("Deal"))
    return view.opportunity.number, view.opportunity.history


APPS: dict[App, tuple[type[TicketRow | ChecklistRow | OpportunityRow], Create, str]] = {
    App.TICKETS: (TicketRow, _ticket, "Printer"),
    App.CHECKLISTS: (ChecklistRow, _checklist, "Onboarding"),
    App.OPPORTUNITIES: (OpportunityRow, _opportunity, "Deal"),
}


async def _count(db: Database, model: type, **where: object) -> int:
    async with db.sessions() as session:
        statement = select(func.count()).select_from(model)
        for name, value in where.items():
            statement = statement.where(getattr(model, name) == value)
        return int((await session.execute(statement)).scalar_one())


@pytest.mark.parametrize("app", list(APPS), ids=[a.value for a in APPS])
async def test_a_new_item_has_one_created_line_with_its_id(
    any_db: Database, clock: FixedClock, app: App
) -> None:
    model, create, label = APPS[app]
    units = UnitOfWorkFactory(any_db)
    for made in range(1, 3):
        number, shown = await create(units, clock)
        async with any_db.sessions() as session:
            rows = (await session.execute(select(model).where(model.tenant_id == TENANT))).all()
            item = next(r[0] for r in rows if r[0].number == number)
            lines = (
                (
                    await session.execute(
                        select(ItemEventRow)
                        .where(ItemEventRow.tenant_id == TENANT)
                        .order_by(ItemEventRow.id)  # type: ignore[arg-type]
                    )
                )
                .scalars()
                .all()
            )
        assert len(rows) == made and item.id is not None
        mine = [line for line in lines if line.item_id == item.id]
        assert [(m.app, m.actor_id, m.actor_name, m.field, m.old, m.new) for m in mine] == [
            (app.value, ADA.user_id, ADA.name, "created", None, label)
        ]
        assert mine[0].created_at == clock.now()
        assert len(lines) == made  # no line of another item, none without one
        assert [(h.actor.id, h.field, h.old, h.new, h.at) for h in shown] == [
            (ADA.user_id, "created", None, label, clock.now())
        ]


async def test_the_count_gives_the_id_on_postgresql_and_writes_the_line_with_it(
    any_db: Database, clock: FixedClock
) -> None:
    """On PostgreSQL the count's statement takes the next id of the item's table and writes the
    line; on SQLite it takes none and writes no line (the create writes it after its insert)."""
    units = UnitOfWorkFactory(any_db)
    async with units(TENANT) as uow:
        actor = await resolve_actor(uow, clock, ADA)
        line = new_row(
            ItemEventRow,
            tenant_id=TENANT,
            app=App.TICKETS.value,
            actor_id=actor.user.id,
            actor_name=actor.user.name,
            field="created",
            old=None,
            new="Printer",
            created_at=clock.now(),
        )
        state, number, given = await subscriptions.consume_recorded(
            uow, clock, POLICY, None, "ticket", "tickets", line
        )
        assert (state.used, number) == (1, 1)
        await uow.commit()
    async with any_db.sessions() as session:
        lines = (await session.execute(select(ItemEventRow))).scalars().all()
    if any_db.engine.dialect.name == "postgresql":
        assert given is not None
        assert [(x.item_id, x.field, x.new) for x in lines] == [(given, "created", "Printer")]
        # The id came from the tickets' own sequence: a ticket inserted next gets the one after.
        number = (await _ticket(units, clock))[0]
        async with any_db.sessions() as session:
            stored = (await session.execute(select(TicketRow))).scalars().one()
        assert stored.number == number and stored.id == given + 1
    else:
        assert given is None and lines == []


async def test_a_create_that_fails_after_the_count_leaves_no_line_and_no_count(
    any_db: Database, clock: FixedClock
) -> None:
    """A checklist from a template that is gone is refused after the count (and on PostgreSQL
    after its history line was written): the unit's writes are undone, all of them."""
    units = UnitOfWorkFactory(any_db)
    await _ticket(units, clock)
    draft = ChecklistDraft("From a template", (), template=999)
    with pytest.raises(InvalidInput):
        await checklists.start_checklist(units(TENANT), clock, POLICY, ADA, draft)
    assert await _count(any_db, ChecklistRow) == 0
    assert await _count(any_db, ItemEventRow, app=App.CHECKLISTS.value) == 0
    assert await _count(any_db, ItemEventRow, app=App.TICKETS.value) == 1
    async with any_db.sessions() as session:
        usage = (await session.execute(select(QuotaUsageRow))).scalars().all()
    assert {u.app: u.used for u in usage if u.used} == {App.TICKETS.value: 1}


async def test_at_the_limit_nothing_is_written_not_even_the_line(
    any_db: Database, clock: FixedClock
) -> None:
    units = UnitOfWorkFactory(any_db)
    limit = POLICY.catalog.free.quotas[App.OPPORTUNITIES]
    for _ in range(limit):
        await _opportunity(units, clock)
    with pytest.raises(QuotaExceeded):
        await _opportunity(units, clock)
    assert await _count(any_db, OpportunityRow) == limit
    assert await _count(any_db, ItemEventRow) == limit
