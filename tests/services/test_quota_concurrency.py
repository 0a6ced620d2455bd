"""N concurrent creates against a remaining quota of k create exactly k tickets, on a SQLite
file and on PostgreSQL: the check and the count are one step, in the insert's transaction.

Each create runs in its own unit of work (its own session and connection), the way concurrent
turns of the bot do.
"""

from __future__ import annotations

import asyncio

import pytest

from bot.domain.clock import FixedClock
from bot.domain.plans import App, PlanCatalog, load_catalog
from bot.domain.quota import QuotaExceeded, QuotaPolicy
from bot.domain.tickets import TicketDraft, TicketFilter
from bot.services import subscriptions
from bot.services import tickets as ticket_service
from bot.services.identity import Identity, resolve_actor
from bot.services.tickets import TicketView
from storage.db import Database
from storage.uow import UnitOfWorkFactory
from tests.support.billing_db import ticket_numbers, ticket_titles, usage_rows

TENANT = "tenant-rush"
USERS = [Identity(TENANT, f"29:user-{i}", f"User {i}", f"aad-{i}") for i in range(4)]
FREE_TICKETS = 25


async def first_contact(
    units: UnitOfWorkFactory, clock: FixedClock, catalog: PlanCatalog, who: Identity
) -> None:
    """What the bot records when a tenant first talks to it: the user and the free
    subscription, anchored that day."""
    async with units(who.tenant_id) as unit:
        await resolve_actor(unit, clock, who)
        await subscriptions.load(unit, clock, catalog)
        await unit.commit()


@pytest.fixture(scope="module")
def catalog() -> PlanCatalog:
    return load_catalog()


async def rush(
    factory: UnitOfWorkFactory, clock: FixedClock, catalog: PlanCatalog, count: int, tag: str
) -> tuple[list[TicketView], list[QuotaExceeded]]:
    """`count` creates at once, spread over the tenant's users; every outcome is either a
    ticket or a quota refusal, nothing else."""
    results = await asyncio.gather(
        *(
            ticket_service.create_ticket(
                factory(TENANT),
                clock,
                QuotaPolicy(catalog, (80, 90)),
                USERS[i % len(USERS)],
                TicketDraft(f"{tag} {i}"),
            )
            for i in range(count)
        ),
        return_exceptions=True,
    )
    created = [r for r in results if isinstance(r, TicketView)]
    refused = [r for r in results if isinstance(r, QuotaExceeded)]
    unexpected = [r for r in results if not isinstance(r, TicketView | QuotaExceeded)]
    assert unexpected == [], unexpected
    return created, refused


async def assert_stored(db: Database, expected_tickets: int) -> None:
    assert await ticket_numbers(db, TENANT) == list(range(1, expected_tickets + 1))
    rows = [r for r in await usage_rows(db, TENANT) if r.app == App.TICKETS.value]
    assert [(r.used, r.limit) for r in rows] == [(FREE_TICKETS, FREE_TICKETS)]


async def test_20_concurrent_creates_with_5_left_create_exactly_5(
    any_db: Database, clock: FixedClock, catalog: PlanCatalog
) -> None:
    factory = UnitOfWorkFactory(any_db)
    for i in range(20):
        await ticket_service.create_ticket(
            factory(TENANT),
            clock,
            QuotaPolicy(catalog, (80, 90)),
            USERS[i % len(USERS)],
            TicketDraft(f"Before {i}"),
        )

    created, refused = await rush(factory, clock, catalog, 20, "Rush")

    assert len(created) == 5
    assert len(refused) == 15
    assert sorted(v.ticket.number for v in created) == [21, 22, 23, 24, 25]
    for error in refused:
        assert (error.state.app, error.state.used, error.state.limit) == (App.TICKETS, 25, 25)
        assert error.plan == catalog.free
    await assert_stored(any_db, FREE_TICKETS)
    # The titles stored are exactly those of the creates that were answered with a ticket.
    titles = await ticket_titles(any_db, TENANT)
    assert sorted(titles[20:]) == sorted(v.ticket.title for v in created)


