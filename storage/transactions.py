"""The transaction of one unit of work: the statements' driver (storage/statements.py) from the
start, an ORM session only once a repository asks for one (`await tx.orm()`).

Most turns never touch the ORM: their statements run on the driver. On SQLite a unit of work
then runs without SQLAlchemy at all (`SqliteTransaction`): BEGIN, the statements and COMMIT on a
sqlite3 connection of the database's own (`SqliteConnections`), where the session, the pool's
checkout and check-in and the greenlet around each of them cost more than the turn's SQL. A
repository that needs the ORM gets a session on that same connection, inside that same
transaction: an engine of its own per connection hands the connection out (a static pool), its
"begin" issues nothing (the transaction is begun already), and the session joins the
connection's transaction without committing it; the unit commits the connection itself, after
flushing the session.

On PostgreSQL (asyncpg) a unit of work runs the same way on a connection of `PgConnections`:
connections opened through an engine of their own, so that SQLAlchemy's dialect sets each one
up (its type codecs) as it would its own, and then held open. A unit takes one, begins with
asyncpg's own transaction, runs its statements on asyncpg and commits there: no pool checkout,
check-in or greenlet per unit (they cost about 0.2 ms of CPU a unit, more than two round trips).
A session, when one is asked for, is bound to the held SQLAlchemy connection and joins the
asyncpg transaction as if SQLAlchemy's adapter had begun it. Another PostgreSQL driver gets a
connection of the engine's pool in a transaction (`ConnectionTransaction`), the driver on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import exc, pool
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection
from sqlalchemy.engine.interfaces import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, create_async_engine
from tenacity import AsyncRetrying, retry_if_exception, stop_after_delay, wait_exponential

from storage.sqlite_inline import InlineConnection
from storage.statements import Driver

if TYPE_CHECKING:
    from storage.db import Database


log = logging.getLogger(__name__)

ROLLED_BACK = "this unit of work's transaction was rolled back by an earlier error"
# How long a writer waits for another process's write lock before it fails ("database is
# locked"), as SQLite's own busy timeout did.
BUSY_SECONDS = 30.0


def _busy(error: BaseException) -> bool:
    return isinstance(error, sqlite3.OperationalError) and error.sqlite_errorcode in (
        sqlite3.SQLITE_BUSY,
        sqlite3.SQLITE_LOCKED,
    )


async def begin_immediate(conn: sqlite3.Connection, busy_seconds: float = BUSY_SECONDS) -> None:
    """BEGIN IMMEDIATE on a connection that does not wait for locks (busy timeout 0).

    Writers of this process take turns through `Database.write_lock`, so the write lock is only
    ever held by another process (the marketplace CLI, a migration). SQLite's busy handler
    would wait for it on the loop's thread, sleeping, and the bot would answer nothing for up
    to 30 s; here the loop goes on while the writer tries again with backoff (tenacity, 1 ms
    doubling to 50 ms), for `busy_seconds` at most."""
    try:
        conn.execute("BEGIN IMMEDIATE")
        return
    except sqlite3.OperationalError as error:
        if not _busy(error):
            raise
    log.info("another process holds the SQLite write lock; waiting for it")
    retrying = AsyncRetrying(
        retry=retry_if_exception(_busy),
        stop=stop_after_delay(busy_seconds),
        wait=wait_exponential(multiplier=0.001, max=0.05),
        reraise=True,
    )
    async for attempt in retrying:
        with attempt:
            conn.execute("BEGIN IMMEDIATE")


def _check_open(opened: bool, in_transaction: bool) -> None:
    """Refuse a statement of a unit whose transaction is not open, or was rolled back by a
    failed ORM flush (a statement now would run outside any transaction)."""
    if not opened:
        raise exc.InvalidRequestError("the unit of work has no transaction open")
    if not in_transaction:
        raise exc.PendingRollbackError(ROLLED_BACK)


class Transaction(ABC):
    """What a unit of work and its repositories use of a transaction."""

    dialect: Dialect

    @abstractmethod
    async def begin(self) -> None:
        """Begin the transaction (on SQLite: take its connection and issue BEGIN)."""

    _driver: Driver | None = None

    async def driver(self) -> Driver:
        """The driver of the transaction's connection, for the hot path's statements."""
        _check_open(self._driver is not None, self.active)
        assert self._driver is not None
        return self._driver

    async def orm(self) -> AsyncSession:
        """The ORM session of the transaction (made on first use); a joined unit's savepoint
        is taken before it is handed out (see `Driver.savepoint`)."""
        session = await self._orm_session()
        if self._driver is not None:
            await self._driver.take_savepoint()  # what the session runs may write
        return session

    @abstractmethod
    async def _orm_session(self) -> AsyncSession:
        """The ORM session, made on first use."""

    @abstractmethod
    async def connection(self) -> AsyncConnection:
        """SQLAlchemy's connection of the transaction, for Core statements (the ORM session's
        where it has one)."""

    _session: AsyncSession | None = None

    @property
    def session(self) -> AsyncSession | None:
        """The ORM session, if one was made."""
        return self._session

    @property
    @abstractmethod
    def active(self) -> bool:
        """Still inside its transaction (a failed ORM flush ends it)."""

    async def flush(self) -> None:
        session = self.session
        if session is not None and (session.new or session.dirty or session.deleted):
            await session.flush()

    @abstractmethod
    async def commit(self, release: Callable[[], None] | None = None) -> None:
        """Flush the session, if any, and commit. `release`: the holder's release of the write
        lock, which a SQLite writer may call itself, once, to let the next writer go on before
        its writes are committed with the next writers' (`SqliteConnections`, group commit)."""

    @abstractmethod
    async def rollback(self) -> None:
        """Undo the transaction's writes, the session's included."""

    @abstractmethod
    async def close(self) -> None:
        """End the transaction (rolled back unless committed) and give its connection back."""


