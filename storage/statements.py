"""The hot path's statements: built from the tables once, compiled once per dialect, run on the
unit of work's own connection without the ORM.

Through the ORM a statement was built, keyed, looked up in the compiled cache, executed through
the session and its results loaded into the identity map on every execution: about 0.2 ms of CPU
each, where SQLite itself takes a few microseconds. A `Statement` here is a SQLAlchemy Core
statement (so the SQL still comes from the SQLModel tables and the dialect), compiled the first
time a dialect needs it into SQL text, the order of its parameters and the column types' own
bind and result processors (SQLAlchemy's, so a value written here reads back as the ORM reads
it, and the other way round). It then runs, inside the unit of work's transaction:

- on SQLite, on the sqlite3 connection itself (the connection runs on the loop's thread, see
  `storage/sqlite_inline.py`): no await, no greenlet, no result object;
- on PostgreSQL, on the asyncpg connection of the session (asyncpg prepares it once per
  connection), inside the transaction SQLAlchemy's adapter began.

Rows come back as tuples; the repositories turn them into their rows. Every parameter is a
named `sa.bindparam`, given at every execution (a missing one is a KeyError, not a NULL).
"""

from __future__ import annotations

import collections
import contextlib
import sqlite3
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine.interfaces import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm.base import manager_of_class
from sqlalchemy.sql.expression import Executable
from sqlmodel import SQLModel

Processor = Callable[[Any], Any] | None
M = TypeVar("M", bound=SQLModel)
T = TypeVar("T")


@dataclass(frozen=True)
class Prepared:
    sql: str
    # An INSERT, UPDATE or DELETE, or a statement with one in its WITH (a joined unit's
    # savepoint is taken before the first one).
    writes: bool
    # (name, default, bind processor) of each parameter, in order. A literal of the statement
    # (`.values(used=0)`) is a bind with a value: its default.
    plan: tuple[tuple[str, Any, Processor], ...]
    # (index, processor) of each result column that has a result processor: what `_row`
    # visits (the others come back as the driver gave them).
    processed: tuple[tuple[int, Callable[[Any], Any]], ...]


class Statement:
    """A Core statement, built and compiled once per dialect, on first use (`build` is given
    the dialect's name: "sqlite" or "postgresql", for what differs, such as ON CONFLICT)."""

    def __init__(self, build: Callable[[str], Executable]) -> None:
        self._build = build
        self._prepared: dict[str, Prepared] = {}

    def prepared(self, dialect: Dialect) -> Prepared:
        found = self._prepared.get(dialect.name)
        if found is not None:
            return found
        statement: Any = self._build(dialect.name)
        compiled = statement.compile(dialect=dialect)
        names = tuple(compiled.positiontup or ())
        binds = tuple(_bind_processor(compiled.binds[n].type, dialect) for n in names)
        defaults = tuple(
            _REQUIRED if compiled.binds[n].required else compiled.binds[n].value for n in names
        )
        columns: Sequence[Any] = ()
        if getattr(statement, "selected_columns", None) is not None:
            columns = list(statement.selected_columns)
        elif getattr(statement, "_returning", None):
            columns = list(statement._returning)
        results = tuple(
            _result_processor(getattr(c, "type", sa.types.NullType()), dialect) for c in columns
        )
        plan = tuple(zip(names, defaults, binds, strict=True))
        # A SELECT whose WITH holds an INSERT, UPDATE or DELETE (PostgreSQL) writes too.
        writes = bool(compiled.isinsert or compiled.isupdate or compiled.isdelete) or any(
            cte.element.is_dml for cte in compiled.ctes or ()
        )
        processed = tuple((i, p) for i, p in enumerate(results) if p is not None)
        found = Prepared(str(compiled), writes, plan, processed)
        self._prepared[dialect.name] = found
        return found


def _bind_processor(type_: Any, dialect: Dialect) -> Processor:
    processor: Processor = type_.dialect_impl(dialect).bind_processor(dialect)
    return processor


# PostgreSQL's type of NUMERIC columns: the asyncpg dialect picks its processor by the type the
# server reports, which a result read here does not carry (asyncpg gives Decimal for it).
PG_NUMERIC = 1700


