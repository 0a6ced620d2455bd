"""The hot path's statements (storage/statements.py) against the ORM they replace: what one
writes the other reads back the same, on SQLite and PostgreSQL, inside the unit's transaction."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool
from sqlmodel import select

from bot.domain.tickets import Status, TicketFilter
from storage.db import Database
from storage.models import (
    ConversationRef,
    OutboxRow,
    PlanSegmentRow,
    RefundRow,
    SubscriptionRow,
    TicketRow,
    UserAccount,
)
from storage.repositories import UserLine
from storage.statements import Rows, Statement
from storage.uow import UnitOfWork, UnitOfWorkFactory

NOW = datetime(2026, 11, 2, 9, 0, 0, 123456, tzinfo=UTC)
TICKETS = Rows(TicketRow, "tenant_id", "number")


async def trace(db: Database, unit: UnitOfWork) -> list[str]:
    """The SQL the database driver runs in `unit`'s transaction from now on, as it reports it:
    sqlite3's trace callback, asyncpg's query logger (which it calls soon after, not at once)."""
    traced: list[str] = []
    connections = db.sqlite_connections
    if connections is not None:
        (await connections.writer()).sqlite3_connection.set_trace_callback(traced.append)
    else:
        raw = await (await unit.tx.driver()).connection.get_raw_connection()
        raw.driver_connection.add_query_logger(lambda record: traced.append(record.query))
    return traced


def ticket(number: int, **changes: object) -> TicketRow:
    values: dict[str, object] = dict(
        tenant_id="t1",
        number=number,
        title="Printer",
        description="Ünïcode — and 'quotes'",
        priority="high",
        category="",
        status="open",
        requester_id="29:u",
        requester_name="Ann",
        due=date(2026, 12, 24),
        created_at=NOW,
        updated_at=NOW,
    )
    values.update(changes)
    return TicketRow(**values)


async def test_a_row_saved_here_reads_the_same_through_the_orm_and_back(any_db: Database) -> None:
    async with UnitOfWorkFactory(any_db)("t1") as uow:
        db = await uow.tickets.db()
        row = ticket(1)
        await TICKETS.save(db, row)
        assert row.id is not None  # the database assigned it
        await uow.commit()
    async with any_db.sessions() as session:
        stored = (await session.execute(select(TicketRow))).scalars().one()
        assert stored.model_dump() == row.model_dump()
        assert stored.created_at == NOW and stored.created_at.tzinfo is not None
    async with UnitOfWorkFactory(any_db).reader("t1") as uow:
        again = await TICKETS.first(await uow.tickets.db(), tenant_id="t1", number=1)
        assert again is not None and again.model_dump() == row.model_dump()
        assert await TICKETS.first(await uow.tickets.db(), tenant_id="t2", number=1) is None


async def test_a_page_of_tickets_shows_what_the_rows_hold(any_db: Database) -> None:
    """A list's page is records (read-only, nothing remembered for a save), with every value
    the stored row holds, types included."""
    async with UnitOfWorkFactory(any_db)("t1") as uow:
        for n in (1, 2):
            await uow.tickets.add(ticket(n, assignee_id="29:a", assignee_name="Bo"))
        await uow.commit()
    async with UnitOfWorkFactory(any_db).reader("t1") as uow:
        shown, total, page = await uow.tickets.page(TicketFilter.ALL, "29:u", sees_all=True, page=0)
        stored = [await uow.tickets.get(n) for n in (2, 1)]
        assert (total, page) == (2, 0)
        assert [s._asdict() for s in shown] == [r.model_dump() for r in stored if r is not None]
        assert not (await uow.tickets.db()).read.keys() & {id(s) for s in shown}


async def test_every_list_s_first_page_and_total_are_what_its_tickets_give(
    any_db: Database,
) -> None:
    """Each filter, for the help desk and for a member: the first page (the newest change
    first, ten) and the total match the tickets themselves. On PostgreSQL the first page
    carries its total (one statement); a later page is counted first, as on SQLite. Some
    tickets are assigned to their requester: a person's list shows them once."""
    people = ["29:a", "29:b", "29:c"]
    statuses = list(Status)
    made: list[TicketRow] = []
    async with UnitOfWorkFactory(any_db)("t1") as uow:
        for n in range(1, 26):
            row = ticket(
                n,
                requester_id=people[n % 3],
                assignee_id=(
                    None if n % 4 == 0 else people[n % 3] if n % 5 == 0 else people[(n + 1) % 3]
                ),
                status=statuses[n % len(statuses)].value,
                updated_at=NOW + timedelta(minutes=(n * 7) % 11),
            )
            await uow.tickets.add(row)
            made.append(row)
        await uow.commit()

    def expected(flt: TicketFilter, user: str, sees_all: bool) -> list[int]:
        def shown(r: TicketRow) -> bool:
            if (not sees_all or flt is TicketFilter.MINE) and user not in (
                r.requester_id,
                r.assignee_id,
            ):
                return False
            return {
                TicketFilter.ASSIGNED: r.assignee_id == user,
                TicketFilter.UNASSIGNED: r.assignee_id is None,
                TicketFilter.OPEN: not Status(r.status).is_closed,
                TicketFilter.CLOSED: Status(r.status).is_closed,
            }.get(flt, True)

        ordered = sorted(made, key=lambda r: (r.updated_at, r.number), reverse=True)
        return [r.number for r in ordered if shown(r)]

    async with UnitOfWorkFactory(any_db)("t1") as uow:  # on SQLite's writer, which is traced
        traced = await trace(any_db, uow)
        for flt in TicketFilter:
            for user, sees_all in (("29:a", True), ("29:b", False), ("29:x", False)):
                want = expected(flt, user, sees_all)
                await asyncio.sleep(0)
                traced.clear()
                rows, total, page = await uow.tickets.page(flt, user, sees_all=sees_all, page=0)
                await asyncio.sleep(0)
                assert ([r.number for r in rows], total, page) == (want[:10], len(want), 0)
                assert len(traced) == (1 if any_db.sqlite_connections is None else 2)
                rows, total, page = await uow.tickets.page(flt, user, sees_all=sees_all, page=1)
                assert total == len(want)
                assert [r.number for r in rows] == want[page * 10 : page * 10 + 10]


