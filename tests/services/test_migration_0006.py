"""Migration 0006 moves ticket comments and history into the tables every app shares, keeping
ids, authors and times, and the ids go on from there; downgrading moves them back. On a SQLite
file and on PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import Connection

from storage.db import Database
from storage.migrate import alembic_config
from tests.support.databases import database_url

AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    async with database_url(request.param, tmp_path) as url:
        database = Database(url)
        try:
            yield database
        finally:
            await database.dispose()


async def _to(db: Database, revision: str, *, down: bool = False) -> None:
    def run(connection: Connection) -> None:
        (command.downgrade if down else command.upgrade)(alembic_config(connection), revision)

    async with db.engine.begin() as connection:
        await connection.run_sync(run)


async def _rows(db: Database, sql: str) -> list[tuple[object, ...]]:
    async with db.engine.connect() as conn:
        return [tuple(r) for r in await conn.execute(sa.text(sql))]


async def test_ticket_comments_and_history_move_to_the_shared_item_tables(db: Database) -> None:
    await _to(db, "0005")
    async with db.engine.begin() as conn:
        await conn.execute(
            sa.text(
                "INSERT INTO tickets (id, tenant_id, number, title, description, priority,"
                " category, status, requester_id, requester_name, created_at, updated_at)"
                " VALUES (7, 't', 1, 'Printer', '', 'normal', '', 'new', '29:a', 'Ada', :at, :at)"
            ),
            {"at": AT},
        )
        await conn.execute(
            sa.text(
                "INSERT INTO ticket_comments (id, tenant_id, ticket_id, author_id, author_name,"
                " text, created_at) VALUES (3, 't', 7, '29:a', 'Ada', 'Tray 2', :at)"
            ),
            {"at": AT},
        )
        await conn.execute(
            sa.text(
                "INSERT INTO ticket_events (id, tenant_id, ticket_id, actor_id, actor_name, field,"
                " old, new, created_at) VALUES (5, 't', 7, '29:a', 'Ada', 'created', NULL,"
                " 'Printer', :at)"
            ),
            {"at": AT},
        )

    await _to(db, "0006")
    assert await _rows(
        db, "SELECT id, tenant_id, app, item_id, author_name, text FROM item_comments"
    ) == [(3, "t", "tickets", 7, "Ada", "Tray 2")]
    assert await _rows(db, "SELECT id, tenant_id, app, item_id, field, new FROM item_events") == [
        (5, "t", "tickets", 7, "created", "Printer")
    ]
    # New rows get ids past the copied ones.
    async with db.engine.begin() as conn:
        await conn.execute(
            sa.text(
                "INSERT INTO item_comments (tenant_id, app, item_id, author_id, author_name, text,"
                " created_at) VALUES ('t', 'tickets', 7, '29:a', 'Ada', 'Again', :at)"
            ),
            {"at": AT},
        )
    assert [r[0] for r in await _rows(db, "SELECT id FROM item_comments ORDER BY id")] == [3, 4]

    await _to(db, "0005", down=True)
    assert await _rows(db, "SELECT id, ticket_id, text FROM ticket_comments ORDER BY id") == [
        (3, 7, "Tray 2"),
        (4, 7, "Again"),
    ]
    assert await _rows(db, "SELECT id, ticket_id, field FROM ticket_events") == [(5, 7, "created")]