def _result_processor(type_: Any, dialect: Dialect) -> Processor:
    coltype = PG_NUMERIC if dialect.name == "postgresql" and isinstance(type_, sa.Numeric) else None
    processor: Processor = type_.dialect_impl(dialect).result_processor(dialect, coltype)
    return processor


_REQUIRED = object()


def _params(prepared: Prepared, values: Mapping[str, Any]) -> list[Any]:
    """The statement's parameters in order, each through its type's bind processor (a plain
    loop: this runs for every parameter of every statement of a turn)."""
    params = []
    for name, default, process in prepared.plan:
        value = values[name] if default is _REQUIRED else values.get(name, default)
        if process is not None and value is not None:
            value = process(value)
        params.append(value)
    return params


def _row(prepared: Prepared, row: Sequence[Any]) -> tuple[Any, ...]:
    """The row with each value of a column that has a result processor processed (None stays
    None), visiting those columns only (a ticket has sixteen, three of them processed: its
    times and due date). callgrind counts a page the same as through every column."""
    values = list(row)
    for index, process in prepared.processed:
        value = values[index]
        if value is not None:
            values[index] = process(value)
    return tuple(values)


class Driver:
    """Runs prepared statements inside one unit of work's transaction."""

    def __init__(self, dialect: Dialect, connection: AsyncConnection | None) -> None:
        self.dialect = dialect
        # SQLAlchemy's connection, if the transaction is SQLAlchemy's (not on SQLite).
        self._connection = connection
        self._sqlite: sqlite3.Connection | None = None
        self._asyncpg: Any = None
        self._pg_connection: Any = None
        self._savepoints = 0
        # The savepoint a joined unit asked for, taken before its first write (`savepoint`).
        self._pending: str | None = None
        # The savepoints taken and not released, oldest first.
        self._taken: list[str] = []
        # The rows read here, with the values they were read with: saving one writes only the
        # columns that changed since, as the ORM did (so a concurrent change to another column
        # of the row is not overwritten with what this transaction read before it).
        self.read: dict[int, tuple[Any, tuple[Any, ...]]] = {}
        # How often a unit's writes were undone (`rollback_to`): what was read before may
        # hold them no more.
        self.rolled_back = 0

    @property
    def connection(self) -> AsyncConnection:
        assert self._connection is not None, "a sqlite3 transaction has no SQLAlchemy connection"
        return self._connection

    @classmethod
    def on_sqlite(cls, dialect: Dialect, connection: sqlite3.Connection) -> Driver:
        """The driver of a transaction on a sqlite3 connection (storage/transactions.py)."""
        driver = cls(dialect, None)
        driver._sqlite = connection
        return driver

    @classmethod
    def on_asyncpg(cls, dialect: Dialect, connection: AsyncConnection, asyncpg: Any) -> Driver:
        """The driver of a transaction begun on the asyncpg connection under SQLAlchemy's
        `connection` (storage/transactions.py `PgTransaction`)."""
        driver = cls(dialect, connection)
        driver._asyncpg = driver._pg_connection = asyncpg
        return driver

    @classmethod
    async def of(cls, connection: AsyncConnection) -> Driver:
        """The driver of `connection`, inside its transaction (which it begins now)."""
        driver = cls(connection.dialect, connection)
        if connection.dialect.name == "sqlite":
            raw = await connection.get_raw_connection()
            inline = raw.driver_connection
            sqlite = getattr(inline, "sqlite3_connection", None)
            if isinstance(sqlite, sqlite3.Connection):
                driver._sqlite = sqlite
        elif connection.dialect.driver == "asyncpg":
            raw = await connection.get_raw_connection()
            driver._pg_connection = raw.driver_connection
            adapted: Any = raw.dbapi_connection
            # SQLAlchemy's asyncpg adapter begins the transaction with the first statement it
            # runs itself (SQLAlchemy 2.1, pinned in requirements.txt); begin it now, so that
            # what runs on asyncpg directly is inside it. Without that hook, go through it.
            if getattr(adapted, "_transaction", None) is None:
                start = getattr(adapted, "_start_transaction", None)
                if start is None:
                    return driver
                await driver.guarded(start())
            driver._asyncpg = raw.driver_connection
        return driver

    async def guarded(self, call: Awaitable[T]) -> T:
        """Await a call on asyncpg directly. SQLAlchemy does not see its errors: when the
        connection died (a restarted server, a failover), tell the pool, which otherwise hands
        the dead connection out again and again."""
        try:
            return await call
        except Exception:
            closed = getattr(self._pg_connection, "is_closed", None)
            if closed is not None and closed():
                with contextlib.suppress(Exception):  # the error to report is the first one
                    await self.connection.invalidate()
            raise

    async def rows(self, statement: Statement, **values: Any) -> list[tuple[Any, ...]]:
        """The rows a SELECT (or a statement with RETURNING) gives, its types converted."""
        prepared = statement.prepared(self.dialect)
        params = _params(prepared, values)
        if self._pending is not None and prepared.writes:
            await self.take_savepoint()
        if self._sqlite is not None:
            fetched: Sequence[Sequence[Any]] = self._sqlite.execute(prepared.sql, params).fetchall()
        elif self._asyncpg is not None:
            fetched = await self.guarded(self._asyncpg.fetch(prepared.sql, *params))
        else:
            fetched = (await self.connection.exec_driver_sql(prepared.sql, params)).fetchall()
        if not prepared.processed:
            return [tuple(r) for r in fetched]
        return [_row(prepared, r) for r in fetched]

    async def first(self, statement: Statement, **values: Any) -> tuple[Any, ...] | None:
        found = await self.rows(statement, **values)
        return found[0] if found else None

    async def _sql(self, text: str) -> None:
        if self._sqlite is not None:
            self._sqlite.execute(text)
        elif self._asyncpg is not None:
            await self.guarded(self._asyncpg.execute(text))
        else:
            await self.connection.exec_driver_sql(text)

    def savepoint(self) -> str:
        """A savepoint for a joined unit, taken only before the unit's first write: an
        INSERT, UPDATE or DELETE here, or the first use of the ORM session (the transaction's
        `orm()` takes it). A unit that only reads (a list, a view) costs no SAVEPOINT,
        a round trip on PostgreSQL; what it read needs no undoing. A row lock it took (FOR
        UPDATE) is then held until the turn ends, as the turn's own are. A statement that fails
        before the unit's first write fails the turn (PostgreSQL aborts the transaction), as
        any database error does: a turn catches only domain errors."""
        self._savepoints += 1
        self._pending = f"unit_{self._savepoints}"
        return self._pending

    async def take_savepoint(self) -> None:
        """Take the savepoint asked for, if it is not taken yet."""
        name, self._pending = self._pending, None
        if name is not None:
            await self._sql(f"SAVEPOINT {name}")
            self._taken.append(name)

    def end_savepoint(self, name: str) -> bool:
        """The unit of savepoint `name` ends: True if it was taken (there is something to roll
        back to), False if the unit wrote nothing."""
        if self._pending == name:
            self._pending = None
            return False
        return True

    async def rollback_to(self, name: str) -> bool:
        """Undo what was written since savepoint `name`; False if it was never taken (the unit
        wrote nothing: there is nothing to undo)."""
        if not self.end_savepoint(name):
            return False
        self.rolled_back += 1
        await self._sql(f"ROLLBACK TO SAVEPOINT {name}")
        await self._sql(f"RELEASE SAVEPOINT {name}")
        if name in self._taken:  # it and every later one are released
            del self._taken[self._taken.index(name) :]
        return True

    async def release_savepoints(self) -> None:
        """Release every savepoint still taken (the oldest, and with it the later ones): the
        transaction's units are over, and nothing returns to them."""
        if self._taken:
            await self._sql(f"RELEASE SAVEPOINT {self._taken[0]}")
            self._taken.clear()

    async def run(self, statement: Statement, **values: Any) -> int:
        """Run an INSERT, UPDATE or DELETE; the number of rows it touched."""
        prepared = statement.prepared(self.dialect)
        params = _params(prepared, values)
        if self._pending is not None and prepared.writes:
            await self.take_savepoint()
        if self._sqlite is not None:
            return self._sqlite.execute(prepared.sql, params).rowcount
        if self._asyncpg is not None:
            # asyncpg answers with the command tag: "INSERT 0 1", "UPDATE 3", "DELETE 0".
            status: str = await self.guarded(self._asyncpg.execute(prepared.sql, *params))
            return int(status.rsplit(" ", 1)[-1])
        result: Any = await self.connection.exec_driver_sql(prepared.sql, params)
        return int(result.rowcount)