async def test_a_person_s_later_pages_go_on_where_the_first_stopped(any_db: Database) -> None:
    """A person who requested 25 tickets (4 of them assigned to them as well) and is assigned
    12 others: every page of their list, each ticket once, the newest change first (pages past
    the first need more than a page of each side)."""
    async with UnitOfWorkFactory(any_db)("t1") as uow:
        for n in range(1, 38):
            requested = n <= 25
            await uow.tickets.add(
                ticket(
                    n,
                    requester_id="29:p" if requested else "29:q",
                    assignee_id="29:p" if not requested or n % 6 == 0 else "29:q",
                    updated_at=NOW + timedelta(minutes=(n * 5) % 37),
                )
            )
        await uow.commit()
    want = sorted(range(1, 38), key=lambda n: ((n * 5) % 37, n), reverse=True)
    async with UnitOfWorkFactory(any_db).reader("t1") as uow:
        shown: list[int] = []
        for page in range(4):
            rows, total, at = await uow.tickets.page(
                TicketFilter.MINE, "29:p", sees_all=False, page=page
            )
            assert (total, at) == (37, page)
            shown += [r.number for r in rows]
    assert shown == want


async def test_saving_a_stored_row_updates_it_and_keeps_its_id(any_db: Database) -> None:
    async with UnitOfWorkFactory(any_db)("t1") as uow:
        row = ticket(7)
        await uow.tickets.add(row)
        first_id = row.id
        loaded = await uow.tickets.get(7, for_update=True)
        assert loaded is not None
        loaded.status = "resolved"
        loaded.assignee_id, loaded.assignee_name = "29:agent", "Bo"
        loaded.updated_at = NOW + timedelta(hours=1)
        await uow.tickets.add(loaded)
        await uow.commit()
    async with any_db.sessions() as session:
        rows = (await session.execute(select(TicketRow))).scalars().all()
        assert [(r.id, r.status, r.assignee_name) for r in rows] == [(first_id, "resolved", "Bo")]
        assert rows[0].updated_at == NOW + timedelta(hours=1)


