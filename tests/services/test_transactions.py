"""A unit of work's transaction (storage/transactions.py): its statements and its ORM session,
made only when a repository asks for it, are one transaction on every database; on SQLite a
unit that needs no ORM runs no SQL through SQLAlchemy at all."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import select

from storage.db import Database
from storage.models import OutboxRow, TicketRow, UserAccount
from storage.outbox import OutboxStore
from storage.statements import Statement
from storage.transactions import PgConnections, PgTransaction, SqliteConnections, configure
from storage.uow import UnitOfWorkFactory
from tests.support.databases import database_url, migrated

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "memory", pytest.param("postgres", marks=pytest.mark.postgres)])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    async with database_url(request.param, tmp_path) as url, migrated(url) as database:
        yield database


@pytest.fixture(params=["sqlite", "memory"])
async def sqlite_db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    async with database_url(request.param, tmp_path) as url, migrated(url) as database:
        yield database


def ticket(number: int) -> TicketRow:
    return TicketRow(
        tenant_id="t1",
        number=number,
        title=f"Ticket {number}",
        priority="normal",
        status="open",
        requester_id="29:u",
        requester_name="Ann",
        created_at=NOW,
        updated_at=NOW,
    )


def user(user_id: str) -> UserAccount:
    return UserAccount(tenant_id="t1", id=user_id, name="B", role="member", created_at=NOW)


@contextmanager
def sqlalchemy_statements() -> Iterator[list[str]]:
    """Every statement any SQLAlchemy engine of the process runs meanwhile."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", record)


async def stored(db: Database) -> tuple[list[int], list[str]]:
    async with db.sessions() as session:
        numbers = (await session.execute(select(TicketRow.number))).scalars().all()
        users = (await session.execute(select(UserAccount.id))).scalars().all()
    return sorted(numbers), sorted(users)


async def test_a_unit_that_needs_no_orm_runs_no_sqlalchemy_statement(sqlite_db: Database) -> None:
    units = UnitOfWorkFactory(sqlite_db)
    with sqlalchemy_statements() as seen:
        async with units("t1") as uow:
            await uow.tenants.ensure(NOW)
            assert await uow.activities.claim("activity-1", NOW)
            await uow.tickets.add(ticket(1))
            assert uow.tx.session is None
            await uow.commit()
        async with units.reader("t1") as uow:
            found = await uow.tickets.get(1)
    assert seen == []
    assert found is not None and found.title == "Ticket 1"
    assert await stored(sqlite_db) == ([1], [])


async def test_statements_and_orm_writes_of_a_unit_commit_together(db: Database) -> None:
    units = UnitOfWorkFactory(db)
    async with units("t1") as uow:
        await uow.tenants.ensure(NOW)
        await uow.commit()
    async with units("t1") as uow:
        await uow.tickets.add(ticket(1))
        session = await uow.orm()
        session.add(user("29:b"))
        await session.flush()
        # Each sees what the other wrote, in the same transaction.
        assert await uow.users.get("29:b") is not None
        assert [t.number for t in (await session.execute(select(TicketRow))).scalars()] == [1]
        await uow.commit()
    assert await stored(db) == ([1], ["29:b"])


async def test_a_unit_left_without_commit_keeps_neither_its_statements_nor_its_orm_writes(
    db: Database,
) -> None:
    units = UnitOfWorkFactory(db)
    async with units("t1") as uow:
        await uow.tenants.ensure(NOW)
        await uow.commit()
    with pytest.raises(RuntimeError):
        async with units("t1") as uow:
            await uow.tickets.add(ticket(1))
            session = await uow.orm()
            session.add(user("29:b"))
            await session.flush()
            raise RuntimeError("the use-case fails")
    assert await stored(db) == ([], [])
    # The connection is clean for the next unit.
    async with units("t1") as uow:
        await uow.tickets.add(ticket(2))
        await uow.commit()
    assert await stored(db) == ([2], [])


