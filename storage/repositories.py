"""Queries, each scoped to the tenant of its unit of work."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextvars import ContextVar
from datetime import date, datetime
from typing import Any, Protocol, TypeVarTuple, overload

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Result
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.expression import Executable
from sqlalchemy.sql.selectable import TypedReturnsRows
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
from storage.statements import Driver, Rows, Statement, insert_for, new_row, values_of
from storage.transactions import Transaction

_Ts = TypeVarTuple("_Ts")

# The outbox ids written during one turn: the quota middleware collects them to wake the
# proactive sender once the turn's own reply has gone.
turn_outbox: ContextVar[list[int] | None] = ContextVar("turn_outbox", default=None)


class Repository:
    def __init__(self, tx: Transaction, tenant_id: str) -> None:
        self.tx = tx
        self.tenant_id = tenant_id
        self.dialect = tx.dialect.name

    async def db(self) -> Driver:
        """The transaction's driver, for the statements of `storage/statements.py`."""
        return await self.tx.driver()

    async def orm(self) -> AsyncSession:
        """The transaction's ORM session (made on first use: most turns need none)."""
        return await self.tx.orm()

    @overload
    async def execute(self, statement: TypedReturnsRows[*_Ts]) -> Result[*_Ts]: ...
    @overload
    async def execute(self, statement: Executable) -> Result[*tuple[Any, ...]]: ...
    async def execute(self, statement: Executable) -> Result[*tuple[Any, ...]]:
        """Run a statement through the ORM session."""
        return await (await self.tx.orm()).execute(statement)

    def insert(self, table: Any) -> Any:
        """An INSERT that understands ON CONFLICT on both databases."""
        return insert_for(self.dialect, table)


def _counter_step(dialect: str) -> Any:
    table: Any = TenantCounter.__table__  # type: ignore[attr-defined]
    return (
        insert_for(dialect, table)
        .values(tenant_id=sa.bindparam("tenant_id"), name=sa.bindparam("name"), value=1)
        .on_conflict_do_update(
            index_elements=["tenant_id", "name"], set_={"value": table.c.value + 1}
        )
        .returning(table.c.value)
    )


NEXT_NUMBER = Statement(_counter_step)


def _claim(dialect: str) -> Any:
    table: Any = ProcessedActivity.__table__  # type: ignore[attr-defined]
    return (
        insert_for(dialect, table)
        .values(
            tenant_id=sa.bindparam("tenant_id"),
            activity_id=sa.bindparam("activity_id"),
            processed_at=sa.bindparam("processed_at", type_=table.c.processed_at.type),
        )
        .on_conflict_do_nothing(index_elements=["tenant_id", "activity_id"])
    )


CLAIM = Statement(_claim)


def _claim_reading_sender(_dialect: str) -> Any:
    """PostgreSQL's claim with the sender's user row read in the same statement (one round
    trip, not two): one row, `claimed` (1, or 0 for a redelivery), then the user's columns
    (NULL when the bot does not know the user yet)."""
    users: Any = UserAccount.__table__  # type: ignore[attr-defined]
    claimed = _claim("postgresql").returning(sa.literal(1).label("one")).cte("claimed")
    count = sa.select(sa.func.count()).select_from(claimed).scalar_subquery().label("claimed")
    one = sa.select(sa.literal(1).label("one")).subquery("one")
    sender = sa.and_(
        users.c.tenant_id == sa.bindparam("tenant_id"), users.c.id == sa.bindparam("user_id")
    )
    return sa.select(count, *users.columns).select_from(one.outerjoin(users, sender))


CLAIM_READING_SENDER = Statement(_claim_reading_sender)


TENANTS = Rows(Tenant, "id")


class TenantRepository(Repository):
    async def ensure(self, now: datetime) -> bool:
        """Create the tenant row; True only for the one caller that created it."""
        return await TENANTS.insert_if_absent(
            await self.db(), new_row(Tenant, id=self.tenant_id, created_at=now)
        )

    async def _tenant(self) -> Tenant | None:
        return await TENANTS.first(await self.db(), id=self.tenant_id)

    async def language(self) -> str | None:
        tenant = await self._tenant()
        return tenant.language if tenant is not None else None

    async def set_language(self, language: str, now: datetime) -> None:
        await self.ensure(now)
        await self.execute(
            sa.update(Tenant).where(col(Tenant.id) == self.tenant_id).values(language=language)
        )

    async def created_at(self) -> datetime | None:
        tenant = await self._tenant()
        return tenant.created_at if tenant is not None else None

    async def next_number(self, name: str) -> int:
        """Advance a per-tenant sequence in one statement (no read-then-write race)."""
        row = await (await self.db()).first(NEXT_NUMBER, tenant_id=self.tenant_id, name=name)
        assert row is not None
        return int(row[0])


