"""The subscription: plan, quota, plan changes, cancellation and statements.

The quota check and the count are one conditional UPDATE in the caller's transaction
(`consume`), so that N concurrent creates with k units left create exactly k items.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from bot.domain.billing import (
    BillingPeriod,
    ChangeKind,
    PlanSegment,
    StatementLine,
    cancellation_deadline,
    check_cancellable,
    check_plan_change,
    prorate_amounts,
)
from bot.domain.clock import Clock
from bot.domain.errors import DomainError
from bot.domain.plans import App, Plan, PlanCatalog, Term
from bot.domain.quota import (
    DEFAULT_THRESHOLDS,
    QuotaExceeded,
    QuotaState,
    SubscriptionSuspended,
)
from bot.domain.roles import Role
from bot.domain.subscription import (
    Era,
    HistoryItem,
    Statement,
    charged_since,
    eras_of,
    statements,
)
from bot.services.identity import Identity, resolve_actor
from bot.services.notifications import notice_quota
from bot.services.roles import require_admin
from storage.models import PlanSegmentRow, RefundRow, SubscriptionRow
from storage.uow import UnitOfWork

HISTORY_PERIODS = 12
SUSPENDED = "suspended"


class NothingToCancel(DomainError):
    key = "billing.nothing_to_cancel"


@dataclass(frozen=True)
class Subscription:
    """The subscription as loaded in one unit of work."""

    row: SubscriptionRow
    plan: Plan
    eras: tuple[Era, ...]
    today: date

    @property
    def era(self) -> Era:
        return self.eras[-1]

    @property
    def period(self) -> BillingPeriod:
        return self.era.period(self.today)

    @property
    def suspended(self) -> bool:
        return self.row.status == SUSPENDED


@dataclass(frozen=True)
class UsageView:
    plan: Plan
    period: BillingPeriod
    quotas: tuple[QuotaState, ...]
    suspended: bool


@dataclass(frozen=True)
class PlansView:
    current: Plan
    plans: tuple[Plan, ...]
    other_term: tuple[Plan, ...]
    is_admin: bool


@dataclass(frozen=True)
class PlanChange:
    current: Plan
    target: Plan
    kind: ChangeKind
    period: BillingPeriod
    lines: tuple[StatementLine, ...]
    total: Decimal
    quotas: dict[App, int]
    used: dict[App, int]


@dataclass(frozen=True)
class Cancellation:
    plan: Plan
    purchased_at: datetime
    deadline: datetime
    refund: Decimal
    free: Plan


async def load(uow: UnitOfWork, clock: Clock, catalog: PlanCatalog) -> Subscription:
    """The tenant's subscription; a tenant that never subscribed is on free, anchored at its
    first activity."""
    now = clock.now()
    row = await uow.billing.subscription(for_update=True)
    if row is None:
        # Concurrent first turns of a tenant race here: one inserts, the others find its row.
        first_seen = await uow.tenants.created_at() or now
        anchor = first_seen.date()
        free = catalog.free
        created = await uow.billing.create_if_absent(
            SubscriptionRow(
                tenant_id=uow.tenant_id,
                plan_id=free.id,
                term=free.term.value,
                anchor=anchor,
                updated_at=now,
            )
        )
        row = await uow.billing.subscription(for_update=True)
        assert row is not None
    else:
        created = False
    if created:
        await uow.billing.save(
            PlanSegmentRow(
                tenant_id=uow.tenant_id,
                plan_id=free.id,
                start=anchor,
                anchor=anchor,
                term=free.term.value,
                created_at=now,
            )
        )
    history = [
        HistoryItem(PlanSegment(catalog.get(s.plan_id), s.start, s.end), s.anchor, Term(s.term))
        for s in await uow.billing.segments()
    ]
    return Subscription(row, catalog.get(row.plan_id), tuple(eras_of(history)), now.date())


async def _usage(uow: UnitOfWork, sub: Subscription) -> dict[App, int]:
    rows = await uow.billing.usage(sub.period.start)
    used = {App(r.app): r.used for r in rows if r.app in set(App)}
    return {app: used.get(app, 0) for app in App}


async def consume(
    uow: UnitOfWork,
    clock: Clock,
    catalog: PlanCatalog,
    app: App,
    *,
    thresholds: Sequence[int] = DEFAULT_THRESHOLDS,
    locale: str | None = None,
) -> QuotaState:
    """Count one new item of `app` against the period's quota, or refuse. Runs inside the
    caller's unit of work, which also records the warning if this item crosses a threshold."""
    sub = await load(uow, clock, catalog)
    if sub.suspended:
        raise SubscriptionSuspended()
    period = sub.period
    await uow.billing.ensure_usage(app.value, period.start, sub.era.quota(sub.today, app))
    counted = await uow.billing.consume(app.value, period.start)
    if counted is None:
        used = (await _usage(uow, sub))[app]
        limit = next(
            r.quota_limit for r in await uow.billing.usage(period.start) if r.app == app.value
        )
        raise QuotaExceeded(
            QuotaState(app, used, limit, period.end), sub.plan, catalog.above(sub.plan)
        )
    used, limit = counted
    after = QuotaState(app, used, limit, period.end)
    await notice_quota(
        uow,
        clock,
        QuotaState(app, used - 1, limit, period.end),
        after,
        period.start,
        thresholds,
        locale,
    )
    return after