def table_name(model: type[SQLModel]) -> str:
    name: str = model.__table__.name  # type: ignore[attr-defined]
    return name


def columns_of(model: type[SQLModel]) -> list[str]:
    return [c.name for c in model.__table__.columns]  # type: ignore[attr-defined]


def select_all(
    model: type[SQLModel],
    *where: str,
    order_by: Sequence[str] = (),
    limited: bool = False,
    for_update: bool = False,
) -> Statement:
    """SELECT every column of `model` WHERE each named column equals the bind of its name; with
    `limited`, at most the bind `limit` rows; `for_update` locks the rows on PostgreSQL (SQLite
    has one writer, whose transaction began IMMEDIATE)."""

    def build(dialect: str) -> Executable:
        table: Any = model.__table__  # type: ignore[attr-defined]
        statement = sa.select(*table.columns).where(
            *(table.c[name] == sa.bindparam(name) for name in where)
        )
        statement = statement.order_by(*(_order(table, o) for o in order_by))
        if limited:
            statement = statement.limit(sa.bindparam("limit", type_=sa.Integer()))
        if for_update and dialect == "postgresql":
            statement = statement.with_for_update()
        return statement

    return Statement(build)


def _order(table: Any, name: str) -> Any:
    if name.startswith("-"):
        return table.c[name[1:]].desc()
    return table.c[name]


