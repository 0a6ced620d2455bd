"""Migration 0006 moves ticket comments and history into the tables every app shares, keeping
ids, authors and times, and the ids go on from there; downgrading moves them back. On a SQLite
file and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from storage.db import Database
from tests.support.migrations import bare_db, migrate_to

AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


db = bare_db


async def _rows(db: Database, sql: str) -> list[tuple[object, ...]]:
    async with db.engine.connect() as conn:
        return [tuple(r) for r in await conn.execute(sa.text(sql))]


async def test_ticket_comments_and_history_move_to_the_shared_item_tables(db: Database) -> None:
    await migrate_to(db, "0005")
    async with db.writers.begin() as conn:
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

    await migrate_to(db, "0006")
    assert await _rows(
        db, "SELECT id, tenant_id, app, item_id, author_name, text FROM item_comments"
    ) == [(3, "t", "tickets", 7, "Ada", "Tray 2")]
    assert await _rows(db, "SELECT id, tenant_id, app, item_id, field, new FROM item_events") == [
        (5, "t", "tickets", 7, "created", "Printer")
    ]
    # New rows get ids past the copied ones.
    async with db.writers.begin() as conn:
        await conn.execute(
            sa.text(
                "INSERT INTO item_comments (tenant_id, app, item_id, author_id, author_name, text,"
                " created_at) VALUES ('t', 'tickets', 7, '29:a', 'Ada', 'Again', :at)"
            ),
            {"at": AT},
        )
    assert [r[0] for r in await _rows(db, "SELECT id FROM item_comments ORDER BY id")] == [3, 4]

    await migrate_to(db, "0005", down=True)
    assert await _rows(db, "SELECT id, ticket_id, text FROM ticket_comments ORDER BY id") == [
        (3, 7, "Tray 2"),
        (4, 7, "Again"),
    ]
    assert await _rows(db, "SELECT id, ticket_id, field FROM ticket_events") == [(5, 7, "created")]