async def test_money_dates_and_flags_keep_their_types(any_db: Database) -> None:
    """Decimal (NUMERIC), date, bool and NULL through the column types' own processors."""
    async with UnitOfWorkFactory(any_db)("t1") as uow:
        await uow.billing.save(
            RefundRow(
                tenant_id="t1",
                period_start=date(2026, 11, 2),
                amount=Decimal("1234567890.12"),
                created_at=NOW,
            )
        )
        await uow.billing.save(
            PlanSegmentRow(
                tenant_id="t1",
                plan_id="standard",
                start=date(2026, 11, 2),
                anchor=date(2026, 11, 2),
                term="monthly",
                voided=True,
                created_at=NOW,
            )
        )
        await uow.commit()
    async with UnitOfWorkFactory(any_db).reader("t1") as uow:
        [refund] = await uow.billing.refunds()
        [segment] = await uow.billing.segments()
    assert refund.amount == Decimal("1234567890.12") and isinstance(refund.amount, Decimal)
    assert (segment.start, segment.end, segment.voided) == (date(2026, 11, 2), None, True)
    assert isinstance(segment.voided, bool) and segment.created_at == NOW


async def test_users_saved_without_the_orm_are_what_orm_queries_read(any_db: Database) -> None:
    """A user read (by the ORM list) before a save in the same transaction is not stale after."""
    async with UnitOfWorkFactory(any_db)("t1") as uow:
        await uow.users.add(
            UserAccount(tenant_id="t1", id="29:a", name="A", role="member", created_at=NOW)
        )
        assert [u.role for u in await uow.users.everyone()] == ["member"]
        user = await uow.users.get("29:a")
        assert user is not None
        user.role = "admin"
        await uow.users.add(user)
        assert [u.role for u in await uow.users.everyone()] == ["admin"]
        assert [u.id for u in await uow.users.with_roles(["admin", "agent"])] == ["29:a"]
        assert await uow.users.with_roles([]) == []
        await uow.commit()


async def test_a_statement_compiles_once_per_dialect_and_needs_every_parameter(
    memory_db: Database,
) -> None:
    built: list[str] = []

    def build(dialect: str) -> sa.Select[tuple[int]]:
        built.append(dialect)
        return sa.select(sa.literal_column("1")).where(sa.bindparam("x", type_=sa.Integer()) > 0)

    statement = Statement(build)
    async with UnitOfWorkFactory(memory_db)("t1") as uow:
        db = await uow.tickets.db()
        assert await db.rows(statement, x=1) == [(1,)]
        assert await db.rows(statement, x=0) == []
        with pytest.raises(KeyError):
            await db.rows(statement)
    assert built == ["sqlite"]


async def test_a_failed_unit_inside_a_turn_undoes_its_statements_and_orm_writes(
    any_db: Database,
) -> None:
    """The savepoint of a joined unit covers what the statements and the ORM wrote in it."""
    units = UnitOfWorkFactory(any_db)
    async with units.turn("t1"):
        async with units("t1") as uow:
            await uow.tickets.add(ticket(1))
            await uow.commit()
        with pytest.raises(RuntimeError):
            async with units("t1") as uow:
                await uow.tickets.add(ticket(2))
                session = await uow.orm()
                session.add(
                    UserAccount(tenant_id="t1", id="29:b", name="B", role="member", created_at=NOW)
                )
                await session.flush()
                raise RuntimeError("the use-case fails")
        async with units("t1") as uow:
            assert await uow.users.get("29:b") is None
            await uow.commit()
    async with any_db.sessions() as session:
        numbers = (await session.execute(select(TicketRow.number))).scalars().all()
        users = (await session.execute(select(UserAccount.id))).scalars().all()
    assert (list(numbers), list(users)) == ([1], [])