def to_model(model: type[M], names: Sequence[str], row: Sequence[Any]) -> M:
    """A transient row object of `model` from a fetched tuple."""
    return _maker(model).make(dict(zip(names, row, strict=True)))


def new_row(model: type[M], **values: Any) -> M:
    """A transient row object of `model`, as `model(**values)` makes it (a table model does not
    validate), at a twelfth of the cost (a ticket: 5.5 µs against 67): what pydantic's
    `model_construct` does for it (the defaults filled in), with the model's fields read once,
    and SQLAlchemy's instance state. For the rows a turn makes and reads on the hot path."""
    return _maker(model).make(values)


# Defaults a row may share with every other row: model_construct deep-copies the others.
_IMMUTABLE = (type(None), bool, int, float, str, bytes, Decimal, date, time, datetime, Enum)


class _Maker(Generic[M]):
    """How `new_row` makes the rows of one model.

    pydantic's `model_construct` looks at every field's aliases and asks whether it is required
    and for its default on every call: about 0.5 µs a field, 8 µs a ticket (with the instance
    state, 10.6 µs; this, 5.5). Here that is read once, and a row is made as model_construct
    makes it: `__dict__` with the given values and the defaults of the rest, in the fields'
    order; `__pydantic_fields_set__` the given ones; no extra and no private values; a value
    for no field dropped. A model whose fields have aliases, default factories or mutable
    defaults, or that allows extra values or post-processes, goes through model_construct
    (none of ours does)."""

    def __init__(self, model: type[M]) -> None:
        sa.orm.configure_mappers()
        self.model = model
        self.manager = manager_of_class(model)
        fields = model.__pydantic_fields__
        self.fields = frozenset(fields)
        self.required = tuple(n for n, f in fields.items() if f.is_required())
        # Every field in order: its default, or _REQUIRED until a value replaces it (a dict
        # keeps a key where it is when its value changes).
        self.template = {n: _REQUIRED if f.is_required() else f.default for n, f in fields.items()}
        self.plain = (
            all(
                f.alias is None and f.validation_alias is None and f.default_factory is None
                for f in fields.values()
            )
            and all(isinstance(d, _IMMUTABLE) for d in self.template.values() if d is not _REQUIRED)
            and model.model_config.get("extra") != "allow"
            and not model.__pydantic_post_init__
            and not model.__pydantic_root_model__
        )

    def make(self, values: dict[str, Any]) -> M:
        if not self.plain:
            made = self.model.model_construct(**values)
        else:
            made = self.model.__new__(self.model)
            given = set(values)
            if not given.issubset(self.fields):
                given &= self.fields
                values = {n: v for n, v in values.items() if n in given}
            stored = self.template.copy()
            stored.update(values)
            if len(given) < len(stored):
                for name in self.required:
                    if name not in given:
                        del stored[name]
            object.__setattr__(made, "__dict__", stored)
            object.__setattr__(made, "__pydantic_fields_set__", given)
            object.__setattr__(made, "__pydantic_extra__", None)
            object.__setattr__(made, "__pydantic_private__", None)
        self.manager.setup_instance(made)
        return made


