"""Units of work say what they are: a use-case opens one; a helper runs inside the caller's;
a reading one writes nothing and waits for no writer."""

from __future__ import annotations

import asyncio

import pytest
from sqlmodel import func, select

from bot.domain.clock import FixedClock
from bot.domain.errors import NotFound
from bot.domain.plans import load_catalog
from bot.domain.roles import Role
from bot.services import subscriptions, tickets
from bot.services.identity import Identity, find_actor
from storage.db import Database
from storage.models import PlanSegmentRow, QuotaUsageRow, SubscriptionRow, Tenant, UserAccount
from storage.uow import NestedUnitOfWork, UnitOfWorkFactory

ALICE = Identity("tenant-a", "29:alice", "Alice")
BOB = Identity("tenant-a", "29:bob", "Bob")


async def count(db: Database, model: type) -> int:
    async with db.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def test_opening_a_second_unit_of_work_in_the_same_task_raises_at_once(
    uow: UnitOfWorkFactory,
) -> None:
    async with uow("tenant-a"):
        with pytest.raises(NestedUnitOfWork):
            async with asyncio.timeout(1):
                async with uow("tenant-a"):
                    pass
    # The first one closed cleanly: the next opens.
    async with uow("tenant-a") as unit:
        await unit.commit()


async def test_other_tasks_open_their_own_units_of_work(
    uow: UnitOfWorkFactory, clock: FixedClock
) -> None:
    async def one(tenant: str) -> str:
        async with uow(tenant) as unit:
            await unit.tenants.ensure(clock.now())
            await unit.commit()
            return unit.tenant_id

    assert sorted(await asyncio.gather(one("tenant-a"), one("tenant-b"))) == [
        "tenant-a",
        "tenant-b",
    ]


async def test_a_reading_unit_of_work_writes_nothing_for_a_newcomer(
    memory_db: Database, uow: UnitOfWorkFactory
) -> None:
    async with uow.reader("tenant-a") as unit:
        actor = await find_actor(unit, ALICE)
    assert actor.role is Role.ADMIN  # what the first user of a tenant would be
    assert await count(memory_db, Tenant) == 0
    assert await count(memory_db, UserAccount) == 0


async def test_a_reading_unit_of_work_does_not_wait_for_a_writer(
    any_db: Database, clock: FixedClock
) -> None:
    uow = UnitOfWorkFactory(any_db)

    async def read_while_a_write_is_open() -> None:
        async with uow.reader("tenant-a") as unit:
            await find_actor(unit, BOB)

    async with uow("tenant-a") as unit:
        await unit.tenants.ensure(clock.now())
        # Another task reads while this write transaction holds the SQLite write lock.
        await asyncio.wait_for(asyncio.create_task(read_while_a_write_is_open()), 5)
        await unit.commit()


async def test_showing_a_ticket_reads_only(
    memory_db: Database, uow: UnitOfWorkFactory, clock: FixedClock
) -> None:
    with pytest.raises(NotFound):
        await tickets.get_ticket(uow.reader("tenant-a"), clock, BOB, 1)
    assert await count(memory_db, UserAccount) == 0


async def test_usage_plans_and_the_banner_read_only(
    memory_db: Database, uow: UnitOfWorkFactory, clock: FixedClock
) -> None:
    catalog = load_catalog()
    view = await subscriptions.usage(uow.reader("tenant-a"), clock, catalog, ALICE)
    assert view.plan == catalog.free and view.period.start == clock.now().date()
    offered = await subscriptions.plans(uow.reader("tenant-a"), clock, catalog, ALICE)
    assert offered.is_admin  # what the first user of the tenant will be
    assert await subscriptions.near_limits(uow.reader("tenant-a"), clock, catalog, 80) == ()
    for table in (Tenant, UserAccount, SubscriptionRow, PlanSegmentRow, QuotaUsageRow):
        assert await count(memory_db, table) == 0, table


async def test_a_due_scheduled_change_reads_as_applied_before_it_is_written(
    uow: UnitOfWorkFactory, clock: FixedClock
) -> None:
    catalog = load_catalog()
    async with uow("tenant-a") as unit:
        await find_actor(unit, ALICE)
        await subscriptions.load(unit, clock, catalog)
        row = await unit.billing.subscription()
        assert row is not None
        row.scheduled_plan_id, row.scheduled_on = "standard", clock.now().date()
        await unit.billing.save(row)
        await unit.commit()
    async with uow.reader("tenant-a") as unit:
        peeked = await subscriptions.peek(unit, clock, catalog)
        assert (await unit.billing.subscription()).scheduled_plan_id == "standard"  # type: ignore[union-attr]
    async with uow("tenant-a") as unit:
        loaded = await subscriptions.load(unit, clock, catalog)
        await unit.commit()
    assert (peeked.plan, peeked.eras, peeked.scheduled) == (loaded.plan, loaded.eras, None)


async def test_a_turn_is_one_transaction_its_units_join(
    uow: UnitOfWorkFactory, clock: FixedClock
) -> None:
    """Units opened during a turn join its transaction: what they commit is kept for the turn's
    commit, what they leave uncommitted is undone alone, and a turn that fails keeps nothing."""
    async with uow.turn("t1"):
        async with uow("t1") as unit:
            assert await unit.activities.claim("a-1", clock.now())
            await unit.commit()
        with pytest.raises(RuntimeError):
            async with uow("t1") as unit:
                assert await unit.activities.claim("a-2", clock.now())
                raise RuntimeError("this use-case fails")
        async with uow.reader("t1") as unit:  # reads the turn's own writes
            assert not await unit.activities.claim("a-1", clock.now())
        with pytest.raises(NestedUnitOfWork):
            async with uow("t1"), uow("t1"):
                pass
    async with uow("t1") as unit:
        assert not await unit.activities.claim("a-1", clock.now())  # committed with the turn
        assert await unit.activities.claim("a-2", clock.now())  # undone with its unit
    with pytest.raises(RuntimeError):
        async with uow.turn("t1"):
            async with uow("t1") as unit:
                assert await unit.activities.claim("a-3", clock.now())
                await unit.commit()
            raise RuntimeError("the turn fails")
    async with uow("t1") as unit:
        assert await unit.activities.claim("a-3", clock.now())  # nothing of that turn was kept
