"""The marketplace's side of a tenant: its SaaS subscription as the Fulfillment API last said,
the webhook operations already handled (each operation id once), and the plan changes an admin
asked for in chat that wait for the marketplace."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel, col, select

from storage.db import Database
from storage.models import UTCDateTime, ts
from storage.repositories import Repository
from storage.statements import Statement

REQUESTED = "requested"
SENT = "sent"


class MarketplaceSubscriptionRow(SQLModel, table=True):
    """One SaaS subscription of the marketplace, keyed by its id; `tenant_id` is the
    beneficiary's tenant, whose subscription it drives."""

    __tablename__ = "marketplace_subscriptions"
    id: str = Field(primary_key=True, max_length=64)
    tenant_id: str = Field(max_length=64, index=True)
    offer_id: str = Field(default="", max_length=200)
    plan_id: str = Field(default="", max_length=64)  # the marketplace's plan id
    quantity: int | None = None
    status: str = Field(default="", max_length=32)  # saasSubscriptionStatus
    name: str = Field(default="", max_length=200)
    purchaser_tenant_id: str | None = Field(default=None, max_length=64)
    purchaser_object_id: str | None = Field(default=None, max_length=64)
    purchaser_email: str | None = Field(default=None, max_length=320)
    beneficiary_email: str | None = Field(default=None, max_length=320)
    # The purchaser was made an admin of the tenant (at activation or at first contact).
    purchaser_admin: bool = False
    term_start: date | None = None
    term_end: date | None = None
    created_at: datetime = ts()
    updated_at: datetime = ts()


class MarketplaceOperationRow(SQLModel, table=True):
    """An operation id of the marketplace (a webhook, or the answer to our own PATCH) that
    was handled: claimed in the transaction that applies it, so it is applied once."""

    __tablename__ = "marketplace_operations"
    id: str = Field(primary_key=True, max_length=64)
    tenant_id: str = Field(max_length=64, index=True)
    subscription_id: str = Field(max_length=64)
    action: str = Field(max_length=32)
    outcome: str = Field(max_length=16)  # applied | refused | ignored
    detail: str = Field(default="", max_length=400)
    created_at: datetime = ts()


class MarketplaceRequestRow(SQLModel, table=True):
    """A plan change an admin asked for in chat: sent to the marketplace (PATCH) by the
    marketplace worker, applied when the marketplace says the operation succeeded."""

    __tablename__ = "marketplace_requests"
    id: int | None = Field(default=None, primary_key=True)
    tenant_id: str = Field(max_length=64, index=True)
    subscription_id: str = Field(max_length=64)
    plan_id: str = Field(max_length=64)  # the catalog plan
    marketplace_plan: str = Field(max_length=64)
    status: str = Field(max_length=16)  # requested | sent | done | failed
    operation_id: str | None = Field(default=None, max_length=64)
    created_at: datetime = ts()
    updated_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


def _claim_purchaser(_dialect: str) -> Any:
    table: Any = MarketplaceSubscriptionRow.__table__  # type: ignore[attr-defined]
    return (
        sa.update(table)
        .where(
            table.c.tenant_id == sa.bindparam("tenant_id"),
            table.c.purchaser_object_id == sa.bindparam("who"),
            table.c.purchaser_admin.is_(False),
        )
        .values(purchaser_admin=True)
    )


# Every first contact of a user runs it: compiled once (storage/statements.py).
CLAIM_PURCHASER = Statement(_claim_purchaser)


