"""The subscription of an organization, through the services and a real (in-memory SQLite)
database: free by default, one unit of quota per ticket created, plan changes prorated per day,
the 72-hour cancellation, statements, roles and tenant isolation.

The clock starts on 2026-11-02 09:00 UTC, the first activity of each tenant unless a test says
otherwise, so a monthly period runs Nov 2 .. Dec 2 (30 days).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from bot.domain.billing import (
    CancellationWindowClosed,
    ChangeKind,
    SamePlan,
    TermChangeRefused,
)
from bot.domain.clock import FixedClock
from bot.domain.errors import OnlyAdmins
from bot.domain.plans import App, PlanCatalog, Term, UnknownPlan, load_catalog
from bot.domain.quota import QuotaExceeded, QuotaPolicy, QuotaState
from bot.domain.subscription import Statement
from bot.domain.tickets import Status, TicketDraft, TicketFilter
from bot.services import subscriptions
from bot.services import tickets as ticket_service
from bot.services.identity import Identity
from bot.services.subscriptions import NothingToCancel
from bot.services.tickets import TicketView
from storage.uow import UnitOfWorkFactory
from tests.support.billing_db import refund_amounts, ticket_numbers, usage_row, usage_rows

TENANT = "tenant-contoso"
OTHER_TENANT = "tenant-fabrikam"
ADA = Identity(TENANT, "29:ada", "Ada Lovelace", "aad-ada")  # first user: admin
BOB = Identity(TENANT, "29:bob", "Bob Member", "aad-bob")  # joins later: member
CY = Identity(OTHER_TENANT, "29:cy", "Cy Other", "aad-cy")

DAY0 = date(2026, 11, 2)
RENEWAL = date(2026, 12, 2)
EUR = Decimal


@pytest.fixture(scope="module")
def catalog() -> PlanCatalog:
    return load_catalog()


# -- helpers ---------------------------------------------------------------------------------


async def create(
    uow: UnitOfWorkFactory,
    clock: FixedClock,
    catalog: PlanCatalog,
    who: Identity = ADA,
    title: str = "Printer on fire",
) -> TicketView:
    return await ticket_service.create_ticket(
        uow(who.tenant_id), clock, QuotaPolicy(catalog, (80, 90)), who, TicketDraft(title)
    )


async def create_many(
    uow: UnitOfWorkFactory,
    clock: FixedClock,
    catalog: PlanCatalog,
    count: int,
    who: Identity = ADA,
) -> list[int]:
    return [
        (await create(uow, clock, catalog, who, f"Ticket {i}")).ticket.number for i in range(count)
    ]


async def tickets_quota(
    uow: UnitOfWorkFactory, clock: FixedClock, catalog: PlanCatalog, who: Identity = ADA
) -> QuotaState:
    view = await subscriptions.usage(uow(who.tenant_id), clock, catalog, who)
    return next(q for q in view.quotas if q.app is App.TICKETS)


async def change(
    uow: UnitOfWorkFactory,
    clock: FixedClock,
    catalog: PlanCatalog,
    plan_id: str,
    who: Identity = ADA,
) -> subscriptions.PlanChange:
    return await subscriptions.change_plan(uow(who.tenant_id), clock, catalog, who, plan_id)


async def statement(
    uow: UnitOfWorkFactory, clock: FixedClock, catalog: PlanCatalog, who: Identity = ADA
) -> Statement:
    result = await subscriptions.billing_statements(
        uow(who.tenant_id), clock, catalog, who, history=False
    )
    assert len(result) == 1
    return result[0]


def lines_of(st: Statement) -> list[tuple[str, int, Decimal]]:
    return [(line.plan.id, line.days, line.amount) for line in st.lines]


async def plan_of(uow: UnitOfWorkFactory, clock: FixedClock, catalog: PlanCatalog) -> str:
    return (await subscriptions.usage(uow(TENANT), clock, catalog, ADA)).plan.id


# -- the free plan ---------------------------------------------------------------------------


async def test_a_tenant_that_never_subscribed_is_on_free(
    uow: UnitOfWorkFactory, clock: FixedClock, catalog: PlanCatalog
) -> None:
    view = await subscriptions.usage(uow(TENANT), clock, catalog, ADA)

    assert view.plan == catalog.free
    assert (view.period.start, view.period.end) == (DAY0, RENEWAL)
    assert not view.suspended
    assert {q.app: (q.used, q.limit, q.renews_on) for q in view.quotas} == {
        App.TICKETS: (0, 25, RENEWAL),
        App.CHECKLISTS: (0, 10, RENEWAL),
        App.OPPORTUNITIES: (0, 10, RENEWAL),
    }


async def test_the_free_period_is_anchored_at_the_first_activity_not_the_first_quota_look(
    uow: UnitOfWorkFactory, clock: FixedClock, catalog: PlanCatalog
) -> None:
    # First contact on Jan 31: the tenant exists, nothing about billing has been asked yet.
    clock.set(datetime(2027, 1, 31, 8, 0, tzinfo=UTC))
    await ticket_service.list_tickets(uow(TENANT), clock, ADA, TicketFilter.ALL)
    clock.set(datetime(2027, 2, 10, 8, 0, tzinfo=UTC))

    view = await subscriptions.usage(uow(TENANT), clock, catalog, ADA)

    # Anchored on the 31st: renews on the last day of the shorter February.
    assert (view.period.start, view.period.end) == (date(2027, 1, 31), date(2027, 2, 28))


async def test_consume_counts_one_unit_per_item_and_refuses_at_the_limit(
    uow: UnitOfWorkFactory, clock: FixedClock, catalog: PlanCatalog
) -> None:
    await subscriptions.usage(uow(TENANT), clock, catalog, ADA)
    for n in range(1, 26):
        async with uow(TENANT) as unit:
            after = await subscriptions.consume(unit, clock, catalog, App.TICKETS)
            await unit.commit()
        assert after.app is App.TICKETS
        assert after.used == n
        assert after.limit == 25
        assert after.renews_on == RENEWAL

    with pytest.raises(QuotaExceeded) as refused:
        async with uow(TENANT) as unit:
            await subscriptions.consume(unit, clock, catalog, App.TICKETS)

    error = refused.value
    assert error.state == QuotaState(App.TICKETS, 25, 25, RENEWAL)
    assert error.plan == catalog.free
    assert [p.id for p in error.upgrades] == ["standard", "premium", "professional"]
    assert error.key == "quota.exceeded"
    assert error.params["used"] == 25 and error.params["limit"] == 25
    # Each app has its own allowance: checklists are untouched by the ticket quota.
    async with uow(TENANT) as unit:
        checklists = await subscriptions.consume(unit, clock, catalog, App.CHECKLISTS)
        await unit.commit()
    assert (checklists.used, checklists.limit) == (1, 10)


async def test_a_refused_create_inserts_nothing_and_skips_no_ticket_number(
    uow: UnitOfWorkFactory, clock: FixedClock, catalog: PlanCatalog
) -> None:
    assert await create_many(uow, clock, catalog, 25) == list(range(1, 26))

    with pytest.raises(QuotaExceeded) as refused:
        await create(uow, clock, catalog, title="The 26th")

    assert refused.value.state.used == 25
    assert await ticket_numbers(uow.db, TENANT) == list(range(1, 26))
    row = await usage_row(uow.db, TENANT, "tickets", DAY0)
    assert row is not None and (row.used, row.limit) == (25, 25)
    # After an upgrade the next ticket gets the next number: the refusal consumed nothing.
    await change(uow, clock, catalog, "standard")
    assert (await create(uow, clock, catalog, title="The 26th")).ticket.number == 26


async def test_every_user_of_the_tenant_draws_on_the_same_quota(
    uow: UnitOfWorkFactory, clock: FixedClock, catalog: PlanCatalog
) -> None:
    await create_many(uow, clock, catalog, 20, ADA)
    await create_many(uow, clock, catalog, 5, BOB)

    with pytest.raises(QuotaExceeded):
        await create(uow, clock, catalog, BOB)
    assert (await tickets_quota(uow, clock, catalog, BOB)).used == 25


async def test_everything_but_creating_keeps_working_at_the_limit(
    uow: UnitOfWorkFactory, clock: FixedClock, catalog: PlanCatalog
) -> None:
    await create_many(uow, clock, catalog, 24, ADA)
    await create(uow, clock, catalog, BOB, "Bob's laptop")
    with pytest.raises(QuotaExceeded):
        await create(uow, clock, catalog, BOB)

    view = await ticket_service.get_ticket(uow(TENANT), clock, BOB, 25)
    assert view.ticket.title == "Bob's laptop"
    commented = await ticket_service.add_comment(uow(TENANT), clock, BOB, 25, "Still broken")
    assert [c.text for c in commented.ticket.comments] == ["Still broken"]
    assigned = await ticket_service.assign_ticket(uow(TENANT), clock, ADA, 25, None)
    assert assigned.ticket.assignee is not None and assigned.ticket.assignee.id == ADA.user_id
    worked = await ticket_service.change_status(uow(TENANT), clock, ADA, 25, Status.IN_PROGRESS)
    assert worked.ticket.status is Status.IN_PROGRESS
    closed = await ticket_service.change_status(uow(TENANT), clock, BOB, 25, Status.CLOSED)
    assert closed.ticket.status is Status.CLOSED
    page = await ticket_service.list_tickets(uow(TENANT), clock, ADA, TicketFilter.ALL)
    assert page.total == 25
    # None of that counted: usage is still exactly at the limit.
    assert (await tickets_quota(uow, clock, catalog)).used == 25


async def test_a_new_period_renews_the_quota_and_keeps_the_old_usage_row(
    uow: UnitOfWorkFactory, clock: FixedClock, catalog: PlanCatalog
) -> None:
    await create_many(uow, clock, catalog, 25)
    clock.set(datetime(2026, 12, 1, 23, 59, tzinfo=UTC))
    with pytest.raises(QuotaExceeded) as refused:
        await create(uow, clock, catalog)
    assert refused.value.state.renews_on == RENEWAL

    clock.set(datetime(2026, 12, 2, 0, 0, tzinfo=UTC))
    before = await tickets_quota(uow, clock, catalog)
    assert (before.used, before.limit, before.renews_on) == (0, 25, date(2027, 1, 2))
    assert (await create(uow, clock, catalog)).ticket.number == 26

    tickets_rows = [r for r in await usage_rows(uow.db, TENANT) if r.app == "tickets"]
    assert [(r.period_start, r.used, r.limit) for r in tickets_rows] == [
        (DAY0, 25, 25),
        (RENEWAL, 1, 25),
    ]


# -- plan changes ----------------------------------------------------------------------------


async def test_premium_for_20_days_then_professional_for_10_days_is_prorated_per_day(
    uow: UnitOfWorkFactory, clock: FixedClock, catalog: PlanCatalog
) -> None:
    """The vendor's example: 20/30 of Premium + 10/30 of Professional in a 30-day period."""
    to_premium = await change(uow, clock, catalog, "premium")
    assert to_premium.kind is ChangeKind.PRORATED
    assert [(ln.plan.id, ln.days, ln.amount) for ln in to_premium.lines] == [
        ("premium", 30, EUR("49.00"))
    ]
    assert to_premium.quotas[App.TICKETS] == 1000

    clock.advance(timedelta(days=20))  # Nov 22
    to_professional = await change(uow, clock, catalog, "professional")

    assert (to_professional.period.start, to_professional.period.end) == (DAY0, RENEWAL)
    assert to_professional.period.days == 30
    assert [(ln.plan.id, ln.days, ln.amount) for ln in to_professional.lines] == [
        ("premium", 20, EUR("32.67")),  # 49 x 20 / 30 = 32.666.. -> half-up
        ("professional", 10, EUR("33.00")),  # 99 x 10 / 30
    ]
    assert to_professional.total == EUR("65.67")
    # floor((1000 x 20 + 5000 x 10) / 30) = 2333; floor((500 x 20 + 2500 x 10) / 30) = 1166
    assert to_professional.quotas == {
        App.TICKETS: 2333,
        App.CHECKLISTS: 1166,
        App.OPPORTUNITIES: 1166,
    }

    st = await statement(uow, clock, catalog)
    assert st.current
    assert (st.period.start, st.period.end) == (DAY0, RENEWAL)
    assert lines_of(st) == [("premium", 20, EUR("32.67")), ("professional", 10, EUR("33.00"))]
    assert st.refunds == ()
    assert st.total == EUR("65.67")


