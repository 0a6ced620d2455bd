"""Migration 0014 adds the tickets' index by status and takes it away again, on a SQLite file
and on PostgreSQL; the help desk's open and closed queues are counted through it (SQLite's
plan), and count what they should."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.domain.tickets import Status, TicketFilter
from storage.db import Database
from storage.repositories import _ticket_page
from storage.uow import UnitOfWorkFactory
from tests.support.migrations import bare_db, index_names, migrate_to, query_plan, ticket_row

db = bare_db
INDEX = "ix_tickets_tenant_status"
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


async def test_the_tickets_index_by_status_comes_and_goes(db: Database) -> None:
    await migrate_to(db, "head")
    assert INDEX in await index_names(db, "tickets")
    await migrate_to(db, "0013", down=True)
    assert INDEX not in await index_names(db, "tickets")
    await migrate_to(db, "head")
    assert INDEX in await index_names(db, "tickets")


async def test_the_help_desks_queues_are_counted_through_the_index(db: Database) -> None:
    """Every status twice, and one more closed: an agent's open queue holds the four open
    statuses' tickets, the closed one the resolved and closed ones, in every status order."""
    await migrate_to(db, "head")
    units = UnitOfWorkFactory(db)
    statuses = [*Status, *Status, Status.CLOSED]
    async with units("t1") as uow:
        await uow.tenants.ensure(NOW)
        for number, status in enumerate(statuses, start=1):
            at = NOW + timedelta(minutes=number)
            await uow.tickets.add(ticket_row(number, at, status))
        await uow.commit()
    async with units.reader("t1") as uow:
        open_rows, open_total, _ = await uow.tickets.page(
            TicketFilter.OPEN, "29:agent", sees_all=True, page=0
        )
        closed_rows, closed_total, _ = await uow.tickets.page(
            TicketFilter.CLOSED, "29:agent", sees_all=True, page=0
        )
    assert (open_total, closed_total) == (8, 5)
    assert {r.status for r in open_rows} == {s.value for s in Status if not s.is_closed}
    assert {r.status for r in closed_rows} == {"resolved", "closed"}
    if db.is_sqlite:
        for flt in (TicketFilter.OPEN, TicketFilter.CLOSED):
            count, _page, _first = _ticket_page(flt, True)
            prepared = count.prepared(db.engine.dialect)
            values = {"tenant_id": "t1", "user_id": "29:agent"}
            params = tuple(values.get(name, default) for name, default, _ in prepared.plan)
            plan = await query_plan(db, prepared.sql, params)
            assert f"USING COVERING INDEX {INDEX} (tenant_id=? AND status=?)" in plan, plan