class MarketplaceRepository(Repository):
    async def subscription(self) -> MarketplaceSubscriptionRow | None:
        """The tenant's live marketplace subscription (the newest, if it bought twice)."""
        stmt = (
            select(MarketplaceSubscriptionRow)
            .where(MarketplaceSubscriptionRow.tenant_id == self.tenant_id)
            .order_by(col(MarketplaceSubscriptionRow.updated_at).desc())
        )
        return (await self.execute(stmt)).scalars().first()

    async def get(self, subscription_id: str) -> MarketplaceSubscriptionRow | None:
        stmt = select(MarketplaceSubscriptionRow).where(
            MarketplaceSubscriptionRow.id == subscription_id,
            MarketplaceSubscriptionRow.tenant_id == self.tenant_id,
        )
        return (await self.execute(stmt)).scalars().first()

    async def save(
        self, row: MarketplaceSubscriptionRow | MarketplaceRequestRow | MarketplaceOperationRow
    ) -> None:
        if row.tenant_id != self.tenant_id:
            raise ValueError("marketplace row of another tenant")
        session = await self.orm()
        session.add(row)
        await session.flush()

    async def claim_operation(
        self, operation_id: str, subscription_id: str, action: str, now: datetime
    ) -> bool:
        """Record the operation as handled; True only for the one caller that recorded it."""
        stmt = (
            self.insert(MarketplaceOperationRow)
            .values(
                id=operation_id,
                tenant_id=self.tenant_id,
                subscription_id=subscription_id,
                action=action,
                outcome="applied",
                detail="",
                created_at=now,
            )
            .on_conflict_do_nothing(index_elements=["id"])
        )
        result = await self.execute(stmt)
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def set_outcome(self, operation_id: str, outcome: str, detail: str) -> None:
        await self.execute(
            sa.update(MarketplaceOperationRow)
            .where(
                col(MarketplaceOperationRow.id) == operation_id,
                col(MarketplaceOperationRow.tenant_id) == self.tenant_id,
            )
            .values(outcome=outcome, detail=detail[:400])
        )

    async def claim_purchaser(self, aad_object_id: str) -> bool:
        """The user with this Entra object id bought the tenant's subscription and was not
        made admin yet: mark it done and say so."""
        db = await self.db()
        return bool(await db.run(CLAIM_PURCHASER, tenant_id=self.tenant_id, who=aad_object_id))

    async def request_of_operation(self, operation_id: str) -> MarketplaceRequestRow | None:
        """The plan change of ours that is still waiting for the operation `operation_id`."""
        stmt = select(MarketplaceRequestRow).where(
            MarketplaceRequestRow.tenant_id == self.tenant_id,
            MarketplaceRequestRow.operation_id == operation_id,
            col(MarketplaceRequestRow.status).in_((REQUESTED, SENT)),
        )
        return (await self.execute(stmt)).scalars().first()

    async def requests(self, statuses: tuple[str, ...]) -> list[MarketplaceRequestRow]:
        stmt = (
            select(MarketplaceRequestRow)
            .where(
                MarketplaceRequestRow.tenant_id == self.tenant_id,
                col(MarketplaceRequestRow.status).in_(statuses),
            )
            .order_by(col(MarketplaceRequestRow.id))
        )
        return list((await self.execute(stmt)).scalars())


class MarketplaceStore:
    """Lookups across tenants, for the webhook and the worker (who do not know the tenant yet):
    each runs in a short reading transaction of its own."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def tenant_of(self, subscription_id: str) -> str | None:
        async with self.db.readers() as session:
            stmt = select(MarketplaceSubscriptionRow.tenant_id).where(
                MarketplaceSubscriptionRow.id == subscription_id
            )
            return (await session.execute(stmt)).scalars().first()

    async def handled(self, operation_id: str) -> bool:
        async with self.db.readers() as session:
            stmt = select(MarketplaceOperationRow.id).where(
                MarketplaceOperationRow.id == operation_id
            )
            return (await session.execute(stmt)).scalars().first() is not None

    async def tenants_with_requests(self) -> list[str]:
        async with self.db.readers() as session:
            stmt = (
                select(MarketplaceRequestRow.tenant_id)
                .where(col(MarketplaceRequestRow.status).in_((REQUESTED, SENT)))
                .distinct()
            )
            return list((await session.execute(stmt)).scalars())