class IdempotencyRepository(Repository):
    async def claim(
        self,
        activity_id: str,
        now: datetime,
        *,
        sender: str | None = None,
        users: UserRepository | None = None,
    ) -> bool:
        """Record an activity id; False if it was already recorded (a redelivery).

        With `sender` and the unit's `users`, on PostgreSQL the same statement reads the
        sender's user row too, which `users.get(sender)` then returns without a round trip of
        its own (nearly every turn reads its sender). SQLite has no round trips to save."""
        db = await self.db()
        values = {"tenant_id": self.tenant_id, "activity_id": activity_id, "processed_at": now}
        if sender is None or users is None or self.dialect != "postgresql":
            return bool(await db.run(CLAIM, **values))
        found = await db.first(CLAIM_READING_SENDER, user_id=sender, **values)
        assert found is not None  # the statement always gives its one row
        users.read_along(sender, found[1:] if found[1] is not None else None, db)
        return bool(found[0])

    async def release(self, activity_id: str) -> None:
        await self.execute(
            sa.delete(ProcessedActivity).where(
                col(ProcessedActivity.tenant_id) == self.tenant_id,
                col(ProcessedActivity.activity_id) == activity_id,
            )
        )


USERS = Rows(UserAccount, "tenant_id", "id")


def _with_roles(count: int) -> Statement:
    def build(_dialect: str) -> Any:
        table: Any = UserAccount.__table__  # type: ignore[attr-defined]
        return (
            sa.select(*table.columns)
            .where(
                table.c.tenant_id == sa.bindparam("tenant_id"),
                table.c.role.in_([sa.bindparam(f"role{i}") for i in range(count)]),
            )
            # The order of ix_users_tenant_role_name: by name alone, SQLite reads the tenant's
            # every user through ix_users_tenant_name instead (it cannot tell that members are
            # most of them), 1.8 ms at 10,000 users against 20 µs.
            .order_by(table.c.role, table.c.name)
        )

    return Statement(build)


WITH_ROLES: dict[int, Statement] = {}


def _user_and_roles(count: int) -> Statement:
    """A user (its column `part` 0), then, if the user has one of the roles, the users with one
    of them (`part` 1), in `_with_roles`'s order; PostgreSQL's, for `UserRepository.get`."""

    def build(_dialect: str) -> Any:
        table: Any = UserAccount.__table__  # type: ignore[attr-defined]
        me = table.alias("me")
        roles: list[Any] = [sa.bindparam(f"role{i}", type_=table.c.role.type) for i in range(count)]
        user = sa.select(sa.literal(0).label("part"), *table.columns).where(
            table.c.tenant_id == sa.bindparam("tenant_id"), table.c.id == sa.bindparam("id")
        )
        among = (
            sa.exists()
            .where(
                me.c.tenant_id == sa.bindparam("tenant_id"),
                me.c.id == sa.bindparam("id"),
                me.c.role.in_(roles),
            )
            .correlate(None)
        )
        holders = sa.select(sa.literal(1).label("part"), *table.columns).where(
            table.c.tenant_id == sa.bindparam("tenant_id"), table.c.role.in_(roles), among
        )
        both = sa.union_all(user, holders).subquery()
        return sa.select(*both.c).order_by(both.c.part, both.c.role, both.c.name)

    return Statement(build)


USER_AND_ROLES: dict[int, Statement] = {}


class UserLine(Protocol):
    """A user as a list shows them: what a stored `UserAccount` holds, read-only."""

    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def role(self) -> str: ...
    @property
    def locale(self) -> str | None: ...