async def usage(uow: UnitOfWork, clock: Clock, catalog: PlanCatalog, who: Identity) -> UsageView:
    async with uow:
        await resolve_actor(uow, clock, who)
        sub = await load(uow, clock, catalog)
        used = await _usage(uow, sub)
        stored = {r.app: r.quota_limit for r in await uow.billing.usage(sub.period.start)}
        quotas = tuple(
            QuotaState(
                app,
                used[app],
                stored.get(app.value, sub.era.quota(sub.today, app)),
                sub.period.end,
            )
            for app in App
        )
        await uow.commit()
        return UsageView(sub.plan, sub.period, quotas, sub.suspended)


async def near_limits(
    uow: UnitOfWork, clock: Clock, catalog: PlanCatalog, first_threshold: int
) -> tuple[QuotaState, ...]:
    """The quotas of the tenant at or above the first warning threshold, for the banner."""
    async with uow:
        sub = await load(uow, clock, catalog)
        rows = await uow.billing.usage(sub.period.start)
        await uow.commit()
    return tuple(
        state
        for state in (
            QuotaState(App(r.app), r.used, r.quota_limit, sub.period.end)
            for r in rows
            if r.app in set(App)
        )
        if state.used * 100 >= first_threshold * state.limit
    )


async def plans(uow: UnitOfWork, clock: Clock, catalog: PlanCatalog, who: Identity) -> PlansView:
    async with uow:
        actor = await resolve_actor(uow, clock, who)
        sub = await load(uow, clock, catalog)
        term = sub.plan.term
        same = [p for p in catalog.for_term(term)]
        if not sub.plan.is_free and catalog.free not in same:
            same.insert(0, catalog.free)
        other = [p for p in catalog.all() if p.term != term and not p.is_free]
        # Paid plans cannot switch term; from free both terms are open.
        view = PlansView(
            sub.plan,
            tuple(same),
            tuple(other) if sub.plan.is_free else (),
            actor.role is Role.ADMIN,
        )
        await uow.commit()
        return view


def _new_segments(sub: Subscription, target: Plan, kind: ChangeKind) -> Era:
    """The era the subscription is in after changing to `target` today."""
    today = sub.today
    if kind is ChangeKind.RESTART:
        return Era(today, target.term, (PlanSegment(target, today, None),))
    closed = tuple(
        PlanSegment(s.plan, s.start, today if s.end is None else s.end) for s in sub.era.segments
    )
    return Era(sub.era.anchor, sub.era.term, (*closed, PlanSegment(target, today, None)))


async def _preview(uow: UnitOfWork, sub: Subscription, target: Plan) -> PlanChange:
    kind = check_plan_change(sub.plan, target)
    era = _new_segments(sub, target, kind)
    period = era.period(sub.today)
    lines = tuple(prorate_amounts(period, era.segments))
    used = await _usage(uow, sub) if kind is ChangeKind.PRORATED else {app: 0 for app in App}
    return PlanChange(
        sub.plan,
        target,
        kind,
        period,
        lines,
        sum((line.amount for line in lines), Decimal("0.00")),
        era.quotas(sub.today),
        used,
    )


async def _as_admin(
    uow: UnitOfWork, clock: Clock, catalog: PlanCatalog, who: Identity
) -> Subscription:
    """The subscription, for an admin only (inside the caller's unit of work)."""
    await require_admin(uow, await resolve_actor(uow, clock, who))
    return await load(uow, clock, catalog)


async def preview_plan_change(
    uow: UnitOfWork, clock: Clock, catalog: PlanCatalog, who: Identity, plan_id: str
) -> PlanChange:
    """What changing to `plan_id` would do, without doing it."""
    return await _plan_change(uow, clock, catalog, who, plan_id, apply=False)


