"""The outbox as the proactive sender sees it: across tenants, claimed row by row so that
several bot processes deliver each message once."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col

from storage.db import Database
from storage.models import ConversationRef, OutboxRow, ProcessedActivity
from storage.transactions import Transaction, transaction_for

PENDING = "pending"
SENDING = "sending"
SENT = "sent"
FAILED = "failed"


@dataclass(frozen=True)
class Claimed:
    id: int
    tenant_id: str
    conversation_ref_id: int
    conversation_id: str
    reference: str
    thread_conversation_id: str | None
    recipient_id: str | None
    kind: str
    payload: str
    locale: str | None
    attempts: int
    created_at: datetime


class OutboxStore:
    def __init__(self, db: Database, worker: str | None = None) -> None:
        self.db = db
        self.worker = worker or uuid.uuid4().hex[:16]

    async def _run(self, statement: sa.Executable) -> None:
        async with _Transaction(self.db) as conn:
            await conn.execute(statement)

    async def claim(self, now: datetime, limit: int, lease: timedelta) -> list[Claimed]:
        """Take up to `limit` due messages (oldest first), and messages whose claim expired
        (their process died mid-send). PostgreSQL skips rows another process holds."""
        outbox = OutboxRow.__table__  # type: ignore[attr-defined]
        conv = ConversationRef.__table__  # type: ignore[attr-defined]
        due = sa.or_(
            sa.and_(outbox.c.status == PENDING, outbox.c.next_attempt_at <= now),
            sa.and_(outbox.c.status == SENDING, outbox.c.claimed_until < now),
        )
        pick = sa.select(outbox.c.id).where(due).order_by(outbox.c.id).limit(limit)
        if not self.db.is_sqlite:
            pick = pick.with_for_update(skip_locked=True)
        claim = (
            sa.update(outbox)
            .where(outbox.c.id.in_(pick.scalar_subquery()))
            .values(status=SENDING, claimed_by=self.worker, claimed_until=now + lease)
            .returning(outbox.c.id)
        )
        async with _Transaction(self.db) as conn:
            ids = [row[0] for row in (await conn.execute(claim)).all()]
            if not ids:
                return []
            rows = (
                await conn.execute(
                    sa.select(
                        outbox.c.id,
                        outbox.c.tenant_id,
                        outbox.c.conversation_ref_id,
                        conv.c.conversation_id,
                        conv.c.reference,
                        outbox.c.thread_conversation_id,
                        outbox.c.recipient_id,
                        outbox.c.kind,
                        outbox.c.payload,
                        outbox.c.locale,
                        outbox.c.attempts,
                        outbox.c.created_at,
                    )
                    .join(conv, conv.c.id == outbox.c.conversation_ref_id)
                    .where(outbox.c.id.in_(ids))
                    .order_by(outbox.c.id)
                )
            ).all()
        return [Claimed(**row._mapping) for row in rows]

    async def _finish(self, message_id: int, **values: object) -> None:
        outbox = OutboxRow.__table__  # type: ignore[attr-defined]
        # Only the claimant may finish a message: a process whose lease ran out lost it.
        await self._run(
            sa.update(outbox)
            .where(outbox.c.id == message_id, outbox.c.claimed_by == self.worker)
            .values(claimed_until=None, **values)
        )

    async def sent(self, message_id: int, now: datetime) -> None:
        await self._finish(message_id, status=SENT, sent_at=now)

    async def retry(self, message_id: int, at: datetime, attempts: int, error: str) -> None:
        await self._finish(
            message_id,
            status=PENDING,
            next_attempt_at=at,
            attempts=attempts,
            last_error=error[:400],
        )

    async def postpone(self, message_id: int, at: datetime) -> None:
        """Not an attempt: the conversation's rate limit is full until `at`."""
        await self._finish(message_id, status=PENDING, next_attempt_at=at)

    async def failed(self, message_id: int, attempts: int, error: str) -> None:
        await self._finish(message_id, status=FAILED, attempts=attempts, last_error=error[:400])

    async def deactivate(self, conversation_ref_id: int, now: datetime) -> None:
        conv = ConversationRef.__table__  # type: ignore[attr-defined]
        await self._run(
            sa.update(conv)
            .where(conv.c.id == conversation_ref_id)
            .values(active=False, updated_at=now)
        )

    async def prune(
        self,
        now: datetime,
        *,
        activities_after: timedelta = timedelta(days=2),
        sent_after: timedelta = timedelta(days=7),
        failed_after: timedelta = timedelta(days=30),
    ) -> int:
        """Forget what no longer matters: activity ids older than any redelivery, delivered
        messages after a week, failed ones (kept for inspection) after a month."""
        outbox = OutboxRow.__table__  # type: ignore[attr-defined]
        seen = ProcessedActivity.__table__  # type: ignore[attr-defined]
        removed = 0
        async with _Transaction(self.db) as conn:
            for statement in (
                sa.delete(seen).where(seen.c.processed_at < now - activities_after),
                sa.delete(outbox).where(
                    outbox.c.status == SENT, outbox.c.created_at < now - sent_after
                ),
                sa.delete(outbox).where(
                    outbox.c.status == FAILED, outbox.c.created_at < now - failed_after
                ),
            ):
                removed += (await conn.execute(statement)).rowcount
        return removed

    async def remember_personal_chat(
        self,
        tenant_id: str,
        user_id: str,
        conversation_id: str,
        service_url: str,
        reference: str,
        now: datetime,
    ) -> None:
        """Store the personal chat the sender just opened, so later messages use it."""
        conv = ConversationRef.__table__  # type: ignore[attr-defined]
        insert = (postgresql.insert if not self.db.is_sqlite else sqlite.insert)(conv)
        statement = insert.values(
            tenant_id=tenant_id,
            conversation_id=conversation_id,
            conversation_type="personal",
            user_id=user_id,
            service_url=service_url,
            reference=reference,
            active=True,
            created_at=now,
            updated_at=now,
        ).on_conflict_do_update(
            index_elements=["tenant_id", "conversation_id"],
            set_={"active": True, "user_id": user_id, "reference": reference, "updated_at": now},
        )
        async with _Transaction(self.db) as conn:
            await conn.execute(statement)

    async def counts(self) -> dict[str, int]:
        outbox = OutboxRow.__table__  # type: ignore[attr-defined]
        async with self.db.engine.connect() as conn:
            rows = (
                await conn.execute(
                    sa.select(outbox.c.status, sa.func.count()).group_by(outbox.c.status)
                )
            ).all()
        return {str(status): int(count) for status, count in rows}

    async def next_due(self) -> datetime | None:
        outbox = OutboxRow.__table__  # type: ignore[attr-defined]
        async with self.db.engine.connect() as conn:
            return (
                await conn.execute(
                    sa.select(sa.func.min(outbox.c.next_attempt_at)).where(
                        col(outbox.c.status) == PENDING
                    )
                )
            ).scalar_one_or_none()


class _Transaction:
    """A transaction of the outbox's own, on a connection the units of work use
    (`transaction_for`): on SQLite the units' writer, holding `write_lock` while it lasts (its
    BEGIN IMMEDIATE waits for another process's lock with the loop free: `begin_immediate`); on
    PostgreSQL one of the units' held connections (`PgConnections`), so that the proactive
    sender's concurrent writes open no connections of the engine's beside them."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._tx: Transaction | None = None
        self._locked = False

    async def __aenter__(self) -> AsyncConnection:
        if self.db.write_lock is not None:
            await self.db.write_lock.acquire()
            self._locked = True
        try:
            self._tx = transaction_for(self.db, read_only=False)
            await self._tx.begin()
            return await self._tx.connection()
        except BaseException:
            await self._close()
            raise

    async def __aexit__(self, *exc: object) -> None:
        try:
            if exc[0] is None and self._tx is not None:
                await self._tx.commit()
        finally:
            await self._close()

    async def _close(self) -> None:
        try:
            if self._tx is not None:
                await self._tx.close()  # rolls back what did not commit
        finally:
            self._tx = None
            if self._locked:
                self._locked = False
                assert self.db.write_lock is not None
                self.db.write_lock.release()