class ConnectionTransaction(Transaction):
    """A unit of work's transaction on a connection of the engine's pool (PostgreSQL): the
    driver runs on it, and an ORM session, once one is asked for, joins its transaction."""

    def __init__(self, db: Database) -> None:
        self._engine = db.engine
        self.dialect = db.engine.dialect
        self._connection: AsyncConnection | None = None
        self._driver: Driver | None = None
        self._session: AsyncSession | None = None

    async def begin(self) -> None:
        connection = await self._engine.connect()
        try:
            await connection.begin()
            self._driver = await Driver.of(connection)
        except BaseException:
            await connection.close()
            raise
        self._connection = connection

    def _open(self) -> AsyncConnection:
        _check_open(self._connection is not None, self.active)
        assert self._connection is not None
        return self._connection

    async def _orm_session(self) -> AsyncSession:
        if self._session is None:
            self._session = AsyncSession(bind=self._open(), expire_on_commit=False)
        return self._session

    async def connection(self) -> AsyncConnection:
        return self._open()

    @property
    def active(self) -> bool:
        return self._connection is not None and self._connection.in_transaction()

    async def commit(self, release: Callable[[], None] | None = None) -> None:
        await self.flush()
        await self._open().commit()

    async def rollback(self) -> None:
        if self._connection is not None:
            await self._connection.rollback()
        if self._session is not None:
            self._session.expunge_all()

    async def close(self) -> None:
        connection, self._connection, self._driver = self._connection, None, None
        session, self._session = self._session, None
        try:
            if session is not None:
                await session.close()
        finally:
            if connection is not None:
                await connection.close()  # back to the pool, rolled back if still open


class PgConnection:
    """A connection of `PgConnections`: SQLAlchemy's connection, held open, with the asyncpg
    connection under it and SQLAlchemy's adapter of it."""

    def __init__(self, connection: AsyncConnection, asyncpg: Any, adapter: Any, opened: float):
        self.connection = connection
        self.asyncpg = asyncpg
        self.adapter = adapter
        self.opened = opened

    @property
    def usable(self) -> bool:
        return not self.connection.invalidated and not self.asyncpg.is_closed()


def asyncpg_adapter_joinable() -> bool:
    """Whether SQLAlchemy's asyncpg adapter keeps its transaction where `PgTransaction` can
    hand it one (SQLAlchemy 2.1, pinned in requirements.txt)."""
    return "_transaction" in getattr(AsyncAdapt_asyncpg_connection, "__slots__", ())


# How many units of work a process runs at once on PostgreSQL unless told otherwise
# (DATABASE_CONNECTIONS): on two cores twenty only waited for each other (README, Performance).
CONNECTIONS = 8