async def test_a_preview_shows_the_change_without_making_it(
    uow: UnitOfWorkFactory, clock: FixedClock, catalog: PlanCatalog
) -> None:
    await create_many(uow, clock, catalog, 3)
    clock.advance(timedelta(days=10))

    preview = await subscriptions.preview_plan_change(uow(TENANT), clock, catalog, ADA, "standard")

    assert [(ln.plan.id, ln.days, ln.amount) for ln in preview.lines] == [
        ("free", 10, EUR("0.00")),
        ("standard", 20, EUR("12.67")),
    ]
    assert preview.quotas[App.TICKETS] == 175
    assert preview.used[App.TICKETS] == 3
    assert await plan_of(uow, clock, catalog) == "free"
    assert (await tickets_quota(uow, clock, catalog)).limit == 25


async def test_the_quota_after_a_change_is_prorated_and_usage_is_kept(
    uow: UnitOfWorkFactory, clock: FixedClock, catalog: PlanCatalog
) -> None:
    await create_many(uow, clock, catalog, 10)
    clock.advance(timedelta(days=10))  # Nov 12: 10 days of free, 20 of standard

    changed = await change(uow, clock, catalog, "standard")

    # floor((25 x 10 + 250 x 20) / 30) = 175; checklists floor((10 x 10 + 100 x 20) / 30) = 70
    assert changed.quotas == {App.TICKETS: 175, App.CHECKLISTS: 70, App.OPPORTUNITIES: 70}
    assert changed.used == {App.TICKETS: 10, App.CHECKLISTS: 0, App.OPPORTUNITIES: 0}
    view = await subscriptions.usage(uow(TENANT), clock, catalog, ADA)
    assert view.plan.id == "standard"
    assert (view.period.start, view.period.end) == (DAY0, RENEWAL)
    assert {q.app: (q.used, q.limit) for q in view.quotas} == {
        App.TICKETS: (10, 175),
        App.CHECKLISTS: (0, 70),
        App.OPPORTUNITIES: (0, 70),
    }
    assert (await create(uow, clock, catalog)).ticket.number == 11


