"""Unit of work: one transaction, bound to one tenant, rolled back unless committed.

A use-case opens a unit of work (`async with uow:`); a helper that runs inside the caller's
transaction takes the open one and never opens another. Opening a second unit of work in a
task that has one open raises at once: on SQLite it would wait for the first one's lock
forever. A reading unit of work (`UnitOfWorkFactory.reader`) takes no write lock.

A turn is one transaction: the middleware opens the turn's unit (`UnitOfWorkFactory.turn`), and
every unit the factory hands out during the turn (for the same tenant, in the same task) joins
it instead of opening a transaction of its own. A joined unit is a savepoint: its `commit()`
keeps its writes for the turn's commit, and leaving it without committing undoes only its own
writes, exactly as a unit of its own would. The idempotency claim, first-contact recording, the
use-case and its notice and outbox rows therefore commit together, once.
"""

from __future__ import annotations

import asyncio
from contextvars import ContextVar
from types import TracebackType
from typing import Any, Generic, Self, TypeVar, overload

from sqlalchemy.ext.asyncio import AsyncSession

from storage.checklists import ChecklistRepository
from storage.crm import CrmRepository
from storage.db import Database
from storage.marketplace import MarketplaceRepository
from storage.reminders import ReminderRepository
from storage.repositories import (
    BillingRepository,
    ConversationRepository,
    IdempotencyRepository,
    ItemLogRepository,
    NoticeRepository,
    OutboxRepository,
    Repository,
    TenantRepository,
    TicketRepository,
    UserRepository,
)
from storage.transactions import Transaction, transaction_for

# The task that has a unit of work open; a task started from inside it inherits the context
# but not the unit, so the task is compared too.
_open_in: ContextVar[asyncio.Task[object] | None] = ContextVar("unit_of_work_open_in", default=None)


R = TypeVar("R", bound=Repository)
# The names of a unit's repositories.
REPOSITORIES: list[str] = []


class _Repository(Generic[R]):
    """A repository of the unit, made on first use; the units that join a turn use the turn
    unit's (the same transaction and tenant)."""

    def __init__(self, kind: type[R]) -> None:
        self.kind = kind

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name
        REPOSITORIES.append(name)

    @overload
    def __get__(self, unit: None, owner: type) -> _Repository[R]: ...
    @overload
    def __get__(self, unit: UnitOfWork, owner: type) -> R: ...
    def __get__(self, unit: UnitOfWork | None, owner: type) -> R | _Repository[R]:
        if unit is None:
            return self
        root = unit.root
        repository: R | None = root.__dict__.get(self.name)
        if repository is None:
            repository = self.kind(root.tx, root.tenant_id)
            root.__dict__[self.name] = repository
        # Found in the instance from now on (a descriptor without __set__ gives way to it).
        unit.__dict__[self.name] = repository
        return repository


class NestedUnitOfWork(RuntimeError):
    """A unit of work was opened while another is open in the same task."""


class UnitOfWork:
    """Every repository of a unit of work is scoped to its tenant, so a query cannot leave it."""

    tx: Transaction

    tenants = _Repository(TenantRepository)
    users = _Repository(UserRepository)
    conversations = _Repository(ConversationRepository)
    tickets = _Repository(TicketRepository)
    crm = _Repository(CrmRepository)
    items = _Repository(ItemLogRepository)
    checklists = _Repository(ChecklistRepository)
    reminders = _Repository(ReminderRepository)
    activities = _Repository(IdempotencyRepository)
    billing = _Repository(BillingRepository)
    notices = _Repository(NoticeRepository)
    outbox = _Repository(OutboxRepository)
    marketplace = _Repository(MarketplaceRepository)

    def __init__(self, db: Database, tenant_id: str, *, read_only: bool = False) -> None:
        if not tenant_id:
            raise ValueError("a unit of work needs a tenant")
        self.db = db
        self.tenant_id = tenant_id
        self.read_only = read_only
        self._committed = False
        self._locked = False
        # The items a use-case created in this unit, with their log as it knows it (the item
        # machinery's, bot/services/items.py): what a view of a new item need not read back.
        self.created: dict[tuple[str, int], object] = {}

    async def __aenter__(self) -> Self:
        task = asyncio.current_task()
        if task is not None and _open_in.get() is task:
            raise NestedUnitOfWork(
                "a unit of work is already open in this task: pass the open one to the helper"
            )
        self._token = _open_in.set(task)
        self._forget_repositories()
        reader_alone = self.read_only and not self.db.readers_wait_for_writers
        lock = None if reader_alone else self.db.write_lock
        if lock is not None:
            await lock.acquire()
            self._locked = True
        try:
            self.tx = transaction_for(self.db, read_only=self.read_only)
            await self.tx.begin()
        except BaseException:
            self._release()
            raise
        return self

    @property
    def root(self) -> UnitOfWork:
        """The unit that owns the transaction (and its repositories)."""
        return self

    def _forget_repositories(self) -> None:
        """A unit entered again has a new transaction: its repositories are made again."""
        for name in REPOSITORIES:
            self.__dict__.pop(name, None)

    async def orm(self) -> AsyncSession:
        """The transaction's ORM session (made on first use)."""
        return await self.tx.orm()

    def _release_lock(self) -> None:
        if self._locked and self.db.write_lock is not None:
            self.db.write_lock.release()
            self._locked = False

    def _release(self) -> None:
        self._release_lock()
        _open_in.reset(self._token)

    async def commit(self) -> None:
        # On SQLite the writer may let the next one go on before its COMMIT (group commit,
        # storage/transactions.py); it returns once its writes are committed.
        await self.tx.commit(self._release_lock if self._locked else None)
        self._committed = True

    async def rollback(self) -> None:
        await self.tx.rollback()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if not self._committed:
                await self.rollback()
            await self.tx.close()
        finally:
            self._release()


