"""Migration 0010 adds the CRM tables (and their list indexes) and takes them away again, on a
SQLite file and on PostgreSQL; the amount column is NUMERIC(14, 2)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from storage.db import Database
from tests.support.migrations import bare_db, migrate_to

CRM_TABLES = {"crm_accounts", "crm_contacts", "crm_opportunities"}


db = bare_db


def _schema(connection: Connection) -> dict[str, object]:
    inspector = sa.inspect(connection)
    tables = set(inspector.get_table_names())
    found: dict[str, object] = {"tables": tables & CRM_TABLES}
    if "crm_opportunities" in tables:
        amount = next(
            c for c in inspector.get_columns("crm_opportunities") if c["name"] == "amount"
        )
        found["amount"] = (amount["type"].precision, amount["type"].scale)  # type: ignore[attr-defined]
        found["indexes"] = {i["name"] for i in inspector.get_indexes("crm_opportunities")}
    return found


async def _inspect(db: Database) -> dict[str, object]:
    async with db.engine.connect() as connection:
        return await connection.run_sync(_schema)


async def test_the_crm_tables_come_and_go(db: Database) -> None:
    await migrate_to(db, "head")
    schema = await _inspect(db)
    assert schema["tables"] == CRM_TABLES
    assert schema["amount"] == (14, 2)
    assert {"ix_crm_opportunities_tenant_owner", "ix_crm_opportunities_tenant_stage"} <= set(
        schema["indexes"]  # type: ignore[call-overload]
    )
    await migrate_to(db, "0009", down=True)
    assert (await _inspect(db))["tables"] == set()
    await migrate_to(db, "head")
    assert (await _inspect(db))["tables"] == CRM_TABLES
