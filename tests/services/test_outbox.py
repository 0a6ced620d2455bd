"""Quota notices and the durable outbox, on a SQLite file and on PostgreSQL.

A create that crosses a warning threshold writes the notice and one outbox message per audience
conversation in its own transaction; each (tenant, app, period, threshold, limit) is told once.
The outbox store hands each due message to exactly one claimant, and a claim whose process died
comes back when its lease runs out.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event as sa_event

from bot.domain.clock import FixedClock
from bot.domain.notices import QuotaNotice, TicketEvent, TicketNotice
from bot.domain.plans import App, PlanCatalog, load_catalog
from bot.domain.quota import QuotaExceeded, QuotaPolicy
from bot.domain.roles import Role
from bot.domain.tickets import Status, TicketDraft
from bot.services import conversations, subscriptions
from bot.services import roles as roles_service
from bot.services import tickets as ticket_service
from bot.services.identity import Identity, resolve_actor
from storage.db import Database
from storage.outbox import FAILED, PENDING, SENDING, SENT, OutboxStore
from storage.uow import UnitOfWorkFactory
from tests.support.billing_db import ticket_numbers, usage_rows
from tests.support.outbox_db import (
    conversation_active,
    conversation_ref_id,
    enqueue,
    install,
    notice_rows,
    outbox_row,
    outbox_rows,
)

A = "tenant-a"
B = "tenant-b"
ALICE = Identity(A, "29:alice", "Alice Admin", "aad-alice", "en-US")  # first: the admin
ERIN = Identity(A, "29:erin", "Erin", "aad-erin", "en-US")  # made a second admin
CAROL = Identity(A, "29:carol", "Carol", "aad-carol", "en-US")  # a member
DAVE = Identity(B, "29:dave", "Dave", "aad-dave", "en-US")  # tenant B's admin

CHANNEL = "19:general-a@thread.tacv2"
GROUP = "19:group-a@thread.v2"
OLD_CHANNEL = "19:old-a@thread.tacv2"  # the bot was removed from it
B_CHANNEL = "19:general-b@thread.tacv2"

AUDIENCE = {CHANNEL, GROUP, "a:personal-29:alice", "a:personal-29:erin"}
FIRST_RENEWAL = date(2026, 12, 2)  # the tenant's first activity is on 2026-11-02

LEASE = timedelta(minutes=2)


@pytest.fixture(scope="module")
def catalog() -> PlanCatalog:
    return load_catalog()


@pytest.fixture
def factory(any_db: Database) -> UnitOfWorkFactory:
    return UnitOfWorkFactory(any_db)


@pytest.fixture
async def org(factory: UnitOfWorkFactory, clock: FixedClock) -> None:
    """Tenant A: the bot in a channel, a group chat, the personal chats of two admins and of a
    member, and in a channel it was removed from. Tenant B: a personal chat and a channel."""
    await install(factory, clock, ALICE, "a:personal-29:alice")
    await install(factory, clock, ERIN, "a:personal-29:erin")
    await roles_service.set_role(factory(A), clock, ALICE, ERIN.user_id, Role.ADMIN)
    await install(factory, clock, CAROL, "a:personal-29:carol")
    await install(factory, clock, ALICE, CHANNEL, "channel")
    await install(factory, clock, ALICE, GROUP, "groupChat")
    await install(factory, clock, ALICE, OLD_CHANNEL, "channel")
    await conversations.record_uninstallation(factory(A), clock, OLD_CHANNEL)
    await install(factory, clock, DAVE, "a:personal-29:dave")
    await install(factory, clock, DAVE, B_CHANNEL, "channel")


async def create(
    factory: UnitOfWorkFactory,
    clock: FixedClock,
    catalog: PlanCatalog,
    count: int,
    who: Identity = CAROL,
    thresholds: tuple[int, ...] = (80, 90),
) -> None:
    for i in range(count):
        await ticket_service.create_ticket(
            factory(who.tenant_id),
            clock,
            QuotaPolicy(catalog, thresholds),
            who,
            TicketDraft(f"Ticket {i}"),
            "a:personal-29:carol",
        )


def quota_notices(rows: list) -> list[tuple[str, int, int, int, date]]:  # type: ignore[type-arg]
    """(conversation, threshold, used, limit, renews) of each quota message."""
    return [
        (r.conversation_id, r.quota.threshold, r.quota.used, r.quota.limit, r.quota.renews_on)
        for r in rows
    ]


# -- notices in the create's transaction ---------------------------------------------------------


@pytest.mark.usefixtures("org")
async def test_a_create_that_crosses_a_threshold_queues_one_message_per_audience_conversation(
    any_db: Database, factory: UnitOfWorkFactory, clock: FixedClock, catalog: PlanCatalog
) -> None:
    await create(factory, clock, catalog, 19)
    assert await outbox_rows(any_db) == []
    assert await notice_rows(any_db, A) == []

    await create(factory, clock, catalog, 1)  # the 20th of 25: 80 %

    rows = await outbox_rows(any_db)
    # Every active channel and group chat, and each admin's personal chat; not the member's
    # personal chat, not the channel the bot left, nothing in tenant B.
    assert sorted(r.conversation_id for r in rows) == sorted(AUDIENCE)
    assert {r.tenant_id for r in rows} == {A}
    assert {r.kind for r in rows} == {"quota"}
    assert {(r.status, r.attempts, r.thread_conversation_id) for r in rows} == {(PENDING, 0, None)}
    assert {r.next_attempt_at for r in rows} == {clock.now()}
    assert {r.quota for r in rows} == {QuotaNotice(App.TICKETS, 20, 25, 80, FIRST_RENEWAL)}
    assert [
        (n.app, n.period_start, n.threshold, n.limit) for n in await notice_rows(any_db, A)
    ] == [("tickets", date(2026, 11, 2), 80, 25)]
    assert await outbox_rows(any_db, B) == []


@pytest.mark.usefixtures("org")
async def test_walking_to_the_limit_queues_80_90_and_100_percent_once_each(
    any_db: Database, factory: UnitOfWorkFactory, clock: FixedClock, catalog: PlanCatalog
) -> None:
    await create(factory, clock, catalog, 25)

    rows = await outbox_rows(any_db)
    assert len(rows) == 3 * len(AUDIENCE)
    by_threshold = {
        level: sorted(r.conversation_id for r in rows if r.quota.threshold == level)
        for level in (80, 90, 100)
    }
    assert by_threshold == {level: sorted(AUDIENCE) for level in (80, 90, 100)}
    assert {(r.quota.threshold, r.quota.used) for r in rows} == {(80, 20), (90, 23), (100, 25)}


@pytest.mark.usefixtures("org")
async def test_a_create_refused_by_the_quota_writes_nothing(
    any_db: Database, factory: UnitOfWorkFactory, clock: FixedClock, catalog: PlanCatalog
) -> None:
    await create(factory, clock, catalog, 25)
    before = await outbox_rows(any_db)
    notices_before = await notice_rows(any_db, A)

    with pytest.raises(QuotaExceeded):
        await create(factory, clock, catalog, 1)

    assert await outbox_rows(any_db) == before
    assert await notice_rows(any_db, A) == notices_before
    assert await ticket_numbers(any_db, A) == list(range(1, 26))
    assert [(u.used, u.limit) for u in await usage_rows(any_db, A) if u.app == "tickets"] == [
        (25, 25)
    ]


class Boom(Exception):
    pass


@pytest.mark.usefixtures("org")
async def test_a_notice_is_rolled_back_with_the_create_that_caused_it(
    any_db: Database, factory: UnitOfWorkFactory, clock: FixedClock, catalog: PlanCatalog
) -> None:
    await create(factory, clock, catalog, 19)

    # The 20th item is counted and its notice written, then the transaction fails before
    # commit (as an insert after the count could): neither the count nor the notice stays.
    with pytest.raises(Boom):
        async with factory(A) as uow:
            await resolve_actor(uow, clock, CAROL)
            state, _ = await subscriptions.consume(
                uow, clock, QuotaPolicy(catalog, (80, 90)), App.TICKETS, None, "ticket"
            )
            assert (state.used, state.limit) == (20, 25)
            raise Boom

    assert await outbox_rows(any_db) == []
    assert await notice_rows(any_db, A) == []
    assert [u.used for u in await usage_rows(any_db, A) if u.app == "tickets"] == [19]

    # The retry of the same create warns, once.
    await create(factory, clock, catalog, 1)
    assert len(await outbox_rows(any_db)) == len(AUDIENCE)


# -- at most once per (period, threshold, limit) ---------------------------------------------------


@pytest.mark.usefixtures("org")
async def test_creates_after_a_crossing_do_not_warn_again(
    any_db: Database, factory: UnitOfWorkFactory, clock: FixedClock, catalog: PlanCatalog
) -> None:
    await create(factory, clock, catalog, 22)
    assert {r.quota.threshold for r in await outbox_rows(any_db)} == {80}
    assert len(await outbox_rows(any_db)) == len(AUDIENCE)


@pytest.mark.usefixtures("org")
async def test_a_notice_is_recorded_once_per_period_threshold_and_limit(
    factory: UnitOfWorkFactory, clock: FixedClock
) -> None:
    start = date(2026, 11, 2)
    async with factory(A) as uow:
        assert await uow.notices.record("tickets", start, 80, 25, clock.now())
        assert not await uow.notices.record("tickets", start, 80, 25, clock.now())
        # Another threshold, limit, period or app is another notice.
        assert await uow.notices.record("tickets", start, 90, 25, clock.now())
        assert await uow.notices.record("tickets", start, 80, 32, clock.now())
        assert await uow.notices.record("tickets", date(2026, 12, 2), 80, 25, clock.now())
        assert await uow.notices.record("checklists", start, 80, 25, clock.now())
        await uow.commit()
    # The same notice in another tenant is that tenant's own.
    async with factory(B) as uow:
        assert await uow.notices.record("tickets", start, 80, 25, clock.now())
        await uow.commit()


@pytest.mark.usefixtures("org")
async def test_concurrent_creates_across_the_thresholds_warn_once_per_threshold(
    any_db: Database, factory: UnitOfWorkFactory, clock: FixedClock, catalog: PlanCatalog
) -> None:
    users = [CAROL, ALICE, ERIN]
    await create(factory, clock, catalog, 15)  # 60 %; the subscription and users exist

    results = await asyncio.gather(
        *(
            ticket_service.create_ticket(
                factory(A),
                clock,
                QuotaPolicy(catalog, (80, 90)),
                users[i % len(users)],
                TicketDraft(f"Rush {i}"),
            )
            for i in range(20)
        ),
        return_exceptions=True,
    )

    assert sum(not isinstance(r, BaseException) for r in results) == 10
    assert all(isinstance(r, QuotaExceeded) for r in results if isinstance(r, BaseException))
    rows = await outbox_rows(any_db)
    assert sorted((r.conversation_id, r.quota.threshold) for r in rows) == sorted(
        (c, level) for c in AUDIENCE for level in (80, 90, 100)
    )
    assert [n.threshold for n in await notice_rows(any_db, A)] == [80, 90, 100]


# -- re-armed by a new period and by a new limit ---------------------------------------------------


@pytest.mark.usefixtures("org")
async def test_a_new_billing_period_re_arms_the_warnings(
    any_db: Database, factory: UnitOfWorkFactory, clock: FixedClock, catalog: PlanCatalog
) -> None:
    await create(factory, clock, catalog, 20)
    assert len(await outbox_rows(any_db)) == len(AUDIENCE)

    # The free period renews on 2026-12-02; usage starts again from zero.
    clock.set(datetime(2026, 12, 2, 8, 0, tzinfo=UTC))
    await create(factory, clock, catalog, 19)
    assert len(await outbox_rows(any_db)) == len(AUDIENCE)
    await create(factory, clock, catalog, 1)

    rows = await outbox_rows(any_db)
    new = rows[len(AUDIENCE) :]
    assert sorted(r.conversation_id for r in new) == sorted(AUDIENCE)
    assert {r.quota for r in new} == {QuotaNotice(App.TICKETS, 20, 25, 80, date(2027, 1, 2))}
    assert [(n.period_start, n.threshold) for n in await notice_rows(any_db, A)] == [
        (date(2026, 11, 2), 80),
        (date(2026, 12, 2), 80),
    ]


@pytest.mark.usefixtures("org")
async def test_a_plan_change_that_moves_the_limit_re_arms_the_warnings(
    any_db: Database, factory: UnitOfWorkFactory, clock: FixedClock, catalog: PlanCatalog
) -> None:
    # Bought on the first day of the period: standard, 250 tickets; 200 is 80 %.
    await subscriptions.change_plan(factory(A), clock, catalog, ALICE, "standard")
    await create(factory, clock, catalog, 200)
    assert len(await outbox_rows(any_db)) == len(AUDIENCE)

    # On the last day of the period Alice upgrades: 29 days of standard and 1 of premium make
    # floor((250 x 29 + 1000 x 1) / 30) = 275 tickets this period; 200 used is 72 %.
    clock.set(datetime(2026, 12, 1, 10, 0, tzinfo=UTC))
    change = await subscriptions.change_plan(factory(A), clock, catalog, ALICE, "premium")
    assert change.quotas[App.TICKETS] == 275

    await create(factory, clock, catalog, 19)  # 219 of 275: 79 %
    assert len(await outbox_rows(any_db)) == len(AUDIENCE)
    await create(factory, clock, catalog, 2)  # 221 of 275: 80.4 %, over 80 % of the new limit

    new = (await outbox_rows(any_db))[len(AUDIENCE) :]
    assert sorted(r.conversation_id for r in new) == sorted(AUDIENCE)
    assert {r.quota for r in new} == {QuotaNotice(App.TICKETS, 220, 275, 80, FIRST_RENEWAL)}
    assert [(n.threshold, n.limit) for n in await notice_rows(any_db, A)] == [(80, 250), (80, 275)]


@pytest.mark.usefixtures("org")
async def test_configured_thresholds_and_a_jump_over_several_queue_only_the_highest(
    any_db: Database, factory: UnitOfWorkFactory, clock: FixedClock, catalog: PlanCatalog
) -> None:
    thresholds = (85, 86, 87)
    await create(factory, clock, catalog, 21, thresholds=thresholds)  # 84 %
    assert await outbox_rows(any_db) == []

    await create(factory, clock, catalog, 1, thresholds=thresholds)  # 88 %: over all three

    rows = await outbox_rows(any_db)
    assert sorted(r.conversation_id for r in rows) == sorted(AUDIENCE)
    assert {(r.quota.threshold, r.quota.used) for r in rows} == {(87, 22)}
    assert [n.threshold for n in await notice_rows(any_db, A)] == [87]


@pytest.mark.usefixtures("org")
async def test_warnings_follow_installations_made_after_earlier_warnings(
    any_db: Database, factory: UnitOfWorkFactory, clock: FixedClock, catalog: PlanCatalog
) -> None:
    await create(factory, clock, catalog, 20)
    # The bot is added to another channel and removed from the group chat.
    await install(factory, clock, ALICE, "19:new-a@thread.tacv2", "channel")
    await conversations.record_uninstallation(factory(A), clock, GROUP)

    await create(factory, clock, catalog, 3)  # 90 %

    ninety = [r.conversation_id for r in await outbox_rows(any_db) if r.quota.threshold == 90]
    assert sorted(ninety) == sorted((AUDIENCE - {GROUP}) | {"19:new-a@thread.tacv2"})


# -- the outbox store ----------------------------------------------------------------------------


def ticket_notice(number: int) -> TicketNotice:
    return TicketNotice(TicketEvent.COMMENTED, number, f"Ticket {number}", "Bob", Status.OPEN, "Hi")


@pytest.fixture
async def queued(factory: UnitOfWorkFactory, clock: FixedClock, org: None) -> list[int]:
    """Five messages to tenant A's channel, due now, oldest first."""
    return [await enqueue(factory, A, CHANNEL, ticket_notice(n), clock.now()) for n in range(1, 6)]


