"""Migration 0016 makes the handled activity ids one b-tree on SQLite (WITHOUT ROWID) and takes
that back again, keeping every claim: a redelivery after either way is still refused. On
PostgreSQL it changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.domain.clock import FixedClock
from bot.services.conversations import claim_activity
from storage.db import Database
from storage.uow import UnitOfWorkFactory
from tests.support.migrations import bare_db, migrate_to

db = bare_db
NOW = datetime(2026, 12, 3, 7, 0, tzinfo=UTC)


async def _without_rowid(db: Database) -> bool:
    """Whether the table is its primary key's b-tree, with no index of its own beside it."""
    async with db.engine.connect() as connection:
        rows = (
            await connection.exec_driver_sql(
                "SELECT name, sql FROM sqlite_schema WHERE tbl_name = 'processed_activities'"
            )
        ).all()
    one = [str(name) for name, _sql in rows] == ["processed_activities"]
    assert one == ("WITHOUT ROWID" in str(rows[0][1]).upper()), rows
    return one


async def _claims(db: Database, *activity_ids: str) -> list[bool]:
    units = UnitOfWorkFactory(db)
    clock = FixedClock(NOW)
    return [await claim_activity(units("t1"), clock, a) for a in activity_ids]


async def test_the_claims_survive_the_migration_both_ways(db: Database) -> None:
    await migrate_to(db, "0015")
    assert await _claims(db, "a1", "a2") == [True, True]
    if db.is_sqlite:
        assert not await _without_rowid(db)

    await migrate_to(db, "head")
    if db.is_sqlite:
        assert await _without_rowid(db)
    assert await _claims(db, "a1", "a2", "a3", "a3") == [False, False, True, False]

    await migrate_to(db, "0015", down=True)
    if db.is_sqlite:
        assert not await _without_rowid(db)
    assert await _claims(db, "a1", "a3", "a4") == [False, False, True]