async def test_a_downgrade_below_usage_blocks_creating_and_deletes_nothing(
    uow: UnitOfWorkFactory, clock: FixedClock, catalog: PlanCatalog
) -> None:
    await change(uow, clock, catalog, "standard")
    await create_many(uow, clock, catalog, 40)
    clock.advance(timedelta(days=1))  # one day of standard, 29 of free

    downgraded = await change(uow, clock, catalog, "free")

    # floor((250 x 1 + 25 x 29) / 30) = floor(975 / 30) = 32, already 40 used
    assert downgraded.kind is ChangeKind.PRORATED
    assert (downgraded.quotas[App.TICKETS], downgraded.used[App.TICKETS]) == (32, 40)
    with pytest.raises(QuotaExceeded) as refused:
        await create(uow, clock, catalog)
    assert refused.value.state == QuotaState(App.TICKETS, 40, 32, RENEWAL)
    assert refused.value.plan == catalog.free
    assert await ticket_numbers(uow.db, TENANT) == list(range(1, 41))
    assert (await ticket_service.get_ticket(uow(TENANT), clock, ADA, 40)).ticket.number == 40
    quota = await tickets_quota(uow, clock, catalog)
    assert (quota.used, quota.limit, quota.remaining) == (40, 32, 0)


async def test_monthly_and_annual_paid_plans_do_not_switch_terms(
    uow: UnitOfWorkFactory, clock: FixedClock, catalog: PlanCatalog
) -> None:
    await change(uow, clock, catalog, "standard")

    with pytest.raises(TermChangeRefused) as refused:
        await change(uow, clock, catalog, "standard-annual")
    assert refused.value.params == {"current_term": Term.MONTHLY, "target_term": Term.ANNUAL}
    with pytest.raises(TermChangeRefused):
        await subscriptions.preview_plan_change(
            uow(TENANT), clock, catalog, ADA, "professional-annual"
        )
    assert await plan_of(uow, clock, catalog) == "standard"