async def test_claim_takes_due_messages_oldest_first_up_to_the_limit(
    any_db: Database, clock: FixedClock, queued: list[int], factory: UnitOfWorkFactory
) -> None:
    later = await enqueue(factory, A, GROUP, ticket_notice(9), clock.now() + timedelta(minutes=1))
    store = OutboxStore(any_db, worker="worker-a")

    first = await store.claim(clock.now(), 3, LEASE)
    assert [m.id for m in first] == queued[:3]
    message = first[0]
    assert (message.tenant_id, message.conversation_id, message.kind) == (A, CHANNEL, "ticket")
    assert message.conversation_ref_id == await conversation_ref_id(any_db, A, CHANNEL)
    assert TicketNotice.from_json(message.payload) == ticket_notice(1)
    assert (message.locale, message.attempts, message.thread_conversation_id) == ("en-US", 0, None)
    assert '"serviceUrl"' in message.reference and CHANNEL in message.reference

    second = await store.claim(clock.now(), 10, LEASE)
    assert [m.id for m in second] == queued[3:]  # not the ones already claimed, not the future
    assert await store.claim(clock.now(), 10, LEASE) == []

    claimed = await outbox_row(any_db, queued[0])
    assert (claimed.status, claimed.claimed_by) == (SENDING, "worker-a")
    assert (await outbox_row(any_db, later)).status == PENDING

    clock.advance(timedelta(minutes=1))
    assert [m.id for m in await store.claim(clock.now(), 10, LEASE)] == [later]


