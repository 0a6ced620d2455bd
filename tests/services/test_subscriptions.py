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
    AnnualTermRunning,
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
from bot.services import marketplace, subscriptions
from bot.services import tickets as ticket_service
from bot.services.identity import Identity, resolve_actor
from bot.services.subscriptions import NoTermToEnd, NothingScheduled, NothingToCancel
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
    await first_contact(uow, clock, catalog, ADA)
    for n in range(1, 26):
        async with uow(TENANT) as unit:
            after, _ = await subscriptions.consume(
                unit, clock, QuotaPolicy(catalog, (80, 90)), App.TICKETS, None, "ticket"
            )
            await unit.commit()
        assert after.app is App.TICKETS
        assert after.used == n
        assert after.limit == 25
        assert after.renews_on == RENEWAL

    with pytest.raises(QuotaExceeded) as refused:
        async with uow(TENANT) as unit:
            await subscriptions.consume(
                unit, clock, QuotaPolicy(catalog, (80, 90)), App.TICKETS, None, "ticket"
            )

    error = refused.value
    assert error.state == QuotaState(App.TICKETS, 25, 25, RENEWAL)
    assert error.plan == catalog.free
    assert [p.id for p in error.upgrades] == ["standard", "premium", "professional"]
    assert error.key == "quota.exceeded"
    assert error.params["used"] == 25 and error.params["limit"] == 25
    # Each app has its own allowance: checklists are untouched by the ticket quota.
    async with uow(TENANT) as unit:
        checklists, _ = await subscriptions.consume(
            unit, clock, QuotaPolicy(catalog, (80, 90)), App.CHECKLISTS, None, "checklist"
        )
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
    # Bought on the day the free period started: the subscription starts that same day.
    assert to_premium.kind is ChangeKind.RESTART
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
    await change(uow, clock, catalog, "standard")
    await create_many(uow, clock, catalog, 3)
    clock.advance(timedelta(days=10))  # Nov 12: 10 days of standard, 20 of premium

    preview = await subscriptions.preview_plan_change(uow(TENANT), clock, catalog, ADA, "premium")

    assert preview.kind is ChangeKind.PRORATED
    assert [(ln.plan.id, ln.days, ln.amount) for ln in preview.lines] == [
        ("standard", 10, EUR("6.33")),
        ("premium", 20, EUR("32.67")),
    ]
    # The projection for the whole period, and what the days so far (Nov 2..12) cost.
    assert preview.total == EUR("39.00")
    assert preview.accrued == EUR("7.96")  # 6.33 + 49 x 1/30 for today
    assert preview.quotas[App.TICKETS] == 750  # (250 x 10 + 1000 x 20) / 30
    assert preview.used[App.TICKETS] == 3
    assert await plan_of(uow, clock, catalog) == "standard"
    assert (await tickets_quota(uow, clock, catalog)).limit == 250


async def test_buying_a_monthly_plan_from_free_starts_the_subscription_that_day(
    uow: UnitOfWorkFactory, clock: FixedClock, catalog: PlanCatalog
) -> None:
    await create_many(uow, clock, catalog, 3)
    clock.advance(timedelta(days=10))  # Nov 12

    bought = await change(uow, clock, catalog, "standard")

    assert bought.kind is ChangeKind.RESTART
    assert (bought.period.start, bought.period.end) == (date(2026, 11, 12), date(2026, 12, 12))
    assert [(ln.plan.id, ln.days, ln.amount) for ln in bought.lines] == [
        ("standard", 30, EUR("19.00"))
    ]
    view = await subscriptions.usage(uow(TENANT), clock, catalog, ADA)
    assert (view.period.start, view.period.end) == (date(2026, 11, 12), date(2026, 12, 12))
    assert (await tickets_quota(uow, clock, catalog)).limit == 250
    history = await subscriptions.billing_statements(uow(TENANT), clock, catalog, ADA, history=True)
    assert [(s.period.start, s.current, lines_of(s), s.total) for s in history] == [
        (date(2026, 11, 12), True, [("standard", 30, EUR("19.00"))], EUR("19.00")),
        (DAY0, False, [("free", 11, EUR("0.00"))], EUR("0.00")),
    ]