async def test_an_annual_plan_does_not_switch_to_a_monthly_paid_plan(
    uow: UnitOfWorkFactory, clock: FixedClock, catalog: PlanCatalog
) -> None:
    await change(uow, clock, catalog, "premium-annual")

    with pytest.raises(TermChangeRefused):
        await change(uow, clock, catalog, "standard")
    assert await plan_of(uow, clock, catalog) == "premium-annual"


async def test_the_same_plan_and_an_unknown_plan_are_refused(
    uow: UnitOfWorkFactory, clock: FixedClock, catalog: PlanCatalog
) -> None:
    with pytest.raises(SamePlan):
        await change(uow, clock, catalog, "free")
    with pytest.raises(UnknownPlan) as unknown:
        await change(uow, clock, catalog, "gold")
    assert unknown.value.params["plan_id"] == "gold"
    assert unknown.value.params["valid"].split(", ") == [p.id for p in catalog.all()]


async def test_free_to_annual_restarts_the_period_anchored_on_the_day_of_the_change(
    uow: UnitOfWorkFactory, clock: FixedClock, catalog: PlanCatalog
) -> None:
    await create_many(uow, clock, catalog, 5)
    clock.set(datetime(2026, 11, 15, 10, 0, tzinfo=UTC))

    changed = await change(uow, clock, catalog, "standard-annual")

    assert changed.kind is ChangeKind.RESTART
    assert (changed.period.start, changed.period.end) == (date(2026, 11, 15), date(2027, 11, 15))
    assert [(ln.plan.id, ln.days, ln.amount) for ln in changed.lines] == [
        ("standard-annual", 365, EUR("190.00"))
    ]
    assert changed.quotas[App.TICKETS] == 3000
    view = await subscriptions.usage(uow(TENANT), clock, catalog, ADA)
    assert view.plan.id == "standard-annual"
    assert (view.period.start, view.period.end) == (date(2026, 11, 15), date(2027, 11, 15))
    quota = next(q for q in view.quotas if q.app is App.TICKETS)
    assert (quota.used, quota.limit) == (0, 3000)
    # The free period's usage is history, not deleted.
    old = await usage_row(uow.db, TENANT, "tickets", DAY0)
    assert old is not None and old.used == 5

    history = await subscriptions.billing_statements(uow(TENANT), clock, catalog, ADA, history=True)
    assert [(s.period.start, s.current, lines_of(s), s.total) for s in history] == [
        (date(2026, 11, 15), True, [("standard-annual", 365, EUR("190.00"))], EUR("190.00")),
        (DAY0, False, [("free", 13, EUR("0.00"))], EUR("0.00")),
    ]


