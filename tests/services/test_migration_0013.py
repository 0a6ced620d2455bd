"""Migration 0013 adds the index of the users with a role and takes it away again, on a SQLite
file and on PostgreSQL; the users with a role are read through it (SQLite's plan)."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from storage.db import Database
from storage.models import UserAccount
from storage.repositories import _with_roles
from storage.statements import new_row
from storage.uow import UnitOfWorkFactory
from tests.support.migrations import bare_db, migrate_to

db = bare_db
INDEX = "ix_users_tenant_role_name"
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


async def _indexes(db: Database) -> set[str]:
    def read(connection: Connection) -> set[str]:
        return {str(i["name"]) for i in sa.inspect(connection).get_indexes("users")}

    async with db.engine.connect() as connection:
        return await connection.run_sync(read)


async def test_the_index_of_the_users_with_a_role_comes_and_goes(db: Database) -> None:
    await migrate_to(db, "head")
    assert INDEX in await _indexes(db)
    await migrate_to(db, "0012", down=True)
    assert INDEX not in await _indexes(db)
    await migrate_to(db, "head")
    assert INDEX in await _indexes(db)


async def test_the_users_with_a_role_are_read_through_the_index_not_every_user(
    db: Database,
) -> None:
    await migrate_to(db, "head")
    units = UnitOfWorkFactory(db)
    async with units("t1") as uow:
        await uow.tenants.ensure(NOW)
        for i in range(40):
            role = "admin" if i == 0 else "agent" if i < 4 else "member"
            await uow.users.add_if_absent(
                new_row(
                    UserAccount,
                    tenant_id="t1",
                    id=f"29:u{i:02}",
                    name=f"User {i:02}",
                    role=role,
                    created_at=NOW,
                )
            )
        await uow.commit()
    async with units.reader("t1") as uow:
        found = await uow.users.with_roles(["agent", "admin"])
    assert [u.id for u in found] == ["29:u00", "29:u01", "29:u02", "29:u03"]
    if db.is_sqlite:
        sql = _with_roles(2).prepared(db.engine.dialect).sql
        async with db.engine.connect() as connection:
            plan = " ".join(
                str(row[-1])
                for row in await connection.exec_driver_sql(
                    f"EXPLAIN QUERY PLAN {sql}", ("t1", "admin", "agent")
                )
            )
        assert f"USING INDEX {INDEX} (tenant_id=? AND role=?)" in plan
