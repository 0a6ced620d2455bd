"""Migration 0018 adds the checklists' indexes by starter, assignee and reviewer and takes them
away again, on a SQLite file and on PostgreSQL; a person's list is read through them (SQLite's
plans: one walk of each, no walk of the tenant's checklists), and holds the person's."""

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
INDEXES = {f"ix_checklists_tenant_{role}_updated" for role in ("starter", "assignee", "reviewer")}
NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
TODAY = NOW.date()


async def test_the_checklists_indexes_by_role_come_and_go(db: Database) -> None:
    await migrate_to(db, "head")
    assert await index_names(db, "checklists") >= INDEXES
    await migrate_to(db, "0017", down=True)
    assert not INDEXES & await index_names(db, "checklists")
    await migrate_to(db, "head")
    assert await index_names(db, "checklists") >= INDEXES


async def test_a_person_s_checklists_are_read_through_the_indexes_by_role(db: Database) -> None:
    """Of 60 checklists of the tenant, the member started 2, works on 2 and reviews 2: their
    list is those 6; counted and paged from the three indexes."""
    await migrate_to(db, "head")
    units = UnitOfWorkFactory(db)
    roles = {1: "starter_id", 2: "starter_id", 3: "assignee_id", 4: "assignee_id"}
    roles |= {5: "reviewer_id", 6: "reviewer_id"}
    async with units("t1") as uow:
        await uow.tenants.ensure(NOW)
        session = await uow.orm()
        for n in range(1, 61):
            people = {"starter_id": "29:lead", "assignee_id": "29:other", "reviewer_id": None}
            if n in roles:
                people[roles[n]] = "29:member"
            session.add(
                ChecklistRow(
                    tenant_id="t1",
                    number=n,
                    title=f"Daily {n}",
                    status=ChecklistStatus.IN_PROGRESS.value,
                    created_at=NOW,
                    updated_at=NOW + timedelta(minutes=n),
                    **people,
                )
            )
        await uow.commit()
    async with units.reader("t1") as uow:
        rows, total, _page = await uow.checklists.page(
            ChecklistFilter.ALL, "29:member", sees_all=False, today=TODAY, page=0
        )
    assert ([r.number for r in rows], total) == ([6, 5, 4, 3, 2, 1], 6)
    if db.is_sqlite:
        values = {"tenant_id": "t1", "user_id": "29:member", "offset": 0, "limit": 10}
        count, page = _checklist_page(ChecklistFilter.ALL, False)
        plans = []
        for statement in (count, page):
            prepared = statement.prepared(db.engine.dialect)
            plans.append(await query_plan(db, prepared.sql, _params(prepared, values)))
        counted, paged = plans
        assert "MULTI-INDEX OR" in counted and "SCAN" not in counted, counted
        for index in INDEXES:
            role = index.split("_")[3]
            assert f"INDEX {index} (tenant_id=? AND {role}_id=?)" in paged, paged
        assert "ix_checklists_tenant_updated" not in paged, paged