async def test_the_quota_after_a_change_is_prorated_and_usage_is_kept(
    uow: UnitOfWorkFactory, clock: FixedClock, catalog: PlanCatalog
) -> None:
    await change(uow, clock, catalog, "standard")
    await create_many(uow, clock, catalog, 10)
    clock.advance(timedelta(days=10))  # Nov 12: 10 days of standard, 20 of premium

    changed = await change(uow, clock, catalog, "premium")

    # floor((250 x 10 + 1000 x 20) / 30) = 750; checklists floor((100 x 10 + 500 x 20) / 30)
    assert changed.quotas == {App.TICKETS: 750, App.CHECKLISTS: 366, App.OPPORTUNITIES: 366}
    assert changed.used == {App.TICKETS: 10, App.CHECKLISTS: 0, App.OPPORTUNITIES: 0}
    view = await subscriptions.usage(uow(TENANT), clock, catalog, ADA)
    assert view.plan.id == "premium"
    assert (view.period.start, view.period.end) == (DAY0, RENEWAL)
    assert {q.app: (q.used, q.limit) for q in view.quotas} == {
        App.TICKETS: (10, 750),
        App.CHECKLISTS: (0, 366),
        App.OPPORTUNITIES: (0, 366),
    }
    assert (await create(uow, clock, catalog)).ticket.number == 11


async def test_a_downgrade_that_usage_fits_takes_effect_at_once(
    uow: UnitOfWorkFactory, clock: FixedClock, catalog: PlanCatalog
) -> None:
    await change(uow, clock, catalog, "standard")
    await create_many(uow, clock, catalog, 40)
    clock.advance(timedelta(days=1))  # Nov 3: standard in force on Nov 2 and 3, then free

    downgraded = await change(uow, clock, catalog, "free")

    # floor((250 x 2 + 25 x 28) / 30) = 40: the 40 used fit
    assert downgraded.kind is ChangeKind.PRORATED
    assert (downgraded.quotas[App.TICKETS], downgraded.used[App.TICKETS]) == (40, 40)
    assert await plan_of(uow, clock, catalog) == "free"
    with pytest.raises(QuotaExceeded) as refused:
        await create(uow, clock, catalog)
    assert refused.value.state == QuotaState(App.TICKETS, 40, 40, RENEWAL)
    assert await ticket_numbers(uow.db, TENANT) == list(range(1, 41))
    st = await statement(uow, clock, catalog)
    assert lines_of(st) == [("standard", 2, EUR("1.27")), ("free", 28, EUR("0.00"))]


async def test_a_downgrade_that_usage_does_not_fit_waits_for_the_renewal(
    uow: UnitOfWorkFactory, clock: FixedClock, catalog: PlanCatalog
) -> None:
    await change(uow, clock, catalog, "premium")
    await create_many(uow, clock, catalog, 200)
    clock.advance(timedelta(days=3))  # Nov 5: premium in force Nov 2..5

    preview = await subscriptions.preview_plan_change(uow(TENANT), clock, catalog, ADA, "free")

    # Used 200; free from today would allow floor((1000 x 4 + 25 x 26) / 30) = 155 this period.
    assert preview.kind is ChangeKind.SCHEDULED
    assert preview.effective == RENEWAL
    assert (preview.used[App.TICKETS], preview.quotas[App.TICKETS]) == (200, 155)
    # This period's bill is not touched by a change that waits for the renewal.
    assert [(ln.plan.id, ln.days) for ln in preview.lines] == [("premium", 30)]

    scheduled = await change(uow, clock, catalog, "free")
    assert scheduled == preview
    view = await subscriptions.usage(uow(TENANT), clock, catalog, ADA)
    assert view.plan.id == "premium"
    assert view.scheduled == subscriptions.ScheduledChange(
        catalog.get("premium"), catalog.free, RENEWAL
    )
    billing = await subscriptions.billing(uow(TENANT), clock, catalog, ADA, history=False)
    assert billing.scheduled == view.scheduled
    assert lines_of(billing.statements[0]) == [("premium", 30, EUR("49.00"))]
    assert (await create(uow, clock, catalog)).ticket.number == 201  # premium until then

    # The admin calls it off, then schedules it again.
    called_off = await subscriptions.call_off_change(uow(TENANT), clock, catalog, ADA)
    assert called_off.target == catalog.free
    assert (await subscriptions.usage(uow(TENANT), clock, catalog, ADA)).scheduled is None
    with pytest.raises(NothingScheduled):
        await subscriptions.call_off_change(uow(TENANT), clock, catalog, ADA)
    await change(uow, clock, catalog, "free")

    # At 00:00 UTC of the renewal the change takes effect: a new period, on free.
    clock.set(datetime(2026, 12, 2, 0, 0, tzinfo=UTC))
    after = await subscriptions.usage(uow(TENANT), clock, catalog, ADA)
    assert after.plan.id == "free"
    assert after.scheduled is None
    assert (after.period.start, after.period.end) == (RENEWAL, date(2027, 1, 2))
    history = await subscriptions.billing_statements(uow(TENANT), clock, catalog, ADA, history=True)
    assert [(s.period.start, lines_of(s)) for s in history] == [
        (RENEWAL, [("free", 31, EUR("0.00"))]),
        (DAY0, [("premium", 30, EUR("49.00"))]),
    ]