async def change_plan(
    uow: UnitOfWork, clock: Clock, catalog: PlanCatalog, who: Identity, plan_id: str
) -> PlanChange:
    """Change the plan at once, up or down, within the term; prorated per day."""
    return await _plan_change(uow, clock, catalog, who, plan_id, apply=True)


async def _plan_change(
    uow: UnitOfWork,
    clock: Clock,
    catalog: PlanCatalog,
    who: Identity,
    plan_id: str,
    *,
    apply: bool,
) -> PlanChange:
    async with uow:
        target = catalog.get(plan_id)
        sub = await _as_admin(uow, clock, catalog, who)
        change = await _preview(uow, sub, target)
        if apply:
            await _switch(uow, sub, target, change.kind, clock.now())
        await uow.commit()
        return change


async def _switch(
    uow: UnitOfWork, sub: Subscription, target: Plan, kind: ChangeKind, now: datetime
) -> None:
    """Close the open segment today and open one for `target`; set the period's limits."""
    today = sub.today
    for segment in await uow.billing.segments():
        if segment.end is None:
            segment.end = today
            await uow.billing.save(segment)
    anchor = today if kind is ChangeKind.RESTART else sub.era.anchor
    await uow.billing.save(
        PlanSegmentRow(
            tenant_id=uow.tenant_id,
            plan_id=target.id,
            start=today,
            anchor=anchor,
            term=target.term.value,
            created_at=now,
        )
    )
    row: SubscriptionRow = sub.row
    if target.is_free:
        row.purchased_at = None
    elif sub.plan.is_free:
        row.purchased_at = now  # buying a paid plan opens the cancellation window
    row.plan_id = target.id
    row.term = target.term.value
    row.anchor = anchor
    row.updated_at = now
    await uow.billing.save(row)
    era = _new_segments(sub, target, kind)
    period = era.period(today)
    for app, limit in era.quotas(today).items():
        await uow.billing.ensure_usage(app.value, period.start, limit)
        await uow.billing.set_limit(app.value, period.start, limit)


async def _cancellable(
    uow: UnitOfWork, sub: Subscription, catalog: PlanCatalog, now: datetime
) -> Cancellation:
    if sub.plan.is_free or sub.row.purchased_at is None:
        raise NothingToCancel(plan=sub.plan.name)
    purchased_at = sub.row.purchased_at
    check_cancellable(purchased_at, now)
    refund = charged_since(sub.eras, purchased_at.date(), sub.today)
    return Cancellation(
        sub.plan, purchased_at, cancellation_deadline(purchased_at), refund, catalog.free
    )


async def preview_cancellation(
    uow: UnitOfWork, clock: Clock, catalog: PlanCatalog, who: Identity
) -> Cancellation:
    """What cancelling now would refund, without cancelling."""
    return await _cancellation(uow, clock, catalog, who, apply=False)


async def cancel_subscription(
    uow: UnitOfWork, clock: Clock, catalog: PlanCatalog, who: Identity
) -> Cancellation:
    """Cancel within 72 hours of purchase: full refund, back to free, all data kept."""
    return await _cancellation(uow, clock, catalog, who, apply=True)


async def _cancellation(
    uow: UnitOfWork, clock: Clock, catalog: PlanCatalog, who: Identity, *, apply: bool
) -> Cancellation:
    async with uow:
        now = clock.now()
        sub = await _as_admin(uow, clock, catalog, who)
        cancellation = await _cancellable(uow, sub, catalog, now)
        if apply:
            await _switch(uow, sub, catalog.free, check_plan_change(sub.plan, catalog.free), now)
            await uow.billing.save(
                RefundRow(
                    tenant_id=uow.tenant_id,
                    period_start=sub.period.start,
                    amount=cancellation.refund,
                    currency=sub.plan.currency,
                    created_at=now,
                )
            )
        await uow.commit()
        return cancellation


async def billing_statements(
    uow: UnitOfWork, clock: Clock, catalog: PlanCatalog, who: Identity, *, history: bool
) -> list[Statement]:
    async with uow:
        sub = await _as_admin(uow, clock, catalog, who)
        refunds = [(r.period_start, Decimal(r.amount)) for r in await uow.billing.refunds()]
        result = statements(sub.eras, sub.today, refunds, HISTORY_PERIODS if history else 1)
        await uow.commit()
        return result
