"""Properties of billing that must hold for every anchor, date and plan history."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.billing import (
    BillingPeriod,
    PlanSegment,
    billing_period,
    prorate_amounts,
    prorate_quota,
    renewal_date,
    statement_total,
)
from bot.domain.plans import App, Plan, Term, load_catalog

CATALOG = load_catalog()

FAST = settings(max_examples=200, deadline=None)

anchors = st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31))
terms = st.sampled_from(list(Term))
apps = st.sampled_from(list(App))


@st.composite
def anchored_periods(draw: st.DrawFn) -> tuple[date, Term, BillingPeriod]:
    anchor = draw(anchors)
    term = draw(terms)
    on = anchor + timedelta(days=draw(st.integers(min_value=0, max_value=5 * 366)))
    return anchor, term, billing_period(anchor, term, on)


@st.composite
def covered_periods(draw: st.DrawFn) -> tuple[BillingPeriod, list[PlanSegment]]:
    """A period and a plan history of one term that covers all of it: changes on any day,
    several on the same day, during a day (the old plan was in force that day too) or at
    midnight (a scheduled change)."""
    _, term, period = draw(anchored_periods())
    plans = CATALOG.for_term(term)
    if term == Term.ANNUAL:
        # An annual subscription falls back to free at the end of its term.
        plans = [*plans, CATALOG.free]
    changes = sorted(
        draw(
            st.lists(
                st.tuples(st.integers(min_value=0, max_value=period.days - 1), st.booleans()),
                max_size=6,
            )
        )
    )
    history_start = period.start - timedelta(days=draw(st.integers(min_value=0, max_value=40)))
    starts = [history_start] + [period.start + timedelta(days=c) for c, _ in changes]
    ends: list[date | None] = [
        start + timedelta(days=1) if midday else start
        for start, (_, midday) in zip(starts[1:], changes, strict=True)
    ]
    ends.append(None if draw(st.booleans()) else period.end)
    segments = [
        PlanSegment(draw(st.sampled_from(plans)), start, end)
        for start, end in zip(starts, ends, strict=True)
    ]
    return period, segments


def _in_force(period: BillingPeriod, segment: PlanSegment) -> list[date]:
    first = max(segment.start, period.start)
    end = min(segment.end or period.end, period.end)
    return [first + timedelta(days=i) for i in range((end - first).days)]


@FAST
@given(covered_periods())
def test_line_amounts_sum_to_the_statement_total(
    case: tuple[BillingPeriod, list[PlanSegment]],
) -> None:
    period, segments = case
    lines = prorate_amounts(period, segments)
    total = statement_total(lines, [])
    assert sum((line.amount for line in lines), Decimal(0)) == total
    # Rounding once per line keeps the total within half a cent per line of the exact charge.
    exact = sum(Fraction(line.plan.price) * line.days / period.days for line in lines)
    assert abs(Fraction(total) - exact) <= Fraction(1, 200) * len(lines)


@FAST
@given(covered_periods())
def test_any_sequence_of_changes_yields_one_line_per_plan(
    case: tuple[BillingPeriod, list[PlanSegment]],
) -> None:
    period, segments = case
    lines = prorate_amounts(period, segments)
    assert len({line.plan.id for line in lines}) == len(lines)
    # A plan held only on days shared with a dearer one has no line: those days are the dearer's.
    held = {s.plan.id for s in segments if _in_force(period, s)}
    assert {line.plan.id for line in lines} <= held


@FAST
@given(covered_periods())
def test_no_amount_is_negative_and_every_amount_is_in_cents(
    case: tuple[BillingPeriod, list[PlanSegment]],
) -> None:
    period, segments = case
    for line in prorate_amounts(period, segments):
        assert line.amount >= 0
        assert line.amount == line.amount.quantize(Decimal("0.01"))
        assert line.amount <= line.plan.price


@FAST
@given(covered_periods())
def test_each_day_is_charged_once(
    case: tuple[BillingPeriod, list[PlanSegment]],
) -> None:
    period, segments = case
    lines = prorate_amounts(period, segments)
    assert sum(line.days for line in lines) == period.days
    assert all(line.days > 0 for line in lines)
    assert min(line.start for line in lines) == period.start
    assert max(line.end for line in lines) == period.end


@FAST
@given(covered_periods())
def test_every_day_is_charged_at_least_at_every_plan_in_force_that_day(
    case: tuple[BillingPeriod, list[PlanSegment]],
) -> None:
    period, segments = case
    lines = prorate_amounts(period, segments)
    total = Fraction(statement_total(lines, []))
    slack = Fraction(1, 200) * len(lines)
    for segment in segments:
        # A plan held (for any part of) some days costs at least its price on those days...
        own = Fraction(segment.plan.price) * len(_in_force(period, segment)) / period.days
        assert total + slack >= own
    # ...and the period never costs less than the cheapest plan held for a whole day.
    cheapest = min(s.plan.price for s in segments if _in_force(period, s))
    assert total + slack >= Fraction(cheapest)


@FAST
@given(covered_periods(), apps)
def test_prorated_quota_lies_between_the_limits_of_the_plans_held(
    case: tuple[BillingPeriod, list[PlanSegment]], app: App
) -> None:
    period, segments = case
    held: list[Plan] = [line.plan for line in prorate_amounts(period, segments)]
    quota = prorate_quota(period, segments, app)
    assert min(plan.quotas[app] for plan in held) <= quota <= max(plan.quotas[app] for plan in held)


@FAST
@given(anchors, terms, st.integers(min_value=-120, max_value=120))
def test_consecutive_periods_tile_time(anchor: date, term: Term, n: int) -> None:
    start = renewal_date(anchor, term, n)
    end = renewal_date(anchor, term, n + 1)
    assert start < end
    if n >= 0:
        assert billing_period(anchor, term, start) == BillingPeriod(start, end)
        assert billing_period(anchor, term, end).start == end
        assert billing_period(anchor, term, end - timedelta(days=1)).end == end


@FAST
@given(anchored_periods())
def test_a_period_starts_on_a_renewal_date_and_ends_on_the_next(
    case: tuple[date, Term, BillingPeriod],
) -> None:
    anchor, term, period = case
    if term == Term.MONTHLY:
        n = (period.start.year - anchor.year) * 12 + period.start.month - anchor.month
    else:
        n = period.start.year - anchor.year
    assert renewal_date(anchor, term, n) == period.start
    assert renewal_date(anchor, term, n + 1) == period.end
    shortest, longest = (28, 31) if term == Term.MONTHLY else (365, 366)
    assert shortest <= period.days <= longest


# Fewer examples: each one walks about 1,800 days.
@settings(max_examples=50, deadline=None)
@given(anchors, terms)
def test_every_day_of_five_years_belongs_to_exactly_one_period(anchor: date, term: Term) -> None:
    renewals: list[date] = []
    n = 0
    horizon = renewal_date(anchor, term, 5 if term == Term.ANNUAL else 60)
    while not renewals or renewals[-1] < horizon:
        renewals.append(renewal_date(anchor, term, n))
        n += 1
    day = anchor
    index = 0
    while day < horizon:
        if day == renewals[index + 1]:
            index += 1
        # Renewals strictly increase, so the pair around `day` is the only period holding it.
        period = billing_period(anchor, term, day)
        assert period == BillingPeriod(renewals[index], renewals[index + 1])
        assert period.contains(day)
        day += timedelta(days=1)
