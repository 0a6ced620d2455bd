"""The plan history read as eras, a voided purchase, and where refunds are shown."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal

from bot.domain.billing import PlanSegment
from bot.domain.plans import App, Term, load_catalog
from bot.domain.subscription import (
    Era,
    HistoryItem,
    Refund,
    eras_of,
    statements,
    void_purchase,
    voided_charges,
)

CATALOG = load_catalog()
FREE, PREMIUM_ANNUAL = CATALOG.free, CATALOG.get("premium-annual")
ANCHOR, BOUGHT, CANCELLED = date(2026, 11, 2), date(2026, 11, 12), date(2026, 11, 13)


def bought_annual() -> list[HistoryItem]:
    return [
        HistoryItem(PlanSegment(FREE, ANCHOR, date(2026, 11, 13)), ANCHOR, Term.MONTHLY),
        HistoryItem(PlanSegment(PREMIUM_ANNUAL, BOUGHT), BOUGHT, Term.ANNUAL),
    ]


def test_voiding_returns_to_the_era_the_purchase_interrupted() -> None:
    history = void_purchase(bought_annual(), BOUGHT, CANCELLED, FREE)

    eras = eras_of(history)
    assert [(e.anchor, e.term, len(e.segments)) for e in eras] == [
        (ANCHOR, Term.MONTHLY, 2),
        (BOUGHT, Term.ANNUAL, 1),
    ]
    annual = eras[1].segments[0]
    assert (annual.end, annual.voided_to) == (date(2026, 11, 14), FREE)
    assert eras[0].end is None and eras[0].period(CANCELLED).start == ANCHOR
    # Days of the voided purchase give no annual quota to the period gone back to.
    assert eras[0].quotas(CANCELLED) == dict(FREE.quotas)
    [charge] = voided_charges(eras, CANCELLED)
    assert (charge.period.start, charge.amount) == (BOUGHT, Decimal("2.68"))  # 490 x 2 / 365


def test_a_refund_is_shown_once_under_its_charges_period() -> None:
    eras = eras_of(void_purchase(bought_annual(), BOUGHT, CANCELLED, FREE))
    refund = Refund(BOUGHT, Term.ANNUAL, BOUGHT, Decimal("2.68"))

    history = statements(eras, date(2026, 12, 20), [refund], 12)

    assert [(s.period.start, s.refunds, s.total) for s in history] == [
        (date(2026, 12, 2), (), Decimal("0.00")),
        (BOUGHT, (Decimal("2.68"),), Decimal("0.00")),
        (ANCHOR, (), Decimal("0.00")),
    ]
    # While both run, "billing" shows the period gone back to and the purchase's one.
    now = statements(eras, CANCELLED, [refund], 1)
    assert [(s.period.start, s.current) for s in now] == [(ANCHOR, True), (BOUGHT, False)]


def test_an_eras_quota_follows_a_plan_whose_limits_changed_under_the_same_id() -> None:
    """The era's quota is remembered by value: a plan with the same id and other limits (an
    operator's new plans file) gives its own quota, not the one remembered for the old plan."""
    more = dataclasses.replace(FREE, quotas={app: 2 * n for app, n in FREE.quotas.items()})
    day = date(2026, 11, 20)
    before = Era(ANCHOR, Term.MONTHLY, (PlanSegment(FREE, ANCHOR),))
    after = Era(ANCHOR, Term.MONTHLY, (PlanSegment(more, ANCHOR),))
    assert before.quota(day, App.TICKETS) == FREE.quotas[App.TICKETS]
    assert after.quota(day, App.TICKETS) == 2 * FREE.quotas[App.TICKETS]
    assert before.quota(day, App.TICKETS) == FREE.quotas[App.TICKETS]
