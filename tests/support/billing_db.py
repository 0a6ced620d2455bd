"""Reading what the database holds for a tenant, straight from the tables, so that tests check
the stored truth (tickets, quota usage, refunds) rather than what a service says about it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from storage.db import Database


@dataclass(frozen=True)
class UsageRow:
    app: str
    period_start: date
    used: int
    limit: int


async def ticket_numbers(db: Database, tenant_id: str) -> list[int]:
    """The numbers of the tenant's tickets, ascending."""
    async with db.engine.connect() as conn:
        result = await conn.execute(
            sa.text("SELECT number FROM tickets WHERE tenant_id = :t ORDER BY number"),
            {"t": tenant_id},
        )
        return [int(row[0]) for row in result]


async def ticket_titles(db: Database, tenant_id: str) -> list[str]:
    async with db.engine.connect() as conn:
        result = await conn.execute(
            sa.text("SELECT title FROM tickets WHERE tenant_id = :t ORDER BY number"),
            {"t": tenant_id},
        )
        return [str(row[0]) for row in result]


async def usage_rows(db: Database, tenant_id: str) -> list[UsageRow]:
    """Every quota usage row of the tenant, oldest period first."""
    async with db.engine.connect() as conn:
        result = await conn.execute(
            sa.text(
                "SELECT app, period_start, used, quota_limit FROM quota_usage "
                "WHERE tenant_id = :t ORDER BY period_start, app"
            ),
            {"t": tenant_id},
        )
        return [
            UsageRow(str(app), _as_date(start), int(used), int(limit))
            for app, start, used, limit in result
        ]


async def usage_row(db: Database, tenant_id: str, app: str, period_start: date) -> UsageRow | None:
    for row in await usage_rows(db, tenant_id):
        if row.app == app and row.period_start == period_start:
            return row
    return None


async def refund_amounts(db: Database, tenant_id: str) -> list[Decimal]:
    async with db.engine.connect() as conn:
        result = await conn.execute(
            sa.text("SELECT amount FROM refunds WHERE tenant_id = :t ORDER BY id"),
            {"t": tenant_id},
        )
        return [Decimal(str(row[0])).quantize(Decimal("0.01")) for row in result]


def _as_date(value: object) -> date:
    # SQLite hands a DATE column back as text through a raw query.
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))