@contextlib.contextmanager
def engine_checkouts(db: Database) -> Iterator[list[object]]:
    """The connections the engine's pool hands out while the block runs, one entry each."""
    checkouts: list[object] = []

    def checked_out(*args: object) -> None:
        checkouts.append(args)

    sa_event.listen(db.engine.sync_engine, "checkout", checked_out)
    try:
        yield checkouts
    finally:
        sa_event.remove(db.engine.sync_engine, "checkout", checked_out)


async def test_the_outbox_writes_on_the_units_connections_not_the_engines(
    any_db: Database, clock: FixedClock, queued: list[int]
) -> None:
    """The proactive sender's claims and marks run where units of work run (SQLite's writer,
    PostgreSQL's held connections): its concurrent deliveries open no engine connections
    beside those."""
    with engine_checkouts(any_db) as checkouts:
        store = OutboxStore(any_db, worker="worker-a")
        claimed = await store.claim(clock.now(), 5, LEASE)
        await asyncio.gather(*(store.sent(m.id, clock.now()) for m in claimed))
        assert checkouts == []
    assert [(await outbox_row(any_db, m.id)).status for m in claimed] == [SENT] * 5


@pytest.mark.postgres
async def test_without_held_connections_the_outbox_writes_on_the_engines(
    any_db: Database, clock: FixedClock, queued: list[int]
) -> None:
    """Another PostgreSQL driver has no held connections (`Database.pg_connections` is None):
    the outbox's transactions are then the engine's, as the units' are."""
    if any_db.pg_connections is None:
        pytest.skip("SQLite has no held PostgreSQL connections to do without")
    held, any_db.pg_connections = any_db.pg_connections, None
    try:
        with engine_checkouts(any_db) as checkouts:
            store = OutboxStore(any_db, worker="worker-a")
            claimed = await store.claim(clock.now(), 5, LEASE)
            for message in claimed:
                await store.sent(message.id, clock.now())
    finally:
        any_db.pg_connections = held
    assert len(checkouts) == 1 + len(claimed)
    assert [(await outbox_row(any_db, m.id)).status for m in claimed] == [SENT] * 5


