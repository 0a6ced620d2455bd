"""Queries, each scoped to the tenant of its unit of work."""

from __future__ import annotations

from collections.abc import Sequence
from contextvars import ContextVar
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from bot.domain.paging import PAGE_SIZE, clamp_page
from bot.domain.tickets import Status, TicketFilter
from storage.models import (
    ConversationRef,
    ItemCommentRow,
    ItemEventRow,
    OutboxRow,
    PlanSegmentRow,
    ProcessedActivity,
    QuotaNoticeRow,
    QuotaUsageRow,
    RefundRow,
    SubscriptionRow,
    Tenant,
    TenantCounter,
    TicketRow,
    UserAccount,
)

# The outbox ids written during one turn: the quota middleware collects them to wake the
# proactive sender once the turn's own reply has gone.
turn_outbox: ContextVar[list[int] | None] = ContextVar("turn_outbox", default=None)


class Repository:
    def __init__(self, session: AsyncSession, tenant_id: str, dialect: str) -> None:
        self.session = session
        self.tenant_id = tenant_id
        self.dialect = dialect

    def insert(self, table: Any) -> Any:
        """An INSERT that understands ON CONFLICT on both databases."""
        return (postgresql.insert if self.dialect == "postgresql" else sqlite.insert)(table)


class TenantRepository(Repository):
    async def ensure(self, now: datetime) -> bool:
        """Create the tenant row; True only for the one caller that created it."""
        stmt = (
            self.insert(Tenant)
            .values(id=self.tenant_id, created_at=now)
            .on_conflict_do_nothing(index_elements=["id"])
        )
        result = await self.session.execute(stmt)
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def language(self) -> str | None:
        tenant = await self.session.get(Tenant, self.tenant_id)
        return tenant.language if tenant is not None else None

    async def set_language(self, language: str, now: datetime) -> None:
        await self.ensure(now)
        await self.session.execute(
            sa.update(Tenant).where(col(Tenant.id) == self.tenant_id).values(language=language)
        )

    async def created_at(self) -> datetime | None:
        tenant = await self.session.get(Tenant, self.tenant_id)
        return tenant.created_at if tenant is not None else None

    async def next_number(self, name: str) -> int:
        """Advance a per-tenant sequence in one statement (no read-then-write race)."""
        stmt = (
            self.insert(TenantCounter)
            .values(tenant_id=self.tenant_id, name=name, value=1)
            .on_conflict_do_update(
                index_elements=["tenant_id", "name"],
                set_={"value": TenantCounter.__table__.c.value + 1},  # type: ignore[attr-defined]
            )
            .returning(TenantCounter.__table__.c.value)  # type: ignore[attr-defined]
        )
        return int((await self.session.execute(stmt)).scalar_one())


class IdempotencyRepository(Repository):
    async def claim(self, activity_id: str, now: datetime) -> bool:
        """Record an activity id; False if it was already recorded (a redelivery)."""
        stmt = (
            self.insert(ProcessedActivity)
            .values(tenant_id=self.tenant_id, activity_id=activity_id, processed_at=now)
            .on_conflict_do_nothing(index_elements=["tenant_id", "activity_id"])
        )
        result = await self.session.execute(stmt)
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def release(self, activity_id: str) -> None:
        await self.session.execute(
            sa.delete(ProcessedActivity).where(
                col(ProcessedActivity.tenant_id) == self.tenant_id,
                col(ProcessedActivity.activity_id) == activity_id,
            )
        )