async def test_a_joined_unit_takes_its_savepoint_only_before_its_first_write(
    any_db: Database,
) -> None:
    """A unit that only reads costs no SAVEPOINT (a round trip on PostgreSQL); one that writes
    takes it just before its first write, through the statements or the ORM. The SQL is what
    the database driver reports: sqlite3's trace callback, asyncpg's query logger."""
    units = UnitOfWorkFactory(any_db)

    async with units.turn("t1") as turn:
        traced = await trace(any_db, turn)

        async def savepoints() -> list[str]:
            await asyncio.sleep(0)  # asyncpg calls its query loggers soon after, not at once
            found = [s for s in traced if "SAVEPOINT" in s]
            traced.clear()
            return found

        await turn.activities.claim("activity-1", NOW)
        async with units("t1") as uow:
            assert await uow.users.get("29:a") is None
            await uow.commit()
        assert await savepoints() == []
        async with units("t1") as uow:
            await uow.users.get("29:a")
            assert await savepoints() == []
            await uow.tenants.next_number("ticket")  # an upsert with RETURNING
            assert await savepoints() == ["SAVEPOINT unit_2"]
            await uow.commit()
        async with units("t1") as uow:
            await uow.orm()
            assert await savepoints() == ["SAVEPOINT unit_3"]
            await uow.commit()
        with pytest.raises(RuntimeError):
            async with units("t1") as uow:
                await uow.users.get("29:a")
                raise RuntimeError("fails before writing")
        assert await savepoints() == []  # none taken, none rolled back to


async def test_an_item_is_counted_and_numbered_in_one_statement_on_postgresql(
    any_db: Database,
) -> None:
    """`count_and_number`: the quota counts the item and the tenant's counter gives its number,
    or, at the limit, neither moves. On PostgreSQL that is one round trip (a WITH that writes,
    so a joined unit takes its savepoint before it); SQLite runs the two statements."""
    units = UnitOfWorkFactory(any_db)
    period = date(2026, 11, 1)
    async with units("t1") as uow:
        await uow.tenants.ensure(NOW)
        await uow.commit()
    async with units.turn("t1") as turn:
        traced = await trace(any_db, turn)
        await turn.activities.claim("activity-1", NOW)
        async with units("t1") as uow:
            await asyncio.sleep(0)
            traced.clear()
            # The period's first item: its usage row is made first.
            assert await uow.billing.count_and_number("tickets", period, 2, "ticket") == (1, 2, 1)
            await asyncio.sleep(0)
            assert traced[0] == "SAVEPOINT unit_1"
            traced.clear()
            assert await uow.billing.count_and_number("tickets", period, 2, "ticket") == (2, 2, 2)
            await asyncio.sleep(0)
            counting = [s for s in traced if "quota_usage" in s or "tenant_counters" in s]
            assert len(counting) == (1 if any_db.sqlite_connections is None else 2)
            assert await uow.billing.count_and_number("tickets", period, 2, "ticket") is None
            assert await uow.billing.count_and_number("checklists", period, 1, "checklist") == (
                1,
                1,
                1,
            )
            await uow.commit()
    async with units("t1") as uow:
        await uow.billing.set_limit("tickets", period, 3)
        assert await uow.billing.count_and_number("tickets", period, 3, "ticket") == (3, 3, 3)
        assert await uow.tenants.next_number("ticket") == 4  # the refused item took no number
        assert sorted((r.app, r.used) for r in await uow.billing.usage(period)) == [
            ("checklists", 1),
            ("tickets", 3),
        ]


