"""Engine and sessions. SQLite (default, one process) or PostgreSQL (scale-out)."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import StaticPool

from storage.sqlite_inline import InlineConnection, connect_inline
from storage.transactions import (
    CONNECTIONS,
    PgConnections,
    SqliteConnections,
    asyncpg_adapter_joinable,
    configure,
)

log = logging.getLogger(__name__)

# The execution option of the engine's writing connections (`Database.writers`): on SQLite only
# they begin with BEGIN IMMEDIATE, which takes the database's write lock.
WRITER = "teamswork_writer"


def normalize_url(url: str) -> str:
    """Accept plain `postgresql://` and `sqlite:///` URLs and pick the async drivers."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        return "postgresql+asyncpg://" + url[len("postgresql://") :]
    if url.startswith("sqlite://") and not url.startswith("sqlite+aiosqlite://"):
        return "sqlite+aiosqlite://" + url[len("sqlite://") :]
    return url


class Database:
    """One engine per process. On SQLite every unit of work runs alone (`write_lock`) and begins
    with BEGIN IMMEDIATE: SQLite has one writer anyway, and a transaction that reads first and
    writes later fails with "database is locked" under load otherwise.

    The engine's own connections begin deferred, as readers: only `writers` (for the holders of
    `write_lock`, and for migrations) begin IMMEDIATE. A connection of the engine that took the
    write lock outside `write_lock` would hold it until SQLAlchemy closes the connection, which
    it does in a task of its own: a writer that began meanwhile waited on the loop's thread,
    and so the loop, for the whole busy timeout (30 s), and then failed. The health check did
    exactly that whenever it met the proactive sender."""

    def __init__(self, url: str, *, echo: bool = False, connections: int = CONNECTIONS) -> None:
        """`connections`: on PostgreSQL with asyncpg, how many units of work run at once, each
        on a connection held open (`PgConnections`); a unit beyond them waits for one."""
        self.url = normalize_url(url)
        self.is_sqlite = self.url.startswith("sqlite")
        in_memory = False
        kwargs: dict[str, Any] = {"echo": echo}
        self.write_lock: asyncio.Lock | None = asyncio.Lock() if self.is_sqlite else None
        # Units of work on SQLite run on connections of their own (storage/transactions.py),
        # and on PostgreSQL with asyncpg too (`held`, below).
        self.sqlite_connections: SqliteConnections | None = None
        held = self.url.startswith("postgresql+asyncpg://") and asyncpg_adapter_joinable()
        if self.is_sqlite:
            in_memory = self.url in ("sqlite+aiosqlite://", "sqlite+aiosqlite:///:memory:")
            if in_memory:
                # One connection is the database: the engine and the units of work share it.
                memory = InlineConnection(
                    sqlite3.connect(":memory:", check_same_thread=False, cached_statements=256)
                )
                configure(memory.sqlite3_connection, wal=False)

                async def the_memory() -> InlineConnection:
                    return memory

                kwargs["poolclass"] = StaticPool
                kwargs["async_creator"] = the_memory
                self.sqlite_connections = SqliteConnections(":memory:", memory=memory, wal=False)
            else:
                db_path = self.url.split(":///", 1)[1].split("?", 1)[0]
                Path(db_path).parent.mkdir(parents=True, exist_ok=True)
                # Statements run on the loop's thread: no thread hop per statement.
                kwargs["async_creator"] = connect_inline(db_path, timeout=30)
                self.sqlite_connections = SqliteConnections(
                    db_path, memory=None, wal=True, write_lock=self.write_lock
                )
        else:
            # No pre-ping: it cost a round trip per checkout; a connection that died is
            # dropped by the pool when its error is seen (and the turn retried by Teams).
            # With held connections for the units and the outbox (below), the engine serves
            # only migrations, the reminders, the marketplace's reads and the health check.
            size, overflow = (2, 8) if held else (10, 10)
            kwargs.update(pool_size=size, max_overflow=overflow, pool_recycle=1800)
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        # Units of work on PostgreSQL (asyncpg) run on connections of their own, held open.
        self.pg_connections: PgConnections | None = None
        if held:
            self.pg_connections = PgConnections(self.url, size=connections, idle=connections)
        # In-memory SQLite is one shared connection: a reader cannot run beside a writer.
        self.readers_wait_for_writers = self.is_sqlite and in_memory
        if self.is_sqlite:
            _configure_sqlite(self.engine, wal=not in_memory)
        # The engine for writing transactions outside a unit of work (on SQLite they begin
        # IMMEDIATE; hold `write_lock` around them in the bot's process).
        self.writers: AsyncEngine = self.engine.execution_options(**{WRITER: True})
        # Sessions that write, for tools and tests.
        self.sessions = async_sessionmaker(
            self.writers, class_=AsyncSession, expire_on_commit=False
        )
        # Reading transactions begin deferred on SQLite: they wait for no writer.
        self.readers = async_sessionmaker(self.engine, class_=AsyncSession, expire_on_commit=False)

    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as conn:
                await conn.execute(sa.text("SELECT 1"))
            return True
        except Exception:  # any failure means "not reachable" for the health check
            log.warning("database ping failed", exc_info=True)
            return False

    async def dispose(self) -> None:
        if self.sqlite_connections is not None:
            await self.sqlite_connections.close()
        if self.pg_connections is not None:
            await self.pg_connections.close()
        await self.engine.dispose()


def _configure_sqlite(engine: AsyncEngine, *, wal: bool) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite would defer it).
        configure(dbapi_connection.driver_connection.sqlite3_connection, wal=wal)

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        writing = connection.get_execution_options().get(WRITER, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")
