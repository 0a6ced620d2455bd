"""Checklist queries, each scoped to the tenant of its unit of work."""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select

from bot.domain.checklists import ChecklistFilter, ChecklistStatus
from bot.domain.paging import PAGE_SIZE, clamp_page
from storage.models import ChecklistItemRow, ChecklistRow, ChecklistTemplateRow
from storage.repositories import Repository, involving, person_page
from storage.statements import Rows, Statement

OPEN = [ChecklistStatus.IN_PROGRESS.value, ChecklistStatus.RETURNED.value]


class ChecklistRepository(Repository):
    # -- templates -------------------------------------------------------------------------

    async def add_template(self, row: ChecklistTemplateRow) -> ChecklistTemplateRow:
        if row.tenant_id != self.tenant_id:
            raise ValueError("template of another tenant")
        session = await self.orm()
        session.add(row)
        await session.flush()
        return row

    async def template(
        self, number: int, *, for_update: bool = False
    ) -> ChecklistTemplateRow | None:
        stmt = select(ChecklistTemplateRow).where(
            ChecklistTemplateRow.tenant_id == self.tenant_id,
            ChecklistTemplateRow.number == number,
        )
        if for_update and self.dialect == "postgresql":
            stmt = stmt.with_for_update()
        return (await self.execute(stmt)).scalars().first()

    async def templates_named(self, text: str, *, limit: int = 10) -> list[ChecklistTemplateRow]:
        """Active templates whose title is `text` (any case), else those containing it."""
        base = select(ChecklistTemplateRow).where(
            ChecklistTemplateRow.tenant_id == self.tenant_id,
            col(ChecklistTemplateRow.archived).is_(False),
        )
        lowered = sa.func.lower(col(ChecklistTemplateRow.title))
        exact = (await self.execute(base.where(lowered == text.lower()))).scalars().all()
        if exact:
            return list(exact)
        pattern = "%" + text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = (
            base.where(lowered.like(pattern + "%", escape="\\"))
            .order_by(col(ChecklistTemplateRow.number))
            .limit(limit)
        )
        return list((await self.execute(stmt)).scalars())

    async def template_page(
        self, page: int, *, archived: bool = False
    ) -> tuple[list[ChecklistTemplateRow], int, int]:
        conditions: list[Any] = [
            ChecklistTemplateRow.tenant_id == self.tenant_id,
            col(ChecklistTemplateRow.archived).is_(archived),
        ]
        total = int(
            (
                await self.execute(
                    sa.select(sa.func.count()).select_from(ChecklistTemplateRow).where(*conditions)
                )
            ).scalar_one()
        )
        page = clamp_page(page, total)
        stmt = (
            select(ChecklistTemplateRow)
            .where(*conditions)
            .order_by(col(ChecklistTemplateRow.title), col(ChecklistTemplateRow.number))
            .offset(page * PAGE_SIZE)
            .limit(PAGE_SIZE)
        )
        return list((await self.execute(stmt)).scalars()), total, page

    async def all_templates(self, *, limit: int = 50) -> list[ChecklistTemplateRow]:
        stmt = (
            select(ChecklistTemplateRow)
            .where(
                ChecklistTemplateRow.tenant_id == self.tenant_id,
                col(ChecklistTemplateRow.archived).is_(False),
            )
            .order_by(col(ChecklistTemplateRow.title))
            .limit(limit)
        )
        return list((await self.execute(stmt)).scalars())

    # -- checklists ------------------------------------------------------------------------

    async def add(self, row: ChecklistRow) -> ChecklistRow:
        if row.tenant_id != self.tenant_id:
            raise ValueError("checklist of another tenant")
        session = await self.orm()
        session.add(row)
        await session.flush()
        return row

    async def add_items(self, rows: list[ChecklistItemRow]) -> None:
        if any(r.tenant_id != self.tenant_id for r in rows):
            raise ValueError("checklist item of another tenant")
        session = await self.orm()
        session.add_all(rows)
        await session.flush()

    async def save_item(self, row: ChecklistItemRow) -> None:
        if row.tenant_id != self.tenant_id:
            raise ValueError("checklist item of another tenant")
        session = await self.orm()
        session.add(row)
        await session.flush()

    async def get(self, number: int, *, for_update: bool = False) -> ChecklistRow | None:
        stmt = select(ChecklistRow).where(
            ChecklistRow.tenant_id == self.tenant_id, ChecklistRow.number == number
        )
        if for_update and self.dialect == "postgresql":
            stmt = stmt.with_for_update()
        return (await self.execute(stmt)).scalars().first()

    async def items(self, checklist_id: int) -> list[ChecklistItemRow]:
        stmt = (
            select(ChecklistItemRow)
            .where(
                ChecklistItemRow.tenant_id == self.tenant_id,
                ChecklistItemRow.checklist_id == checklist_id,
            )
            .order_by(col(ChecklistItemRow.position))
        )
        return list((await self.execute(stmt)).scalars())

    async def progress(self, checklist_ids: list[int]) -> dict[int, tuple[int, int]]:
        """(checked, total) per checklist, for a list."""
        if not checklist_ids:
            return {}
        checked = sa.func.sum(
            sa.case((col(ChecklistItemRow.checked_by_id).is_not(None), 1), else_=0)
        )
        stmt = (
            sa.select(col(ChecklistItemRow.checklist_id), checked, sa.func.count())
            .where(
                col(ChecklistItemRow.tenant_id) == self.tenant_id,
                col(ChecklistItemRow.checklist_id).in_(checklist_ids),
            )
            .group_by(col(ChecklistItemRow.checklist_id))
        )
        return {int(c): (int(d or 0), int(n)) for c, d, n in await self.execute(stmt)}

    async def page(
        self, flt: ChecklistFilter, user_id: str, *, sees_all: bool, today: date, page: int
    ) -> tuple[list[ChecklistRow], int, int]:
        """A page of checklists (the newest change first), the total, and the page shown (one
        past the end shows the last). A person's list reads their checklists from the indexes
        by starter, assignee and reviewer (`person_page`), not every checklist of the tenant."""
        count, rows = _checklist_page(flt, sees_all)
        db = await self.db()
        values = {"tenant_id": self.tenant_id, "user_id": user_id, "today": today}
        counted = await db.first(count, **values)
        total = int(counted[0]) if counted is not None else 0
        page = clamp_page(page, total)
        found = await db.rows(rows, **values, offset=page * PAGE_SIZE, limit=PAGE_SIZE)
        return [CHECKLISTS.row(r) for r in found], total, page

    async def due_for(self, user_id: str, day: date) -> list[ChecklistRow]:
        """Open checklists assigned to `user_id` that are due on `day` or before."""
        stmt = (
            select(ChecklistRow)
            .where(
                ChecklistRow.tenant_id == self.tenant_id,
                ChecklistRow.assignee_id == user_id,
                col(ChecklistRow.status).in_(OPEN),
                col(ChecklistRow.due) <= day,
            )
            .order_by(col(ChecklistRow.due), col(ChecklistRow.number))
            .limit(50)
        )
        return list((await self.execute(stmt)).scalars())