_MAKERS: dict[type[SQLModel], _Maker[Any]] = {}


def _maker(model: type[M]) -> _Maker[M]:
    found = _MAKERS.get(model)
    if found is None:
        found = _MAKERS[model] = _Maker(model)
    return found


def insert_for(dialect: str, table: Any) -> Any:
    """An INSERT that understands ON CONFLICT, on both databases."""
    return (postgresql.insert if dialect == "postgresql" else sqlite_dialect.insert)(table)


def update_by_key(model: type[SQLModel], only: frozenset[str] | None = None) -> Statement:
    """UPDATE every column of a row but its primary key and its tenant, found by primary key
    (and tenant). Not an upsert: on PostgreSQL, INSERT ... ON CONFLICT DO UPDATE locks and
    rewrites more than the row (the tenant's key, for the foreign key), and concurrent first
    turns of a tenant deadlocked on it."""

    def build(_dialect: str) -> Executable:
        table: Any = model.__table__  # type: ignore[attr-defined]
        keys = {c.name for c in table.primary_key.columns} | {"tenant_id"}
        where = [table.c[name] == sa.bindparam(name) for name in sorted(keys)]
        changed = {
            c.name: sa.bindparam(c.name, type_=c.type)
            for c in table.columns
            if c.name not in keys and (only is None or c.name in only)
        }
        done: Executable = sa.update(table).where(*where).values(changed)
        return done

    return Statement(build)


def insert_row(model: type[SQLModel]) -> Statement:
    def build(_dialect: str) -> Executable:
        table: Any = model.__table__  # type: ignore[attr-defined]
        done: Executable = sa.insert(table).values(
            {c.name: sa.bindparam(c.name, type_=c.type) for c in table.columns}
        )
        return done

    return Statement(build)


def insert_returning_id(model: type[SQLModel]) -> Statement:
    """INSERT a new row whose `id` the database assigns; gives the id back."""

    def build(_dialect: str) -> Executable:
        table: Any = model.__table__  # type: ignore[attr-defined]
        return (
            sa.insert(table)
            .values(
                {
                    c.name: sa.bindparam(c.name, type_=c.type)
                    for c in table.columns
                    if c.name != "id"
                }
            )
            .returning(table.c.id)
        )

    return Statement(build)


def values_of(row: SQLModel, names: Sequence[str]) -> dict[str, Any]:
    # A set column's value is in the instance's __dict__ (pydantic's and SQLAlchemy's both);
    # getattr (SQLAlchemy's attribute, which loads what is missing) only for what is not.
    stored = row.__dict__
    return {name: stored[name] if name in stored else getattr(row, name) for name in names}


def _record_type(name: str, names: Sequence[str]) -> Any:
    return collections.namedtuple(f"{name}Record", names)