class UserRepository(Repository):
    async def get(self, user_id: str) -> UserAccount | None:
        return await self.session.get(UserAccount, (self.tenant_id, user_id))

    async def add(self, user: UserAccount) -> None:
        if user.tenant_id != self.tenant_id:
            raise ValueError("user of another tenant")
        self.session.add(user)
        await self.session.flush()

    async def add_if_absent(self, user: UserAccount) -> UserAccount:
        """Insert the user unless a concurrent turn did first; return the stored user."""
        if user.tenant_id != self.tenant_id:
            raise ValueError("user of another tenant")
        values = user.model_dump()
        await self.session.execute(
            self.insert(UserAccount)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["tenant_id", "id"])
        )
        stored = await self.session.get(
            UserAccount, (self.tenant_id, user.id), populate_existing=True
        )
        assert stored is not None
        return stored

    async def everyone(self, *, limit: int = 200) -> list[UserAccount]:
        """The users the bot knows in the tenant, by name."""
        stmt = (
            select(UserAccount)
            .where(UserAccount.tenant_id == self.tenant_id)
            .order_by(col(UserAccount.name), col(UserAccount.id))
            .limit(limit)
        )
        return list((await self.session.execute(stmt)).scalars())

    async def with_roles(self, roles: Sequence[str]) -> list[UserAccount]:
        stmt = (
            select(UserAccount)
            .where(UserAccount.tenant_id == self.tenant_id, col(UserAccount.role).in_(roles))
            .order_by(col(UserAccount.name))
        )
        return list((await self.session.execute(stmt)).scalars())


class ConversationRepository(Repository):
    async def get(self, conversation_id: str) -> ConversationRef | None:
        stmt = select(ConversationRef).where(
            ConversationRef.tenant_id == self.tenant_id,
            ConversationRef.conversation_id == conversation_id,
        )
        return (await self.session.execute(stmt)).scalars().first()

    async def save(self, ref: ConversationRef) -> None:
        if ref.tenant_id != self.tenant_id:
            raise ValueError("conversation of another tenant")
        self.session.add(ref)
        await self.session.flush()

    async def get_or_create(self, ref: ConversationRef) -> ConversationRef:
        """The stored row for `ref.conversation_id`, inserting `ref` if there is none yet
        (a concurrent turn may insert it first)."""
        if ref.tenant_id != self.tenant_id:
            raise ValueError("conversation of another tenant")
        values = ref.model_dump(exclude={"id"})
        await self.session.execute(
            self.insert(ConversationRef)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["tenant_id", "conversation_id"])
        )
        stored = await self.get(ref.conversation_id)
        assert stored is not None
        return stored

    async def active(self) -> list[ConversationRef]:
        stmt = (
            select(ConversationRef)
            .where(
                ConversationRef.tenant_id == self.tenant_id, col(ConversationRef.active).is_(True)
            )
            .order_by(col(ConversationRef.id))
        )
        return list((await self.session.execute(stmt)).scalars())

    async def personal_chat(self, user_id: str) -> ConversationRef | None:
        stmt = (
            select(ConversationRef)
            .where(
                ConversationRef.tenant_id == self.tenant_id,
                ConversationRef.conversation_type == "personal",
                ConversationRef.user_id == user_id,
                col(ConversationRef.active).is_(True),
            )
            .order_by(col(ConversationRef.id).desc())
        )
        return (await self.session.execute(stmt)).scalars().first()


class TicketRepository(Repository):
    async def add(self, row: TicketRow) -> TicketRow:
        if row.tenant_id != self.tenant_id:
            raise ValueError("ticket of another tenant")
        self.session.add(row)
        await self.session.flush()
        return row

    async def get(self, number: int, *, for_update: bool = False) -> TicketRow | None:
        stmt = select(TicketRow).where(
            TicketRow.tenant_id == self.tenant_id, TicketRow.number == number
        )
        if for_update and self.dialect == "postgresql":
            stmt = stmt.with_for_update()
        return (await self.session.execute(stmt)).scalars().first()

    async def due_for(self, user_id: str, day: date) -> list[TicketRow]:
        """Open tickets assigned to `user_id` that are due on `day` or before."""
        stmt = (
            select(TicketRow)
            .where(
                TicketRow.tenant_id == self.tenant_id,
                TicketRow.assignee_id == user_id,
                col(TicketRow.status).not_in([Status.RESOLVED.value, Status.CLOSED.value]),
                col(TicketRow.due) <= day,
            )
            .order_by(col(TicketRow.due), col(TicketRow.number))
            .limit(50)
        )
        return list((await self.session.execute(stmt)).scalars())

    async def page(
        self,
        flt: TicketFilter,
        user_id: str,
        *,
        sees_all: bool,
        page: int,
    ) -> tuple[list[TicketRow], int, int]:
        """A page of tickets, the total, and the page shown (one past the end shows the last)."""
        conditions: list[Any] = [TicketRow.tenant_id == self.tenant_id]
        if not sees_all:
            conditions.append(
                sa.or_(
                    col(TicketRow.requester_id) == user_id, col(TicketRow.assignee_id) == user_id
                )
            )
        closed = [Status.RESOLVED.value, Status.CLOSED.value]
        if flt is TicketFilter.MINE:
            conditions.append(
                sa.or_(
                    col(TicketRow.requester_id) == user_id, col(TicketRow.assignee_id) == user_id
                )
            )
        elif flt is TicketFilter.ASSIGNED:
            conditions.append(TicketRow.assignee_id == user_id)
        elif flt is TicketFilter.UNASSIGNED:
            conditions.append(col(TicketRow.assignee_id).is_(None))
        elif flt is TicketFilter.OPEN:
            conditions.append(col(TicketRow.status).not_in(closed))
        elif flt is TicketFilter.CLOSED:
            conditions.append(col(TicketRow.status).in_(closed))
        total = (
            await self.session.execute(
                sa.select(sa.func.count()).select_from(TicketRow).where(*conditions)
            )
        ).scalar_one()
        page = clamp_page(page, int(total))
        stmt = (
            select(TicketRow)
            .where(*conditions)
            .order_by(col(TicketRow.updated_at).desc(), col(TicketRow.number).desc())
            .offset(page * PAGE_SIZE)
            .limit(PAGE_SIZE)
        )
        return list((await self.session.execute(stmt)).scalars()), int(total), page