async def test_after_a_failed_orm_flush_no_statement_runs_outside_the_transaction(
    db: Database,
) -> None:
    """The database refused the flush and the transaction is over: a statement after it is
    refused too (on SQLite it would otherwise commit on its own), and nothing is kept."""
    units = UnitOfWorkFactory(db)
    async with units("t1") as uow:
        await uow.tenants.ensure(NOW)
        await uow.commit()
    async with units("t1") as uow:
        await uow.tickets.add(ticket(1))
        session = await uow.orm()
        session.add(
            OutboxRow(
                tenant_id="t1",
                conversation_ref_id=999,  # no such conversation
                kind="notice",
                payload="{}",
                next_attempt_at=NOW,
                created_at=NOW,
            )
        )
        with pytest.raises(sa.exc.IntegrityError):
            await session.flush()
        with pytest.raises(sa.exc.PendingRollbackError):
            await uow.tickets.add(ticket(2))
        with pytest.raises(sa.exc.PendingRollbackError):
            await uow.commit()
    assert await stored(db) == ([], [])


async def test_a_reader_sees_what_was_committed_before_it_began(tmp_path: Path) -> None:
    """Readers run on connections of their own: not the writer's open transaction."""
    async with database_url("sqlite", tmp_path) as url, migrated(url) as db:
        units = UnitOfWorkFactory(db)
        async with units("t1") as uow:
            await uow.tenants.ensure(NOW)
            await uow.tickets.add(ticket(1))
            await uow.commit()

        async def read() -> list[int]:
            async with units.reader("t1") as reader:
                found = [await reader.tickets.get(n) for n in (1, 2)]
                return [t.number for t in found if t is not None]

        async with units("t1") as uow:
            await uow.tickets.add(ticket(2))
            assert await asyncio.create_task(read()) == [1]
            await uow.commit()
        assert await read() == [1, 2]


async def test_the_engines_own_reads_leave_the_write_lock_to_the_writers(tmp_path: Path) -> None:
    """The engine's connections begin deferred; only `Database.writers` take the write lock.
    The health check's SELECT 1 took it, and kept it until SQLAlchemy closed the connection in
    a task of its own: the proactive sender's claim, begun meanwhile, waited on the loop's
    thread for the whole busy timeout (30 s), and failed."""
    async with database_url("sqlite", tmp_path) as url, migrated(url) as db:
        probe = sqlite3.connect(url.split(":///", 1)[1], timeout=0)
        try:
            async with db.engine.connect() as conn:
                await conn.execute(sa.text("SELECT 1"))
                probe.execute("BEGIN IMMEDIATE")  # free: "database is locked" before
                probe.rollback()
            async with db.writers.connect() as conn:
                await conn.execute(sa.text("SELECT 1"))
                with pytest.raises(sqlite3.OperationalError, match="locked"):
                    probe.execute("BEGIN IMMEDIATE")
        finally:
            probe.close()
        # The two of the bot that met: a health check beside a proactive round.
        healthy, claimed = await asyncio.gather(
            db.ping(), OutboxStore(db).claim(NOW, 10, timedelta(minutes=1))
        )
        assert (healthy, claimed) == (True, [])


async def _write(db: Database, writer: str) -> None:
    if writer == "unit of work":
        async with UnitOfWorkFactory(db)("t1") as uow:
            await uow.tenants.ensure(NOW)
            await uow.commit()
    else:  # a transaction of the outbox's own
        assert await OutboxStore(db).claim(NOW, 10, timedelta(minutes=1)) == []