class PgConnections:
    """The connections units of work run on, on PostgreSQL with asyncpg: at most `size` at once
    (DATABASE_CONNECTIONS), `idle` of them kept open between units, each for `recycle_seconds`
    at most (the engine's own pool_recycle)."""

    recycle_seconds = 1800.0

    def __init__(self, url: str, *, size: int = CONNECTIONS, idle: int = CONNECTIONS) -> None:
        # An engine without a pool: each connection it opens is held by this class until it is
        # closed; its dialect sets each one up as the main engine's would.
        self.engine = create_async_engine(url, poolclass=pool.NullPool)
        self.idle = idle
        self._slots = asyncio.Semaphore(size)
        self._idle: list[PgConnection] = []

    @property
    def open_count(self) -> int:
        """How many idle connections it holds open."""
        return len(self._idle)

    async def take(self) -> PgConnection:
        await self._slots.acquire()
        try:
            now = asyncio.get_running_loop().time()
            while self._idle:
                held = self._idle.pop()
                if held.usable and now - held.opened < self.recycle_seconds:
                    return held
                await self._close(held)
            connection = await self.engine.connect()
            try:
                raw = await connection.get_raw_connection()
            except BaseException:
                await connection.close()
                raise
            return PgConnection(connection, raw.driver_connection, raw.dbapi_connection, now)
        except BaseException:
            self._slots.release()
            raise

    async def give_back(self, held: PgConnection) -> None:
        try:
            # One still in a transaction (its rollback was cancelled) would begin the next
            # unit as a savepoint of that transaction: it is closed instead.
            reusable = held.usable and not held.asyncpg.is_in_transaction()
            if reusable and len(self._idle) < self.idle:
                self._idle.append(held)
            else:
                await self._close(held)
        finally:
            self._slots.release()

    @staticmethod
    async def _close(held: PgConnection) -> None:
        with contextlib.suppress(Exception):  # a dead connection cannot be closed politely
            await held.connection.close()

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for held in idle:
            await self._close(held)
        await self.engine.dispose()


class PgTransaction(Transaction):
    """A unit of work's transaction on a connection of `PgConnections` (see the module doc)."""

    def __init__(self, connections: PgConnections, dialect: Dialect) -> None:
        self._connections = connections
        self.dialect = dialect
        self._held: PgConnection | None = None
        self._transaction: Any = None
        self._driver: Driver | None = None
        self._session: AsyncSession | None = None

    async def begin(self) -> None:
        held = await self._connections.take()
        try:
            transaction = held.asyncpg.transaction()
            await transaction.start()
        except BaseException:
            await self._connections.give_back(held)
            raise
        self._held, self._transaction = held, transaction
        self._driver = Driver.on_asyncpg(self.dialect, held.connection, held.asyncpg)

    def _open(self) -> PgConnection:
        held = self._held
        _check_open(held is not None, self.active)
        assert held is not None
        return held

    async def _orm_session(self) -> AsyncSession:
        if self._session is None:
            held = self._open()
            # SQLAlchemy's transaction on the connection is its bookkeeping only (the asyncpg
            # adapter begins nothing until it runs a statement); the adapter is handed the
            # asyncpg transaction, so it runs the session's statements inside it, and a failed
            # flush rolls it back, as when the adapter had begun it.
            await held.connection.begin()
            held.adapter._transaction = self._transaction
            self._session = AsyncSession(bind=held.connection, expire_on_commit=False)
        return self._session

    async def connection(self) -> AsyncConnection:
        await self.orm()
        return self._open().connection

    @property
    def active(self) -> bool:
        return self._held is not None and self._held.asyncpg.is_in_transaction()

    async def commit(self, release: Callable[[], None] | None = None) -> None:
        await self.flush()
        self._open()
        await self._guarded(self._transaction.commit())

    async def rollback(self) -> None:
        if self._held is not None and self._held.asyncpg.is_in_transaction():
            await self._guarded(self._transaction.rollback())
        if self._session is not None:
            self._session.expunge_all()

    async def _guarded(self, call: Awaitable[None]) -> None:
        assert self._driver is not None
        await self._driver.guarded(call)

    async def close(self) -> None:
        held, self._held, self._driver = self._held, None, None
        session, self._session = self._session, None
        if held is None:
            return
        try:
            if held.usable and held.asyncpg.is_in_transaction():
                await self._transaction.rollback()
        except Exception:  # the connection is not given out again
            log.warning("rolling back a unit of work failed", exc_info=True)
            with contextlib.suppress(Exception):
                await held.connection.invalidate()
        finally:
            self._transaction = None
            try:
                if session is not None:
                    # The transaction is over: what the session and SQLAlchemy's connection
                    # would roll back is nothing.
                    held.adapter._transaction = None
                    await session.close()
                    if held.connection.in_transaction():
                        await held.connection.rollback()
            finally:
                await self._connections.give_back(held)


