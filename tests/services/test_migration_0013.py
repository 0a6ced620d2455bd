"""Migration 0013 adds the users' indexes and takes them away again, on a SQLite file and on
PostgreSQL; the users with a role, and a page of users by name, are read through them
(SQLite's plans)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from storage.db import Database
from storage.models import UserAccount
from storage.repositories import _with_roles
from storage.statements import new_row
from storage.uow import UnitOfWorkFactory
from tests.support.databases import database_url, migrated
from tests.support.migrations import (
    bare_db,
    index_names,
    migrate_to,
    query_plan,
    statements_with,
)

db = bare_db
INDEX = "ix_users_tenant_role_name"
BY_NAME = "ix_users_tenant_name"
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


async def test_the_users_indexes_come_and_go(db: Database) -> None:
    await migrate_to(db, "head")
    assert {INDEX, BY_NAME} <= await index_names(db, "users")
    await migrate_to(db, "0012", down=True)
    assert not {INDEX, BY_NAME} & await index_names(db, "users")
    await migrate_to(db, "head")
    assert {INDEX, BY_NAME} <= await index_names(db, "users")


async def test_the_users_with_a_role_are_read_through_the_index_not_every_user(
    db: Database,
) -> None:
    await migrate_to(db, "head")
    units = UnitOfWorkFactory(db)
    async with units("t1") as uow:
        await uow.tenants.ensure(NOW)
        for i in range(40):
            role = "admin" if i == 3 else "agent" if i < 3 else "member"  # by name, not role
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
        plan = await query_plan(db, sql, ("t1", "admin", "agent"))
        assert f"USING INDEX {INDEX} (tenant_id=? AND role=?)" in plan


async def test_a_page_of_users_by_name_is_read_through_the_index(tmp_path: Path) -> None:
    async with database_url("sqlite", tmp_path) as url, migrated(url) as db:
        with statements_with("FROM users", "ORDER BY users.name") as seen:
            async with UnitOfWorkFactory(db).reader("t1") as uow:
                assert await uow.users.everyone() == []
        [(sql, parameters)] = seen
        plan = await query_plan(db, sql, parameters)
        assert f"USING INDEX {BY_NAME} (tenant_id=?)" in plan
        assert "TEMP B-TREE" not in plan  # no sort of every user of the tenant
