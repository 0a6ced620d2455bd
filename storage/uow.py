"""Unit of work: one transaction, bound to one tenant, rolled back unless committed.

A use-case opens a unit of work (`async with uow:`); a helper that runs inside the caller's
transaction takes the open one and never opens another. Opening a second unit of work in a
task that has one open raises at once: on SQLite it would wait for the first one's lock
forever. A reading unit of work (`UnitOfWorkFactory.reader`) takes no write lock.
"""

from __future__ import annotations

import asyncio
from contextvars import ContextVar
from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncSession

from storage.checklists import ChecklistRepository
from storage.crm import CrmRepository
from storage.db import Database
from storage.reminders import ReminderRepository
from storage.repositories import (
    BillingRepository,
    ConversationRepository,
    IdempotencyRepository,
    ItemLogRepository,
    NoticeRepository,
    OutboxRepository,
    TenantRepository,
    TicketRepository,
    UserRepository,
)

# The task that has a unit of work open; a task started from inside it inherits the context
# but not the unit, so the task is compared too.
_open_in: ContextVar[asyncio.Task[object] | None] = ContextVar("unit_of_work_open_in", default=None)


class NestedUnitOfWork(RuntimeError):
    """A unit of work was opened while another is open in the same task."""


class UnitOfWork:
    """Every repository of a unit of work is scoped to its tenant, so a query cannot leave it."""

    session: AsyncSession

    def __init__(self, db: Database, tenant_id: str, *, read_only: bool = False) -> None:
        if not tenant_id:
            raise ValueError("a unit of work needs a tenant")
        self.db = db
        self.tenant_id = tenant_id
        self.read_only = read_only
        self._committed = False
        self._locked = False

    async def __aenter__(self) -> Self:
        task = asyncio.current_task()
        if task is not None and _open_in.get() is task:
            raise NestedUnitOfWork(
                "a unit of work is already open in this task: pass the open one to the helper"
            )
        self._token = _open_in.set(task)
        reader_alone = self.read_only and not self.db.readers_wait_for_writers
        lock = None if reader_alone else self.db.write_lock
        if lock is not None:
            await lock.acquire()
            self._locked = True
        try:
            self.session = (self.db.readers if self.read_only else self.db.sessions)()
            await self.session.begin()
        except BaseException:
            self._release()
            raise
        dialect = self.db.engine.dialect.name
        self.tenants = TenantRepository(self.session, self.tenant_id, dialect)
        self.users = UserRepository(self.session, self.tenant_id, dialect)
        self.conversations = ConversationRepository(self.session, self.tenant_id, dialect)
        self.tickets = TicketRepository(self.session, self.tenant_id, dialect)
        self.crm = CrmRepository(self.session, self.tenant_id, dialect)
        self.items = ItemLogRepository(self.session, self.tenant_id, dialect)
        self.checklists = ChecklistRepository(self.session, self.tenant_id, dialect)
        self.reminders = ReminderRepository(self.session, self.tenant_id, dialect)
        self.activities = IdempotencyRepository(self.session, self.tenant_id, dialect)
        self.billing = BillingRepository(self.session, self.tenant_id, dialect)
        self.notices = NoticeRepository(self.session, self.tenant_id, dialect)
        self.outbox = OutboxRepository(self.session, self.tenant_id, dialect)
        return self

    def _release(self) -> None:
        if self._locked and self.db.write_lock is not None:
            self.db.write_lock.release()
            self._locked = False
        _open_in.reset(self._token)

    async def commit(self) -> None:
        await self.session.commit()
        self._committed = True

    async def rollback(self) -> None:
        await self.session.rollback()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if not self._committed:
                await self.session.rollback()
            await self.session.close()
        finally:
            self._release()


class UnitOfWorkFactory:
    """What services receive: `async with uow_factory(tenant_id) as uow: ...`."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def __call__(self, tenant_id: str) -> UnitOfWork:
        return UnitOfWork(self.db, tenant_id)

    def reader(self, tenant_id: str) -> UnitOfWork:
        """A unit of work for a use-case that only reads: no write lock, no row locks."""
        return UnitOfWork(self.db, tenant_id, read_only=True)