CHECKLISTS = Rows(ChecklistRow, "tenant_id", "number")
# (count, page) per filter and whether the user sees every checklist of the tenant.
_CHECKLIST_PAGES: dict[tuple[ChecklistFilter, bool], tuple[Statement, Statement]] = {}


def _checklist_page(flt: ChecklistFilter, sees_all: bool) -> tuple[Statement, Statement]:
    found = _CHECKLIST_PAGES.get((flt, sees_all))
    if found is None:
        found = _CHECKLIST_PAGES[(flt, sees_all)] = (
            Statement(lambda _d: _checklist_query(flt, sees_all, count=True)),
            Statement(lambda _d: _checklist_query(flt, sees_all, count=False)),
        )
    return found


def _checklist_query(flt: ChecklistFilter, sees_all: bool, *, count: bool) -> Any:
    table: Any = ChecklistRow.__table__  # type: ignore[attr-defined]
    user = sa.bindparam("user_id", type_=table.c.starter_id.type)
    tenant = table.c.tenant_id == sa.bindparam("tenant_id")
    # The roles in which the user's checklists are theirs; none: every one of the tenant.
    roles: tuple[Any, ...] = (
        () if sees_all else (table.c.starter_id, table.c.assignee_id, table.c.reviewer_id)
    )
    # One bind each (not an expanding IN), so that the statement compiles once.
    still_open = [
        sa.bindparam(f"open{i}", value=status, type_=table.c.status.type)
        for i, status in enumerate(OPEN)
    ]
    conditions: list[Any] = []
    if flt is ChecklistFilter.MINE:
        roles = (table.c.starter_id, table.c.assignee_id)
    elif flt is ChecklistFilter.ASSIGNED:
        roles = (table.c.assignee_id,)
    elif flt is ChecklistFilter.REVIEW:
        roles = (table.c.reviewer_id,)
        conditions.append(
            table.c.status
            == sa.bindparam(
                "submitted", value=ChecklistStatus.SUBMITTED.value, type_=table.c.status.type
            )
        )
    elif flt is ChecklistFilter.OPEN:
        conditions.append(table.c.status.in_(still_open))
    elif flt is ChecklistFilter.OVERDUE:
        today = sa.bindparam("today", type_=table.c.due.type)
        conditions += [table.c.status.in_(still_open), table.c.due < today]
    if count:
        mine = [involving(tenant, roles, user)] if roles else [tenant]
        return sa.select(sa.func.count()).select_from(table).where(*mine, *conditions)
    offset = sa.bindparam("offset", type_=sa.Integer())
    limit = sa.bindparam("limit", type_=sa.Integer())
    if roles:
        return person_page(table, roles, user, [tenant, *conditions], offset, limit)
    return (
        sa.select(*table.columns)
        .where(tenant, *conditions)
        .order_by(table.c.updated_at.desc(), table.c.number.desc())
        .offset(offset)
        .limit(limit)
    )
