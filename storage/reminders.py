"""Reminders: who has something due across every tenant (the daily pass starts there), and the
record that a person's digest of a day was sent."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import col, select

from bot.domain.checklists import ChecklistStatus
from bot.domain.tickets import Status
from storage.db import Database
from storage.models import ChecklistRow, ReminderRow, TicketRow
from storage.repositories import Repository

CLOSED_TICKETS = [Status.RESOLVED.value, Status.CLOSED.value]
OPEN_CHECKLISTS = [ChecklistStatus.IN_PROGRESS.value, ChecklistStatus.RETURNED.value]


class ReminderRepository(Repository):
    async def record(self, user_id: str, day: date, now: datetime) -> bool:
        """True only for the first caller of the day for this person (one digest a day, with
        several bot processes too)."""
        stmt = (
            self.insert(ReminderRow)
            .values(tenant_id=self.tenant_id, user_id=user_id, day=day, created_at=now)
            .on_conflict_do_nothing(index_elements=["tenant_id", "user_id", "day"])
        )
        result = await self.execute(stmt)
        return bool(result.rowcount)  # type: ignore[attr-defined]


async def people_with_due_items(db: Database, day: date) -> list[tuple[str, str]]:
    """(tenant, user) of everyone with an open ticket or checklist assigned and due on `day` or
    before, in every tenant: the only query of the daily pass that spans tenants; each
    person's digest is then built inside their own tenant's unit of work."""
    tickets = select(col(TicketRow.tenant_id), col(TicketRow.assignee_id)).where(
        col(TicketRow.assignee_id).is_not(None),
        col(TicketRow.due) <= day,
        col(TicketRow.status).not_in(CLOSED_TICKETS),
    )
    checklists = select(col(ChecklistRow.tenant_id), col(ChecklistRow.assignee_id)).where(
        col(ChecklistRow.assignee_id).is_not(None),
        col(ChecklistRow.due) <= day,
        col(ChecklistRow.status).in_(OPEN_CHECKLISTS),
    )
    stmt = sa.union(tickets, checklists)
    async with db.engine.connect() as conn:
        rows = await conn.execute(stmt)
        return sorted((str(t), str(u)) for t, u in rows)
