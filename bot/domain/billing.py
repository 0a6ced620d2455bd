"""Billing periods, proration, plan changes and the cancellation window.

Periods are anniversary based and computed from the anchor date alone, so a renewal needs no
scheduled job: whoever asks "which period is it?" with today's date gets the answer.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, localcontext
from enum import StrEnum

from bot.domain.errors import DomainError
from bot.domain.plans import App, Plan, Term

CANCELLATION_WINDOW = timedelta(hours=72)

_CENT = Decimal("0.01")
_ZERO = Decimal("0.00")


class SamePlan(DomainError):
    key = "billing.same_plan"


class TermChangeRefused(DomainError):
    key = "billing.term_change"


class CancellationWindowClosed(DomainError):
    key = "billing.cancel_window_closed"


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


def billing_period(anchor: date, term: Term, on: date) -> BillingPeriod:
    """The period of a subscription anchored on `anchor` that contains the day `on`."""
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
    plan: Plan
    start: date
    end: date | None = None  # None: the plan is still current

    def __post_init__(self) -> None:
        if self.end is not None and self.end < self.start:
            raise ValueError(f"a plan segment cannot end before it starts: {self}")


@dataclass(frozen=True)
class StatementLine:
    plan: Plan
    start: date
    end: date
    days: int
    amount: Decimal


def _clipped(
    period: BillingPeriod, segments: Sequence[PlanSegment]
) -> list[tuple[PlanSegment, date, date, int]]:
    """Each segment cut to the period, with its days inside it; segments outside are dropped."""
    _check_history(segments)
    clipped = []
    for segment in segments:
        # "The current plan counted until the period ends."
        end = min(segment.end or period.end, period.end)
        start = max(segment.start, period.start)
        days = (end - start).days
        if days > 0:
            clipped.append((segment, start, end, days))
    return clipped


def _check_history(segments: Sequence[PlanSegment]) -> None:
    # Overlapping segments would charge the same days twice; refuse rather than bill wrongly.
    for before, after in zip(segments, segments[1:], strict=False):
        if before.end is None:
            raise ValueError(f"only the last plan segment may be open, not {before}")
        if after.start < before.end:
            raise ValueError(f"plan segments overlap or are out of order: {before}, {after}")


def prorate_amounts(period: BillingPeriod, segments: Sequence[PlanSegment]) -> list[StatementLine]:
    """One line per plan held during the period: price x days_on_plan / days_in_period."""
    lines = []
    with localcontext() as ctx:
        # Enough digits that the only rounding that matters is the one to cents below.
        ctx.prec = 50
        for segment, start, end, days in _clipped(period, segments):
            exact = segment.plan.price * days / period.days
            amount = exact.quantize(_CENT, rounding=ROUND_HALF_UP)
            lines.append(StatementLine(segment.plan, start, end, days, amount))
    return lines


def prorate_quota(period: BillingPeriod, segments: Sequence[PlanSegment], app: App) -> int:
    """The period's limit for `app`: floor(sum(limit_i x days_i) / days_in_period)."""
    clipped = _clipped(period, segments)
    if not clipped:
        raise ValueError(f"no plan segment covers the period {period.start}..{period.end}")
    weighted = sum(segment.plan.quotas[app] * days for segment, _, _, days in clipped)
    return weighted // period.days


class ChangeKind(StrEnum):
    PRORATED = "prorated"  # same term: effective now, prorated in the current period
    RESTART = "restart"  # free <-> annual: a new billing period anchored today


def check_plan_change(current: Plan, target: Plan) -> ChangeKind:
    if target.id == current.id:
        raise SamePlan(plan=target.name)
    if not current.is_free and not target.is_free and current.term != target.term:
        raise TermChangeRefused(current_term=current.term, target_term=target.term)
    if current.term != target.term:
        # Between the (monthly) free plan and an annual plan nothing can be prorated: a free
        # month is not a twelfth of a year's quota. The new term starts afresh, anchored today.
        return ChangeKind.RESTART
    return ChangeKind.PRORATED


def cancellation_deadline(purchased_at: datetime) -> datetime:
    return purchased_at + CANCELLATION_WINDOW


def check_cancellable(purchased_at: datetime, now: datetime) -> None:
    deadline = cancellation_deadline(purchased_at)
    if now > deadline:
        raise CancellationWindowClosed(closed_at=deadline)


def refund_amount(lines_since_purchase: Sequence[StatementLine]) -> Decimal:
    """A cancellation within the window refunds everything charged since the purchase."""
    return sum((line.amount for line in lines_since_purchase), _ZERO)


def statement_total(lines: Sequence[StatementLine], refunds: Sequence[Decimal]) -> Decimal:
    return sum((line.amount for line in lines), _ZERO) - sum(refunds, _ZERO)