class GroupFailed(exc.SQLAlchemyError):
    """The transaction a unit's writes were handed to ended without committing them."""


@dataclass
class _Group:
    """The writers whose writes wait in the writer's open transaction for its COMMIT."""

    members: list[asyncio.Future[None]] = field(default_factory=list)


class SqliteConnections:
    """The sqlite3 connections units of work run on: one writer (writers take turns through
    `Database.write_lock`) and as many readers as read at once; an in-memory database has one
    connection for everything (its readers wait for the writer). Each connection has an engine
    of its own for the ORM sessions made on it (see the module doc).

    The writer does not checkpoint the WAL itself: SQLite would do it inside a commit, about
    every 1,000 pages, copying them into the database file and syncing it, on the loop's thread
    (a create's commit took 0.26 ms on average that way, 0.1 ms without; the worst 23 ms). A
    checkpoint runs on a thread of its own instead, after every `CHECKPOINT_EVERY` commits,
    while the writer goes on. A WAL starts again from its beginning only once all of it was
    copied, which a writer that never stops does not leave time for: when it has grown to
    `RESTART_FRAMES`, what came during the checkpoint is copied with the writers held back."""

    MAX_IDLE_READERS = 8
    CHECKPOINT_EVERY = 100
    # At most this many writers' units share one COMMIT (see `defer`).
    GROUP_MAX = 8
    busy_seconds = BUSY_SECONDS
    # A WAL this long (in pages, 4 KiB each) is made to start again.
    RESTART_FRAMES = 4096

    def __init__(
        self,
        path: str,
        *,
        memory: InlineConnection | None,
        wal: bool,
        write_lock: asyncio.Lock | None = None,
    ) -> None:
        self.path = path
        self.wal = wal
        self._write_lock = write_lock
        self._commits = 0
        self._checkpoint: asyncio.Task[None] | None = None
        self._checkpointer: sqlite3.Connection | None = None
        self.checkpoints = 0
        self._memory = memory
        self._writer: InlineConnection | None = memory
        self._idle: list[InlineConnection] = []
        self._engines: dict[int, AsyncEngine] = {}
        self._all: list[InlineConnection] = [memory] if memory is not None else []
        # Group commit: only a file's writer, whose holders of the write lock take turns.
        self.group_commit = wal and memory is None and write_lock is not None
        self._group: _Group | None = None
        self._committers: set[asyncio.Task[None]] = set()
        self._parts = 0
        # Counts, for tests: units whose writes were handed to a later COMMIT, and COMMITs of
        # the units' writer.
        self.handed_over = 0
        self.writer_commits = 0

    @property
    def open_count(self) -> int:
        """How many connections of its own it holds open."""
        return len(self._all) - (1 if self._memory is not None else 0)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path,
            timeout=30,
            check_same_thread=False,
            uri=self.path.startswith("file:"),
            cached_statements=256,
        )
        configure(conn, wal=self.wal)
        # A joined unit's savepoint journals each page the unit changes; past 64 KiB (16 pages:
        # a create now and then, one turn in ten in the bench) SQLite would spill that journal
        # into a new file in the temporary directory: open, write, unlink, close. Only the
        # units' connections: their temporary data is a turn's (a savepoint, a page's sort);
        # the engine's keep SQLite's default, so that a migration's index build or a VACUUM
        # spills to disk rather than growing the process.
        conn.execute("PRAGMA temp_store=MEMORY")
        return conn

    async def _open(self) -> InlineConnection:
        inline = InlineConnection(self._connect())
        await self._engine_of(inline)
        self._all.append(inline)
        return inline

    async def writer(self) -> InlineConnection:
        if self._writer is None:
            self._writer = await self._open()
            # Its BEGIN IMMEDIATE waits for other processes with the loop free
            # (`begin_immediate`); inside its transaction it holds the lock and waits for none.
            self._writer.sqlite3_connection.execute("PRAGMA busy_timeout=0")
            if self.wal and self._write_lock is not None:
                self._writer.sqlite3_connection.execute("PRAGMA wal_autocheckpoint=0")
        elif self._writer is self._memory:
            await self._engine_of(self._writer)
        return self._writer

    async def reader(self) -> InlineConnection:
        if self._memory is not None:
            return await self.writer()
        return self._idle.pop() if self._idle else await self._open()

    def give_back(self, conn: InlineConnection, *, reader: bool) -> None:
        if not reader or conn is self._memory:
            return
        if len(self._idle) < self.MAX_IDLE_READERS:
            self._idle.append(conn)
        else:
            self._all.remove(conn)
            conn.stop()

    async def _engine_of(self, conn: InlineConnection) -> AsyncEngine:
        """The engine of the ORM sessions on `conn`. Made, and connected once, before `conn`
        is in any transaction: SQLAlchemy rolls back after its first connection's set-up."""
        engine = self._engines.get(id(conn))
        if engine is None:

            async def creator() -> InlineConnection:
                return conn

            engine = create_async_engine(
                "sqlite+aiosqlite://",
                poolclass=pool.StaticPool,
                async_creator=creator,
                pool_reset_on_return=None,
            )
            async with engine.connect():
                pass
            self._engines[id(conn)] = engine
        return engine

    async def session_on(self, conn: InlineConnection) -> tuple[AsyncConnection, AsyncSession]:
        """A session inside the transaction `conn` is in (see the module doc)."""
        connection = await self._engines[id(conn)].connect()
        await connection.begin()  # SQL of none: the connection is in its transaction already
        return connection, AsyncSession(bind=connection, expire_on_commit=False)

    # -- group commit ---------------------------------------------------------------------
    # A writer's COMMIT costs as much as a list turn's statements (the WAL's pages written, a
    # checkpoint's share). A unit that ends hands its writes to the open transaction instead
    # of committing (`defer`; its ORM session, flushed, is closed first), lets the next writer
    # go on, and waits: the writers that take the write lock next run as parts of the same
    # transaction (each in a savepoint of its own, `part`, which a failing unit rolls back
    # alone), and one COMMIT ends them all. It is that of the GROUP_MAX-th writer or of one
    # that does not wait (the outbox's), else that of the group's committer: a task that the
    # group's first writer queues for the write lock, so that it commits once the writers
    # waiting then, and those that reach the lock before it, have had their turn (one pass of
    # the loop for a writer alone). A unit's commit returns once its writes are committed,
    # and raises if they were not: a reply is never sent before its COMMIT. Until then the
    # group's writes are seen by its later parts (on the writer's connection, as if they had
    # committed), by nobody else.

    def grouped(self) -> bool:
        """A group's transaction is open on the writer: a new writer is a part of it."""
        return self._group is not None

    def part(self) -> str:
        """The name of the savepoint of a new part of the group's transaction."""
        self._parts += 1
        return f"part_{self._parts}"

    def may_defer(self) -> bool:
        """A writer may hand its writes to the group: it has room."""
        return self.group_commit and (
            self._group is None or len(self._group.members) < self.GROUP_MAX - 1
        )

    def defer(self) -> asyncio.Future[None]:
        """The holder's writes are the group's now (a group begins, with its committer, if
        none is open): the future that the group's COMMIT settles."""
        loop = asyncio.get_running_loop()
        if self._group is None:
            group = self._group = _Group()
            committer = loop.create_task(self._commit_group(group))
            self._committers.add(committer)
            committer.add_done_callback(self._committers.discard)
        done: asyncio.Future[None] = loop.create_future()
        self._group.members.append(done)
        self.handed_over += 1
        return done

    def settle(self, error: BaseException | None) -> None:
        """The group's transaction ended: committed (`error` None), or not."""
        group, self._group = self._group, None
        if group is None:
            return
        for done in group.members:
            if done.done():
                continue
            if error is None:
                done.set_result(None)
            else:
                failed = GroupFailed(f"the writes were not committed: {error}")
                failed.__cause__ = error
                done.set_exception(failed)

    def lost(self) -> None:
        """SQLite rolled the group's transaction back (a failed flush, say): its writers fail."""
        self.settle(GroupFailed("the transaction was rolled back"))

    def commit_writer(self, sqlite: sqlite3.Connection) -> None:
        """COMMIT the writer's transaction, the group's writes with it."""
        try:
            sqlite.commit()
        except BaseException as error:
            self.settle(error)
            sqlite.rollback()  # a failed COMMIT leaves the transaction open
            raise
        self.writer_commits += 1
        self.settle(None)
        self.committed()

    async def _commit_group(self, group: _Group) -> None:
        assert self._write_lock is not None
        try:
            async with self._write_lock:
                if self._group is not group:
                    return  # a writer committed it
                sqlite = (await self.writer()).sqlite3_connection
                if not sqlite.in_transaction:
                    self.lost()
                    return
                try:
                    self.commit_writer(sqlite)
                except Exception:  # its writers have the error
                    log.warning("a group's COMMIT failed", exc_info=True)
        except BaseException as error:  # cancelled (the loop stops): its writers fail
            if self._group is group:
                self.settle(error)
            raise

    async def checkpointed(self) -> None:
        """Wait for the checkpoint that is running, if one is."""
        if self._checkpoint is not None:
            await self._checkpoint

    def committed(self) -> None:
        """A writer committed: checkpoint the WAL now and then (see the class doc)."""
        if not self.wal or self._write_lock is None:
            return
        self._commits += 1
        if self._commits >= self.CHECKPOINT_EVERY and self._checkpoint is None:
            self._commits = 0
            self._checkpoint = asyncio.get_running_loop().create_task(self._run_checkpoint())

    async def _run_checkpoint(self) -> None:
        assert self._write_lock is not None
        try:
            frames = await asyncio.to_thread(self._checkpoint_now)
            if frames >= self.RESTART_FRAMES:
                # The writer went on appending while it ran, and a WAL only starts again once
                # all of it is copied: copy the rest (what came meanwhile, a few pages) with
                # the writers held back, so that the next one starts it again.
                async with self._write_lock:
                    await asyncio.to_thread(self._checkpoint_now)
            self.checkpoints += 1
        except Exception:  # the next one tries again; the WAL only grows meanwhile
            log.warning("WAL checkpoint failed", exc_info=True)
        finally:
            self._checkpoint = None

    def _checkpoint_now(self) -> int:
        """Copy what it can of the WAL into the database file; the WAL's length in pages."""
        if self._checkpointer is None:
            self._checkpointer = self._connect()
        _busy, frames, _copied = self._checkpointer.execute(
            "PRAGMA wal_checkpoint(PASSIVE)"
        ).fetchone()
        return int(frames)

    async def close(self) -> None:
        for committer in list(self._committers):
            with contextlib.suppress(Exception):
                await committer
        await self.checkpointed()
        if self._checkpointer is not None:
            self._checkpointer.close()
            self._checkpointer = None
        for engine in self._engines.values():
            await engine.dispose()
        self._engines.clear()
        for conn in self._all:
            if conn is not self._memory:
                conn.stop()
        self._all = [self._memory] if self._memory is not None else []
        self._idle.clear()
        self._writer = self._memory