async def test_members_may_not_call_off_a_change_nor_stop_the_renewal(
    uow: UnitOfWorkFactory, clock: FixedClock, catalog: PlanCatalog
) -> None:
    await change(uow, clock, catalog, "premium", ADA)
    await subscriptions.end_at_term(uow(TENANT), clock, catalog, ADA)
    with pytest.raises(OnlyAdmins):
        await subscriptions.call_off_change(uow(TENANT), clock, catalog, BOB)
    with pytest.raises(OnlyAdmins):
        await subscriptions.end_at_term(uow(TENANT), clock, catalog, BOB)
    assert (await subscriptions.usage(uow(TENANT), clock, catalog, ADA)).scheduled is not None


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


async def test_an_annual_term_ends_only_at_its_end(
    uow: UnitOfWorkFactory, clock: FixedClock, catalog: PlanCatalog
) -> None:
    await change(uow, clock, catalog, "premium-annual")
    clock.set(datetime(2026, 12, 20, 9, 0, tzinfo=UTC))  # past the cancellation window

    for target in ("free", "standard", "professional"):
        with pytest.raises(AnnualTermRunning):
            await change(uow, clock, catalog, target)
    assert await plan_of(uow, clock, catalog) == "premium-annual"
    # Free is not offered on the annual term; the annual plans are.
    offered = await subscriptions.plans(uow(TENANT), clock, catalog, ADA)
    assert [p.id for p in offered.plans] == [
        "standard-annual",
        "premium-annual",
        "professional-annual",
    ]


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
        (DAY0, False, [("free", 14, EUR("0.00"))], EUR("0.00")),  # free until the purchase
    ]


async def test_do_not_renew_schedules_free_for_the_end_of_the_annual_term(
    uow: UnitOfWorkFactory, clock: FixedClock, catalog: PlanCatalog
) -> None:
    await change(uow, clock, catalog, "standard-annual")
    await create_many(uow, clock, catalog, 30)
    clock.set(datetime(2026, 12, 20, 9, 0, tzinfo=UTC))
    term_end = date(2027, 11, 2)

    preview = await subscriptions.preview_end_of_term(uow(TENANT), clock, catalog, ADA)
    assert (await subscriptions.usage(uow(TENANT), clock, catalog, ADA)).scheduled is None
    ended = await subscriptions.end_at_term(uow(TENANT), clock, catalog, ADA)

    assert ended == preview
    assert (ended.target, ended.on) == (catalog.free, term_end)
    view = await subscriptions.usage(uow(TENANT), clock, catalog, ADA)
    assert view.plan.id == "standard-annual"
    assert view.scheduled == ended
    # The day before the end the term still runs, with its usage.
    clock.set(datetime(2027, 11, 1, 23, 59, tzinfo=UTC))
    assert (await tickets_quota(uow, clock, catalog)).used == 30
    # From 00:00 UTC of the end, free, in a new monthly period anchored that day.
    clock.set(datetime(2027, 11, 2, 0, 0, tzinfo=UTC))
    quota = await tickets_quota(uow, clock, catalog)
    assert (quota.used, quota.limit, quota.renews_on) == (0, 25, date(2027, 12, 2))
    history = await subscriptions.billing_statements(uow(TENANT), clock, catalog, ADA, history=True)
    assert [(s.period.start, lines_of(s)) for s in history][:2] == [
        (term_end, [("free", 30, EUR("0.00"))]),
        (DAY0, [("standard-annual", 365, EUR("190.00"))]),
    ]