async def test_a_user_read_with_the_users_of_their_roles_answers_the_later_list(
    any_db: Database,
) -> None:
    """`users.get(…, listed=roles)` of a user with one of the roles reads those roles' users in
    the same statement on PostgreSQL; `with_roles` of them (or of fewer) then gives what its
    own read would, without a statement, until a user is written or a unit's writes are undone.
    SQLite reads the user alone, and each list with its own statement: the same answers."""
    merged = any_db.sqlite_connections is None
    units = UnitOfWorkFactory(any_db)
    people = [("29:a", "Ann", "admin"), ("29:c", "Cem", "agent"), ("29:b", "Bea", "agent")]
    async with units("t1") as uow:
        await uow.tenants.ensure(NOW)
        for user_id, name, role in [*people, ("29:m", "Mo", "member")]:
            await uow.users.add(
                UserAccount(tenant_id="t1", id=user_id, name=name, role=role, created_at=NOW)
            )
        await uow.commit()
    desk = ["agent", "admin"]

    def names(lines: list[UserLine]) -> list[str]:
        return [line.name for line in lines]

    async with units("t1") as uow:
        fresh = {
            tuple(roles): names(await uow.users.with_roles(roles))
            for roles in (desk, ["agent"], ["admin"])
        }
    assert fresh[tuple(desk)] == ["Ann", "Bea", "Cem"]
    async with units.turn("t1") as turn:
        traced = await trace(any_db, turn)
        async with units("t1") as uow:
            admin = await uow.users.get("29:a", listed=desk)
            assert admin is not None and admin.name == "Ann"
            await asyncio.sleep(0)
            assert len([s for s in traced if "users" in s]) == 1
            traced.clear()
            for roles in (desk, ["agent"], ["admin"]):
                assert names(await uow.users.with_roles(roles)) == fresh[tuple(roles)]
            assert names(await uow.users.with_roles(["member"])) == ["Mo"]  # not read before
            await asyncio.sleep(0)
            assert len(traced) == (1 if merged else 4)
            traced.clear()
            await uow.commit()
        # What was read serves the whole turn (its units share the transaction).
        async with units("t1") as uow:
            assert names(await uow.users.with_roles(desk)) == ["Ann", "Bea", "Cem"]
            await asyncio.sleep(0)
            assert len(traced) == (0 if merged else 1)
            await uow.commit()
        # Read after a write that is then undone: the list is read again, without it.
        with pytest.raises(RuntimeError):
            async with units("t1") as uow:
                await uow.users.add(
                    UserAccount(tenant_id="t1", id="29:d", name="Dan", role="agent", created_at=NOW)
                )
                await uow.users.get("29:a", listed=desk)
                assert names(await uow.users.with_roles(desk)) == ["Ann", "Bea", "Cem", "Dan"]
                raise RuntimeError("the use-case fails")
        async with units("t1") as uow:
            assert names(await uow.users.with_roles(desk)) == ["Ann", "Bea", "Cem"]
            # A user written after the read: the list is read again, with the change.
            await uow.users.get("29:a", listed=desk)
            bea = await uow.users.get("29:b")
            assert bea is not None
            bea.name = "Beatrix"
            await uow.users.add(bea)
            assert names(await uow.users.with_roles(desk)) == ["Ann", "Beatrix", "Cem"]
            await uow.commit()
    # A member is not one of them: nobody else is read, the list has its own statement.
    async with units("t1") as uow:
        traced = await trace(any_db, uow)
        member = await uow.users.get("29:m", listed=desk)
        assert member is not None and member.role == "member"
        await asyncio.sleep(0)
        traced.clear()
        assert names(await uow.users.with_roles(["agent"])) == ["Beatrix", "Cem"]
        await asyncio.sleep(0)
        assert len(traced) == 1
        assert await uow.users.get("29:x", listed=desk) is None