class ItemLogRepository(Repository):
    """Comments and history of the items of every app, keyed by (tenant, app, item id)."""

    async def add_comment(self, row: ItemCommentRow) -> None:
        if row.tenant_id != self.tenant_id:
            raise ValueError("comment of another tenant")
        self.session.add(row)
        await self.session.flush()

    async def add_event(self, row: ItemEventRow) -> None:
        if row.tenant_id != self.tenant_id:
            raise ValueError("history of another tenant")
        self.session.add(row)
        await self.session.flush()

    async def comments(self, app: str, item_id: int, *, last: int) -> list[ItemCommentRow]:
        """The `last` newest comments, oldest first."""
        stmt = (
            select(ItemCommentRow)
            .where(
                ItemCommentRow.tenant_id == self.tenant_id,
                ItemCommentRow.app == app,
                ItemCommentRow.item_id == item_id,
            )
            .order_by(col(ItemCommentRow.id).desc())
            .limit(last)
        )
        return list(reversed((await self.session.execute(stmt)).scalars().all()))

    async def events(self, app: str, item_id: int, *, last: int) -> list[ItemEventRow]:
        """The `last` newest history entries, oldest first."""
        stmt = (
            select(ItemEventRow)
            .where(
                ItemEventRow.tenant_id == self.tenant_id,
                ItemEventRow.app == app,
                ItemEventRow.item_id == item_id,
            )
            .order_by(col(ItemEventRow.id).desc())
            .limit(last)
        )
        return list(reversed((await self.session.execute(stmt)).scalars().all()))