# The turn's unit, with the task it belongs to.
_turn: ContextVar[tuple[asyncio.Task[object] | None, UnitOfWork] | None] = ContextVar(
    "unit_of_work_turn", default=None
)


class JoinedUnitOfWork(UnitOfWork):
    """A unit of work inside the turn's transaction (a savepoint of it); see the module doc."""

    def __init__(self, turn: UnitOfWork, *, read_only: bool = False) -> None:
        super().__init__(turn.db, turn.tenant_id, read_only=read_only)
        self._turn_unit = turn

    async def __aenter__(self) -> Self:
        task = asyncio.current_task()
        if task is not None and _open_in.get() is task:
            raise NestedUnitOfWork(
                "a unit of work is already open in this task: pass the open one to the helper"
            )
        self._token = _open_in.set(task)
        self._forget_repositories()
        self.tx = self._turn_unit.tx
        # A reader writes nothing: it needs no savepoint to undo. The savepoint is SQL of
        # its own (SQLAlchemy's begin_nested cost more than the statements it wrapped), taken
        # only before the unit's first write (`Driver.savepoint`); the session has nothing
        # unflushed here, because every repository flushes what it adds.
        self._savepoint: str | None = None
        if not self.read_only:
            await self.tx.flush()
            self._savepoint = (await self.tx.driver()).savepoint()
        return self

    @property
    def root(self) -> UnitOfWork:
        return self._turn_unit

    async def commit(self) -> None:
        if self._savepoint is not None:
            await self.tx.flush()
            # Not released: the turn's COMMIT keeps what the savepoint holds anyway, and a
            # later unit returns to a savepoint of its own (a round trip less on PostgreSQL).
            (await self.tx.driver()).end_savepoint(self._savepoint)
            self._savepoint = None
        self._committed = True

    async def rollback(self) -> None:
        if self._savepoint is not None:
            savepoint, self._savepoint = self._savepoint, None
            # A failed ORM flush has rolled the whole transaction back already (the turn fails
            # with that error): there is no savepoint left to return to.
            if self.tx.active:
                # False if never taken: the unit wrote nothing, there is nothing to undo.
                await (await self.tx.driver()).rollback_to(savepoint)
            # What the ORM flushed since the savepoint is gone, and what the unit changed in an
            # object an earlier unit loaded is not flushed yet: it must remember neither.
            session = self.tx.session
            if session is not None:
                session.expunge_all()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if not self._committed:
                await self.rollback()
        finally:
            _open_in.reset(self._token)


class TurnUnitOfWork:
    """The turn's transaction: `async with factory.turn(tenant) as uow:`; `commit()` may come
    before the end of the block (before the reply is sent), and units opened after it are
    units of their own again."""

    def __init__(self, db: Database, tenant_id: str) -> None:
        self.unit = UnitOfWork(db, tenant_id)
        self._token: Any = None

    async def __aenter__(self) -> UnitOfWork:
        await self.unit.__aenter__()
        # The turn's unit stays open while the use-cases join it: it is not "open" for them.
        _open_in.reset(self.unit._token)
        self._token = _turn.set((asyncio.current_task(), self.unit))
        return self.unit

    @property
    def open(self) -> bool:
        return self._token is not None

    async def commit(self) -> None:
        """Commit the turn's writes and end its transaction (and SQLite's write lock)."""
        if self._token is None:
            return
        try:
            await self.unit.commit()
        finally:
            await self._close()

    async def _close(self) -> None:
        token, self._token = self._token, None
        _turn.reset(token)
        self.unit._token = _open_in.set(asyncio.current_task())
        await self.unit.__aexit__(None, None, None)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._token is None:
            return
        if exc_type is None:
            await self.commit()
        else:
            await self._close()  # rolled back: nothing of the turn is kept


class UnitOfWorkFactory:
    """What services receive: `async with uow_factory(tenant_id) as uow: ...`."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def _joined(self, tenant_id: str) -> UnitOfWork | None:
        current = _turn.get()
        if current is None or current[0] is not asyncio.current_task():
            return None
        if current[1].tenant_id != tenant_id:
            raise NestedUnitOfWork("a unit of work of another tenant inside a turn")
        return current[1]

    def __call__(self, tenant_id: str) -> UnitOfWork:
        turn = self._joined(tenant_id)
        if turn is not None:
            return JoinedUnitOfWork(turn)
        return UnitOfWork(self.db, tenant_id)

    def reader(self, tenant_id: str) -> UnitOfWork:
        """A unit of work for a use-case that only reads: no write lock, no row locks (inside
        a turn it reads the turn's transaction, which sees the turn's own writes)."""
        turn = self._joined(tenant_id)
        if turn is not None:
            return JoinedUnitOfWork(turn, read_only=True)
        return UnitOfWork(self.db, tenant_id, read_only=True)

    def turn(self, tenant_id: str) -> TurnUnitOfWork:
        """The transaction of one turn, which the units of the turn join."""
        return TurnUnitOfWork(self.db, tenant_id)