async def test_annual_back_to_free_restarts_a_monthly_period_on_that_day(
    uow: UnitOfWorkFactory, clock: FixedClock, catalog: PlanCatalog
) -> None:
    await change(uow, clock, catalog, "standard-annual")
    await create_many(uow, clock, catalog, 30)
    clock.set(datetime(2026, 12, 20, 9, 0, tzinfo=UTC))  # past the cancellation window

    changed = await change(uow, clock, catalog, "free")

    assert changed.kind is ChangeKind.RESTART
    assert (changed.period.start, changed.period.end) == (date(2026, 12, 20), date(2027, 1, 20))
    quota = await tickets_quota(uow, clock, catalog)
    assert (quota.used, quota.limit, quota.renews_on) == (0, 25, date(2027, 1, 20))


# -- cancellation ----------------------------------------------------------------------------


async def test_cancelling_within_72_hours_refunds_what_was_charged_and_returns_to_free(
    uow: UnitOfWorkFactory, clock: FixedClock, catalog: PlanCatalog
) -> None:
    purchased = clock.now()
    await change(uow, clock, catalog, "premium")
    await create_many(uow, clock, catalog, 30)  # more than free allows
    clock.advance(timedelta(days=2))  # Nov 4 09:00, inside the window

    preview = await subscriptions.preview_cancellation(uow(TENANT), clock, catalog, ADA)
    assert preview.plan.id == "premium"
    assert preview.purchased_at == purchased
    assert preview.deadline == purchased + timedelta(hours=72)
    assert preview.refund == EUR("3.27")  # 2 days of premium: 49 x 2 / 30
    assert await plan_of(uow, clock, catalog) == "premium"

    cancelled = await subscriptions.cancel_subscription(uow(TENANT), clock, catalog, ADA)

    assert cancelled.refund == EUR("3.27")
    assert cancelled.free == catalog.free
    assert await plan_of(uow, clock, catalog) == "free"
    assert await refund_amounts(uow.db, TENANT) == [EUR("3.27")]
    # Data is kept.
    assert await ticket_numbers(uow.db, TENANT) == list(range(1, 31))
    st = await statement(uow, clock, catalog)
    charged = sum((line.amount for line in st.lines if line.plan.id == "premium"), EUR("0"))
    assert charged == cancelled.refund  # a full refund
    assert lines_of(st) == [("premium", 2, EUR("3.27")), ("free", 28, EUR("0.00"))]
    assert st.refunds == (EUR("3.27"),)
    assert st.total == EUR("0.00")
    # Nothing left to cancel.
    with pytest.raises(NothingToCancel):
        await subscriptions.cancel_subscription(uow(TENANT), clock, catalog, ADA)