class BillingRepository(Repository):
    async def subscription(self, *, for_update: bool = False) -> SubscriptionRow | None:
        stmt = select(SubscriptionRow).where(SubscriptionRow.tenant_id == self.tenant_id)
        if for_update and self.dialect == "postgresql":
            stmt = stmt.with_for_update()
        return (await self.session.execute(stmt)).scalars().first()

    async def create_if_absent(self, row: SubscriptionRow) -> bool:
        """Insert the subscription unless it exists; True for the one caller that inserted."""
        if row.tenant_id != self.tenant_id:
            raise ValueError("subscription of another tenant")
        result = await self.session.execute(
            self.insert(SubscriptionRow)
            .values(**row.model_dump())
            .on_conflict_do_nothing(index_elements=["tenant_id"])
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def save(self, row: SubscriptionRow | PlanSegmentRow | RefundRow) -> None:
        if row.tenant_id != self.tenant_id:
            raise ValueError("billing row of another tenant")
        self.session.add(row)
        await self.session.flush()

    async def segments(self) -> list[PlanSegmentRow]:
        stmt = (
            select(PlanSegmentRow)
            .where(PlanSegmentRow.tenant_id == self.tenant_id)
            .order_by(col(PlanSegmentRow.start), col(PlanSegmentRow.id))
        )
        return list((await self.session.execute(stmt)).scalars())

    async def refunds(self) -> list[RefundRow]:
        stmt = (
            select(RefundRow)
            .where(RefundRow.tenant_id == self.tenant_id)
            .order_by(col(RefundRow.id))
        )
        return list((await self.session.execute(stmt)).scalars())

    async def usage(self, period_start: date) -> list[QuotaUsageRow]:
        stmt = (
            select(QuotaUsageRow)
            .where(
                QuotaUsageRow.tenant_id == self.tenant_id,
                QuotaUsageRow.period_start == period_start,
            )
            # Counting is a bulk UPDATE: read what it left, not what the session remembers.
            .execution_options(populate_existing=True)
        )
        return list((await self.session.execute(stmt)).scalars())

    async def ensure_usage(self, app: str, period_start: date, limit: int) -> None:
        stmt = (
            self.insert(QuotaUsageRow)
            .values(
                tenant_id=self.tenant_id,
                app=app,
                period_start=period_start,
                used=0,
                quota_limit=limit,
            )
            .on_conflict_do_nothing(index_elements=["tenant_id", "app", "period_start"])
        )
        await self.session.execute(stmt)

    async def consume(self, app: str, period_start: date) -> tuple[int, int] | None:
        """Count one item if, and only if, the limit allows it: check and count are one
        statement, so concurrent creates can never overshoot. Returns (used, limit) after."""
        table = QuotaUsageRow.__table__  # type: ignore[attr-defined]
        stmt = (
            sa.update(table)
            .where(
                table.c.tenant_id == self.tenant_id,
                table.c.app == app,
                table.c.period_start == period_start,
                table.c.used < table.c.quota_limit,
            )
            .values(used=table.c.used + 1)
            .returning(table.c.used, table.c.quota_limit)
        )
        row = (await self.session.execute(stmt)).first()
        return (int(row[0]), int(row[1])) if row is not None else None

    async def set_limit(self, app: str, period_start: date, limit: int) -> None:
        table = QuotaUsageRow.__table__  # type: ignore[attr-defined]
        await self.session.execute(
            sa.update(table)
            .where(
                table.c.tenant_id == self.tenant_id,
                table.c.app == app,
                table.c.period_start == period_start,
            )
            .values(quota_limit=limit)
        )

    async def move_usage(self, source: date, target: date, limits: dict[str, int]) -> None:
        """Count the items of the period starting `source` in the one starting `target` instead
        (a voided purchase: what was created meanwhile counts where the tenant went back to)."""
        if source == target:
            return
        table = QuotaUsageRow.__table__  # type: ignore[attr-defined]
        moved = {r.app: r.used for r in await self.usage(source)}
        for app, limit in limits.items():
            await self.ensure_usage(app, target, limit)
            await self.session.execute(
                sa.update(table)
                .where(
                    table.c.tenant_id == self.tenant_id,
                    table.c.app == app,
                    table.c.period_start == target,
                )
                .values(used=table.c.used + moved.get(app, 0))
            )
        await self.session.execute(
            sa.update(table)
            .where(table.c.tenant_id == self.tenant_id, table.c.period_start == source)
            .values(used=0)
        )


class NoticeRepository(Repository):
    async def record(
        self, app: str, period_start: date, threshold: int, limit: int, now: datetime
    ) -> bool:
        """True only the first time this (app, period, threshold, limit) is recorded."""
        stmt = (
            self.insert(QuotaNoticeRow)
            .values(
                tenant_id=self.tenant_id,
                app=app,
                period_start=period_start,
                threshold=threshold,
                quota_limit=limit,
                created_at=now,
            )
            .on_conflict_do_nothing(
                index_elements=["tenant_id", "app", "period_start", "threshold", "quota_limit"]
            )
        )
        result = await self.session.execute(stmt)
        return bool(result.rowcount)  # type: ignore[attr-defined]


class OutboxRepository(Repository):
    async def enqueue(self, row: OutboxRow) -> None:
        if row.tenant_id != self.tenant_id:
            raise ValueError("outbox message of another tenant")
        self.session.add(row)
        await self.session.flush()
        collected = turn_outbox.get()
        if collected is not None and row.id is not None:
            collected.append(row.id)