async def test_40_concurrent_creates_on_a_fresh_tenant_create_exactly_25(
    any_db: Database, clock: FixedClock, catalog: PlanCatalog
) -> None:
    """Nothing exists yet: not the tenant, its users, its subscription or its usage row. Four
    people send their very first messages at once, ten each."""
    factory = UnitOfWorkFactory(any_db)

    created, refused = await rush(factory, clock, catalog, 40, "First day")

    assert len(created) == FREE_TICKETS
    assert len(refused) == 40 - FREE_TICKETS
    assert sorted(v.ticket.number for v in created) == list(range(1, FREE_TICKETS + 1))
    await assert_stored(any_db, FREE_TICKETS)


async def test_40_concurrent_first_creates_by_40_new_users_of_a_fresh_tenant(
    any_db: Database, clock: FixedClock, catalog: PlanCatalog
) -> None:
    """The same rush, each create by a different person, so that no two transactions create
    the same user: only the quota is contended."""
    factory = UnitOfWorkFactory(any_db)
    people = [Identity(TENANT, f"29:new-{i}", f"Newcomer {i}") for i in range(40)]

    results = await asyncio.gather(
        *(
            ticket_service.create_ticket(
                factory(TENANT),
                clock,
                QuotaPolicy(catalog, (80, 90)),
                person,
                TicketDraft(f"Hello from {i}"),
            )
            for i, person in enumerate(people)
        ),
        return_exceptions=True,
    )

    created = [r for r in results if isinstance(r, TicketView)]
    refused = [r for r in results if isinstance(r, QuotaExceeded)]
    assert len(created) + len(refused) == 40, [
        r for r in results if not isinstance(r, TicketView | QuotaExceeded)
    ]
    assert len(created) == FREE_TICKETS
    await assert_stored(any_db, FREE_TICKETS)


async def test_40_concurrent_creates_by_a_tenant_that_has_not_used_billing_yet(
    any_db: Database, clock: FixedClock, catalog: PlanCatalog
) -> None:
    """The usual first day: the bot was installed and people looked around (the tenant and its
    users exist) but nobody created anything, so no subscription or usage row exists yet."""
    factory = UnitOfWorkFactory(any_db)
    for user in USERS:
        await ticket_service.list_tickets(factory(TENANT), clock, user, TicketFilter.ALL)

    created, refused = await rush(factory, clock, catalog, 40, "Opening day")

    assert len(created) == FREE_TICKETS
    assert len(refused) == 40 - FREE_TICKETS
    assert sorted(v.ticket.number for v in created) == list(range(1, FREE_TICKETS + 1))
    await assert_stored(any_db, FREE_TICKETS)


async def test_concurrent_creates_right_after_an_upgrade_use_the_new_limit(
    any_db: Database, clock: FixedClock, catalog: PlanCatalog
) -> None:
    factory = UnitOfWorkFactory(any_db)
    admin = USERS[0]
    for user in USERS:
        await ticket_service.list_tickets(factory(TENANT), clock, user, TicketFilter.ALL)
    await first_contact(factory, clock, catalog, admin)  # the free subscription
    filled, _ = await rush(factory, clock, catalog, FREE_TICKETS, "Before")
    assert len(filled) == FREE_TICKETS
    await subscriptions.change_plan(factory(TENANT), clock, catalog, admin, "standard")

    created, refused = await rush(factory, clock, catalog, 30, "After upgrade")

    assert (len(created), len(refused)) == (30, 0)
    assert await ticket_numbers(any_db, TENANT) == list(range(1, 56))
    rows = [r for r in await usage_rows(any_db, TENANT) if r.app == App.TICKETS.value]
    assert [(r.used, r.limit) for r in rows] == [(55, 250)]