async def test_cancelling_at_the_last_moment_of_the_window_still_works(
    uow: UnitOfWorkFactory, clock: FixedClock, catalog: PlanCatalog
) -> None:
    purchased = clock.now()
    await change(uow, clock, catalog, "standard")
    clock.set(purchased + timedelta(hours=72))

    cancelled = await subscriptions.cancel_subscription(uow(TENANT), clock, catalog, ADA)

    assert cancelled.refund == EUR("1.90")  # 3 days of standard: 19 x 3 / 30
    assert await plan_of(uow, clock, catalog) == "free"


async def test_cancelling_after_72_hours_is_refused_with_the_date_the_window_closed(
    uow: UnitOfWorkFactory, clock: FixedClock, catalog: PlanCatalog
) -> None:
    purchased = clock.now()
    await change(uow, clock, catalog, "premium")
    clock.set(purchased + timedelta(hours=72, seconds=1))

    with pytest.raises(CancellationWindowClosed) as preview_refused:
        await subscriptions.preview_cancellation(uow(TENANT), clock, catalog, ADA)
    with pytest.raises(CancellationWindowClosed) as refused:
        await subscriptions.cancel_subscription(uow(TENANT), clock, catalog, ADA)

    closed_at = datetime(2026, 11, 5, 9, 0, tzinfo=UTC)
    assert refused.value.params["closed_at"] == closed_at
    assert preview_refused.value.params["closed_at"] == closed_at
    assert await plan_of(uow, clock, catalog) == "premium"
    assert await refund_amounts(uow.db, TENANT) == []


async def test_the_window_runs_from_the_purchase_not_from_a_later_upgrade(
    uow: UnitOfWorkFactory, clock: FixedClock, catalog: PlanCatalog
) -> None:
    purchased = clock.now()
    await change(uow, clock, catalog, "standard")
    clock.advance(timedelta(days=2))
    await change(uow, clock, catalog, "premium")
    clock.advance(timedelta(days=2))

    with pytest.raises(CancellationWindowClosed) as refused:
        await subscriptions.cancel_subscription(uow(TENANT), clock, catalog, ADA)
    assert refused.value.params["closed_at"] == purchased + timedelta(hours=72)


async def test_a_tenant_on_free_has_nothing_to_cancel(
    uow: UnitOfWorkFactory, clock: FixedClock, catalog: PlanCatalog
) -> None:
    with pytest.raises(NothingToCancel):
        await subscriptions.preview_cancellation(uow(TENANT), clock, catalog, ADA)


# -- statements ------------------------------------------------------------------------------


async def test_billing_history_lists_each_period_newest_first(
    uow: UnitOfWorkFactory, clock: FixedClock, catalog: PlanCatalog
) -> None:
    await subscriptions.usage(uow(TENANT), clock, catalog, ADA)  # first activity: Nov 2
    clock.advance(timedelta(days=10))
    await change(uow, clock, catalog, "standard")
    clock.set(datetime(2027, 1, 10, 9, 0, tzinfo=UTC))

    history = await subscriptions.billing_statements(uow(TENANT), clock, catalog, ADA, history=True)

    assert [
        (s.period.start, s.period.end, s.current, lines_of(s), s.refunds, s.total) for s in history
    ] == [
        (
            date(2027, 1, 2),
            date(2027, 2, 2),
            True,
            [("standard", 31, EUR("19.00"))],
            (),
            EUR("19.00"),
        ),
        (
            date(2026, 12, 2),
            date(2027, 1, 2),
            False,
            [("standard", 31, EUR("19.00"))],
            (),
            EUR("19.00"),
        ),
        (
            DAY0,
            RENEWAL,
            False,
            [("free", 10, EUR("0.00")), ("standard", 20, EUR("12.67"))],
            (),
            EUR("12.67"),
        ),
    ]
    current = await statement(uow, clock, catalog)
    assert current == history[0]