class UserRepository(Repository):
    """User rows are read and saved without the ORM: a row read here is not in the session,
    and changing it means `add` (saved by primary key)."""

    def __init__(self, tx: Transaction, tenant_id: str) -> None:
        super().__init__(tx, tenant_id)
        # The users of some roles, read with a user (`get`'s `listed`): (the roles, their
        # users, the driver and its rollbacks then). Good until this repository writes a user
        # or a unit of the transaction rolls back what it wrote.
        self._listed: tuple[frozenset[str], list[UserLine], Driver, int] | None = None
        # A user row this transaction knows as stored, read along with another statement (the
        # claim's sender) or just inserted: (their id, the row's values or None for a user the
        # bot does not know, the driver and its rollbacks then). Good until this repository
        # writes a user again or a unit rolls back what it wrote.
        self._along: tuple[str, tuple[Any, ...] | None, Driver, int] | None = None

    def read_along(self, user_id: str, values: tuple[Any, ...] | None, db: Driver) -> None:
        """The stored row of `user_id` (its columns' values, None if there is none), known to
        this transaction (read by another repository's statement, or just inserted): what `get`
        gives from now on."""
        self._along = (user_id, values, db, db.rolled_back)

    async def get(self, user_id: str, *, listed: Sequence[str] = ()) -> UserAccount | None:
        """The user; on PostgreSQL with `listed`, and if the user has one of those roles, the
        users with one of them too, in the same statement, for a later `with_roles` of those
        roles (a view that lists the help desk, say): one round trip instead of two. SQLite
        has no round trips to save, and the one statement cost it as much as the two."""
        db = await self.db()
        wanted = sorted(set(listed))
        along = self._along
        if (
            along is not None
            and along[0] == user_id
            and along[2] is db
            and along[3] == db.rolled_back
        ):
            if along[1] is None:
                return None
            user = USERS.row(along[1], db)
            if not wanted or user.role not in wanted:
                return user
            # The users of `listed` are wanted too: read with the user, below.
        if not wanted or self.dialect != "postgresql":
            return await USERS.first(db, tenant_id=self.tenant_id, id=user_id)
        found = await self._by_roles(USER_AND_ROLES, _user_and_roles, wanted, id=user_id)
        if not found:
            return None
        user = USERS.row(found[0][1:], db)
        if user.role in wanted:
            holders: list[UserLine] = [USERS.record(r[1:]) for r in found[1:]]
            self._listed = (frozenset(wanted), holders, db, db.rolled_back)
        return user

    async def add(self, user: UserAccount) -> None:
        if user.tenant_id != self.tenant_id:
            raise ValueError("user of another tenant")
        self._listed = self._along = None
        await USERS.save(await self.db(), user)

    async def add_if_absent(self, user: UserAccount) -> UserAccount:
        """Insert the user unless a concurrent turn did first; return the stored user."""
        if user.tenant_id != self.tenant_id:
            raise ValueError("user of another tenant")
        self._listed = self._along = None
        db = await self.db()
        if await USERS.insert_if_absent(db, user):
            # Stored as given: a newcomer's use-case, which reads the user next, reads nothing.
            self.read_along(user.id, tuple(values_of(user, USERS.names).values()), db)
            return user
        stored = await self.get(user.id)
        assert stored is not None
        return stored

    async def signed_in_as(self, aad_object_id: str) -> list[UserAccount]:
        """The tenant's users of one Entra object id (a person may have several Teams ids)."""
        stmt = (
            select(UserAccount)
            .where(
                UserAccount.tenant_id == self.tenant_id,
                UserAccount.aad_object_id == aad_object_id,
            )
            .order_by(col(UserAccount.id))
            # Users are saved without the ORM: read what is stored, not what it remembers.
            .execution_options(populate_existing=True)
        )
        return list((await self.execute(stmt)).scalars())

    async def everyone(self, *, limit: int = 200) -> list[UserAccount]:
        """The users the bot knows in the tenant, by name."""
        stmt = (
            select(UserAccount)
            .where(UserAccount.tenant_id == self.tenant_id)
            .order_by(col(UserAccount.name), col(UserAccount.id))
            # Users are saved without the ORM: read what is stored, not what it remembers.
            .execution_options(populate_existing=True)
            .limit(limit)
        )
        return list((await self.execute(stmt)).scalars())

    async def with_roles(self, roles: Sequence[str]) -> list[UserLine]:
        """The users with one of `roles`, by name (to show or to write to: read-only, not rows
        to save)."""
        wanted = sorted(set(roles))
        if not wanted:
            return []
        db = await self.db()
        listed = self._listed
        if (
            listed is not None
            and listed[2] is db
            and listed[3] == db.rolled_back
            and listed[0].issuperset(wanted)
        ):
            lines = [line for line in listed[1] if line.role in wanted]
            if len(wanted) > 1:
                lines.sort(key=lambda line: line.name)
            return lines
        found = await self._by_roles(WITH_ROLES, _with_roles, wanted)
        lines = [USERS.record(r) for r in found]
        if len(wanted) > 1:  # by role, then name, as the index reads them
            lines.sort(key=lambda line: line.name)
        return lines

    async def _by_roles(
        self,
        statements: dict[int, Statement],
        make: Callable[[int], Statement],
        roles: list[str],
        **values: Any,
    ) -> list[tuple[Any, ...]]:
        """The rows of the statement for `len(roles)` roles (made once per count), the roles
        bound as role0, role1, …"""
        statement = statements.get(len(roles))
        if statement is None:
            statement = statements[len(roles)] = make(len(roles))
        binds = {f"role{i}": role for i, role in enumerate(roles)}
        return await (await self.db()).rows(statement, tenant_id=self.tenant_id, **values, **binds)


CONVERSATIONS = Rows(ConversationRef, "tenant_id", "conversation_id")


class ConversationRepository(Repository):
    """A conversation is read by its id and saved without the ORM; the lists read what is
    stored."""

    async def get(self, conversation_id: str) -> ConversationRef | None:
        return await CONVERSATIONS.first(
            await self.db(), tenant_id=self.tenant_id, conversation_id=conversation_id
        )

    async def save(self, ref: ConversationRef) -> None:
        if ref.tenant_id != self.tenant_id:
            raise ValueError("conversation of another tenant")
        await CONVERSATIONS.save(await self.db(), ref)

    async def get_or_create(self, ref: ConversationRef) -> ConversationRef:
        """The stored row for `ref.conversation_id`, inserting `ref` if there is none yet
        (a concurrent turn may insert it first)."""
        if ref.tenant_id != self.tenant_id:
            raise ValueError("conversation of another tenant")
        if await CONVERSATIONS.insert_if_absent(await self.db(), ref):
            return ref
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
            .execution_options(populate_existing=True)
        )
        return list((await self.execute(stmt)).scalars())

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
            .execution_options(populate_existing=True)
        )
        return (await self.execute(stmt)).scalars().first()


