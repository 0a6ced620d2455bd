"""Migration 0017 makes the tickets' index by assignee and due date hold only the tickets with a
due date, and takes that back again, on a SQLite file and on PostgreSQL; a person's due tickets
(the reminders) are still read through it (SQLite's plan), and are the right ones."""

from __future__ import annotations

from datetime import UTC, date, datetime

from bot.domain.tickets import Status
from storage.db import Database
from storage.uow import UnitOfWorkFactory
from tests.support.migrations import (
    bare_db,
    index_definition,
    migrate_to,
    query_plan,
    statements_with,
    ticket_row,
)

db = bare_db
INDEX = "ix_tickets_tenant_assignee_due"
NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
TODAY = NOW.date()


def _partial(definition: str) -> bool:
    # SQLite keeps the statement as written; PostgreSQL writes "WHERE (due IS NOT NULL)".
    return "WHERE" in definition.upper() and "due IS NOT NULL" in definition


async def test_the_index_holds_only_dated_tickets_and_back(db: Database) -> None:
    await migrate_to(db, "head")
    assert _partial(await index_definition(db, INDEX))
    await migrate_to(db, "0016", down=True)
    assert not _partial(await index_definition(db, INDEX))
    await migrate_to(db, "head")
    assert _partial(await index_definition(db, INDEX))


async def test_a_persons_due_tickets_are_read_through_the_index(db: Database) -> None:
    await migrate_to(db, "head")
    units = UnitOfWorkFactory(db)
    tickets = [  # number, assignee, due, status
        (1, "29:agent", date(2026, 12, 3), Status.IN_PROGRESS),
        (2, "29:agent", date(2026, 12, 1), Status.NEW),
        (3, "29:agent", date(2026, 12, 4), Status.NEW),  # not due yet
        (4, "29:agent", None, Status.NEW),  # no due date
        (5, "29:agent", date(2026, 11, 30), Status.CLOSED),
        (6, "29:other", date(2026, 12, 1), Status.NEW),
        (7, None, None, Status.NEW),  # a new ticket
    ]
    async with units("t1") as uow:
        await uow.tenants.ensure(NOW)
        for number, assignee, due_on, status in tickets:
            row = ticket_row(
                number, NOW, status, assignee_id=assignee, assignee_name=assignee, due=due_on
            )
            await uow.tickets.add(row)
        await uow.commit()

    with statements_with("FROM tickets", "ORDER BY tickets.due") as seen:
        async with units.reader("t1") as uow:
            due = await uow.tickets.due_for("29:agent", TODAY)
    assert [t.number for t in due] == [2, 1]
    if db.is_sqlite:
        [(sql, parameters)] = seen
        plan = await query_plan(db, sql, parameters)
        assert f"USING INDEX {INDEX} (tenant_id=? AND assignee_id=? AND due<?)" in plan, plan
