"""CRM queries: accounts, contacts and opportunities, each scoped to the unit's tenant."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlmodel import SQLModel, col, select

from bot.domain.crm import OPEN_STAGES, OpportunityFilter, Stage, name_key
from bot.domain.paging import PAGE_SIZE, clamp_page
from storage.models import AccountRow, ContactRow, OpportunityRow
from storage.repositories import Repository

T = TypeVar("T", bound=SQLModel)

# What a detail card lists of an account's or a contact's opportunities.
RELATED_SHOWN = 10


def _like(text: str) -> str:
    """A LIKE pattern for a part of a name, the pattern characters taken literally."""
    escaped = name_key(text).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class CrmRepository(Repository):
    def _own(self, row: SQLModel) -> None:
        if getattr(row, "tenant_id", None) != self.tenant_id:
            raise ValueError("CRM row of another tenant")

    async def _add(self, row: T) -> T:
        self._own(row)
        session = await self.orm()
        session.add(row)
        await session.flush()
        return row

    async def _page(
        self, table: type[T], conditions: Sequence[Any], order: Sequence[Any], page: int
    ) -> tuple[list[T], int, int]:
        """A page of rows, the total, and the page shown (one past the end shows the last)."""
        total = int(
            (
                await self.execute(sa.select(sa.func.count()).select_from(table).where(*conditions))
            ).scalar_one()
        )
        page = clamp_page(page, total)
        stmt = (select(table).where(*conditions).order_by(*order).offset(page * PAGE_SIZE)).limit(
            PAGE_SIZE
        )
        return list((await self.execute(stmt)).scalars()), total, page

    # -- accounts ------------------------------------------------------------------------------

    async def add_account(self, row: AccountRow) -> AccountRow:
        return await self._add(row)

    async def account(self, number: int) -> AccountRow | None:
        stmt = select(AccountRow).where(
            AccountRow.tenant_id == self.tenant_id, AccountRow.number == number
        )
        return (await self.execute(stmt)).scalars().first()

    async def account_named(self, name: str) -> AccountRow | None:
        stmt = select(AccountRow).where(
            AccountRow.tenant_id == self.tenant_id, AccountRow.name_key == name_key(name)
        )
        return (await self.execute(stmt)).scalars().first()

    async def account_or_new(self, row: AccountRow) -> AccountRow:
        """The account of that name, inserting `row` unless a concurrent turn did first."""
        self._own(row)
        await self.execute(
            self.insert(AccountRow)
            .values(**row.model_dump(exclude={"id"}))
            .on_conflict_do_nothing(index_elements=["tenant_id", "name_key"])
        )
        stored = await self.account_named(row.name)
        assert stored is not None
        return stored

    async def accounts_by_id(self, ids: Iterable[int | None]) -> dict[int, AccountRow]:
        wanted = {i for i in ids if i is not None}
        if not wanted:
            return {}
        stmt = select(AccountRow).where(
            AccountRow.tenant_id == self.tenant_id, col(AccountRow.id).in_(wanted)
        )
        return {r.id: r for r in (await self.execute(stmt)).scalars() if r.id is not None}

    async def account_page(self, name_filter: str, page: int) -> tuple[list[AccountRow], int, int]:
        conditions: list[Any] = [AccountRow.tenant_id == self.tenant_id]
        if name_filter:
            conditions.append(col(AccountRow.name_key).like(_like(name_filter), escape="\\"))
        return await self._page(AccountRow, conditions, [col(AccountRow.name_key)], page)

    # -- contacts ------------------------------------------------------------------------------

    async def add_contact(self, row: ContactRow) -> ContactRow:
        return await self._add(row)

    async def contact(self, number: int) -> ContactRow | None:
        stmt = select(ContactRow).where(
            ContactRow.tenant_id == self.tenant_id, ContactRow.number == number
        )
        return (await self.execute(stmt)).scalars().first()

    async def contact_named(self, name: str, account_id: int | None) -> ContactRow | None:
        """The contact of that name at that account (or at none)."""
        at_account = (
            col(ContactRow.account_id).is_(None)
            if account_id is None
            else ContactRow.account_id == account_id
        )
        stmt = (
            select(ContactRow)
            .where(
                ContactRow.tenant_id == self.tenant_id,
                ContactRow.name_key == name_key(name),
                at_account,
            )
            .order_by(col(ContactRow.number))
        )
        return (await self.execute(stmt)).scalars().first()

    async def contacts_by_id(self, ids: Iterable[int | None]) -> dict[int, ContactRow]:
        wanted = {i for i in ids if i is not None}
        if not wanted:
            return {}
        stmt = select(ContactRow).where(
            ContactRow.tenant_id == self.tenant_id, col(ContactRow.id).in_(wanted)
        )
        return {r.id: r for r in (await self.execute(stmt)).scalars() if r.id is not None}

    async def contact_page(self, name_filter: str, page: int) -> tuple[list[ContactRow], int, int]:
        conditions: list[Any] = [ContactRow.tenant_id == self.tenant_id]
        if name_filter:
            conditions.append(col(ContactRow.name_key).like(_like(name_filter), escape="\\"))
        order = [col(ContactRow.name_key), col(ContactRow.number)]
        return await self._page(ContactRow, conditions, order, page)

    async def contacts_of(self, account_id: int) -> list[ContactRow]:
        stmt = (
            select(ContactRow)
            .where(ContactRow.tenant_id == self.tenant_id, ContactRow.account_id == account_id)
            .order_by(col(ContactRow.name_key))
            .limit(RELATED_SHOWN)
        )
        return list((await self.execute(stmt)).scalars())

    # -- opportunities -------------------------------------------------------------------------

    async def add_opportunity(self, row: OpportunityRow) -> OpportunityRow:
        return await self._add(row)

    async def opportunity(self, number: int, *, for_update: bool = False) -> OpportunityRow | None:
        stmt = select(OpportunityRow).where(
            OpportunityRow.tenant_id == self.tenant_id, OpportunityRow.number == number
        )
        if for_update and self.dialect == "postgresql":
            stmt = stmt.with_for_update()
        return (await self.execute(stmt)).scalars().first()

    def _visible(self, owner_id: str | None) -> list[Any]:
        """`owner_id` None: every opportunity of the tenant (agents and admins)."""
        conditions: list[Any] = [OpportunityRow.tenant_id == self.tenant_id]
        if owner_id is not None:
            conditions.append(OpportunityRow.owner_id == owner_id)
        return conditions

    async def opportunity_page(
        self, flt: OpportunityFilter, user_id: str, *, sees_all: bool, page: int
    ) -> tuple[list[OpportunityRow], int, int]:
        conditions = self._visible(None if sees_all else user_id)
        if flt is OpportunityFilter.MINE:
            conditions.append(OpportunityRow.owner_id == user_id)
        elif flt is OpportunityFilter.OPEN:
            conditions.append(col(OpportunityRow.stage).in_([s.value for s in OPEN_STAGES]))
        elif flt.stage is not None:
            conditions.append(OpportunityRow.stage == flt.stage.value)
        order = [col(OpportunityRow.updated_at).desc(), col(OpportunityRow.number).desc()]
        return await self._page(OpportunityRow, conditions, order, page)

    async def opportunities_of(
        self, owner_id: str | None, *, account_id: int | None = None, contact_id: int | None = None
    ) -> list[OpportunityRow]:
        """The newest opportunities of an account or a contact that the user may see."""
        conditions = self._visible(owner_id)
        if account_id is not None:
            conditions.append(OpportunityRow.account_id == account_id)
        if contact_id is not None:
            conditions.append(OpportunityRow.contact_id == contact_id)
        stmt = (
            select(OpportunityRow)
            .where(*conditions)
            .order_by(col(OpportunityRow.updated_at).desc(), col(OpportunityRow.number).desc())
            .limit(RELATED_SHOWN)
        )
        return list((await self.execute(stmt)).scalars())

    async def pipeline_rows(
        self, owner_id: str | None, won_since: date
    ) -> list[tuple[str, str, Any, int | None, date | None]]:
        """(stage, currency, amount, own probability, closed on) of every open opportunity and
        of those won since `won_since`."""
        conditions = self._visible(owner_id)
        conditions.append(
            sa.or_(
                col(OpportunityRow.stage).in_([s.value for s in OPEN_STAGES]),
                sa.and_(
                    col(OpportunityRow.stage) == Stage.WON.value,
                    col(OpportunityRow.closed_on) >= won_since,
                ),
            )
        )
        stmt = sa.select(
            col(OpportunityRow.stage),
            col(OpportunityRow.currency),
            col(OpportunityRow.amount),
            col(OpportunityRow.own_probability),
            col(OpportunityRow.closed_on),
        ).where(*conditions)
        return [tuple(r) for r in (await self.execute(stmt)).all()]  # type: ignore[misc]