async def test_a_failed_unit_undoes_its_first_write_whichever_way_it_went(any_db: Database) -> None:
    """The savepoint taken before a unit's first write covers that write: a number drawn
    (an upsert with RETURNING), a row the ORM flushed; what the turn wrote before is kept."""
    units = UnitOfWorkFactory(any_db)
    async with units.turn("t1") as turn:
        await turn.activities.claim("activity-1", NOW)
        async with units("t1") as uow:
            await uow.tenants.ensure(NOW)
            await uow.commit()
        with pytest.raises(RuntimeError):
            async with units("t1") as uow:
                assert await uow.users.get("29:b") is None
                assert await uow.tenants.next_number("ticket") == 1
                raise RuntimeError("the use-case fails")
        with pytest.raises(RuntimeError):
            async with units("t1") as uow:
                session = await uow.orm()
                session.add(
                    UserAccount(tenant_id="t1", id="29:b", name="B", role="member", created_at=NOW)
                )
                await session.flush()
                raise RuntimeError("the use-case fails")
        async with units("t1") as uow:
            assert await uow.users.get("29:b") is None
            assert await uow.tenants.next_number("ticket") == 1
            await uow.commit()
    async with units("t1") as uow:
        assert not await uow.activities.claim("activity-1", NOW)  # the turn's claim was kept
        assert await uow.tenants.created_at() is not None


async def _store_member(units: UnitOfWorkFactory) -> None:
    """Tenant t1 with one member, 29:a, committed."""
    async with units("t1") as uow:
        await uow.tenants.ensure(NOW)
        await uow.users.add(
            UserAccount(tenant_id="t1", id="29:a", name="A", role="member", created_at=NOW)
        )
        await uow.commit()


async def test_a_failed_unit_that_wrote_nothing_leaves_no_change_of_its_for_a_later_flush(
    any_db: Database,
) -> None:
    """A unit that only changed an object an earlier unit of the turn loaded through the ORM
    (no write, so no savepoint) and failed: its change is forgotten, not flushed later."""
    units = UnitOfWorkFactory(any_db)
    await _store_member(units)
    async with units.turn("t1") as turn:
        await turn.activities.claim("activity-1", NOW)
        async with units("t1") as uow:
            loaded = await (await uow.orm()).get(UserAccount, ("t1", "29:a"))
            assert loaded is not None
            await uow.commit()
        with pytest.raises(RuntimeError):
            async with units("t1") as uow:
                loaded.name = "changed by a failed unit"
                raise RuntimeError("the use-case fails")
        async with units("t1") as uow:
            await uow.tenants.next_number("ticket")
            await uow.commit()
    async with units.reader("t1") as uow:
        stored = await uow.users.get("29:a")
    assert stored is not None and stored.name == "A"


async def test_the_subscription_and_its_segments_read_together_are_what_each_read_gives(
    any_db: Database,
) -> None:
    units = UnitOfWorkFactory(any_db)
    async with units("t1") as uow:
        assert await uow.billing.subscription_and_segments() == (None, [])
        await uow.tenants.ensure(NOW)
        await uow.billing.create_if_absent(
            SubscriptionRow(
                tenant_id="t1", plan_id="free", term="monthly", anchor=NOW.date(), updated_at=NOW
            )
        )
        await uow.commit()
    for segments in range(3):
        for locked in (False, True):
            async with units("t1") as uow:
                together = await uow.billing.subscription_and_segments(for_update=locked)
                apart = (await uow.billing.subscription(), await uow.billing.segments())
            assert together == apart and len(together[1]) == segments
        async with units("t1") as uow:
            start = NOW.date() + timedelta(days=10 - 3 * segments)  # read back ordered by start
            await uow.billing.save(
                PlanSegmentRow(
                    tenant_id="t1",
                    plan_id="free",
                    start=start,
                    anchor=start,
                    term="monthly",
                    created_at=NOW,
                )
            )
            await uow.commit()