TICKETS = Rows(TicketRow, "tenant_id", "number")
TICKET_FOR_UPDATE = Rows(TicketRow, "tenant_id", "number", for_update=True)


class TicketLine(Protocol):
    """A ticket as a list shows it: what a stored `TicketRow` holds, read-only."""

    @property
    def number(self) -> int: ...
    @property
    def title(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def priority(self) -> str: ...
    @property
    def category(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def requester_id(self) -> str: ...
    @property
    def requester_name(self) -> str: ...
    @property
    def assignee_id(self) -> str | None: ...
    @property
    def assignee_name(self) -> str | None: ...
    @property
    def due(self) -> date | None: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def updated_at(self) -> datetime: ...


class TicketRepository(Repository):
    """Ticket rows are read by number and saved without the ORM (`add` inserts a new row and
    updates a stored one); a list's page is records (`TicketLine`); the reminders' list of due
    tickets still goes through the ORM, reading what is stored."""

    async def add(self, row: TicketRow) -> TicketRow:
        if row.tenant_id != self.tenant_id:
            raise ValueError("ticket of another tenant")
        await TICKETS.save(await self.db(), row)
        return row

    async def insert(self, row: TicketRow) -> TicketRow:
        """A new ticket, with the id it has (or, None, the one the database assigns)."""
        if row.tenant_id != self.tenant_id:
            raise ValueError("ticket of another tenant")
        await TICKETS.insert(await self.db(), row)
        return row

    async def get(self, number: int, *, for_update: bool = False) -> TicketRow | None:
        rows = TICKET_FOR_UPDATE if for_update else TICKETS
        return await rows.first(await self.db(), tenant_id=self.tenant_id, number=number)

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
            # Tickets are saved without the ORM: read what is stored, not what it remembers.
            .execution_options(populate_existing=True)
        )
        return list((await self.execute(stmt)).scalars())

    async def page(
        self,
        flt: TicketFilter,
        user_id: str,
        *,
        sees_all: bool,
        page: int,
    ) -> tuple[list[TicketLine], int, int]:
        """A page of tickets (to show: read-only, not rows to save), the total, and the page
        shown (one past the end shows the last). The first page, which every list opens with,
        carries its total on PostgreSQL (one round trip instead of two); an empty first page
        means no tickets at all."""
        count, rows, first = _ticket_page(flt, sees_all)
        db = await self.db()
        if page <= 0 and self.dialect == "postgresql":
            found = await db.rows(
                first, tenant_id=self.tenant_id, user_id=user_id, offset=0, limit=PAGE_SIZE
            )
            total = int(found[0][-1]) if found else 0
            return [TICKETS.record(r[:-1]) for r in found], total, 0
        counted = await db.first(count, tenant_id=self.tenant_id, user_id=user_id)
        total = int(counted[0]) if counted is not None else 0
        page = clamp_page(page, total)
        found = await db.rows(
            rows,
            tenant_id=self.tenant_id,
            user_id=user_id,
            offset=page * PAGE_SIZE,
            limit=PAGE_SIZE,
        )
        return [TICKETS.record(r) for r in found], total, page


# (count, page, page with the count as its last column) per filter and whether the user sees
# every ticket of the tenant.
_TICKET_PAGES: dict[tuple[TicketFilter, bool], tuple[Statement, Statement, Statement]] = {}


def _ticket_page(flt: TicketFilter, sees_all: bool) -> tuple[Statement, Statement, Statement]:
    found = _TICKET_PAGES.get((flt, sees_all))
    if found is None:

        def with_total(_dialect: str) -> Any:
            total = _ticket_query(flt, sees_all, count=True).scalar_subquery().label("total")
            return _ticket_query(flt, sees_all, count=False).add_columns(total)

        found = _TICKET_PAGES[(flt, sees_all)] = (
            Statement(lambda _d: _ticket_query(flt, sees_all, count=True)),
            Statement(lambda _d: _ticket_query(flt, sees_all, count=False)),
            Statement(with_total),
        )
    return found


def _ticket_query(flt: TicketFilter, sees_all: bool, *, count: bool) -> Any:
    table: Any = TicketRow.__table__  # type: ignore[attr-defined]
    user = sa.bindparam("user_id", type_=table.c.requester_id.type)
    tenant = table.c.tenant_id == sa.bindparam("tenant_id")
    mine = not sees_all or flt is TicketFilter.MINE
    conditions: list[Any] = [tenant]
    people = (table.c.requester_id, table.c.assignee_id)
    if mine and count:
        conditions = [involving(tenant, people, user)]
    # A page of a person's tickets adds the person in `person_page`.

    # One bind each (not an expanding IN), so that the statement compiles once. Open is the
    # statuses that are not closed, named (not NOT IN): each is a search of the (tenant, status)
    # index, where NOT IN would read every entry of the tenant's.
    def binds(name: str, statuses: list[Status]) -> list[Any]:
        return [
            sa.bindparam(f"{name}{i}", value=status.value, type_=table.c.status.type)
            for i, status in enumerate(statuses)
        ]

    closed = binds("closed", [s for s in Status if s.is_closed])
    still_open = binds("open", [s for s in Status if not s.is_closed])
    if flt is TicketFilter.ASSIGNED:
        conditions.append(table.c.assignee_id == user)
    elif flt is TicketFilter.UNASSIGNED:
        conditions.append(table.c.assignee_id.is_(None))
    elif flt is TicketFilter.OPEN:
        conditions.append(table.c.status.in_(still_open))
    elif flt is TicketFilter.CLOSED:
        conditions.append(table.c.status.in_(closed))
    if count:
        return sa.select(sa.func.count()).select_from(table).where(*conditions)
    offset = sa.bindparam("offset", type_=sa.Integer())
    limit = sa.bindparam("limit", type_=sa.Integer())
    if mine:
        return person_page(table, people, user, conditions, offset, limit)
    return (
        sa.select(*table.columns)
        .where(*conditions)
        .order_by(table.c.updated_at.desc(), table.c.number.desc())
        .offset(offset)
        .limit(limit)
    )


def involving(tenant: Any, roles: Sequence[Any], user: Any) -> Any:
    """`user` in any of `roles` (columns of people: requester, assignee, ...) of the tenant's
    items, with the tenant inside each side of the OR: so written, SQLite counts from one index
    search per role, (tenant, role, ...), instead of reading every item of the tenant (10x
    faster at 2,000 tickets a tenant)."""
    return sa.or_(*(sa.and_(tenant, role == user) for role in roles))


def person_page(
    table: Any, roles: Sequence[Any], user: Any, conditions: list[Any], offset: Any, limit: Any
) -> Any:
    """A page of the items (the newest change first) of which `user` is any of `roles`:
    the newest `offset + limit` of the first role's, from the (tenant, role, updated) index;
    as many of the second role's that are not the first's, from its index; and so on; the page
    is taken from them all. It reads about `len(roles) * (offset + limit)` entries, however
    many items the tenant has.

    `tenant AND (requester OR assignee)`, as the tickets' was, walked the tenant's items newest
    first until it had the page: fine for a person with a quarter of them (the bench's four
    people a tenant; this costs such a page about 30 µs more on SQLite), slow for one person of
    many, who waited for every item of the tenant (0.4-0.6 ms at 2,000, 40 µs so). PostgreSQL
    takes the tenant and the person for independent, expects a handful of rows, and read and
    sorted all of the person's (1.1 ms at 500; 0.2 so)."""
    if len(roles) == 1:
        return (
            sa.select(*table.columns)
            .where(*conditions, roles[0] == user)
            .order_by(table.c.updated_at.desc(), table.c.number.desc())
            .offset(offset)
            .limit(limit)
        )
    order = (table.c.updated_at.desc(), table.c.number.desc())
    sides = []
    for i, role in enumerate(roles):
        # Not in an earlier role: the sides share no item, so UNION ALL needs no deduplication.
        elsewhere = [
            earlier != user if not earlier.nullable else sa.or_(earlier.is_(None), earlier != user)
            for earlier in roles[:i]
        ]
        sides.append(
            sa.select(*table.columns)
            .where(*conditions, role == user, *elsewhere)
            .order_by(*order)
            .limit(offset + limit)
            .subquery()
        )
    every = sa.union_all(*(sa.select(*side.c) for side in sides)).subquery()
    return (
        sa.select(*every.c)
        .order_by(every.c.updated_at.desc(), every.c.number.desc())
        .offset(offset)
        .limit(limit)
    )


# The newest first, `limit` of them.
COMMENTS = Rows(ItemCommentRow, "tenant_id", "app", "item_id", order_by=("-id",), limited=True)
EVENTS = Rows(ItemEventRow, "tenant_id", "app", "item_id", order_by=("-id",), limited=True)


class ItemLogRepository(Repository):
    """Comments and history of the items of every app, keyed by (tenant, app, item id)."""

    async def add_comment(self, row: ItemCommentRow) -> None:
        if row.tenant_id != self.tenant_id:
            raise ValueError("comment of another tenant")
        await COMMENTS.save(await self.db(), row)

    async def add_event(self, row: ItemEventRow) -> None:
        if row.tenant_id != self.tenant_id:
            raise ValueError("history of another tenant")
        await EVENTS.save(await self.db(), row)

    async def comments(self, app: str, item_id: int, *, last: int) -> list[ItemCommentRow]:
        """The `last` newest comments, oldest first."""
        found = await COMMENTS.all(
            await self.db(), tenant_id=self.tenant_id, app=app, item_id=item_id, limit=last
        )
        return list(reversed(found))

    async def events(self, app: str, item_id: int, *, last: int) -> list[ItemEventRow]:
        """The `last` newest history entries, oldest first."""
        found = await EVENTS.all(
            await self.db(), tenant_id=self.tenant_id, app=app, item_id=item_id, limit=last
        )
        return list(reversed(found))


SUBSCRIPTIONS = Rows(SubscriptionRow, "tenant_id")
SUBSCRIPTION_FOR_UPDATE = Rows(SubscriptionRow, "tenant_id", for_update=True)
SEGMENTS = Rows(PlanSegmentRow, "tenant_id", order_by=("start", "id"))
REFUNDS = Rows(RefundRow, "tenant_id", order_by=("id",))
USAGE = Rows(QuotaUsageRow, "tenant_id", "period_start")


def _subscription_and_segments() -> Statement:
    """The subscription with its plan segments in one statement: one row per segment, the
    subscription's columns first; one row of NULL segment columns if it has none."""

    def build(_dialect: str) -> Any:
        subscriptions: Any = SubscriptionRow.__table__  # type: ignore[attr-defined]
        segments: Any = PlanSegmentRow.__table__  # type: ignore[attr-defined]
        return (
            sa.select(*subscriptions.columns, *segments.columns)
            .select_from(
                subscriptions.outerjoin(segments, segments.c.tenant_id == subscriptions.c.tenant_id)
            )
            .where(subscriptions.c.tenant_id == sa.bindparam("tenant_id"))
            .order_by(segments.c.start, segments.c.id)
        )

    return Statement(build)


SUBSCRIPTION_AND_SEGMENTS = _subscription_and_segments()


def _locked_subscription_and_segments(_dialect: str) -> Any:
    """PostgreSQL: the subscription locked (FOR UPDATE), with `fresh` and its plan segments, in
    one statement: one row per segment as in `SUBSCRIPTION_AND_SEGMENTS`, `fresh` after the
    subscription's columns. The statement reads the segments as of its snapshot, taken before
    it waits for the lock; `fresh` says whether the row it locked is the version that snapshot
    holds (the same `xmin`: no transaction changed the row between the two). Every transaction
    that writes a segment writes its subscription row too (`BillingRepository.save`), so a
    fresh row's segments are those of the locked row; otherwise they are read again."""
    subscriptions: Any = SubscriptionRow.__table__  # type: ignore[attr-defined]
    segments: Any = PlanSegmentRow.__table__  # type: ignore[attr-defined]
    seen = subscriptions.alias("seen")
    snapshot_version = (
        sa.select(sa.literal_column("seen.xmin"))
        .where(seen.c.tenant_id == subscriptions.c.tenant_id)
        .scalar_subquery()
    )
    fresh = (sa.literal_column("subscriptions.xmin") == snapshot_version).label("fresh")
    return (
        sa.select(*subscriptions.columns, fresh, *segments.columns)
        .select_from(
            subscriptions.outerjoin(segments, segments.c.tenant_id == subscriptions.c.tenant_id)
        )
        .where(subscriptions.c.tenant_id == sa.bindparam("tenant_id"))
        .order_by(segments.c.start, segments.c.id)
        .with_for_update(of=subscriptions)
    )


LOCKED_SUBSCRIPTION_AND_SEGMENTS = Statement(_locked_subscription_and_segments)


def _touch_subscription(_dialect: str) -> Any:
    table: Any = SubscriptionRow.__table__  # type: ignore[attr-defined]
    return (
        sa.update(table)
        .where(table.c.tenant_id == sa.bindparam("tenant_id"))
        .values(tenant_id=table.c.tenant_id)
    )


# A new version of the tenant's subscription row, its values unchanged (see `save`).
TOUCH_SUBSCRIPTION = Statement(_touch_subscription)


def _count_one(_dialect: str) -> Any:
    table: Any = QuotaUsageRow.__table__  # type: ignore[attr-defined]
    return (
        sa.update(table)
        .where(
            table.c.tenant_id == sa.bindparam("tenant_id"),
            table.c.app == sa.bindparam("app"),
            table.c.period_start == sa.bindparam("period_start"),
            table.c.used < table.c.quota_limit,
        )
        .values(used=table.c.used + 1)
        .returning(table.c.used, table.c.quota_limit)
    )


COUNT_ONE = Statement(_count_one)


def _count_and_number(dialect: str) -> Any:
    """PostgreSQL: COUNT_ONE and NEXT_NUMBER in one statement (one round trip instead of two),
    the counter advanced only if the item was counted: no row when it was not."""
    counted, numbered = _counted_and_numbered(dialect)
    return sa.select(counted.c.used, counted.c.quota_limit, numbered.c.value).select_from(
        counted.join(numbered, sa.true())
    )


def _count_number_and_record(dialect: str) -> Any:
    """PostgreSQL: `_count_and_number`, and if the item counted, its id taken from its table's
    sequence (the bind `items`: the table's name) and the first line of its history written
    with that id, in the same statement. (used, limit, number, id); no row when not counted."""
    counted, numbered = _counted_and_numbered(dialect)
    events: Any = ItemEventRow.__table__  # type: ignore[attr-defined]
    sequence = sa.func.pg_get_serial_sequence(sa.bindparam("items", type_=sa.String()), "id")
    created = (
        sa.insert(events)
        .from_select(
            ["item_id", *_CREATED_COLUMNS],
            sa.select(
                sa.func.nextval(sa.cast(sequence, postgresql.REGCLASS)),
                *(sa.bindparam(name, type_=events.c[name].type) for name in _CREATED_COLUMNS),
            ).select_from(numbered),
        )
        .returning(events.c.item_id)
        .cte("created")
    )
    return sa.select(
        counted.c.used, counted.c.quota_limit, numbered.c.value, created.c.item_id
    ).select_from(counted.join(numbered, sa.true()).join(created, sa.true()))


def _counted_and_numbered(dialect: str) -> tuple[Any, Any]:
    counters: Any = TenantCounter.__table__  # type: ignore[attr-defined]
    counted = _count_one(dialect).cte("counted")
    numbered = (
        insert_for(dialect, counters)
        .from_select(
            ["tenant_id", "name", "value"],
            sa.select(
                sa.bindparam("tenant_id", type_=counters.c.tenant_id.type),
                sa.bindparam("name", type_=counters.c.name.type),
                sa.literal(1, counters.c.value.type),
            ).select_from(counted),
        )
        .on_conflict_do_update(
            index_elements=["tenant_id", "name"], set_={"value": counters.c.value + 1}
        )
        .returning(counters.c.value)
        .cte("numbered")
    )
    return counted, numbered


COUNT_AND_NUMBER = Statement(_count_and_number)
# The columns of a history line that `COUNT_NUMBER_AND_RECORD` takes as binds (the item's id
# it takes from the sequence).
_CREATED_COLUMNS = (
    "tenant_id",
    "app",
    "actor_id",
    "actor_name",
    "field",
    "old",
    "new",
    "created_at",
)
COUNT_NUMBER_AND_RECORD = Statement(_count_number_and_record)


class BillingRepository(Repository):
    """Subscription, plan segments, refunds and usage are read and saved without the ORM: a
    row read here is not in the session, and changing it means `save` (by primary key)."""

    async def subscription(self, *, for_update: bool = False) -> SubscriptionRow | None:
        rows = SUBSCRIPTION_FOR_UPDATE if for_update else SUBSCRIPTIONS
        return await rows.first(await self.db(), tenant_id=self.tenant_id)

    async def subscription_and_segments(
        self, *, for_update: bool = False
    ) -> tuple[SubscriptionRow | None, list[PlanSegmentRow]]:
        """`subscription` and `segments`, as of one moment: every turn that counts or shows
        the quota reads both, in one statement.

        Locked (`for_update`) on PostgreSQL, one statement reads with one snapshot, taken
        before it waits for the lock: the locked row comes back as the plan change it waited
        for left it, but the segments joined to it as they were before (PostgreSQL rechecks
        only the locked row), so a create would count against the old period. The statement
        tells (`fresh`, see `LOCKED_SUBSCRIPTION_AND_SEGMENTS`), and then the segments are read
        again: a second statement only after a change of the subscription that the read met.
        SQLite's writers run one at a time (BEGIN IMMEDIATE): nothing can change between the
        two."""
        db = await self.db()
        locked = for_update and self.dialect == "postgresql"
        statement = LOCKED_SUBSCRIPTION_AND_SEGMENTS if locked else SUBSCRIPTION_AND_SEGMENTS
        found = await db.rows(statement, tenant_id=self.tenant_id)
        if not found:
            return None, []
        width = len(SUBSCRIPTIONS.names)
        subscription = SUBSCRIPTIONS.row(found[0][:width], db)
        if locked and not found[0][width]:
            return subscription, await self.segments()
        first = width + 1 if locked else width
        segment_id = first + SEGMENTS.names.index("id")
        return subscription, [
            SEGMENTS.row(r[first:], db) for r in found if r[segment_id] is not None
        ]

    async def create_if_absent(self, row: SubscriptionRow) -> bool:
        """Insert the subscription unless it exists; True for the one caller that inserted."""
        if row.tenant_id != self.tenant_id:
            raise ValueError("subscription of another tenant")
        return await SUBSCRIPTIONS.insert_if_absent(await self.db(), row)

    async def save(self, row: SubscriptionRow | PlanSegmentRow | RefundRow) -> None:
        if row.tenant_id != self.tenant_id:
            raise ValueError("billing row of another tenant")
        db = await self.db()
        if isinstance(row, SubscriptionRow):
            await SUBSCRIPTIONS.save(db, row)
        elif isinstance(row, PlanSegmentRow):
            await SEGMENTS.save(db, row)
            if self.dialect == "postgresql":
                # A locked read that met this transaction's change sees it by the new version
                # of the subscription row (`subscription_and_segments`), even where the writer
                # only locked the row.
                await db.run(TOUCH_SUBSCRIPTION, tenant_id=self.tenant_id)
        else:
            await REFUNDS.save(db, row)

    async def segments(self) -> list[PlanSegmentRow]:
        return await SEGMENTS.all(await self.db(), tenant_id=self.tenant_id)

    async def refunds(self) -> list[RefundRow]:
        return await REFUNDS.all(await self.db(), tenant_id=self.tenant_id)

    async def usage(self, period_start: date) -> list[QuotaUsageRow]:
        return await USAGE.all(await self.db(), tenant_id=self.tenant_id, period_start=period_start)

    async def ensure_usage(self, app: str, period_start: date, limit: int) -> None:
        row = new_row(
            QuotaUsageRow,
            tenant_id=self.tenant_id,
            app=app,
            period_start=period_start,
            used=0,
            quota_limit=limit,
        )
        await USAGE.insert_if_absent(await self.db(), row)

    async def count_one(self, app: str, period_start: date, limit: int) -> tuple[int, int] | None:
        """`consume`, the period's row made first if it has none yet (with `limit`): one
        statement when the row exists, which is every create but the period's first."""
        counted = await self.consume(app, period_start)
        if counted is None:
            await self.ensure_usage(app, period_start, limit)
            counted = await self.consume(app, period_start)
        return counted

    async def count_and_number(
        self, app: str, period_start: date, limit: int, counter: str
    ) -> tuple[int, int, int] | None:
        """`count_one`, and if it counted, the next number of the tenant's `counter`
        (`TenantRepository.next_number`): (used, limit, number). Not counted, the counter does
        not move. One statement on PostgreSQL, where each is a round trip; two on SQLite, which
        cannot write in a WITH."""
        db = await self.db()
        if self.dialect != "postgresql":
            counted = await self.count_one(app, period_start, limit)
            if counted is None:
                return None
            number = await db.first(NEXT_NUMBER, tenant_id=self.tenant_id, name=counter)
            assert number is not None
            return (*counted, int(number[0]))
        values = dict(tenant_id=self.tenant_id, app=app, period_start=period_start, name=counter)
        row = await db.first(COUNT_AND_NUMBER, **values)
        if row is None:  # the period's first item, or the limit reached
            await self.ensure_usage(app, period_start, limit)
            row = await db.first(COUNT_AND_NUMBER, **values)
        return (int(row[0]), int(row[1]), int(row[2])) if row is not None else None

    async def count_number_and_record(
        self, period_start: date, limit: int, counter: str, items: str, created: ItemEventRow
    ) -> tuple[int, int, int, int | None] | None:
        """`count_and_number` for a new item of `created.app`, whose table is `items`:
        (used, limit, number, id). On PostgreSQL, if it counted, the item's id is taken from
        its table's sequence (the item is then inserted with it) and its first history line
        `created` is written with that id, in the same statement: a round trip less for every
        create. On SQLite the id is None and nothing is written but the count and the number:
        the caller inserts the item and then its history line, as it would anyway."""
        if created.tenant_id != self.tenant_id:
            raise ValueError("history of another tenant")
        if self.dialect != "postgresql":
            counted = await self.count_and_number(created.app, period_start, limit, counter)
            return None if counted is None else (*counted, None)
        db = await self.db()
        values = dict(
            values_of(created, _CREATED_COLUMNS),
            period_start=period_start,
            name=counter,
            items=items,
        )
        row = await db.first(COUNT_NUMBER_AND_RECORD, **values)
        if row is None:  # the period's first item, or the limit reached
            await self.ensure_usage(created.app, period_start, limit)
            row = await db.first(COUNT_NUMBER_AND_RECORD, **values)
        if row is None:
            return None
        return int(row[0]), int(row[1]), int(row[2]), int(row[3])

    async def consume(self, app: str, period_start: date) -> tuple[int, int] | None:
        """Count one item if, and only if, the limit allows it: check and count are one
        statement, so concurrent creates can never overshoot. Returns (used, limit) after."""
        row = await (await self.db()).first(
            COUNT_ONE, tenant_id=self.tenant_id, app=app, period_start=period_start
        )
        return (int(row[0]), int(row[1])) if row is not None else None

    async def set_limit(self, app: str, period_start: date, limit: int) -> None:
        table = QuotaUsageRow.__table__  # type: ignore[attr-defined]
        await self.execute(
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
            await self.execute(
                sa.update(table)
                .where(
                    table.c.tenant_id == self.tenant_id,
                    table.c.app == app,
                    table.c.period_start == target,
                )
                .values(used=table.c.used + moved.get(app, 0))
            )
        await self.execute(
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
        result = await self.execute(stmt)
        return bool(result.rowcount)  # type: ignore[attr-defined]


class OutboxRepository(Repository):
    async def enqueue(self, row: OutboxRow) -> None:
        if row.tenant_id != self.tenant_id:
            raise ValueError("outbox message of another tenant")
        session = await self.orm()
        session.add(row)
        await session.flush()
        collected = turn_outbox.get()
        if collected is not None and row.id is not None:
            collected.append(row.id)
