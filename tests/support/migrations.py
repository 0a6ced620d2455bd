"""Migration tests: an unmigrated database of each kind, and moving it to a revision."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from bot.domain.tickets import Status
from storage.db import Database
from storage.migrate import alembic_config
from storage.models import TicketRow
from storage.statements import new_row
from tests.support.databases import database_url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def bare_db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A SQLite file or a fresh PostgreSQL database with no migration applied yet."""
    async with database_url(request.param, tmp_path) as url:
        database = Database(url)
        try:
            yield database
        finally:
            await database.dispose()


async def migrate_to(db: Database, revision: str, *, down: bool = False) -> None:
    def run(connection: Connection) -> None:
        (command.downgrade if down else command.upgrade)(alembic_config(connection), revision)

    async with db.writers.begin() as connection:
        await connection.run_sync(run)


async def index_names(db: Database, table: str) -> set[str]:
    """The names of the indexes `table` has now."""

    def read(connection: Connection) -> set[str]:
        return {str(i["name"]) for i in sa.inspect(connection).get_indexes(table)}

    async with db.engine.connect() as connection:
        return await connection.run_sync(read)


async def query_plan(db: Database, sql: str, parameters: Sequence[Any]) -> str:
    """SQLite's plan of `sql` with `parameters`, its steps in one line."""
    async with db.engine.connect() as connection:
        rows = await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", tuple(parameters))
        return " ".join(str(row[-1]) for row in rows)


async def index_definition(db: Database, name: str) -> str:
    """The CREATE INDEX of index `name` as the database keeps it (SQLite's schema table,
    PostgreSQL's pg_indexes)."""
    sql = (
        "SELECT sql FROM sqlite_schema WHERE type = 'index' AND name = ?"
        if db.is_sqlite
        else "SELECT indexdef FROM pg_indexes WHERE indexname = $1"
    )
    async with db.engine.connect() as connection:
        found = (await connection.exec_driver_sql(sql, (name,))).scalar_one()
    return str(found)


def ticket_row(number: int, at: datetime, status: Status, **fields: Any) -> TicketRow:
    """Ticket `number` of tenant "t1" as the migration tests store it: a member's, created and
    changed at `at`, in `status`; `fields` set the rest (an assignee, a due date)."""
    values: dict[str, Any] = {
        "tenant_id": "t1",
        "number": number,
        "title": f"Ticket {number}",
        "description": "",
        "priority": "normal",
        "category": "",
        "status": status.value,
        "requester_id": "29:member",
        "requester_name": "Member",
        "created_at": at,
        "updated_at": at,
    }
    return new_row(TicketRow, **{**values, **fields})


@contextmanager
def statements_with(*fragments: str) -> Iterator[list[tuple[str, Any]]]:
    """The statements (SQL, parameters) run through SQLAlchemy inside, on every engine (the ORM
    session of a unit runs on an engine of its connection), that contain all `fragments`."""
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if all(fragment in statement for fragment in fragments):
            seen.append((statement, parameters))

    event.listen(Engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", record)
