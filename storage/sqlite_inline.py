"""SQLite on the event loop's own thread, behind the interface SQLAlchemy's aiosqlite dialect
drives (`create_async_engine(..., async_creator=connect_inline(path))`).

aiosqlite runs every statement on a thread of its own and wakes the loop for each result: a
create turn made about 74 such hops, and the loop sat idle in between while the one writer held
SQLite's lock. Here each call runs sqlite3 directly and its coroutine finishes without
suspending, so a whole unit of work runs in one go on one thread (the loop's), and a turn's
writer lock is held for the microseconds its statements take. What this trades: a statement
blocks the loop while it runs. With WAL and synchronous=NORMAL a commit does not fsync (a
checkpoint does, every 1,000 pages); readers never wait in WAL; writers of this process take
turns through `Database.write_lock`, so a writer only ever waits for another process (the
marketplace CLI, a migration: several serving processes are what PostgreSQL is for), and the
units' writer waits for it with the loop free (`storage.transactions.begin_immediate`).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Coroutine, Iterable, Sequence
from typing import Any


class _Cursor:
    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    async def __aenter__(self) -> _Cursor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> _Cursor:
        if parameters is None:
            self._cursor.execute(sql)
        else:
            self._cursor.execute(sql, parameters)
        return self

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> _Cursor:
        self._cursor.executemany(sql, parameters)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(size if size is not None else self._cursor.arraysize)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()

    async def nextset(self) -> None:
        return None

    async def setinputsizes(self, *sizes: Any) -> None:
        return None


class _Immediately:
    """What the dialect's isolation-level setter queues a function on: run it now."""

    def put_nowait(self, item: tuple[asyncio.Future[Any], Callable[[], Any]]) -> None:
        future, function = item
        try:
            future.set_result(function())
        except Exception as error:  # handed to the dialect, which raises it
            future.set_exception(error)


class InlineConnection:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._connection: sqlite3.Connection | None = conn
        self._tx = _Immediately()
        # While set, SQLAlchemy's rollbacks do nothing: a unit that was a part of a group's
        # transaction (storage/transactions.py) closes its session without ending the group's.
        self.keep_transaction = False

    @property
    def sqlite3_connection(self) -> sqlite3.Connection:
        """The connection itself, for statements run without SQLAlchemy (storage/statements.py)."""
        return self._conn

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    def cursor(self) -> _Cursor:
        return _Cursor(self._conn.cursor())

    async def create_function(self, *args: Any, **kw: Any) -> None:
        self._conn.create_function(*args, **kw)

    async def commit(self) -> None:
        self._conn.commit()

    async def rollback(self) -> None:
        if not self.keep_transaction:
            self._conn.rollback()

    async def close(self) -> None:
        if self._connection is not None:
            self._connection = None
            self._conn.close()

    def stop(self) -> None:
        if self._connection is not None:
            self._connection = None
            self._conn.close()


def connect_inline(database: str, *, timeout: float) -> Callable[[], Coroutine[Any, Any, Any]]:
    async def connect() -> InlineConnection:
        conn = sqlite3.connect(
            database,
            timeout=timeout,
            check_same_thread=False,
            uri=database.startswith("file:"),
            cached_statements=256,
        )
        return InlineConnection(conn)

    return connect