async def test_sent_messages_are_never_claimed_again(
    any_db: Database, clock: FixedClock, queued: list[int]
) -> None:
    store = OutboxStore(any_db, worker="worker-a")
    [message] = await store.claim(clock.now(), 1, LEASE)
    await store.sent(message.id, clock.now())

    row = await outbox_row(any_db, message.id)
    assert (row.status, row.sent_at) == (SENT, clock.now())
    clock.advance(timedelta(days=2))  # long after any lease
    assert message.id not in [m.id for m in await store.claim(clock.now(), 100, LEASE)]
    assert await store.counts() == {SENT: 1, SENDING: 4}


async def test_a_retry_waits_until_its_time_and_counts_the_attempt(
    any_db: Database, clock: FixedClock, queued: list[int]
) -> None:
    store = OutboxStore(any_db, worker="worker-a")
    [message] = await store.claim(clock.now(), 1, LEASE)
    retry_at = clock.now() + timedelta(seconds=5)
    await store.retry(message.id, retry_at, 1, "429 Too Many Requests " + "x" * 1000)

    row = await outbox_row(any_db, message.id)
    assert (row.status, row.attempts, row.next_attempt_at) == (PENDING, 1, retry_at)
    assert row.last_error is not None and row.last_error.startswith("429 Too Many Requests")
    assert len(row.last_error) <= 400
    assert await store.next_due() == clock.now()  # the four others are still due now

    other = OutboxStore(any_db, worker="worker-b")
    clock.advance(timedelta(seconds=4))
    assert message.id not in [m.id for m in await other.claim(clock.now(), 100, LEASE)]
    clock.advance(timedelta(seconds=1))
    [again] = await other.claim(clock.now(), 100, LEASE)
    assert (again.id, again.attempts) == (message.id, 1)