async def test_a_free_tenant_has_no_term_to_end(
    uow: UnitOfWorkFactory, clock: FixedClock, catalog: PlanCatalog
) -> None:
    with pytest.raises(NoTermToEnd):
        await subscriptions.end_at_term(uow(TENANT), clock, catalog, ADA)


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
    # Nov 2, 3 and 4 (today, in force until the cancellation): 49 x 3 / 30
    assert preview.refund == EUR("4.90")
    assert await plan_of(uow, clock, catalog) == "premium"

    cancelled = await subscriptions.cancel_subscription(uow(TENANT), clock, catalog, ADA)

    assert cancelled.refund == EUR("4.90")
    assert cancelled.free == catalog.free
    assert await plan_of(uow, clock, catalog) == "free"
    assert await refund_amounts(uow.db, TENANT) == [EUR("4.90")]
    # Data is kept.
    assert await ticket_numbers(uow.db, TENANT) == list(range(1, 31))
    st = await statement(uow, clock, catalog)
    charged = sum((line.amount for line in st.lines if line.plan.id == "premium"), EUR("0"))
    assert charged == cancelled.refund  # a full refund
    assert lines_of(st) == [("premium", 3, EUR("4.90")), ("free", 27, EUR("0.00"))]
    assert st.refunds == (EUR("4.90"),)
    assert st.total == EUR("0.00")
    # The purchase is void: what was created meanwhile counts on free, in this period.
    quota = await tickets_quota(uow, clock, catalog)
    assert (quota.used, quota.limit, quota.renews_on) == (30, 25, RENEWAL)
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

    assert cancelled.refund == EUR("2.53")  # Nov 2 to 5, 4 days of standard: 19 x 4 / 30
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
    await first_contact(uow, clock, catalog, ADA)  # first activity: Nov 2
    clock.advance(timedelta(days=10))
    await change(uow, clock, catalog, "standard")  # Nov 12: the subscription starts
    clock.set(datetime(2027, 1, 10, 9, 0, tzinfo=UTC))

    history = await subscriptions.billing_statements(uow(TENANT), clock, catalog, ADA, history=True)

    assert [
        (s.period.start, s.period.end, s.current, lines_of(s), s.refunds, s.total) for s in history
    ] == [
        (
            date(2026, 12, 12),
            date(2027, 1, 12),
            True,
            [("standard", 31, EUR("19.00"))],
            (),
            EUR("19.00"),
        ),
        (
            date(2026, 11, 12),
            date(2026, 12, 12),
            False,
            [("standard", 30, EUR("19.00"))],
            (),
            EUR("19.00"),
        ),
        (DAY0, RENEWAL, False, [("free", 11, EUR("0.00"))], (), EUR("0.00")),
    ]
    current = await statement(uow, clock, catalog)
    assert current == history[0]
    # Dec 12 2026 .. Jan 10 2027 (today included): 30 of the 31 days.
    assert current.accrued == EUR("18.39")


async def test_a_refund_appears_once_in_the_period_of_its_charge(
    uow: UnitOfWorkFactory, clock: FixedClock, catalog: PlanCatalog
) -> None:
    await change(uow, clock, catalog, "standard")
    clock.advance(timedelta(days=1))
    await subscriptions.cancel_subscription(uow(TENANT), clock, catalog, ADA)
    clock.set(datetime(2026, 12, 10, 9, 0, tzinfo=UTC))

    history = await subscriptions.billing_statements(uow(TENANT), clock, catalog, ADA, history=True)

    assert [(s.period.start, s.refunds, s.total) for s in history] == [
        (RENEWAL, (), EUR("0.00")),
        (DAY0, (EUR("1.27"),), EUR("0.00")),  # Nov 2 and 3 of standard: 19 x 2 / 30
    ]


async def test_an_annual_purchase_cancelled_is_refunded_only_in_its_own_period(
    uow: UnitOfWorkFactory, clock: FixedClock, catalog: PlanCatalog
) -> None:
    # Defect 3: -2.68 showed in the old free period and again in the annual one.
    await first_contact(uow, clock, catalog, ADA)  # on free since Nov 2
    clock.set(datetime(2026, 11, 12, 9, 0, tzinfo=UTC))
    await change(uow, clock, catalog, "premium-annual")
    clock.advance(timedelta(days=1))  # Nov 13: Nov 12 and 13 are charged
    cancelled = await subscriptions.cancel_subscription(uow(TENANT), clock, catalog, ADA)
    assert cancelled.refund == EUR("2.68")  # 490 x 2 / 365

    history = await subscriptions.billing_statements(uow(TENANT), clock, catalog, ADA, history=True)

    assert [(s.period.start, s.current, lines_of(s), s.refunds, s.total) for s in history] == [
        (DAY0, True, [("free", 30, EUR("0.00"))], (), EUR("0.00")),
        (
            date(2026, 11, 12),
            False,
            [("premium-annual", 2, EUR("2.68"))],
            (EUR("2.68"),),
            EUR("0.00"),
        ),
    ]
    # "billing" shows both periods running today: the one returned to, and the purchase's.
    now = await subscriptions.billing_statements(uow(TENANT), clock, catalog, ADA, history=False)
    assert now == history
    # After the free renewal the refund still appears once, with its charge.
    clock.set(datetime(2026, 12, 3, 9, 0, tzinfo=UTC))
    later = await subscriptions.billing_statements(uow(TENANT), clock, catalog, ADA, history=True)
    assert sum(len(s.refunds) for s in later) == 1


