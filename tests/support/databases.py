"""Test databases: a SQLite file per test, or a fresh PostgreSQL database per test."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from storage.db import Database, normalize_url
from storage.migrate import migrate

POSTGRES_ENV = "TEST_POSTGRES_URL"


def postgres_url() -> str | None:
    return os.environ.get(POSTGRES_ENV) or None


def skip_without_postgres() -> None:
    if postgres_url() is None:
        pytest.skip(f"set {POSTGRES_ENV} (e.g. postgresql://postgres@127.0.0.1:5432/test)")


@asynccontextmanager
async def postgres_database() -> AsyncIterator[str]:
    """A new, empty database on the server named by TEST_POSTGRES_URL; dropped afterwards."""
    url = make_url(normalize_url(postgres_url() or ""))
    name = f"tw_test_{uuid.uuid4().hex[:12]}"
    admin_dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        conn = await asyncpg.connect(admin_dsn)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


@asynccontextmanager
async def database_url(kind: str, tmp_path: Path) -> AsyncIterator[str]:
    if kind == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'teamswork.db'}"
    elif kind == "memory":
        yield "sqlite+aiosqlite://"
    else:
        skip_without_postgres()
        async with postgres_database() as url:
            yield url


@asynccontextmanager
async def migrated(url: str, **options: int) -> AsyncIterator[Database]:
    db = Database(url, **options)
    try:
        await migrate(db)
        yield db
    finally:
        await db.dispose()