async def test_a_postponed_message_keeps_its_attempts(
    any_db: Database, clock: FixedClock, queued: list[int]
) -> None:
    store = OutboxStore(any_db, worker="worker-a")
    [message] = await store.claim(clock.now(), 1, LEASE)
    await store.postpone(message.id, clock.now() + timedelta(milliseconds=300))

    row = await outbox_row(any_db, message.id)
    assert (row.status, row.attempts) == (PENDING, 0)
    assert row.next_attempt_at == clock.now() + timedelta(milliseconds=300)
    assert message.id not in [m.id for m in await store.claim(clock.now(), 100, LEASE)]
    clock.advance(timedelta(milliseconds=300))
    assert [m.id for m in await store.claim(clock.now(), 100, LEASE)] == [message.id]


async def test_a_failed_message_stays_failed(
    any_db: Database, clock: FixedClock, queued: list[int]
) -> None:
    store = OutboxStore(any_db, worker="worker-a")
    [message] = await store.claim(clock.now(), 1, LEASE)
    await store.failed(message.id, 7, "503 for 24 hours")

    row = await outbox_row(any_db, message.id)
    assert (row.status, row.attempts, row.last_error) == (FAILED, 7, "503 for 24 hours")
    clock.advance(timedelta(days=3))
    assert message.id not in [m.id for m in await store.claim(clock.now(), 100, LEASE)]
    assert (await store.counts())[FAILED] == 1