@pytest.mark.postgres
@pytest.mark.parametrize("writes_subscription", [True, False], ids=["plan change", "lock only"])
async def test_a_locked_read_that_waited_for_a_plan_change_sees_the_change_s_segments(
    any_db: Database, writes_subscription: bool
) -> None:
    """A create's read of the subscription waits for a plan change that holds its lock, and
    then reads the segments that change wrote. Its one statement reads the segments as they
    were before it waited (PostgreSQL rechecks only the locked row): it sees that the row it
    locked is newer than its snapshot and reads them again. A change that wrote segments
    under the lock without changing the subscription's values still makes the row newer
    (`BillingRepository.save`). A read that met no change is one statement."""
    if not any_db.url.startswith("postgresql"):
        pytest.skip("PostgreSQL only: on SQLite one writing unit waits for the other to begin")
    units = UnitOfWorkFactory(any_db)
    async with units("t1") as uow:
        await uow.tenants.ensure(NOW)
        await uow.billing.create_if_absent(
            SubscriptionRow(
                tenant_id="t1", plan_id="free", term="monthly", anchor=NOW.date(), updated_at=NOW
            )
        )
        start = NOW.date()
        free = PlanSegmentRow(
            tenant_id="t1",
            plan_id="free",
            start=start,
            anchor=start,
            term="monthly",
            created_at=NOW,
        )
        await uow.billing.save(free)
        await uow.commit()

    async def create_reads() -> tuple[tuple[SubscriptionRow | None, list[PlanSegmentRow]], int]:
        async with units("t1") as uow:
            traced = await trace(any_db, uow)
            read = await uow.billing.subscription_and_segments(for_update=True)
            await asyncio.sleep(0)  # asyncpg calls its query logger soon after, not at once
            return read, len(traced)

    watcher = create_async_engine(any_db.engine.url, poolclass=NullPool)
    plan = "standard" if writes_subscription else "free"
    async with units("t1") as change:
        row = await change.billing.subscription(for_update=True)
        assert row is not None
        if writes_subscription:
            row.plan_id = plan
            await change.billing.save(row)
        free.end = start
        await change.billing.save(free)
        await change.billing.save(
            PlanSegmentRow(
                tenant_id="t1",
                plan_id=plan,
                start=start,
                anchor=start,
                term="monthly",
                created_at=NOW,
            )
        )
        reading = asyncio.create_task(create_reads())
        async with watcher.connect() as conn:
            for _ in range(10_000):  # until the read waits for the lock (no clock involved)
                waiting = await conn.scalar(
                    sa.text(
                        "SELECT count(*) FROM pg_stat_activity"
                        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                    )
                )
                if waiting:
                    break
                await asyncio.sleep(0)
            else:
                pytest.fail("the read never waited for the plan change's lock")
        await change.commit()
    await watcher.dispose()
    (subscription, segments), statements = await reading
    assert subscription is not None and subscription.plan_id == plan
    assert [(s.plan_id, s.end) for s in segments] == [("free", start), (plan, None)]
    assert statements == 2  # the segments were read again
    (subscription, again), statements = await create_reads()
    assert again == segments and statements == 1


@pytest.mark.postgres
async def test_a_save_writes_only_what_changed_so_a_concurrent_change_survives(
    any_db: Database,
) -> None:
    """Two transactions change different columns of one user: both changes are kept (a whole
    row written from what the first one read would undo the second's)."""
    if not any_db.url.startswith("postgresql"):
        pytest.skip("PostgreSQL only: on SQLite one writing unit waits for the other")
    units = UnitOfWorkFactory(any_db)
    await _store_member(units)
    first = units("t1")
    async with first as uow:
        reader = await uow.users.get("29:a")
        assert reader is not None

        async def promote() -> None:
            async with units("t1") as other:
                user = await other.users.get("29:a")
                assert user is not None
                user.role = "admin"
                await other.users.add(user)
                await other.commit()

        await asyncio.create_task(promote())
        reader.locale = "de"
        await uow.users.add(reader)
        await uow.commit()
    async with units.reader("t1") as uow:
        stored = await uow.users.get("29:a")
    assert stored is not None and (stored.role, stored.locale) == ("admin", "de")


