"""Unit of work: one transaction, bound to one tenant, rolled back unless committed."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database
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


class UnitOfWork:
    """Every repository of a unit of work is scoped to its tenant, so a query cannot leave it."""

    session: AsyncSession

    def __init__(self, db: Database, tenant_id: str) -> None:
        if not tenant_id:
            raise ValueError("a unit of work needs a tenant")
        self.db = db
        self.tenant_id = tenant_id
        self._committed = False

    async def __aenter__(self) -> Self:
        if self.db.write_lock is not None:
            await self.db.write_lock.acquire()
        try:
            self.session = self.db.sessions()
            await self.session.begin()
        except BaseException:
            if self.db.write_lock is not None:
                self.db.write_lock.release()
            raise
        dialect = self.db.engine.dialect.name
        self.tenants = TenantRepository(self.session, self.tenant_id, dialect)
        self.users = UserRepository(self.session, self.tenant_id, dialect)
        self.conversations = ConversationRepository(self.session, self.tenant_id, dialect)
        self.tickets = TicketRepository(self.session, self.tenant_id, dialect)
        self.items = ItemLogRepository(self.session, self.tenant_id, dialect)
        self.activities = IdempotencyRepository(self.session, self.tenant_id, dialect)
        self.billing = BillingRepository(self.session, self.tenant_id, dialect)
        self.notices = NoticeRepository(self.session, self.tenant_id, dialect)
        self.outbox = OutboxRepository(self.session, self.tenant_id, dialect)
        return self

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
            if self.db.write_lock is not None:
                self.db.write_lock.release()


class UnitOfWorkFactory:
    """What services receive: `async with uow_factory(tenant_id) as uow: ...`."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def __call__(self, tenant_id: str) -> UnitOfWork:
        return UnitOfWork(self.db, tenant_id)