def configure(conn: sqlite3.Connection, *, wal: bool) -> None:
    """Every connection's settings (the engine's connections get the same, on connect)."""
    # BEGIN is ours to issue (sqlite3 would defer it, or begin one on its own).
    conn.isolation_level = None
    if wal:
        conn.execute("PRAGMA journal_mode=WAL")
        # WAL with NORMAL sync cannot corrupt; it may lose the last commits on power loss.
        conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA busy_timeout=30000")
    conn.execute("PRAGMA foreign_keys=ON")


class SqliteTransaction(Transaction):
    """A unit of work's transaction on a sqlite3 connection of `SqliteConnections`; a writer's
    may be a part of a group's (see group commit there)."""

    def __init__(self, connections: SqliteConnections, dialect: Dialect, *, read_only: bool):
        self._connections = connections
        self.dialect = dialect
        self._read_only = read_only
        self._inline: InlineConnection | None = None
        self._sqlite: sqlite3.Connection | None = None
        self._driver: Driver | None = None
        self._orm: tuple[AsyncConnection, AsyncSession] | None = None
        # The savepoint of this unit's part of a group's transaction, while the part is open;
        # whether the unit is a part (its transaction is the group's, not its own).
        self._part: str | None = None
        self._is_part = False
        # The writes are handed to the group's COMMIT: the connection is the next writer's.
        self._handed_over = False

    async def begin(self) -> None:
        c = self._connections
        inline = await (c.reader() if self._read_only else c.writer())
        sqlite = inline.sqlite3_connection
        if self._read_only:
            sqlite.execute("BEGIN")  # deferred: it waits for no writer (WAL)
        elif c.grouped() and sqlite.in_transaction:
            self._part, self._is_part = c.part(), True
            sqlite.execute(f"SAVEPOINT {self._part}")
        else:
            if c.grouped():  # SQLite rolled the group's transaction back (a failed flush)
                c.lost()
            if sqlite.in_transaction:  # left by a group whose committer was cancelled
                sqlite.rollback()
            await begin_immediate(sqlite, c.busy_seconds)
        self._inline, self._sqlite = inline, sqlite
        self._driver = Driver.on_sqlite(self.dialect, sqlite)

    async def _orm_session(self) -> AsyncSession:
        if self._handed_over:  # the connection is the next writer's
            raise exc.PendingRollbackError("this unit of work has committed")
        if self._orm is None:
            assert self._inline is not None, "the unit of work has no transaction open"
            self._orm = await self._connections.session_on(self._inline)
        return self._orm[1]

    async def _close_orm(self) -> None:
        """Close the ORM session, if one was made, leaving the transaction as it is: it is
        over, or it goes on as a group's (SQLAlchemy's rollback of it must be a no-op)."""
        if self._orm is None:
            return
        connection, session = self._orm
        self._orm = None
        inline = self._inline
        assert inline is not None
        inline.keep_transaction = True
        try:
            await session.close()
            await connection.close()
        finally:
            inline.keep_transaction = False

    async def connection(self) -> AsyncConnection:
        await self.orm()
        assert self._orm is not None
        return self._orm[0]

    @property
    def session(self) -> AsyncSession | None:
        return None if self._orm is None else self._orm[1]

    @property
    def active(self) -> bool:
        return self._sqlite is not None and not self._handed_over and self._sqlite.in_transaction

    async def commit(self, release: Callable[[], None] | None = None) -> None:
        await self.flush()
        sqlite, c = self._sqlite, self._connections
        assert sqlite is not None, "the unit of work has no transaction open"
        if not sqlite.in_transaction:
            if self._part is not None:  # the group's transaction is gone with this part
                c.lost()
            raise exc.PendingRollbackError(ROLLED_BACK)
        if self._read_only:
            sqlite.commit()
            return
        if release is not None and c.may_defer():
            await self._close_orm()  # flushed: what it wrote is in the transaction
            if self._part is not None:
                sqlite.execute(f"RELEASE {self._part}")
                self._part = None
            elif self._driver is not None:
                await self._driver.release_savepoints()
            committed = c.defer()
            self._handed_over = True
            release()
            await committed
            return
        self._part = None  # ended by the COMMIT, as the whole group's transaction is
        c.commit_writer(sqlite)

    async def rollback(self) -> None:
        sqlite = self._sqlite
        if sqlite is not None and not self._handed_over:
            if not self._is_part:
                sqlite.rollback()
            elif self._part is not None:  # only this part: the group's other writes stay
                if sqlite.in_transaction:
                    sqlite.execute(f"ROLLBACK TO {self._part}")
                    sqlite.execute(f"RELEASE {self._part}")
                else:  # gone already, the group's writes with it
                    self._connections.lost()
                self._part = None
            # A part that ended already left nothing of its own to undo.
        if self._orm is not None:
            # What the session flushed is gone with the transaction.
            self._orm[1].expunge_all()

    async def close(self) -> None:
        try:
            if self._sqlite is not None and not self._handed_over:
                if self._part is not None:
                    await self.rollback()  # this part only
                elif self._sqlite.in_transaction and not self._is_part:
                    self._sqlite.rollback()
            await self._close_orm()
        finally:
            if self._inline is not None:
                self._connections.give_back(self._inline, reader=self._read_only)
            self._inline = self._sqlite = self._driver = None


def transaction_for(db: Database, *, read_only: bool) -> Transaction:
    connections = db.sqlite_connections
    if connections is not None:
        return SqliteTransaction(connections, db.engine.dialect, read_only=read_only)
    if db.pg_connections is not None:
        return PgTransaction(db.pg_connections, db.engine.dialect)
    return ConnectionTransaction(db)
