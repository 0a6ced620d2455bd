"""Billing rules: anniversary periods, per-day proration, plan changes, cancellation."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from bot.domain.billing import (
    CANCELLATION_WINDOW,
    AnnualTermRunning,
    BillingPeriod,
    CancellationWindowClosed,
    ChangeKind,
    NaiveDatetime,
    PlanSegment,
    SamePlan,
    StatementLine,
    TermChangeRefused,
    billing_period,
    cancellation_deadline,
    check_cancellable,
    check_plan_change,
    is_downgrade,
    prorate_amounts,
    prorate_quota,
    refund_amount,
    renewal_date,
    statement_total,
    usage_fits,
    voided_amounts,
)
from bot.domain.errors import DomainError
from bot.domain.plans import App, Plan, PlanCatalog, Term, load_catalog

D = date


@pytest.fixture(scope="module")
def catalog() -> PlanCatalog:
    return load_catalog()


@pytest.fixture
def free(catalog: PlanCatalog) -> Plan:
    return catalog.get("free")


@pytest.fixture
def standard(catalog: PlanCatalog) -> Plan:
    return catalog.get("standard")


@pytest.fixture
def premium(catalog: PlanCatalog) -> Plan:
    return catalog.get("premium")


@pytest.fixture
def professional(catalog: PlanCatalog) -> Plan:
    return catalog.get("professional")


@pytest.fixture
def premium_annual(catalog: PlanCatalog) -> Plan:
    return catalog.get("premium-annual")


@pytest.fixture
def professional_annual(catalog: PlanCatalog) -> Plan:
    return catalog.get("professional-annual")


@pytest.fixture
def thirty_day_month() -> BillingPeriod:
    return BillingPeriod(D(2025, 4, 1), D(2025, 5, 1))


# --- billing periods -----------------------------------------------------------------------


def test_billing_period_counts_days_with_an_exclusive_end() -> None:
    period = BillingPeriod(D(2025, 2, 1), D(2025, 3, 1))
    assert period.days == 28
    assert period.contains(D(2025, 2, 1))
    assert period.contains(D(2025, 2, 28))
    assert not period.contains(D(2025, 3, 1))
    assert not period.contains(D(2025, 1, 31))


def test_a_billing_period_must_end_after_it_starts() -> None:
    with pytest.raises(ValueError):
        BillingPeriod(D(2025, 2, 1), D(2025, 2, 1))


@pytest.mark.parametrize(
    ("n", "expected"),
    [(0, D(2025, 1, 15)), (1, D(2025, 2, 15)), (11, D(2025, 12, 15)), (12, D(2026, 1, 15))],
)
def test_monthly_renewal_is_the_same_day_of_a_later_month(n: int, expected: date) -> None:
    assert renewal_date(D(2025, 1, 15), Term.MONTHLY, n) == expected


def test_an_anchor_on_the_31st_renews_on_the_last_day_of_shorter_months() -> None:
    renewals = [renewal_date(D(2025, 1, 31), Term.MONTHLY, n) for n in range(6)]
    assert renewals == [
        D(2025, 1, 31),
        D(2025, 2, 28),
        D(2025, 3, 31),
        D(2025, 4, 30),
        D(2025, 5, 31),
        D(2025, 6, 30),
    ]


def test_an_anchor_on_the_31st_renews_on_feb_29_in_a_leap_year() -> None:
    assert renewal_date(D(2024, 1, 31), Term.MONTHLY, 1) == D(2024, 2, 29)
    assert renewal_date(D(2024, 1, 31), Term.MONTHLY, 2) == D(2024, 3, 31)


@pytest.mark.parametrize(
    ("anchor", "february", "march"),
    [
        (D(2025, 1, 29), D(2025, 2, 28), D(2025, 3, 29)),
        (D(2025, 1, 30), D(2025, 2, 28), D(2025, 3, 30)),
        (D(2024, 1, 29), D(2024, 2, 29), D(2024, 3, 29)),
        (D(2024, 1, 30), D(2024, 2, 29), D(2024, 3, 30)),
    ],
)
def test_anchors_late_in_the_month_clamp_in_february_and_recover_in_march(
    anchor: date, february: date, march: date
) -> None:
    assert renewal_date(anchor, Term.MONTHLY, 1) == february
    assert renewal_date(anchor, Term.MONTHLY, 2) == march


def test_monthly_renewals_cross_year_boundaries() -> None:
    assert renewal_date(D(2024, 11, 30), Term.MONTHLY, 3) == D(2025, 2, 28)
    assert renewal_date(D(2024, 11, 30), Term.MONTHLY, 15) == D(2026, 2, 28)


def test_renewals_can_count_backwards_from_the_anchor() -> None:
    assert renewal_date(D(2025, 3, 31), Term.MONTHLY, -1) == D(2025, 2, 28)
    assert renewal_date(D(2025, 1, 15), Term.MONTHLY, -1) == D(2024, 12, 15)
    assert renewal_date(D(2025, 1, 15), Term.MONTHLY, -13) == D(2023, 12, 15)
    assert renewal_date(D(2025, 6, 1), Term.ANNUAL, -2) == D(2023, 6, 1)


def test_annual_renewal_is_the_same_day_of_a_later_year() -> None:
    assert renewal_date(D(2025, 6, 10), Term.ANNUAL, 0) == D(2025, 6, 10)
    assert renewal_date(D(2025, 6, 10), Term.ANNUAL, 3) == D(2028, 6, 10)


def test_an_annual_subscription_from_feb_29_renews_on_feb_28_then_feb_29_again() -> None:
    renewals = [renewal_date(D(2024, 2, 29), Term.ANNUAL, n) for n in range(5)]
    assert renewals == [
        D(2024, 2, 29),
        D(2025, 2, 28),
        D(2026, 2, 28),
        D(2027, 2, 28),
        D(2028, 2, 29),
    ]


def test_the_period_in_the_middle_of_a_month() -> None:
    period = billing_period(D(2025, 1, 15), Term.MONTHLY, D(2025, 3, 20))
    assert period == BillingPeriod(D(2025, 3, 15), D(2025, 4, 15))


def test_the_period_before_the_renewal_day_of_its_month() -> None:
    period = billing_period(D(2025, 1, 15), Term.MONTHLY, D(2025, 3, 10))
    assert period == BillingPeriod(D(2025, 2, 15), D(2025, 3, 15))


def test_the_renewal_day_belongs_to_the_new_period() -> None:
    anchor = D(2025, 1, 15)
    assert billing_period(anchor, Term.MONTHLY, D(2025, 3, 14)).end == D(2025, 3, 15)
    assert billing_period(anchor, Term.MONTHLY, D(2025, 3, 15)).start == D(2025, 3, 15)


def test_the_anchor_day_starts_the_first_period() -> None:
    period = billing_period(D(2025, 1, 15), Term.MONTHLY, D(2025, 1, 15))
    assert period == BillingPeriod(D(2025, 1, 15), D(2025, 2, 15))


def test_periods_of_an_anchor_on_the_31st() -> None:
    anchor = D(2025, 1, 31)
    assert billing_period(anchor, Term.MONTHLY, D(2025, 2, 27)) == BillingPeriod(
        D(2025, 1, 31), D(2025, 2, 28)
    )
    february = billing_period(anchor, Term.MONTHLY, D(2025, 2, 28))
    assert february == BillingPeriod(D(2025, 2, 28), D(2025, 3, 31))
    assert february.days == 31
    assert billing_period(anchor, Term.MONTHLY, D(2025, 3, 31)) == BillingPeriod(
        D(2025, 3, 31), D(2025, 4, 30)
    )


def test_periods_of_an_anchor_on_the_31st_in_a_leap_year() -> None:
    anchor = D(2024, 1, 31)
    assert billing_period(anchor, Term.MONTHLY, D(2024, 2, 28)) == BillingPeriod(
        D(2024, 1, 31), D(2024, 2, 29)
    )
    assert billing_period(anchor, Term.MONTHLY, D(2024, 2, 29)) == BillingPeriod(
        D(2024, 2, 29), D(2024, 3, 31)
    )


def test_an_annual_period_from_feb_29_2024() -> None:
    anchor = D(2024, 2, 29)
    assert billing_period(anchor, Term.ANNUAL, D(2025, 2, 27)) == BillingPeriod(
        D(2024, 2, 29), D(2025, 2, 28)
    )
    assert billing_period(anchor, Term.ANNUAL, D(2025, 2, 28)) == BillingPeriod(
        D(2025, 2, 28), D(2026, 2, 28)
    )
    assert billing_period(anchor, Term.ANNUAL, D(2028, 3, 1)) == BillingPeriod(
        D(2028, 2, 29), D(2029, 2, 28)
    )


def test_annual_periods_last_365_or_366_days() -> None:
    assert billing_period(D(2025, 3, 1), Term.ANNUAL, D(2025, 3, 1)).days == 365
    assert billing_period(D(2023, 3, 1), Term.ANNUAL, D(2023, 12, 31)).days == 366


def test_a_period_far_from_the_anchor_is_computed_directly() -> None:
    period = billing_period(D(2000, 1, 31), Term.MONTHLY, D(2399, 12, 31))
    assert period == BillingPeriod(D(2399, 12, 31), D(2400, 1, 31))


def test_there_is_no_period_before_the_anchor() -> None:
    with pytest.raises(ValueError):
        billing_period(D(2025, 1, 15), Term.MONTHLY, D(2025, 1, 14))
    with pytest.raises(ValueError):
        billing_period(D(2025, 1, 15), Term.ANNUAL, D(2024, 12, 31))


# --- proration of money --------------------------------------------------------------------


def test_the_vendors_example_20_days_premium_then_10_days_professional(
    thirty_day_month: BillingPeriod, premium: Plan, professional: Plan
) -> None:
    change = D(2025, 4, 21)
    lines = prorate_amounts(
        thirty_day_month,
        [PlanSegment(premium, D(2025, 4, 1), change), PlanSegment(professional, change)],
    )
    assert lines == [
        StatementLine(premium, D(2025, 4, 1), change, 20, Decimal("32.67")),
        StatementLine(professional, change, D(2025, 5, 1), 10, Decimal("33.00")),
    ]
    assert statement_total(lines, []) == Decimal("65.67")


def test_a_full_period_on_one_plan_costs_its_price(
    thirty_day_month: BillingPeriod, premium: Plan
) -> None:
    lines = prorate_amounts(thirty_day_month, [PlanSegment(premium, D(2025, 1, 1))])
    assert [(line.days, line.amount) for line in lines] == [(30, Decimal("49.00"))]
    assert (lines[0].start, lines[0].end) == (thirty_day_month.start, thirty_day_month.end)


def test_segments_are_clipped_to_the_period(
    thirty_day_month: BillingPeriod, standard: Plan, premium: Plan
) -> None:
    segments = [
        PlanSegment(standard, D(2025, 3, 1), D(2025, 4, 11)),
        PlanSegment(premium, D(2025, 4, 11), D(2025, 6, 1)),
    ]
    lines = prorate_amounts(thirty_day_month, segments)
    assert [(line.plan.id, line.start, line.end, line.days) for line in lines] == [
        ("standard", D(2025, 4, 1), D(2025, 4, 11), 10),
        ("premium", D(2025, 4, 11), D(2025, 5, 1), 20),
    ]


def test_segments_outside_the_period_give_no_line(
    thirty_day_month: BillingPeriod, free: Plan, standard: Plan, premium: Plan
) -> None:
    segments = [
        PlanSegment(free, D(2025, 1, 1), D(2025, 2, 1)),
        PlanSegment(standard, D(2025, 2, 1), D(2025, 4, 1)),
        PlanSegment(premium, D(2025, 4, 1)),
    ]
    assert [line.plan.id for line in prorate_amounts(thirty_day_month, segments)] == ["premium"]


def test_several_changes_in_one_period(
    thirty_day_month: BillingPeriod, free: Plan, standard: Plan, premium: Plan, professional: Plan
) -> None:
    segments = [
        PlanSegment(standard, D(2025, 3, 20), D(2025, 4, 6)),
        PlanSegment(premium, D(2025, 4, 6), D(2025, 4, 13)),
        PlanSegment(professional, D(2025, 4, 13), D(2025, 4, 24)),
        PlanSegment(free, D(2025, 4, 24)),
    ]
    lines = prorate_amounts(thirty_day_month, segments)
    assert [(line.plan.id, line.days, line.amount) for line in lines] == [
        ("standard", 5, Decimal("3.17")),  # 19 x 5/30 = 3.1666...
        ("premium", 7, Decimal("11.43")),  # 49 x 7/30 = 11.4333...
        ("professional", 11, Decimal("36.30")),  # 99 x 11/30 = 36.3
        ("free", 7, Decimal("0.00")),
    ]
    assert statement_total(lines, []) == Decimal("50.90")


def test_a_change_on_the_first_day_leaves_no_line_for_the_old_plan(
    thirty_day_month: BillingPeriod, standard: Plan, premium: Plan
) -> None:
    first_day = thirty_day_month.start
    segments = [
        PlanSegment(standard, D(2025, 3, 1), first_day),
        PlanSegment(premium, first_day),
    ]
    lines = prorate_amounts(thirty_day_month, segments)
    assert [(line.plan.id, line.days, line.amount) for line in lines] == [
        ("premium", 30, Decimal("49.00"))
    ]


def test_a_change_on_the_last_day_gives_the_new_plan_one_day(
    thirty_day_month: BillingPeriod, standard: Plan, premium: Plan
) -> None:
    last_day = thirty_day_month.end - timedelta(days=1)
    segments = [PlanSegment(standard, D(2025, 3, 1), last_day), PlanSegment(premium, last_day)]
    lines = prorate_amounts(thirty_day_month, segments)
    assert [(line.plan.id, line.days, line.amount) for line in lines] == [
        ("standard", 29, Decimal("18.37")),  # 19 x 29/30 = 18.3666...
        ("premium", 1, Decimal("1.63")),  # 49 x 1/30 = 1.6333...
    ]


def test_two_changes_on_the_same_day_charge_that_day_once_at_the_highest_plan(
    thirty_day_month: BillingPeriod, standard: Plan, premium: Plan, professional: Plan
) -> None:
    # Changed twice during Apr 16: each segment closed that day was in force on it.
    day = D(2025, 4, 16)
    segments = [
        PlanSegment(standard, D(2025, 4, 1), day + timedelta(days=1)),
        PlanSegment(premium, day, day + timedelta(days=1)),
        PlanSegment(professional, day),
    ]
    lines = prorate_amounts(thirty_day_month, segments)
    assert [(line.plan.id, line.days) for line in lines] == [("standard", 15), ("professional", 15)]


def test_a_same_day_detour_through_a_higher_plan_is_charged_for_that_day(
    thirty_day_month: BillingPeriod, free: Plan, premium: Plan
) -> None:
    # Defect 1: free -> premium -> free during Apr 10 was billed "Free, 0.00".
    day = D(2025, 4, 10)
    segments = [
        PlanSegment(free, D(2025, 4, 1), day + timedelta(days=1)),
        PlanSegment(premium, day, day + timedelta(days=1)),
        PlanSegment(free, day),
    ]
    lines = prorate_amounts(thirty_day_month, segments)
    assert [(line.plan.id, line.days, line.amount) for line in lines] == [
        ("free", 29, Decimal("0.00")),
        ("premium", 1, Decimal("1.63")),  # 49 x 1/30
    ]
    # The day gives premium's quota too: floor((25 x 29 + 1000) / 30).
    assert prorate_quota(thirty_day_month, segments, App.TICKETS) == 57


def test_two_round_trips_to_premium_make_one_line_per_plan(standard: Plan, premium: Plan) -> None:
    # Defect 1: three standard lines of 6.33 (18.99) and nothing for the two premium days.
    may = BillingPeriod(D(2025, 5, 1), D(2025, 6, 1))
    first, second = D(2025, 5, 10), D(2025, 5, 20)
    after = timedelta(days=1)
    segments = [
        PlanSegment(standard, D(2025, 5, 1), first + after),
        PlanSegment(premium, first, first + after),
        PlanSegment(standard, first, second + after),
        PlanSegment(premium, second, second + after),
        PlanSegment(standard, second),
    ]
    lines = prorate_amounts(may, segments)
    assert [(line.plan.id, line.days, line.amount) for line in lines] == [
        ("standard", 29, Decimal("17.77")),  # 19 x 29/31 = 17.774...
        ("premium", 2, Decimal("3.16")),  # 49 x 2/31 = 3.161...
    ]
    assert statement_total(lines, []) == Decimal("20.93")


def test_a_downgrade_during_a_day_charges_that_day_at_the_higher_plan(
    thirty_day_month: BillingPeriod, premium: Plan, free: Plan
) -> None:
    day = D(2025, 4, 16)
    segments = [
        PlanSegment(premium, D(2025, 4, 1), day + timedelta(days=1)),
        PlanSegment(free, day),
    ]
    lines = prorate_amounts(thirty_day_month, segments)
    assert [(line.plan.id, line.days) for line in lines] == [("premium", 16), ("free", 14)]
    # (1000 x 16 + 25 x 14) / 30 = 545
    assert prorate_quota(thirty_day_month, segments, App.TICKETS) == 545


def test_what_has_accrued_so_far_counts_the_days_up_to_today(
    thirty_day_month: BillingPeriod, premium: Plan
) -> None:
    segments = [PlanSegment(premium, D(2025, 4, 1))]
    accrued = prorate_amounts(thirty_day_month, segments, until=D(2025, 4, 11))
    assert [(line.days, line.amount) for line in accrued] == [(10, Decimal("16.33"))]


def test_a_voided_purchase_is_charged_refunded_and_gives_the_quota_it_was_voided_to(
    thirty_day_month: BillingPeriod, free: Plan, premium: Plan
) -> None:
    bought, cancelled = D(2025, 4, 10), D(2025, 4, 12)
    segments = [
        PlanSegment(free, D(2025, 4, 1), bought + timedelta(days=1)),
        PlanSegment(premium, bought, cancelled + timedelta(days=1), voided_to=free),
        PlanSegment(free, cancelled),
    ]
    lines = prorate_amounts(thirty_day_month, segments)
    refunded = voided_amounts(thirty_day_month, segments)
    assert [(line.plan.id, line.days, line.amount) for line in lines] == [
        ("free", 27, Decimal("0.00")),
        ("premium", 3, Decimal("4.90")),
    ]
    assert [(line.plan.id, line.amount) for line in refunded] == [("premium", Decimal("4.90"))]
    assert statement_total(lines, [refund_amount(refunded)]) == Decimal("0.00")
    assert prorate_quota(thirty_day_month, segments, App.TICKETS) == 25


def test_each_line_is_rounded_half_up_to_cents(free: Plan, standard: Plan) -> None:
    plan = Plan("odd", "Odd", "odd", 1, Term.MONTHLY, Decimal("17.00"), "EUR", standard.quotas)
    eight_days = BillingPeriod(D(2025, 1, 1), D(2025, 1, 9))
    segments = [PlanSegment(plan, D(2025, 1, 1), D(2025, 1, 2)), PlanSegment(free, D(2025, 1, 2))]
    lines = prorate_amounts(eight_days, segments)
    # 17 x 1/8 = 2.125 exactly: half-up gives 2.13 where banker's rounding would give 2.12.
    assert lines[0].amount == Decimal("2.13")


def test_an_annual_period_of_365_days(premium_annual: Plan, professional_annual: Plan) -> None:
    period = billing_period(D(2025, 3, 1), Term.ANNUAL, D(2025, 3, 1))
    assert period.days == 365
    change = period.start + timedelta(days=100)
    lines = prorate_amounts(
        period,
        [
            PlanSegment(premium_annual, period.start, change),
            PlanSegment(professional_annual, change),
        ],
    )
    assert [(line.days, line.amount) for line in lines] == [
        (100, Decimal("134.25")),  # 490 x 100/365 = 134.2465...
        (265, Decimal("718.77")),  # 990 x 265/365 = 718.7671...
    ]


def test_an_annual_period_of_366_days(premium_annual: Plan, professional_annual: Plan) -> None:
    period = billing_period(D(2024, 1, 1), Term.ANNUAL, D(2024, 1, 1))
    assert period.days == 366
    change = period.start + timedelta(days=100)
    lines = prorate_amounts(
        period,
        [
            PlanSegment(premium_annual, period.start, change),
            PlanSegment(professional_annual, change),
        ],
    )
    assert [(line.days, line.amount) for line in lines] == [
        (100, Decimal("133.88")),  # 490 x 100/366 = 133.8797...
        (266, Decimal("719.51")),  # 990 x 266/366 = 719.5081...
    ]


def test_overlapping_plan_segments_are_refused(
    thirty_day_month: BillingPeriod, standard: Plan, premium: Plan
) -> None:
    segments = [
        PlanSegment(standard, D(2025, 4, 1), D(2025, 4, 20)),
        PlanSegment(premium, D(2025, 4, 10)),
    ]
    with pytest.raises(ValueError, match="overlap"):
        prorate_amounts(thirty_day_month, segments)


def test_only_the_last_plan_segment_may_be_open(
    thirty_day_month: BillingPeriod, standard: Plan, premium: Plan
) -> None:
    segments = [PlanSegment(standard, D(2025, 4, 1)), PlanSegment(premium, D(2025, 4, 10))]
    with pytest.raises(ValueError, match="open"):
        prorate_amounts(thirty_day_month, segments)


def test_a_plan_segment_cannot_end_before_it_starts(standard: Plan) -> None:
    with pytest.raises(ValueError):
        PlanSegment(standard, D(2025, 4, 10), D(2025, 4, 9))


# --- proration of quota --------------------------------------------------------------------


def test_quota_of_20_days_premium_and_10_days_professional(
    thirty_day_month: BillingPeriod, premium: Plan, professional: Plan
) -> None:
    change = D(2025, 4, 21)
    segments = [PlanSegment(premium, D(2025, 4, 1), change), PlanSegment(professional, change)]
    assert prorate_quota(thirty_day_month, segments, App.TICKETS) == 2333  # 70000 / 30
    assert prorate_quota(thirty_day_month, segments, App.CHECKLISTS) == 1166  # 35000 / 30


def test_quota_after_a_downgrade_counts_the_lower_plan_until_the_period_ends(
    thirty_day_month: BillingPeriod, premium: Plan, free: Plan
) -> None:
    change = D(2025, 4, 16)
    segments = [PlanSegment(premium, D(2025, 4, 1), change), PlanSegment(free, change)]
    # (1000 x 15 + 25 x 15) / 30 = 512.5
    assert prorate_quota(thirty_day_month, segments, App.TICKETS) == 512


def test_quota_of_a_whole_period_on_one_plan_is_its_limit(
    thirty_day_month: BillingPeriod, standard: Plan
) -> None:
    segments = [PlanSegment(standard, D(2024, 12, 3))]
    assert prorate_quota(thirty_day_month, segments, App.OPPORTUNITIES) == 100


def test_quota_of_an_annual_period(premium_annual: Plan, professional_annual: Plan) -> None:
    period = billing_period(D(2024, 1, 1), Term.ANNUAL, D(2024, 6, 1))
    change = period.start + timedelta(days=183)
    segments = [
        PlanSegment(premium_annual, period.start, change),
        PlanSegment(professional_annual, change),
    ]
    # (12000 x 183 + 60000 x 183) / 366 = 36000
    assert prorate_quota(period, segments, App.TICKETS) == 36000


def test_quota_needs_a_plan_during_the_period(
    thirty_day_month: BillingPeriod, premium: Plan
) -> None:
    with pytest.raises(ValueError, match="no plan segment"):
        prorate_quota(thirty_day_month, [], App.TICKETS)
    with pytest.raises(ValueError, match="no plan segment"):
        prorate_quota(
            thirty_day_month, [PlanSegment(premium, D(2025, 1, 1), D(2025, 4, 1))], App.TICKETS
        )


# --- plan changes --------------------------------------------------------------------------


def test_changing_to_the_current_plan_is_refused(premium: Plan) -> None:
    with pytest.raises(SamePlan) as raised:
        check_plan_change(premium, premium)
    assert raised.value.key == "billing.same_plan"
    assert raised.value.params == {"plan": "Premium"}


@pytest.mark.parametrize(
    ("current", "target"),
    [
        ("standard", "premium"),
        ("professional", "standard"),
        ("premium", "free"),
        ("standard-annual", "professional-annual"),
        ("professional-annual", "premium-annual"),
    ],
)
def test_up_or_down_within_the_term_is_prorated(
    catalog: PlanCatalog, current: str, target: str
) -> None:
    assert check_plan_change(catalog.get(current), catalog.get(target)) == ChangeKind.PRORATED


@pytest.mark.parametrize(
    ("current", "target", "current_term", "target_term"),
    [
        ("standard", "premium-annual", "monthly", "annual"),
        ("premium", "premium-annual", "monthly", "annual"),
    ],
)
def test_switching_between_monthly_and_annual_is_refused(
    catalog: PlanCatalog, current: str, target: str, current_term: str, target_term: str
) -> None:
    with pytest.raises(TermChangeRefused) as raised:
        check_plan_change(catalog.get(current), catalog.get(target))
    assert raised.value.key == "billing.term_change"
    assert raised.value.params == {"current_term": current_term, "target_term": target_term}


@pytest.mark.parametrize(
    "target",
    ["standard", "professional", "standard-annual", "premium-annual", "professional-annual"],
)
def test_buying_a_paid_plan_from_free_starts_a_new_subscription(
    catalog: PlanCatalog, target: str
) -> None:
    assert check_plan_change(catalog.free, catalog.get(target)) == ChangeKind.RESTART


@pytest.mark.parametrize("target", ["free", "standard", "professional"])
def test_an_annual_term_ends_only_at_its_end(catalog: PlanCatalog, target: str) -> None:
    with pytest.raises(AnnualTermRunning) as raised:
        check_plan_change(catalog.get("premium-annual"), catalog.get(target))
    assert raised.value.key == "billing.annual_term"
    assert raised.value.params == {"plan": "Premium"}


def test_a_downgrade_is_a_lower_price(catalog: PlanCatalog) -> None:
    assert is_downgrade(catalog.get("premium"), catalog.get("standard"))
    assert is_downgrade(catalog.get("standard"), catalog.free)
    assert not is_downgrade(catalog.get("standard"), catalog.get("professional"))


def test_usage_fits_a_quota_up_to_and_including_its_limit() -> None:
    assert usage_fits({App.TICKETS: 155}, {App.TICKETS: 155, App.CHECKLISTS: 0})
    assert not usage_fits({App.TICKETS: 1000}, {App.TICKETS: 155})


def test_plan_change_errors_are_domain_errors() -> None:
    assert issubclass(SamePlan, DomainError)
    assert issubclass(TermChangeRefused, DomainError)
    assert issubclass(CancellationWindowClosed, DomainError)


# --- cancellation --------------------------------------------------------------------------

PURCHASED_AT = datetime(2025, 4, 1, 9, 30, tzinfo=UTC)


def test_the_cancellation_window_is_72_hours() -> None:
    assert timedelta(hours=72) == CANCELLATION_WINDOW
    assert cancellation_deadline(PURCHASED_AT) == datetime(2025, 4, 4, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    "after",
    [timedelta(0), timedelta(hours=1), timedelta(hours=71, minutes=59), timedelta(hours=72)],
)
def test_cancelling_within_72_hours_is_allowed(after: timedelta) -> None:
    check_cancellable(PURCHASED_AT, PURCHASED_AT + after)


@pytest.mark.parametrize("after", [timedelta(hours=72, seconds=1), timedelta(days=30)])
def test_cancelling_after_72_hours_is_refused_with_the_closing_time(after: timedelta) -> None:
    with pytest.raises(CancellationWindowClosed) as raised:
        check_cancellable(PURCHASED_AT, PURCHASED_AT + after)
    assert raised.value.key == "billing.cancel_window_closed"
    assert raised.value.params == {"closed_at": PURCHASED_AT + timedelta(hours=72)}


def test_the_window_is_72_hours_of_real_time_across_a_daylight_saving_change() -> None:
    # Defect 5: Berlin leaves summer time on Oct 26, 2025; wall-clock arithmetic gave 73 hours.
    berlin = ZoneInfo("Europe/Berlin")
    bought = datetime(2025, 10, 24, 12, 0, tzinfo=berlin)  # 10:00 UTC
    assert cancellation_deadline(bought) == datetime(2025, 10, 27, 10, 0, tzinfo=UTC)
    check_cancellable(bought, datetime(2025, 10, 27, 11, 0, tzinfo=berlin))  # 10:00 UTC
    with pytest.raises(CancellationWindowClosed):
        check_cancellable(bought, datetime(2025, 10, 27, 11, 30, tzinfo=berlin))
    # And into summer time (Mar 30, 2025): 72 real hours, not 71.
    spring = datetime(2025, 3, 28, 12, 0, tzinfo=berlin)  # 11:00 UTC
    assert cancellation_deadline(spring) == datetime(2025, 3, 31, 11, 0, tzinfo=UTC)
    check_cancellable(spring, datetime(2025, 3, 31, 12, 30, tzinfo=berlin))  # 10:30 UTC


def test_naive_datetimes_are_refused_at_the_domain_boundary() -> None:
    naive = datetime(2025, 4, 1, 9, 30)
    with pytest.raises(NaiveDatetime):
        cancellation_deadline(naive)
    with pytest.raises(NaiveDatetime):
        check_cancellable(PURCHASED_AT, naive)
    with pytest.raises(NaiveDatetime):
        check_cancellable(naive, PURCHASED_AT)


def test_a_cancellation_refunds_everything_charged_since_the_purchase(
    thirty_day_month: BillingPeriod, premium: Plan, professional: Plan
) -> None:
    change = D(2025, 4, 21)
    lines = prorate_amounts(
        thirty_day_month,
        [PlanSegment(premium, D(2025, 4, 1), change), PlanSegment(professional, change)],
    )
    refund = refund_amount(lines[1:])
    assert refund == Decimal("33.00")
    assert statement_total(lines, [refund]) == Decimal("32.67")


def test_nothing_charged_means_nothing_refunded() -> None:
    assert refund_amount([]) == Decimal("0.00")
    assert statement_total([], []) == Decimal("0.00")


def test_the_total_subtracts_every_refund(
    thirty_day_month: BillingPeriod, professional: Plan
) -> None:
    lines = prorate_amounts(thirty_day_month, [PlanSegment(professional, D(2025, 4, 1))])
    assert statement_total(lines, [Decimal("9.00"), Decimal("90.00")]) == Decimal("0.00")