@pytest.mark.parametrize("writer", ["unit of work", "outbox"])
async def test_another_processs_write_lock_is_waited_for_with_the_loop_free(
    tmp_path: Path, writer: str
) -> None:
    """Another process that holds the write lock (the marketplace CLI, a migration) is waited
    for while the loop goes on: SQLite's busy handler slept on the loop's thread for up to
    30 s, and the bot answered nothing meanwhile."""
    async with database_url("sqlite", tmp_path) as url, migrated(url) as db:
        other = sqlite3.connect(url.split(":///", 1)[1], timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            write = asyncio.create_task(_write(db, writer))
            turns = 0
            for _ in range(200):  # the loop runs other work while the writer waits
                await asyncio.sleep(0)
                turns += 1
            assert turns == 200
            assert not write.done()
            async with UnitOfWorkFactory(db).reader("t1") as uow:  # and readers read
                assert await uow.tickets.get(1) is None
            other.execute("COMMIT")
            await write
        finally:
            other.close()
        if writer == "unit of work":
            async with UnitOfWorkFactory(db).reader("t1") as uow:
                assert await uow.tenants.created_at() == NOW


@pytest.mark.parametrize("writer", ["unit of work", "outbox"])
async def test_a_writer_gives_up_on_a_lock_that_is_not_released_and_leaves_nothing_held(
    tmp_path: Path, writer: str
) -> None:
    async with database_url("sqlite", tmp_path) as url, migrated(url) as db:
        assert db.sqlite_connections is not None and db.write_lock is not None
        db.sqlite_connections.busy_seconds = 0  # 30 s in the bot
        other = sqlite3.connect(url.split(":///", 1)[1], timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                await _write(db, writer)
            assert not db.write_lock.locked()
            other.execute("ROLLBACK")
        finally:
            other.close()
        await _write(db, writer)  # the writer's connection is not left in a transaction


async def test_readers_reuse_their_connections_and_dispose_closes_them(tmp_path: Path) -> None:
    async with database_url("sqlite", tmp_path) as url, migrated(url) as db:
        connections = db.sqlite_connections
        assert connections is not None
        units = UnitOfWorkFactory(db)
        for _ in range(20):
            async with units.reader("t1") as uow:
                await uow.tickets.get(1)
        assert connections.open_count == 1
        # Three readers at once: three connections, kept for the next ones.
        release = asyncio.Event()

        async def hold() -> None:
            async with units.reader("t1") as uow:
                await uow.tickets.get(1)
                await release.wait()

        tasks = [asyncio.create_task(hold()) for _ in range(3)]
        await asyncio.sleep(0)
        release.set()
        await asyncio.gather(*tasks)
        assert connections.open_count == 3
        async with units("t1") as uow:  # and the writer
            await uow.tenants.ensure(NOW)
            await uow.commit()
        assert connections.open_count == 4
    assert connections.open_count == 0


async def test_a_unit_entered_again_runs_in_its_new_transaction(db: Database) -> None:
    unit = UnitOfWorkFactory(db)("t1")
    async with unit as uow:
        await uow.tenants.ensure(NOW)
        await uow.tickets.add(ticket(1))
        await uow.commit()
    async with unit as uow:
        found = await uow.tickets.get(1)
        await uow.tickets.add(ticket(2))
        await uow.commit()
    assert found is not None
    assert await stored(db) == ([1, 2], [])


async def test_the_units_of_a_turn_share_its_repositories(db: Database) -> None:
    units = UnitOfWorkFactory(db)
    async with units.turn("t1") as turn, units("t1") as uow:
        assert uow.tickets is turn.tickets and uow.tx is turn.tx
        await uow.commit()


async def test_the_wal_is_checkpointed_beside_the_writer_and_starts_again(
    tmp_path: Path,
) -> None:
    """The writer's commits leave the WAL to a checkpoint on a thread of its own, which copies
    all of it into the database file; a WAL grown long starts again instead of growing on (here
    at once: a few commits make it "long")."""
    async with database_url("sqlite", tmp_path) as url, migrated(url) as db:
        connections = db.sqlite_connections
        assert connections is not None
        connections.RESTART_FRAMES = 1
        units = UnitOfWorkFactory(db)
        number = 0

        async def create() -> None:
            nonlocal number
            number += 1
            async with units("t1") as uow:
                await uow.tenants.ensure(NOW)
                await uow.tickets.add(ticket(number))
                await uow.commit()
            await asyncio.sleep(0)  # a turn's network I/O: the checkpoint's chance

        for _ in range(3):
            for _ in range(connections.CHECKPOINT_EVERY):
                await create()
            # The writer does not wait for the checkpoint: it goes on while it runs.
            running = asyncio.create_task(connections.checkpointed())
            while not running.done():
                await create()
        assert connections.checkpoints >= 3
        await create()
        probe = sqlite3.connect(connections.path)
        busy, frames, copied = probe.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        probe.close()
        # Everything was copied, and the WAL started again: it holds the last few commits
        # (about 100 pages; one that never starts again holds the 300 commits', over 2,000).
        assert busy == 0 and frames == copied
        assert frames < 1000
    assert await stored_in(url) == number


async def stored_in(url: str) -> int:
    async with migrated(url) as again, again.sessions() as session:
        return len((await session.execute(select(TicketRow.number))).scalars().all())


def _temporary_files() -> list[str]:
    """The files this process holds open that SQLite made for itself (`etilqs_…`, unlinked)."""
    fds = Path("/proc/self/fd")
    names = []
    for fd in fds.iterdir():
        with contextlib.suppress(OSError):
            names.append(str(fd.readlink()))
    return [n for n in names if "etilqs_" in n]


def _journal_spills(conn: sqlite3.Connection) -> bool:
    """Whether a savepoint's journal of about 256 KiB went into a temporary file."""
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
    # 64 rows of 2 KiB, a page each or so: a journal of about 256 KiB when all change (only
    # pages that existed when the savepoint began are journaled).
    conn.executemany("INSERT INTO t (id, body) VALUES (?, ?)", [(i, "x" * 2048) for i in range(64)])
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("SAVEPOINT unit_1")
    conn.execute("UPDATE t SET body = 'y' || substr(body, 2)")
    spilled = _temporary_files() != []
    conn.execute("ROLLBACK TO SAVEPOINT unit_1")
    conn.execute("COMMIT")
    assert conn.execute("SELECT count(*) FROM t WHERE body LIKE 'x%'").fetchone() == (64,)
    conn.close()
    return spilled


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs Linux's /proc/self/fd")
def test_a_savepoints_journal_stays_in_memory(tmp_path: Path) -> None:
    """A joined unit's savepoint journals each page the unit changes; past 64 KiB SQLite
    would otherwise spill that journal into a new file in the temporary directory (in the
    bench, one create in ten did). The units' connections keep it in memory."""
    plain = sqlite3.connect(tmp_path / "plain.sqlite")
    configure(plain, wal=True)  # the settings every connection has, the engine's too
    if not _journal_spills(plain):
        pytest.skip("this SQLite keeps its temporary files in memory anyway")
    units = SqliteConnections(str(tmp_path / "db.sqlite"), memory=None, wal=True)
    assert not _journal_spills(units._connect())


async def _backends(db: Database) -> int:
    """The server's connections to the test's database, this query's own not counted."""
    async with db.engine.connect() as conn:
        count = await conn.scalar(
            sa.text(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    return int(count or 0)


@pytest.mark.postgres
async def test_postgres_units_hold_their_connections_open_and_dispose_closes_them(
    tmp_path: Path,
) -> None:
    """On PostgreSQL a unit takes a connection that stays open for the next one (no pool
    checkout per unit); units at once get one each; dispose closes them."""
    async with database_url("postgres", tmp_path) as url, migrated(url) as db:
        connections = db.pg_connections
        assert connections is not None
        units = UnitOfWorkFactory(db)
        for _ in range(20):
            async with units("t1") as uow:
                await uow.tenants.ensure(NOW)
                await uow.commit()
        assert connections.open_count == 1
        release = asyncio.Event()

        async def hold() -> None:
            async with units.reader("t1") as uow:
                await uow.tenants.created_at()
                await release.wait()

        tasks = [asyncio.create_task(hold()) for _ in range(3)]
        while connections.open_count:  # the three have their connections
            await asyncio.sleep(0)
        release.set()
        await asyncio.gather(*tasks)
        assert connections.open_count == 3
        # The engine's pool holds one more (the query's own, not counted).
        assert await _backends(db) == 3
        await connections.close()
        assert connections.open_count == 0
        assert await _backends(db) == 0


@pytest.mark.postgres
async def test_postgres_runs_as_many_units_at_once_as_the_database_is_given_connections(
    tmp_path: Path,
) -> None:
    """`Database(url, connections=n)` (DATABASE_CONNECTIONS): n units at once hold a connection
    each, one more waits in the process for one of them, and all n are kept open after."""
    async with database_url("postgres", tmp_path) as url, migrated(url, connections=2) as db:
        connections = db.pg_connections
        assert connections is not None
        units = UnitOfWorkFactory(db)
        started: list[int] = []
        release = asyncio.Event()

        async def hold(n: int) -> None:
            async with units.reader("t1") as uow:
                started.append(n)
                await uow.tenants.created_at()
                await release.wait()

        tasks = [asyncio.create_task(hold(n)) for n in range(3)]
        while len(started) < 2:  # two have their connections (opened meanwhile)
            await asyncio.sleep(0)
        for _ in range(50):
            await asyncio.sleep(0)
        assert sorted(started) == [0, 1]  # the third waits for a connection
        assert await _backends(db) == 2
        release.set()
        await asyncio.gather(*tasks)
        assert sorted(started) == [0, 1, 2]
        assert connections.open_count == 2


@pytest.mark.postgres
async def test_postgres_units_wait_for_a_connection_beyond_the_limit(tmp_path: Path) -> None:
    """At most `size` connections at once: a third unit waits for one of two to end, and the
    connections past `idle` are closed when given back."""
    async with database_url("postgres", tmp_path) as url, migrated(url) as db:
        connections = PgConnections(db.url, size=2, idle=1)
        try:
            first, second, third = (PgTransaction(connections, db.engine.dialect) for _ in "abc")
            await first.begin()
            await second.begin()
            waiting = asyncio.create_task(third.begin())
            for _ in range(20):
                await asyncio.sleep(0)
            assert not waiting.done()
            await first.close()
            await waiting
            await second.close()
            await third.close()
            assert connections.open_count == 1
        finally:
            await connections.close()


@pytest.mark.postgres
async def test_postgres_connections_past_their_age_are_opened_again(tmp_path: Path) -> None:
    """A held connection older than `recycle_seconds` is closed instead of given out again."""
    async with database_url("postgres", tmp_path) as url, migrated(url) as db:
        connections = db.pg_connections
        assert connections is not None
        pids = set()
        for recycle in (1800.0, 1800.0, 0.0, 0.0):
            connections.recycle_seconds = recycle
            async with UnitOfWorkFactory(db)("t1") as uow:
                driver = await uow.tx.driver()
                row = await driver.first(BACKEND_PID)
                assert row is not None
                pids.add(row[0])
        # The second unit reused the first's; the third and fourth each opened a new one.
        assert len(pids) == 3
        assert connections.open_count == 1


BACKEND_PID = Statement(lambda _dialect: sa.select(sa.func.pg_backend_pid()))


@pytest.mark.postgres
async def test_a_postgres_connection_given_back_inside_a_transaction_is_not_reused(
    tmp_path: Path,
) -> None:
    """A connection whose unit never ended its transaction (a rollback cut short) is closed
    when given back: the next unit would otherwise begin as a savepoint of it."""
    async with database_url("postgres", tmp_path) as url, migrated(url) as db:
        connections = db.pg_connections
        assert connections is not None
        held = await connections.take()
        await held.asyncpg.execute("BEGIN")
        await connections.give_back(held)
        assert connections.open_count == 0
        assert held.asyncpg.is_closed()