async def test_an_expired_claim_is_claimed_again_and_the_late_owner_cannot_finish_it(
    any_db: Database, clock: FixedClock, queued: list[int]
) -> None:
    dead = OutboxStore(any_db, worker="dead-process")
    claimed = await dead.claim(clock.now(), 2, LEASE)
    assert [m.id for m in claimed] == queued[:2]
    alive = OutboxStore(any_db, worker="alive-process")

    # Within the lease the claim holds...
    clock.advance(LEASE)
    assert [m.id for m in await alive.claim(clock.now(), 2, LEASE)] == queued[2:4]
    # ...once it has run out, the messages are taken over.
    clock.advance(timedelta(seconds=1))
    taken = await alive.claim(clock.now(), 2, LEASE)
    assert [m.id for m in taken] == queued[:2]
    assert {(await outbox_row(any_db, i)).claimed_by for i in queued[:2]} == {"alive-process"}

    # The first process wakes up and reports: its word no longer counts.
    await dead.sent(queued[0], clock.now())
    await dead.failed(queued[1], 1, "late")
    assert [(await outbox_row(any_db, i)).status for i in queued[:2]] == [SENDING, SENDING]
    await alive.sent(queued[0], clock.now())
    await alive.retry(queued[1], clock.now() + timedelta(seconds=2), 1, "429")
    assert [(await outbox_row(any_db, i)).status for i in queued[:2]] == [SENT, PENDING]


