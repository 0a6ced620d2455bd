"""Billing periods, proration, plan changes and the cancellation window.

Periods are anniversary based and computed from the anchor date alone, so a renewal needs no
scheduled job: whoever asks "which period is it?" with today's date gets the answer.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, localcontext
from enum import StrEnum
from functools import lru_cache

from bot.domain.errors import DomainError
from bot.domain.plans import App, Plan, Term

CANCELLATION_WINDOW = timedelta(hours=72)

_CENT = Decimal("0.01")
_ZERO = Decimal("0.00")
_DAY = timedelta(days=1)


class SamePlan(DomainError):
    key = "billing.same_plan"


class TermChangeRefused(DomainError):
    key = "billing.term_change"


class CancellationWindowClosed(DomainError):
    key = "billing.cancel_window_closed"


class NaiveDatetime(ValueError):
    """A datetime without a zone reached the domain: it names no instant."""


@dataclass(frozen=True)
class BillingPeriod:
    start: date
    end: date  # exclusive: the renewal day belongs to the next period

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError(f"a billing period must end after it starts: {self.start}..{self.end}")

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def contains(self, day: date) -> bool:
        return self.start <= day < self.end


def renewal_date(anchor: date, term: Term, n: int) -> date:
    """The n-th anniversary of `anchor` (n may be negative).

    Always counted from the anchor, never from the previous renewal, so that a clamped short
    month does not drag later renewals: Jan 31 -> Feb 28 -> Mar 31.
    """
    if term == Term.MONTHLY:
        year, month0 = divmod(anchor.year * 12 + anchor.month - 1 + n, 12)
        month = month0 + 1
    else:
        year, month = anchor.year + n, anchor.month
    last_day = calendar.monthrange(year, month)[1]
    return date(year, month, min(anchor.day, last_day))


@lru_cache(maxsize=4096)
def billing_period(anchor: date, term: Term, on: date) -> BillingPeriod:
    """The period of a subscription anchored on `anchor` that contains the day `on`.
    Cached: every create and every banner asks it of the same tenant's anchor and day again
    (three `renewal_date`s, about 5 µs; from the cache, a twentieth of that)."""
    if on < anchor:
        raise ValueError(f"{on} is before the billing anchor {anchor}")
    if term == Term.MONTHLY:
        n = (on.year - anchor.year) * 12 + (on.month - anchor.month)
    else:
        n = on.year - anchor.year
    # The guess lands in the month (or year) of `on`; if that anniversary is still ahead,
    # `on` belongs to the period before it.
    if renewal_date(anchor, term, n) > on:
        n -= 1
    return BillingPeriod(renewal_date(anchor, term, n), renewal_date(anchor, term, n + 1))


@dataclass(frozen=True)
class PlanSegment:
    """A plan held from `start` (its first day) to `end` (exclusive), in UTC days.

    A plan changed during a day was in force on that day too, so a segment closed by a change
    ends the day after the change, and the next one starts on the change day: the two share that
    day, which is charged once, at the higher price. A change that takes effect at midnight (a
    scheduled change at the renewal) shares no day.
    """

    plan: Plan
    start: date
    end: date | None = None  # None: the plan is still current
    # A purchase cancelled within its window: its days are charged and refunded, and they give
    # the quota of the plan the purchase was voided back to.
    voided_to: Plan | None = None

    def __post_init__(self) -> None:
        if self.end is not None and self.end < self.start:
            raise ValueError(f"a plan segment cannot end before it starts: {self}")

    @property
    def voided(self) -> bool:
        return self.voided_to is not None


@dataclass(frozen=True)
class StatementLine:
    plan: Plan
    start: date  # the first day charged on the plan in the period
    end: date  # the day after the last one
    days: int
    amount: Decimal
    voided: bool = False  # a charge of a purchase cancelled within its window: refunded


def _check_history(segments: Sequence[PlanSegment]) -> None:
    # Segments that overlap by more than their change day would be a corrupt history.
    for before, after in zip(segments, segments[1:], strict=False):
        if before.end is None:
            raise ValueError(f"only the last plan segment may be open, not {before}")
        if after.start < before.start or after.start < before.end - _DAY:
            raise ValueError(f"plan segments overlap or are out of order: {before}, {after}")


def _higher(a: PlanSegment | None, b: PlanSegment) -> PlanSegment:
    """The segment a day is charged at: the higher price (then tier); on a tie the later."""
    if a is None:
        return b
    return b if (b.plan.price, b.plan.rank) >= (a.plan.price, a.plan.rank) else a


@dataclass(frozen=True)
class Day:
    """One day of a period: the segment it is charged at among the plans held (None if none
    was), the voided purchase's segment charged (and refunded) that day, and the plan whose
    quota the day gives."""

    charged: PlanSegment | None
    voided: PlanSegment | None
    quota: Plan | None


def day_plans(period: BillingPeriod, segments: Sequence[PlanSegment]) -> list[Day]:
    """For each day of the period, what it is charged at and what quota it gives.

    A voided purchase is charged on its own days and refunded: it is kept apart from the plans
    held, so that a plan bought again the same day is charged again. The quota of a day is the
    highest plan held that day; on days covered only by a voided purchase, the plan it was
    voided back to."""
    _check_history(segments)
    charged: list[PlanSegment | None] = [None] * period.days
    voided: list[PlanSegment | None] = [None] * period.days
    for segment in segments:
        # "The current plan counted until the period ends."
        first = max(segment.start, period.start)
        end = min(segment.end or period.end, period.end)
        days = voided if segment.voided else charged
        for i in range((first - period.start).days, (end - period.start).days):
            days[i] = _higher(days[i], segment)
    result = []
    for held, void in zip(charged, voided, strict=True):
        quota = held.plan if held is not None else void.voided_to if void is not None else None
        # A free morning before a purchase that was voided costs nothing: the day is the
        # voided purchase's line, and is not listed twice.
        if held is not None and void is not None and held.plan.price == 0:
            held = None
        result.append(Day(held, void, quota))
    return result


def _lines(
    period: BillingPeriod,
    days: Sequence[Day],
    *,
    until: date | None = None,
    voided: bool = False,
) -> list[StatementLine]:
    """One line per plan: its days in the period (up to `until`, exclusive), rounded once."""
    runs: dict[str, tuple[Plan, date, date, int]] = {}
    for i, entry in enumerate(days):
        day = period.start + timedelta(days=i)
        segment = entry.voided if voided else entry.charged
        if segment is None or (until is not None and day >= until):
            continue
        plan = segment.plan
        if plan.id in runs:
            _, first, _, count = runs[plan.id]
            runs[plan.id] = (plan, first, day + _DAY, count + 1)
        else:
            runs[plan.id] = (plan, day, day + _DAY, 1)
    lines = []
    with localcontext() as ctx:
        # Enough digits that the only rounding that matters is the one to cents below.
        ctx.prec = 50
        for plan, first, end, count in runs.values():
            exact = plan.price * count / period.days
            amount = exact.quantize(_CENT, rounding=ROUND_HALF_UP)
            lines.append(StatementLine(plan, first, end, count, amount, voided))
    return lines


def prorate_amounts(
    period: BillingPeriod, segments: Sequence[PlanSegment], *, until: date | None = None
) -> list[StatementLine]:
    """One line per plan charged during the period: price x days_charged / days_in_period,
    then the lines of a voided purchase (charged and refunded), in order of their first day.

    Every plan in force at any moment of a day is charged for that day; a day with several
    plans is charged once, at the highest price among them. With `until`, only the days before
    it: what has accrued so far.
    """
    days = day_plans(period, segments)
    lines = _lines(period, days, until=until) + _lines(period, days, until=until, voided=True)
    return sorted(lines, key=lambda line: line.start)


def voided_amounts(period: BillingPeriod, segments: Sequence[PlanSegment]) -> list[StatementLine]:
    """The lines of the days charged at a voided purchase: what its cancellation refunds."""
    return _lines(period, day_plans(period, segments), voided=True)


def prorate_quota(period: BillingPeriod, segments: Sequence[PlanSegment], app: App) -> int:
    """The period's limit for `app`: floor(sum(limit_i x days_i) / days_in_period).

    The days are counted like money: a day with several plans gives the limit of the highest
    one (what was paid for that day), so a same-day detour through a higher plan is paid for
    and gives that plan's quota for the day, no more. Days of a voided purchase give the quota
    of the plan it was voided back to.
    """
    days = day_plans(period, segments)
    if all(day.quota is None for day in days):
        raise ValueError(f"no plan segment covers the period {period.start}..{period.end}")
    weighted = sum(day.quota.quotas[app] for day in days if day.quota is not None)
    return weighted // period.days


class ChangeKind(StrEnum):
    PRORATED = "prorated"  # same term: effective now, prorated in the current period
    RESTART = "restart"  # buying from free: a new subscription anchored today
    SCHEDULED = "scheduled"  # a downgrade that does not fit: effective at the renewal


class AnnualTermRunning(DomainError):
    """An annual term ends only at its end: no way out mid-term but the 72-hour cancellation."""

    key = "billing.annual_term"


def check_plan_change(current: Plan, target: Plan) -> ChangeKind:
    if target.id == current.id:
        raise SamePlan(plan=target.name)
    if current.is_free:
        # Buying a paid plan starts the subscription that day, monthly and annual alike.
        return ChangeKind.RESTART
    if current.term is Term.ANNUAL and target.term is not Term.ANNUAL:
        raise AnnualTermRunning(plan=current.name)
    if not target.is_free and current.term != target.term:
        raise TermChangeRefused(current_term=current.term, target_term=target.term)
    return ChangeKind.PRORATED


def is_downgrade(current: Plan, target: Plan) -> bool:
    return (target.price, target.rank) < (current.price, current.rank)


def usage_fits(used: Mapping[App, int], quotas: Mapping[App, int]) -> bool:
    """A downgrade takes effect at once only if this period's usage so far fits its quota."""
    return all(used.get(app, 0) <= limit for app, limit in quotas.items())


def _instant(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise NaiveDatetime(f"{name} must be timezone-aware, got the naive {value.isoformat()}")
    return value.astimezone(UTC)


def cancellation_deadline(purchased_at: datetime) -> datetime:
    """72 hours of real time after the purchase, as a UTC instant (a daylight-saving change in
    the purchaser's zone moves no hour)."""
    return _instant(purchased_at, "purchased_at") + CANCELLATION_WINDOW


def check_cancellable(purchased_at: datetime, now: datetime) -> None:
    deadline = cancellation_deadline(purchased_at)
    if _instant(now, "now") > deadline:
        raise CancellationWindowClosed(closed_at=deadline)


def refund_amount(lines_since_purchase: Sequence[StatementLine]) -> Decimal:
    """A cancellation within the window refunds everything charged since the purchase."""
    return sum((line.amount for line in lines_since_purchase), _ZERO)


def statement_total(lines: Sequence[StatementLine], refunds: Sequence[Decimal]) -> Decimal:
    return sum((line.amount for line in lines), _ZERO) - sum(refunds, _ZERO)
