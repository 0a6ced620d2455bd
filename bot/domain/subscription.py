"""A subscription's plan history read as billing eras, and the statements it yields.

An era is a run of plan segments that share one billing anchor and term. Plan changes inside
a term are prorated within the era's periods; a change between the (monthly) free plan and an
annual plan closes the era and starts a new one anchored that day.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from bot.domain.billing import (
    BillingPeriod,
    PlanSegment,
    StatementLine,
    billing_period,
    prorate_amounts,
    prorate_quota,
    refund_amount,
    statement_total,
)
from bot.domain.plans import App, Term


@dataclass(frozen=True)
class Era:
    anchor: date
    term: Term
    segments: tuple[PlanSegment, ...]

    @property
    def start(self) -> date:
        return self.segments[0].start

    @property
    def end(self) -> date | None:
        return self.segments[-1].end

    def period(self, on: date) -> BillingPeriod:
        return billing_period(self.anchor, self.term, max(on, self.anchor))

    def quota(self, on: date, app: App) -> int:
        return prorate_quota(self.period(on), self.segments, app)

    def quotas(self, on: date) -> dict[App, int]:
        return {app: self.quota(on, app) for app in App}


@dataclass(frozen=True)
class HistoryItem:
    """One stored plan segment with the anchor and term that were in force."""

    segment: PlanSegment
    anchor: date
    term: Term


def eras_of(history: Sequence[HistoryItem]) -> list[Era]:
    """Group consecutive segments by (anchor, term); oldest era first."""
    eras: list[Era] = []
    run: list[PlanSegment] = []
    key: tuple[date, Term] | None = None
    for item in history:
        if key is not None and (item.anchor, item.term) != key:
            eras.append(Era(key[0], key[1], tuple(run)))
            run = []
        key = (item.anchor, item.term)
        run.append(item.segment)
    if key is not None:
        eras.append(Era(key[0], key[1], tuple(run)))
    return eras


@dataclass(frozen=True)
class Statement:
    period: BillingPeriod
    lines: tuple[StatementLine, ...]
    refunds: tuple[Decimal, ...]
    total: Decimal
    current: bool


def statements(
    eras: Sequence[Era],
    today: date,
    refunds: Sequence[tuple[date, Decimal]],
    count: int,
) -> list[Statement]:
    """The statements of the `count` most recent periods, newest first. The current period
    counts the current plan until the period ends."""
    result: list[Statement] = []
    for era in reversed(eras):
        last_day = today if era.end is None else min(today, era.end - timedelta(days=1))
        if last_day < era.start:
            continue
        period = era.period(last_day)
        while len(result) < count:
            lines = tuple(prorate_amounts(period, era.segments))
            period_refunds = tuple(
                amount for start, amount in refunds if period.start <= start < period.end
            )
            result.append(
                Statement(
                    period,
                    lines,
                    period_refunds,
                    statement_total(lines, period_refunds),
                    current=era.end is None and period.contains(today),
                )
            )
            if period.start <= era.start:
                break
            period = era.period(period.start - timedelta(days=1))
        if len(result) >= count:
            break
    return result


def charged_since(eras: Sequence[Era], since: date, until: date) -> Decimal:
    """What paid segments starting on or after `since` cost up to `until` (exclusive): the
    full refund of a purchase cancelled within its window."""
    total = Decimal("0.00")
    for era in eras:
        paid = tuple(
            PlanSegment(s.plan, s.start, min(s.end or until, until))
            for s in era.segments
            if s.start >= since and not s.plan.is_free and s.start < until
        )
        if not paid:
            continue
        day = paid[0].start
        while day < until:
            period = era.period(day)
            total += refund_amount(prorate_amounts(period, paid))
            day = period.end
    return total