async def test_deactivate_marks_the_conversation_inactive_for_later_warnings(
    any_db: Database,
    factory: UnitOfWorkFactory,
    clock: FixedClock,
    catalog: PlanCatalog,
    queued: list[int],
) -> None:
    store = OutboxStore(any_db, worker="worker-a")
    await store.deactivate(await conversation_ref_id(any_db, A, CHANNEL), clock.now())
    assert not await conversation_active(any_db, A, CHANNEL)
    assert await conversation_active(any_db, A, GROUP)

    await create(factory, clock, catalog, 20)
    warned = {r.conversation_id for r in await outbox_rows(any_db) if r.kind == "quota"}
    assert warned == AUDIENCE - {CHANNEL}


async def test_next_due_is_the_earliest_pending_message(
    any_db: Database, factory: UnitOfWorkFactory, clock: FixedClock, org: None
) -> None:
    store = OutboxStore(any_db)
    assert await store.next_due() is None
    in_a_minute = clock.now() + timedelta(minutes=1)
    await enqueue(factory, A, CHANNEL, ticket_notice(1), in_a_minute)
    await enqueue(factory, A, GROUP, ticket_notice(2), clock.now() + timedelta(minutes=5))
    assert await store.next_due() == in_a_minute
    assert await store.claim(clock.now(), 10, LEASE) == []


async def test_two_stores_claiming_at_once_never_get_the_same_message(
    any_db: Database, factory: UnitOfWorkFactory, clock: FixedClock, org: None
) -> None:
    """Two processes on one database (two engines, two worker ids) claim concurrently: every
    message goes to exactly one of them. On PostgreSQL this is FOR UPDATE SKIP LOCKED."""
    targets = [CHANNEL, GROUP, "a:personal-29:alice", "a:personal-29:erin"]
    ids = [
        await enqueue(factory, A, targets[n % len(targets)], ticket_notice(n), clock.now())
        for n in range(200)
    ]
    other_db = Database(any_db.url)
    try:
        stores = [OutboxStore(any_db, worker="one"), OutboxStore(other_db, worker="two")]
        got: dict[str, list[int]] = {"one": [], "two": []}

        async def keep_claiming(store: OutboxStore) -> None:
            while batch := await store.claim(clock.now(), 7, LEASE):
                got[store.worker].extend(m.id for m in batch)
                await asyncio.sleep(0)

        await asyncio.gather(*(keep_claiming(s) for s in stores for _ in range(4)))
    finally:
        await other_db.dispose()

    everything = got["one"] + got["two"]
    assert len(everything) == len(set(everything)), "a message was claimed twice"
    assert sorted(everything) == ids
    assert got["one"] and got["two"]
    owners = {r.id: r.claimed_by for r in await outbox_rows(any_db)}
    assert all(owners[i] == "one" for i in got["one"])
    assert all(owners[i] == "two" for i in got["two"])
