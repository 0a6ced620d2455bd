"""Migration 0007 rereads the stored plan history: a segment closed by a change during a day
was in force that day too, so its exclusive end moves to the day after; downgrading restores it.
On a SQLite file and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime

import sqlalchemy as sa

from storage.db import Database
from tests.support.billing_db import _as_date
from tests.support.migrations import bare_db, migrate_to

db = bare_db


async def _ends(db: Database) -> list[tuple[str, date | None]]:
    async with db.engine.connect() as conn:
        rows = await conn.execute(sa.text('SELECT plan_id, "end" FROM plan_segments ORDER BY id'))
        return [(str(p), _as_date(e) if e is not None else None) for p, e in rows]


async def test_closed_segments_end_the_day_after_their_change(db: Database) -> None:
    await migrate_to(db, "0006")
    async with db.writers.begin() as conn:
        for plan, start, end in (
            ("free", "2026-11-02", "2026-11-12"),
            ("standard", "2026-11-12", "2026-11-20"),
            ("premium", "2026-11-20", None),
        ):
            await conn.execute(
                sa.text(
                    'INSERT INTO plan_segments (tenant_id, plan_id, start, "end", anchor, term, '
                    "created_at) VALUES ('t', :p, :s, :e, '2026-11-02', 'monthly', :c)"
                ),
                {
                    "p": plan,
                    "s": date.fromisoformat(start),
                    "e": date.fromisoformat(end) if end else None,
                    "c": datetime(2026, 11, 2, 9, 0, tzinfo=UTC),
                },
            )

    await migrate_to(db, "head")
    assert await _ends(db) == [
        ("free", date(2026, 11, 13)),
        ("standard", date(2026, 11, 21)),
        ("premium", None),
    ]
    await migrate_to(db, "0006", down=True)
    assert await _ends(db) == [
        ("free", date(2026, 11, 12)),
        ("standard", date(2026, 11, 20)),
        ("premium", None),
    ]