async def test_a_refund_appears_in_the_period_it_was_made_in(
    uow: UnitOfWorkFactory, clock: FixedClock, catalog: PlanCatalog
) -> None:
    await change(uow, clock, catalog, "standard")
    clock.advance(timedelta(days=1))
    await subscriptions.cancel_subscription(uow(TENANT), clock, catalog, ADA)
    clock.set(datetime(2026, 12, 10, 9, 0, tzinfo=UTC))

    history = await subscriptions.billing_statements(uow(TENANT), clock, catalog, ADA, history=True)

    assert [(s.period.start, s.refunds, s.total) for s in history] == [
        (RENEWAL, (), EUR("0.00")),
        (DAY0, (EUR("0.63"),), EUR("0.00")),  # one day of standard: 19 / 30
    ]


# -- roles -----------------------------------------------------------------------------------


async def test_members_may_not_change_cancel_or_see_billing(
    uow: UnitOfWorkFactory, clock: FixedClock, catalog: PlanCatalog
) -> None:
    await change(uow, clock, catalog, "standard", ADA)  # Ada is the first user: admin

    attempts = {
        "preview change": subscriptions.preview_plan_change(
            uow(TENANT), clock, catalog, BOB, "premium"
        ),
        "change": subscriptions.change_plan(uow(TENANT), clock, catalog, BOB, "premium"),
        "preview cancel": subscriptions.preview_cancellation(uow(TENANT), clock, catalog, BOB),
        "cancel": subscriptions.cancel_subscription(uow(TENANT), clock, catalog, BOB),
        "billing": subscriptions.billing_statements(
            uow(TENANT), clock, catalog, BOB, history=False
        ),
        "billing history": subscriptions.billing_statements(
            uow(TENANT), clock, catalog, BOB, history=True
        ),
    }
    for what, attempt in attempts.items():
        with pytest.raises(OnlyAdmins) as refused:
            await attempt
        assert refused.value.params == {"admins": "Ada Lovelace"}, what

    assert await plan_of(uow, clock, catalog) == "standard"
    assert await refund_amounts(uow.db, TENANT) == []
    # Members still see the usage and the plans, without the admin's choices.
    assert (await subscriptions.usage(uow(TENANT), clock, catalog, BOB)).plan.id == "standard"
    plans = await subscriptions.plans(uow(TENANT), clock, catalog, BOB)
    assert not plans.is_admin


async def test_the_plans_offered_depend_on_the_current_term(
    uow: UnitOfWorkFactory, clock: FixedClock, catalog: PlanCatalog
) -> None:
    on_free = await subscriptions.plans(uow(TENANT), clock, catalog, ADA)
    assert on_free.is_admin
    assert [p.id for p in on_free.plans] == ["free", "standard", "premium", "professional"]
    assert [p.id for p in on_free.other_term] == [
        "standard-annual",
        "premium-annual",
        "professional-annual",
    ]

    await change(uow, clock, catalog, "premium")
    on_premium = await subscriptions.plans(uow(TENANT), clock, catalog, ADA)
    assert on_premium.current.id == "premium"
    assert on_premium.other_term == ()


# -- tenants ---------------------------------------------------------------------------------


async def test_one_tenants_usage_and_plan_do_not_touch_another(
    uow: UnitOfWorkFactory, clock: FixedClock, catalog: PlanCatalog
) -> None:
    await create_many(uow, clock, catalog, 25, ADA)
    with pytest.raises(QuotaExceeded):
        await create(uow, clock, catalog, ADA)
    clock.advance(timedelta(days=3))  # the other tenant shows up on Nov 5

    cy_view = await subscriptions.usage(uow(OTHER_TENANT), clock, catalog, CY)
    assert cy_view.plan.id == "free"
    assert (cy_view.period.start, cy_view.period.end) == (date(2026, 11, 5), date(2026, 12, 5))
    assert (await tickets_quota(uow, clock, catalog, CY)).used == 0
    assert (await create(uow, clock, catalog, CY)).ticket.number == 1

    await change(uow, clock, catalog, "premium", ADA)
    assert (await create(uow, clock, catalog, ADA)).ticket.number == 26

    assert (await subscriptions.usage(uow(OTHER_TENANT), clock, catalog, CY)).plan.id == "free"
    cy_quota = await tickets_quota(uow, clock, catalog, CY)
    assert (cy_quota.used, cy_quota.limit) == (1, 25)
    ada_quota = await tickets_quota(uow, clock, catalog, ADA)
    assert ada_quota.used == 26
    assert await ticket_numbers(uow.db, OTHER_TENANT) == [1]
    cy_bill = await statement(uow, clock, catalog, CY)
    assert lines_of(cy_bill) == [("free", 30, EUR("0.00"))]
