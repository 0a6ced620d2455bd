"""Migration 0015 adds the checklists' index by status and due date and takes it away again,
on a SQLite file and on PostgreSQL; the open and overdue queues are counted through it (SQLite's
plans), and they and the review queue count what they should."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.domain.checklists import ChecklistFilter, ChecklistStatus
from storage.checklists import _checklist_page
from storage.db import Database
from storage.models import ChecklistRow
from storage.statements import _params
from storage.uow import UnitOfWorkFactory
from tests.support.migrations import bare_db, index_names, migrate_to, query_plan

db = bare_db
INDEX = "ix_checklists_tenant_status_due"
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
TODAY = NOW.date()


async def test_the_checklists_index_by_status_comes_and_goes(db: Database) -> None:
    await migrate_to(db, "head")
    assert INDEX in await index_names(db, "checklists")
    await migrate_to(db, "0014", down=True)
    assert INDEX not in await index_names(db, "checklists")
    await migrate_to(db, "head")
    assert INDEX in await index_names(db, "checklists")


async def test_the_checklist_queues_are_counted_through_the_index(db: Database) -> None:
    """Every status, due yesterday and tomorrow, reviewed by the lead: an admin's open queue
    holds the in-progress and returned ones, the overdue queue those of them due yesterday,
    the lead's review queue the submitted ones."""
    await migrate_to(db, "head")
    units = UnitOfWorkFactory(db)
    async with units("t1") as uow:
        await uow.tenants.ensure(NOW)
        session = await uow.orm()
        number = 0
        for status in ChecklistStatus:
            for due in (TODAY - timedelta(days=1), TODAY + timedelta(days=1)):
                number += 1
                session.add(
                    ChecklistRow(
                        tenant_id="t1",
                        number=number,
                        title=f"Daily {number}",
                        status=status.value,
                        starter_id="29:member",
                        assignee_id="29:member",
                        reviewer_id="29:lead",
                        due=due,
                        created_at=NOW,
                        updated_at=NOW + timedelta(minutes=number),
                    )
                )
        await uow.commit()
    totals: dict[ChecklistFilter, int] = {}
    queues = (
        (ChecklistFilter.OPEN, "29:admin"),
        (ChecklistFilter.OVERDUE, "29:admin"),
        (ChecklistFilter.REVIEW, "29:lead"),
    )
    for flt, user in queues:
        async with units.reader("t1") as uow:
            _rows, totals[flt], _page = await uow.checklists.page(
                flt, user, sees_all=True, today=TODAY, page=0
            )
    open_, overdue, review = ChecklistFilter.OPEN, ChecklistFilter.OVERDUE, ChecklistFilter.REVIEW
    assert totals == {open_: 4, overdue: 2, review: 2}
    if db.is_sqlite:
        for flt, user in queues[:2]:
            count, _page = _checklist_page(flt, True)
            prepared = count.prepared(db.engine.dialect)
            values = {"tenant_id": "t1", "user_id": user, "today": TODAY}
            plan = await query_plan(db, prepared.sql, _params(prepared, values))
            assert f"INDEX {INDEX} (tenant_id=? AND status=?" in plan, plan
