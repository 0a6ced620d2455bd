"""The turn's claim reads its sender's user row along (PostgreSQL: one round trip, not two); a
later `users.get` of that user gives the stored row as a read of its own would, on both
databases, and reads again once the user is written or a unit's writes are undone."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from bot.domain.clock import FixedClock
from bot.domain.roles import Role
from storage.db import Database
from storage.models import UserAccount
from storage.statements import new_row
from storage.uow import UnitOfWork, UnitOfWorkFactory

TENANT = "t-along"


def _user(clock: FixedClock, user_id: str, role: Role, name: str) -> UserAccount:
    return new_row(
        UserAccount,
        tenant_id=TENANT,
        id=user_id,
        aad_object_id=None,
        name=name,
        role=role.value,
        locale="en-US",
        created_at=clock.now(),
    )


@pytest.fixture
async def units(any_db: Database, clock: FixedClock) -> UnitOfWorkFactory:
    """The units of a database whose tenant has an admin, an agent and a member."""
    factory = UnitOfWorkFactory(any_db)
    async with factory(TENANT) as unit:
        await unit.tenants.ensure(clock.now())
        await unit.users.add_if_absent(_user(clock, "u-admin", Role.ADMIN, "Ada"))
        await unit.users.add_if_absent(_user(clock, "u-agent", Role.AGENT, "Bo"))
        await unit.users.add_if_absent(_user(clock, "u-member", Role.MEMBER, "Cy"))
        await unit.commit()
    return factory


def _fields(user: UserAccount | None) -> dict[str, Any] | None:
    return None if user is None else user.model_dump()


async def _user_scans(unit: UnitOfWork) -> int | None:
    """PostgreSQL's count of this transaction's index scans of `users` (None on SQLite)."""
    if unit.db.engine.dialect.name != "postgresql":
        return None
    orm = await unit.orm()
    found = await orm.execute(
        sa.text(
            "SELECT coalesce(idx_scan, 0) + coalesce(seq_scan, 0) "
            "FROM pg_stat_xact_user_tables WHERE relname = 'users'"
        )
    )
    return int(found.scalar_one())


@pytest.mark.parametrize("user_id", ["u-admin", "u-agent", "u-member", "u-unknown"])
async def test_the_sender_read_along_is_the_stored_user(
    units: UnitOfWorkFactory, clock: FixedClock, user_id: str
) -> None:
    async with units(TENANT) as unit:
        stored = _fields(await unit.users.get(user_id))
        await unit.commit()
    async with units.turn(TENANT) as unit:
        assert await unit.activities.claim("a-1", clock.now(), sender=user_id, users=unit.users)
        assert _fields(await unit.users.get(user_id)) == stored
        # Asked with the help desk listed: the same user, and the help desk as without.
        listed = await unit.users.get(user_id, listed=[Role.ADMIN.value, Role.AGENT.value])
        assert _fields(listed) == stored
        desk = await unit.users.with_roles([Role.ADMIN.value, Role.AGENT.value])
        assert [u.id for u in desk] == ["u-admin", "u-agent"]
    # A redelivery claims nothing and still reads the sender along.
    async with units.turn(TENANT) as unit:
        claimed = await unit.activities.claim("a-1", clock.now(), sender=user_id, users=unit.users)
        assert not claimed
        assert _fields(await unit.users.get(user_id)) == stored


@pytest.mark.postgres
async def test_on_postgresql_the_claim_reads_the_sender_in_its_own_statement(
    units: UnitOfWorkFactory, clock: FixedClock
) -> None:
    if units.db.engine.dialect.name != "postgresql":
        pytest.skip("round trips are PostgreSQL's")
    async with units.turn(TENANT) as unit:
        start = await _user_scans(unit)
        assert await unit.activities.claim("a-2", clock.now(), sender="u-member", users=unit.users)
        claimed = await _user_scans(unit)
        user = await unit.users.get("u-member")
        assert user is not None and user.name == "Cy"
        assert start is not None and claimed == start + 1  # the claim's statement read it
        assert await _user_scans(unit) == claimed  # the get read nothing more


async def test_a_written_user_is_read_again(units: UnitOfWorkFactory, clock: FixedClock) -> None:
    async with units.turn(TENANT) as unit:
        await unit.activities.claim("a-3", clock.now(), sender="u-member", users=unit.users)
        user = await unit.users.get("u-member")
        assert user is not None
        user.name = "Cyrus"
        await unit.users.add(user)
        again = await unit.users.get("u-member")
        assert again is not None and again.name == "Cyrus"


async def test_a_newcomer_inserted_after_the_claim_is_the_stored_row(
    units: UnitOfWorkFactory, clock: FixedClock
) -> None:
    """The user a turn inserts is known as stored: the use-case's `get` reads nothing more
    (counted on PostgreSQL), and gives what a later transaction reads."""
    async with units.turn(TENANT) as unit:
        await unit.activities.claim("a-4", clock.now(), sender="u-new", users=unit.users)
        assert await unit.users.get("u-new") is None
        await unit.users.add_if_absent(_user(clock, "u-new", Role.MEMBER, "Dee"))
        inserted = await _user_scans(unit)
        found = await unit.users.get("u-new")
        assert found is not None and found.name == "Dee"
        assert await _user_scans(unit) == inserted  # None == None on SQLite
        known = _fields(found)
    async with units(TENANT) as unit:
        assert _fields(await unit.users.get("u-new")) == known


async def test_a_unit_s_undone_writes_are_not_remembered(
    units: UnitOfWorkFactory, clock: FixedClock
) -> None:
    """A use-case that renamed the sender and failed: the turn reads the name as stored."""
    async with units.turn(TENANT) as turn:
        await turn.activities.claim("a-5", clock.now(), sender="u-agent", users=turn.users)
        with pytest.raises(RuntimeError):
            async with units(TENANT) as unit:
                user = await unit.users.get("u-agent")
                assert user is not None
                user.name = "Renamed"
                await unit.users.add(user)
                raise RuntimeError("the use-case fails")
        async with units.reader(TENANT) as unit:
            user = await unit.users.get("u-agent")
            assert user is not None and user.name == "Bo"


async def test_another_user_is_read_as_before(units: UnitOfWorkFactory, clock: FixedClock) -> None:
    async with units.turn(TENANT) as unit:
        await unit.activities.claim("a-6", clock.now(), sender="u-unknown", users=unit.users)
        other = await unit.users.get("u-admin")
        assert other is not None and other.name == "Ada"
