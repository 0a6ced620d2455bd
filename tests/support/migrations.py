"""Migration tests: an unmigrated database of each kind, and moving it to a revision."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy.engine import Connection

from storage.db import Database
from storage.migrate import alembic_config
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