async def test_a_plan_bought_again_the_day_it_was_cancelled_is_charged_again(
    uow: UnitOfWorkFactory, clock: FixedClock, catalog: PlanCatalog
) -> None:
    await change(uow, clock, catalog, "premium")
    await subscriptions.cancel_subscription(uow(TENANT), clock, catalog, ADA)
    clock.advance(timedelta(hours=1))
    await change(uow, clock, catalog, "premium")

    st = await statement(uow, clock, catalog)
    # The voided purchase keeps its own line and refund; the new one pays for the whole month.
    assert [(ln.plan.id, ln.days, ln.amount, ln.voided) for ln in st.lines] == [
        ("premium", 30, EUR("49.00"), False),
        ("premium", 1, EUR("1.63"), True),
    ]
    assert (st.refunds, st.total) == ((EUR("1.63"),), EUR("49.00"))

    again = await subscriptions.cancel_subscription(uow(TENANT), clock, catalog, ADA)
    # Nov 2 was charged and refunded once already: nothing is left to refund twice.
    assert again.refund == EUR("0.00")
    st = await statement(uow, clock, catalog)
    assert (st.refunds, st.total) == ((EUR("1.63"),), EUR("0.00"))


async def test_buying_and_cancelling_does_not_reset_the_free_quota(
    uow: UnitOfWorkFactory, clock: FixedClock, catalog: PlanCatalog
) -> None:
    # Defect 2: at 25/25 a buy-and-cancel gave a fresh 0/25 free period, every day.
    await create_many(uow, clock, catalog, 25)
    for day in (10, 11):
        clock.set(datetime(2026, 11, day, 9, 0, tzinfo=UTC))
        await change(uow, clock, catalog, "standard")
        await create_many(uow, clock, catalog, 5)
        clock.advance(timedelta(hours=5))
        await subscriptions.cancel_subscription(uow(TENANT), clock, catalog, ADA)

        view = await subscriptions.usage(uow(TENANT), clock, catalog, ADA)
        assert view.plan.id == "free"
        assert (view.period.start, view.period.end) == (DAY0, RENEWAL)
        quota = next(q for q in view.quotas if q.app is App.TICKETS)
        assert (quota.used, quota.limit) == (25 + 5 * (day - 9), 25)
        with pytest.raises(QuotaExceeded):
            await create(uow, clock, catalog)
    assert await refund_amounts(uow.db, TENANT) == [EUR("0.63"), EUR("0.63")]


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
    assert ada_quota.used == 1  # the subscription bought on Nov 5 started that day
    assert await ticket_numbers(uow.db, OTHER_TENANT) == [1]
    cy_bill = await statement(uow, clock, catalog, CY)
    assert lines_of(cy_bill) == [("free", 30, EUR("0.00"))]


async def test_a_renewal_of_a_suspended_marketplace_subscription_reactivates_it(
    uow: UnitOfWorkFactory, clock: FixedClock
) -> None:
    """Renew sets the status and starts a new term in one unit: the new term is saved over
    the row as the status change left it, so the tenant is active again (not suspended)."""
    catalog = load_catalog()
    async with uow(TENANT) as unit:
        await resolve_actor(unit, clock, ADA)
        sub = await subscriptions.load(unit, clock, catalog)
        await subscriptions.switch_plan(
            unit, sub, catalog.get("standard"), ChangeKind.RESTART, clock.now()
        )
        await unit.commit()
    async with uow(TENANT) as unit:
        assert await marketplace.suspend(unit, clock, catalog)
        await unit.commit()
    clock.advance(timedelta(days=10))
    async with uow(TENANT) as unit:
        assert await marketplace.renew(unit, clock, catalog)
        await unit.commit()
    async with uow.reader(TENANT) as unit:
        row = await unit.billing.subscription()
        renewed = await subscriptions.peek(unit, clock, catalog)
    assert row is not None and (row.status, row.plan_id) == ("active", "standard")
    assert renewed.period.start == clock.now().date()