async def test_a_database_error_inside_a_joined_unit_fails_the_turn_with_that_error(
    any_db: Database,
) -> None:
    """An ORM flush refused by the database ends the transaction: the turn fails with the
    database's error (not a missing savepoint), and nothing of it is kept."""
    units = UnitOfWorkFactory(any_db)
    with pytest.raises(sa.exc.IntegrityError):
        async with units.turn("t1") as turn:
            await turn.activities.claim("activity-1", NOW)
            async with units("t1") as uow:
                await uow.tenants.ensure(NOW)
                session = await uow.orm()
                session.add(
                    OutboxRow(
                        tenant_id="t1",
                        conversation_ref_id=999,  # no such conversation
                        kind="notice",
                        payload="{}",
                        next_attempt_at=NOW,
                        created_at=NOW,
                    )
                )
                await session.flush()
    async with units("t1") as uow:
        assert await uow.activities.claim("activity-1", NOW)  # the claim was not kept


@pytest.mark.postgres
async def test_connections_the_server_dropped_are_not_handed_out_again(
    any_db: Database,
) -> None:
    """After the server drops every connection (a restart, a failover), one unit fails and the
    next ones get new connections: statements run on asyncpg directly, so the pool must be
    told that a connection died."""
    if not any_db.url.startswith("postgresql"):
        pytest.skip("PostgreSQL only: SQLite has no server to drop connections")
    units = UnitOfWorkFactory(any_db)
    for _ in range(3):  # a few pooled connections
        async with units("t1") as uow:
            await uow.tenants.ensure(NOW)
            await uow.commit()
    name = any_db.engine.url.database
    # From a connection of its own (not one of the pool's, which it would spare).
    killer = create_async_engine(any_db.engine.url, poolclass=NullPool)
    async with killer.connect() as conn:
        await conn.execute(
            sa.text(
                # With a timeout it returns once the backend is gone (PostgreSQL 14 and later).
                "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity"
                " WHERE datname = :name AND pid <> pg_backend_pid()"
            ),
            {"name": name},
        )
    await killer.dispose()
    failures = 0
    for _ in range(12):
        try:
            async with units("t1") as uow:
                await uow.tenants.next_number("x")
                await uow.commit()
        except Exception:  # the first use of each dropped connection may fail
            failures += 1
    async with units.reader("t1") as uow:
        assert await uow.tenants.created_at() is not None
    assert failures <= 2


async def test_a_row_inserted_if_absent_is_the_stored_row_and_saves_what_changes(
    any_db: Database,
) -> None:
    """The row `get_or_create` inserted comes back as it is (with the id the database gave
    it); a change to it afterwards is saved, and a second caller gets the stored row."""
    units = UnitOfWorkFactory(any_db)

    def ref(user: str) -> ConversationRef:
        return ConversationRef(
            tenant_id="t1",
            conversation_id="a:personal",
            conversation_type="personal",
            user_id=user,
            service_url="https://smba.example/",
            reference="{}",
            created_at=NOW,
            updated_at=NOW,
        )

    async with units("t1") as uow:
        await uow.tenants.ensure(NOW)
        mine = ref("29:a")
        stored = await uow.conversations.get_or_create(mine)
        assert stored is mine and mine.id is not None
        mine.channel_id = "19:general"
        await uow.conversations.save(mine)
        again = await uow.conversations.get_or_create(ref("29:b"))
        assert again is not mine and again.id == mine.id
        assert (again.user_id, again.channel_id) == ("29:a", "19:general")
        await uow.commit()
    async with units.reader("t1") as uow:
        found = await uow.conversations.get("a:personal")
    assert found is not None and found.model_dump() == mine.model_dump()
