"""A subscription's plan history read as billing eras, and the statements it yields.

An era is the set of plan segments that share one billing anchor and term. Plan changes inside
a term are prorated within the era's periods; buying a paid plan from free starts a new era
anchored that day, and the end of a term that is not renewed starts a free one. A purchase
cancelled within its window stays in its era (its charge and refund are shown there), and the
tenant goes back to the era, anchor and period it had before the purchase.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache

from bot.domain.billing import (
    BillingPeriod,
    PlanSegment,
    StatementLine,
    billing_period,
    prorate_amounts,
    prorate_quota,
    refund_amount,
    statement_total,
    voided_amounts,
)
from bot.domain.plans import App, Plan, Term

_DAY = timedelta(days=1)


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
        return _quota(self.period(on), self.segments, app)

    def quotas(self, on: date) -> dict[App, int]:
        return {app: self.quota(on, app) for app in App}


@lru_cache(maxsize=4096)
def _quota(period: BillingPeriod, segments: tuple[PlanSegment, ...], app: App) -> int:
    """`prorate_quota` of an era's period: a create asks it of the same history again and
    again. Periods, segments and plans are values (a plan compares its quotas too)."""
    return prorate_quota(period, segments, app)


@dataclass(frozen=True)
class HistoryItem:
    """One stored plan segment with the anchor and term that were in force."""

    segment: PlanSegment
    anchor: date
    term: Term


def eras_of(history: Sequence[HistoryItem]) -> list[Era]:
    """Group segments by (anchor, term), in the order the eras began. A voided purchase sits
    between two runs of the era it interrupted; both runs are that one era again."""
    runs: dict[tuple[date, Term], list[PlanSegment]] = {}
    for item in history:
        runs.setdefault((item.anchor, item.term), []).append(item.segment)
    return [Era(anchor, term, tuple(segments)) for (anchor, term), segments in runs.items()]


@dataclass(frozen=True)
class ScheduledChange:
    """A change waiting for a renewal: it takes effect at 00:00 UTC of `on`."""

    current: Plan
    target: Plan
    on: date


@dataclass(frozen=True)
class Refund:
    """A refund, filed under the period of the charge it refunds."""

    anchor: date
    term: Term
    period_start: date
    amount: Decimal


@dataclass(frozen=True)
class Statement:
    period: BillingPeriod
    lines: tuple[StatementLine, ...]
    refunds: tuple[Decimal, ...]
    total: Decimal  # the whole period: for the current one, the projection to its end
    current: bool
    accrued: Decimal | None = None  # the current period only: what the days so far cost


def _periods(era: Era, today: date) -> list[BillingPeriod]:
    """The era's periods up to today, newest first."""
    last_day = today if era.end is None else min(today, era.end - _DAY)
    if last_day < era.start:
        return []
    periods = []
    period = era.period(last_day)
    while True:
        periods.append(period)
        if period.start <= era.start:
            return periods
        period = era.period(period.start - _DAY)


def statements(
    eras: Sequence[Era],
    today: date,
    refunds: Sequence[Refund],
    count: int,
) -> list[Statement]:
    """The statements of the `count` most recent periods: the current one first, then newest
    first. With count=1: the current period, and the period of a purchase voided during it,
    whose charge and refund are shown there. Each refund appears once, under the period of
    its charge. The current period counts the current plan until the period ends."""
    entries: list[tuple[int, Era, BillingPeriod]] = []
    for index, era in enumerate(eras):
        for period in _periods(era, today):
            if prorate_amounts(period, era.segments):
                entries.append((index, era, period))
    current_era = next((i for i, era in enumerate(eras) if era.end is None), None)

    def is_current(entry: tuple[int, Era, BillingPeriod]) -> bool:
        return entry[0] == current_era and entry[2].contains(today)

    entries.sort(key=lambda e: (is_current(e), e[2].start, e[0]), reverse=True)
    placed = _place_refunds(entries, refunds)
    if count == 1:
        # This period's statement, and beside it that of a purchase voided during it.
        shown = [
            e for e in entries if is_current(e) or (e[2].contains(today) and id(e) in placed)
        ] or entries[:1]
    else:
        shown = entries[:count]
    result = []
    for entry in shown:
        _, era, period = entry
        lines = tuple(prorate_amounts(period, era.segments))
        period_refunds = tuple(placed.get(id(entry), ()))
        accrued = None
        if is_current(entry):
            so_far = prorate_amounts(period, era.segments, until=today + _DAY)
            accrued = statement_total(so_far, period_refunds)
        result.append(
            Statement(
                period,
                lines,
                period_refunds,
                statement_total(lines, period_refunds),
                is_current(entry),
                accrued,
            )
        )
    return result


def _place_refunds(
    entries: Sequence[tuple[int, Era, BillingPeriod]], refunds: Sequence[Refund]
) -> dict[int, list[Decimal]]:
    placed: dict[int, list[Decimal]] = {}
    for refund in refunds:
        home = next(
            (
                e
                for e in entries
                if (e[1].anchor, e[1].term, e[2].start)
                == (refund.anchor, refund.term, refund.period_start)
            ),
            None,
        )
        if home is not None:
            placed.setdefault(id(home), []).append(refund.amount)
    return placed


@dataclass(frozen=True)
class VoidedCharge:
    """What a voided purchase charged in one period of its era: refunded there, in full."""

    anchor: date
    term: Term
    period: BillingPeriod
    lines: tuple[StatementLine, ...]

    @property
    def amount(self) -> Decimal:
        return refund_amount(self.lines)


def voided_charges(eras: Sequence[Era], today: date) -> list[VoidedCharge]:
    """The charges of the voided segments of each era, period by period."""
    charges = []
    for era in eras:
        if not any(s.voided for s in era.segments):
            continue
        for period in reversed(_periods(era, today)):
            lines = tuple(voided_amounts(period, era.segments))
            if lines:
                charges.append(VoidedCharge(era.anchor, era.term, period, lines))
    return charges


def void_purchase(
    history: Sequence[HistoryItem], since: date, today: date, back_to: Plan
) -> list[HistoryItem]:
    """The history after the purchase made on `since` is cancelled today: every paid segment
    from the purchase on is closed today (it was in force today) and marked voided, and
    `back_to` is in force again from today, in the era the purchase interrupted."""
    bought = next(
        (
            i
            for i, item in enumerate(history)
            if item.segment.start >= since
            and not item.segment.plan.is_free
            and not item.segment.voided
        ),
        None,
    )
    if bought is None or bought == 0:
        raise ValueError(f"no purchase on {since} after a plan to go back to")
    before = history[bought - 1]
    result = list(history[:bought])
    for item in history[bought:]:
        s = item.segment
        end = today + _DAY if s.end is None else s.end
        result.append(
            HistoryItem(
                PlanSegment(s.plan, s.start, end, voided_to=back_to), item.anchor, item.term
            )
        )
    result.append(HistoryItem(PlanSegment(back_to, today), before.anchor, before.term))
    return result


def scheduled_change_due(on: date | None, today: date) -> bool:
    """A change scheduled for a renewal takes effect at 00:00 UTC of that day."""
    return on is not None and on <= today
