from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.domain.clock import FixedClock
from storage.db import Database
from storage.uow import UnitOfWorkFactory
from tests.support.databases import database_url, migrated
from tests.support.schemas import NOT_RUN

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
async def memory_db() -> AsyncIterator[Database]:
    """In-memory SQLite with the real migrations: the service tests' database."""
    async with migrated("sqlite+aiosqlite://") as db:
        yield db


@pytest.fixture
def uow(memory_db: Database) -> UnitOfWorkFactory:
    return UnitOfWorkFactory(memory_db)


@pytest.fixture(
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
async def any_db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """The same test on a SQLite file and on PostgreSQL (skipped without TEST_POSTGRES_URL)."""
    async with database_url(request.param, tmp_path) as url, migrated(url) as db:
        yield db


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Every schema check that could not run, in the closing summary (not only under -rs)."""
    if NOT_RUN:
        terminalreporter.section("schema checks that did not run", sep="=", yellow=True)
        for line in dict.fromkeys(NOT_RUN):
            terminalreporter.line(f"NOT CHECKED  {line}", yellow=True)