class Rows(Generic[M]):
    """The statements that read and save whole rows of one table: read by `key` columns;
    saved by primary key (an UPDATE of the stored row, else an INSERT; a row whose `id` the
    database assigns is inserted while it has none)."""

    def __init__(
        self,
        model: type[M],
        *key: str,
        order_by: Sequence[str] = (),
        limited: bool = False,
        for_update: bool = False,
    ) -> None:
        self.model = model
        self.names = tuple(columns_of(model))
        table: Any = model.__table__  # type: ignore[attr-defined]
        id_column = table.c.get("id")
        self.generated_id = (
            id_column is not None
            and id_column.primary_key
            and isinstance(id_column.type, sa.Integer)
        )
        self.by_key = select_all(
            model, *key, order_by=order_by, limited=limited, for_update=for_update
        )
        self._update = update_by_key(model)
        self._updates: dict[frozenset[str], Statement] = {}
        self._insert_row = insert_row(model)
        self._insert = insert_returning_id(model) if self.generated_id else None
        self._insert_if_absent = insert_if_absent(model, with_id=True)
        self._insert_new_if_absent = insert_if_absent(model, with_id=False)
        self._inserted = tuple(n for n in self.names if n != "id")
        self._record: Any = _record_type(model.__name__, self.names)

    def record(self, values: Sequence[Any]) -> Any:
        """A fetched tuple with the row's column names as attributes, for a row that is only
        shown (a list's): no row object, nothing remembered, a tenth of `row`'s cost."""
        return self._record._make(values)

    def row(self, values: Sequence[Any], db: Driver | None = None) -> M:
        """The row object of a fetched tuple; with `db`, remembered as read by its transaction
        (see `save`)."""
        made = to_model(self.model, self.names, values)
        if db is not None:
            db.read[id(made)] = (made, tuple(values))
        return made

    async def first(self, db: Driver, **key: Any) -> M | None:
        found = await db.first(self.by_key, **key)
        return None if found is None else self.row(found, db)

    async def all(self, db: Driver, **key: Any) -> list[M]:
        return [self.row(r, db) for r in await db.rows(self.by_key, **key)]

    async def save(self, db: Driver, row: M) -> None:
        """Insert a new row; update a stored one. A row this transaction read is updated in the
        columns that changed since (nothing if none did); any other row in every column."""
        if self._insert is not None and getattr(row, "id", None) is None:
            inserted = await db.first(self._insert, **values_of(row, self._inserted))
            assert inserted is not None
            row.id = inserted[0]
            return
        values = values_of(row, self.names)
        seen = db.read.get(id(row))
        if seen is not None and seen[0] is row:
            changed = frozenset(
                n for n, before in zip(self.names, seen[1], strict=True) if values[n] != before
            )
            if not changed:
                return
            db.read[id(row)] = (row, tuple(values[n] for n in self.names))
            if await db.run(self._update_of(changed), **values):
                return
        elif await db.run(self._update, **values):
            return
        await db.run(self._insert_row, **values)

    async def insert(self, db: Driver, row: M) -> None:
        """Insert a new row: with the id it has, or (None) the one the database assigns. The
        row is then what is stored, read by this transaction as far as `save` is concerned."""
        values = values_of(row, self.names)
        if self._insert is not None and values.get("id") is None:
            inserted = await db.first(self._insert, **values)  # binds all but the id
            assert inserted is not None
            row.id = values["id"] = inserted[0]
        else:
            await db.run(self._insert_row, **values)
        db.read[id(row)] = (row, tuple(values.values()))

    def _update_of(self, columns: frozenset[str]) -> Statement:
        found = self._updates.get(columns)
        if found is None:
            found = self._updates[columns] = update_by_key(self.model, columns)
        return found

    async def insert_if_absent(self, db: Driver, row: M) -> bool:
        """INSERT the row unless one with its primary key (or another unique key) exists; True
        if this inserted it. The row inserted is then what is stored (with the id the database
        gave it), read by this transaction as far as `save` is concerned."""
        if self.generated_id and getattr(row, "id", None) is None:
            given = await db.first(self._insert_new_if_absent, **values_of(row, self._inserted))
            if given is None:
                return False
            row.id = given[0]
        elif not await db.run(self._insert_if_absent, **values_of(row, self.names)):
            return False
        db.read[id(row)] = (row, tuple(values_of(row, self.names).values()))
        return True


def insert_if_absent(model: type[SQLModel], *, with_id: bool) -> Statement:
    """INSERT ... ON CONFLICT DO NOTHING; without `id` when the database assigns it, and then
    RETURNING it (no row comes back when nothing was inserted)."""

    def build(dialect: str) -> Executable:
        table: Any = model.__table__  # type: ignore[attr-defined]
        columns = [c for c in table.columns if with_id or c.name != "id"]
        statement = insert_for(dialect, table).values(
            {c.name: sa.bindparam(c.name, type_=c.type) for c in columns}
        )
        done = statement.on_conflict_do_nothing()
        returned: Executable = done if with_id else done.returning(table.c.id)
        return returned

    return Statement(build)
