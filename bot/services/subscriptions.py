"""The subscription: plan, quota, plan changes, cancellation and statements.

The quota check and the count are one conditional UPDATE in the caller's transaction
(`consume`), so that N concurrent creates with k units left create exactly k items.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TypeVar

from bot.domain.billing import (
    BillingPeriod,
    ChangeKind,
    PlanSegment,
    StatementLine,
    cancellation_deadline,
    check_cancellable,
    check_plan_change,
    is_downgrade,
    prorate_amounts,
    usage_fits,
)
from bot.domain.clock import Clock
from bot.domain.errors import DomainError
from bot.domain.plans import App, Plan, PlanCatalog, Term
from bot.domain.quota import (
    QuotaExceeded,
    QuotaPolicy,
    QuotaState,
    SubscriptionSuspended,
)
from bot.domain.roles import Role
from bot.domain.subscription import (
    Era,
    HistoryItem,
    Refund,
    ScheduledChange,
    Statement,
    eras_of,
    scheduled_change_due,
    statements,
    void_purchase,
    voided_charges,
)
from bot.services.identity import Identity, find_actor, resolve_actor
from bot.services.notifications import notice_quota
from bot.services.roles import require_admin
from storage.models import ItemEventRow, PlanSegmentRow, RefundRow, SubscriptionRow
from storage.uow import UnitOfWork

HISTORY_PERIODS = 12
SUSPENDED = "suspended"
# `SubscriptionRow.source`: who sells the subscription (the marketplace changes its plan).
MARKETPLACE_SOURCE = "marketplace"
_DAY = timedelta(days=1)
_Decision = TypeVar("_Decision")


class NothingToCancel(DomainError):
    key = "billing.nothing_to_cancel"


class NothingScheduled(DomainError):
    key = "billing.nothing_scheduled"


class NoTermToEnd(DomainError):
    key = "billing.no_term_to_end"


@dataclass(frozen=True)
class Subscription:
    """The subscription as loaded in one unit of work."""

    row: SubscriptionRow
    plan: Plan
    eras: tuple[Era, ...]
    today: date
    history: tuple[HistoryItem, ...]
    scheduled: ScheduledChange | None

    @property
    def era(self) -> Era:
        """The era of the current plan."""
        return next(era for era in reversed(self.eras) if era.end is None)

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
    scheduled: ScheduledChange | None = None


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
    total: Decimal  # projected for the whole period
    quotas: dict[App, int]  # this period's quota after the change (SCHEDULED: if it were now)
    used: dict[App, int]
    accrued: Decimal = Decimal("0.00")  # what the days of the period so far cost
    effective: date | None = None  # SCHEDULED: the renewal it takes effect on (00:00 UTC)


@dataclass(frozen=True)
class Cancellation:
    plan: Plan
    purchased_at: datetime
    deadline: datetime
    refund: Decimal
    free: Plan


@dataclass(frozen=True)
class BillingView:
    statements: tuple[Statement, ...]
    scheduled: ScheduledChange | None


def _history(rows: Sequence[PlanSegmentRow], catalog: PlanCatalog) -> list[HistoryItem]:
    free = catalog.free
    return [
        HistoryItem(
            PlanSegment(
                catalog.get(s.plan_id), s.start, s.end, voided_to=free if s.voided else None
            ),
            s.anchor,
            Term(s.term),
        )
        for s in rows
    ]


async def load(uow: UnitOfWork, clock: Clock, catalog: PlanCatalog) -> Subscription:
    """The tenant's subscription; a tenant that never subscribed is on free, anchored at its
    first activity. A scheduled change whose day has come is applied first."""
    now = clock.now()
    row, segments = await uow.billing.subscription_and_segments(for_update=True)
    read_again = row is None
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
    if scheduled_change_due(row.scheduled_on, now.date()):
        await _apply_scheduled(uow, row, catalog, now)
        read_again = True
    if read_again:  # the segments changed since, or another turn made them
        segments = await uow.billing.segments()
    history = _history(segments, catalog)
    plan = catalog.get(row.plan_id)
    scheduled = None
    if row.scheduled_plan_id is not None and row.scheduled_on is not None:
        scheduled = ScheduledChange(plan, catalog.get(row.scheduled_plan_id), row.scheduled_on)
    return Subscription(row, plan, tuple(eras_of(history)), now.date(), tuple(history), scheduled)


async def peek(uow: UnitOfWork, clock: Clock, catalog: PlanCatalog) -> Subscription:
    """The subscription as `load` would give it, for a reading use-case: no row lock and
    nothing written. A tenant with no subscription row is on free from its first activity; a
    scheduled change whose day has come is applied to the values, not to the rows."""
    now = clock.now()
    stored, segments = await uow.billing.subscription_and_segments()
    if stored is None:
        free = catalog.free
        anchor = (await uow.tenants.created_at() or now).date()
        row = SubscriptionRow(
            tenant_id=uow.tenant_id,
            plan_id=free.id,
            term=free.term.value,
            anchor=anchor,
            updated_at=now,
        )
        history = [HistoryItem(PlanSegment(free, anchor, None), anchor, free.term)]
    else:
        # A copy: changing the loaded row would be flushed by the session.
        row = SubscriptionRow.model_validate(stored.model_dump())
        history = _history(segments, catalog)
    if scheduled_change_due(row.scheduled_on, now.date()):
        assert row.scheduled_plan_id is not None and row.scheduled_on is not None
        on, target = row.scheduled_on, catalog.get(row.scheduled_plan_id)
        anchor = row.anchor if target.term == catalog.get(row.plan_id).term else on
        history = [
            HistoryItem(PlanSegment(i.segment.plan, i.segment.start, on), i.anchor, i.term)
            if i.segment.end is None
            else i
            for i in history
        ]
        history.append(HistoryItem(PlanSegment(target, on, None), anchor, target.term))
        row.plan_id, row.term, row.anchor = target.id, target.term.value, anchor
        row.scheduled_plan_id = row.scheduled_on = None
    plan = catalog.get(row.plan_id)
    scheduled = None
    if row.scheduled_plan_id is not None and row.scheduled_on is not None:
        scheduled = ScheduledChange(plan, catalog.get(row.scheduled_plan_id), row.scheduled_on)
    return Subscription(row, plan, tuple(eras_of(history)), now.date(), tuple(history), scheduled)


async def _apply_scheduled(
    uow: UnitOfWork, row: SubscriptionRow, catalog: PlanCatalog, now: datetime
) -> None:
    """The change takes effect at 00:00 UTC of its day: the old plan is not in force that day."""
    assert row.scheduled_plan_id is not None and row.scheduled_on is not None
    on = row.scheduled_on
    target = catalog.get(row.scheduled_plan_id)
    current = catalog.get(row.plan_id)
    for segment in await uow.billing.segments():
        if segment.end is None:
            segment.end = on
            await uow.billing.save(segment)
    # Within the term the era goes on; the end of a term that is not renewed starts free anew.
    same_term = target.term == current.term
    anchor = row.anchor if same_term else on
    await uow.billing.save(
        PlanSegmentRow(
            tenant_id=uow.tenant_id,
            plan_id=target.id,
            start=on,
            anchor=anchor,
            term=target.term.value,
            created_at=now,
        )
    )
    if target.is_free:
        row.purchased_at = None
    row.plan_id = target.id
    row.term = target.term.value
    row.anchor = anchor
    row.scheduled_plan_id = None
    row.scheduled_on = None
    row.updated_at = now
    await uow.billing.save(row)


async def _usage(uow: UnitOfWork, sub: Subscription) -> dict[App, int]:
    rows = await uow.billing.usage(sub.period.start)
    used = {App(r.app): r.used for r in rows if r.app in set(App)}
    return {app: used.get(app, 0) for app in App}


# The quota state the last `consume` of this task left, so that the turn's banner needs no read
# of its own after a create.
last_consumed: ContextVar[QuotaState | None] = ContextVar("last_consumed", default=None)


async def consume(
    uow: UnitOfWork,
    clock: Clock,
    policy: QuotaPolicy,
    app: App,
    locale: str | None,
    counter: str,
) -> tuple[QuotaState, int]:
    """Count one new item of `app` against the period's quota, or refuse, and give the item
    its number: the next of the tenant's `counter`, taken only if the item counts (with the
    count, in one statement on PostgreSQL). Runs inside the caller's unit of work, which also
    records the warning if this item crosses a threshold of the operator's `policy`."""
    after, number, _ = await _consume(uow, clock, policy, app, locale, counter)
    return after, number


async def consume_recorded(
    uow: UnitOfWork,
    clock: Clock,
    policy: QuotaPolicy,
    locale: str | None,
    counter: str,
    items: str,
    created: ItemEventRow,
) -> tuple[QuotaState, int, int | None]:
    """`consume` for a new item of `created.app`, whose table is `items`: on PostgreSQL the
    same statement also takes the item's id and writes its first history line, `created`,
    with it (`BillingRepository.count_number_and_record`). (state, number, id); the id is
    None on SQLite, where the caller writes that line after its insert."""
    app = App(created.app)
    return await _consume(uow, clock, policy, app, locale, counter, (items, created))


async def _consume(
    uow: UnitOfWork,
    clock: Clock,
    policy: QuotaPolicy,
    app: App,
    locale: str | None,
    counter: str,
    record: tuple[str, ItemEventRow] | None = None,
) -> tuple[QuotaState, int, int | None]:
    catalog = policy.catalog
    sub = await load(uow, clock, catalog)
    if sub.suspended:
        raise SubscriptionSuspended()
    period = sub.period
    limit = sub.era.quota(sub.today, app)
    numbered: tuple[int, int, int, int | None] | None
    if record is None:
        counted = await uow.billing.count_and_number(app.value, period.start, limit, counter)
        numbered = None if counted is None else (*counted, None)
    else:
        numbered = await uow.billing.count_number_and_record(period.start, limit, counter, *record)
    if numbered is None:
        used = (await _usage(uow, sub))[app]
        limit = next(
            r.quota_limit for r in await uow.billing.usage(period.start) if r.app == app.value
        )
        raise QuotaExceeded(
            QuotaState(app, used, limit, period.end), sub.plan, catalog.above(sub.plan)
        )
    used, limit, number, item = numbered
    after = QuotaState(app, used, limit, period.end)
    await notice_quota(
        uow,
        clock,
        QuotaState(app, used - 1, limit, period.end),
        after,
        period.start,
        policy.thresholds,
        locale,
    )
    last_consumed.set(after)
    return after, number, item


async def usage(uow: UnitOfWork, clock: Clock, catalog: PlanCatalog, who: Identity) -> UsageView:
    """The quota of this period, per app; `uow` may be a reading unit of work."""
    async with uow:
        sub = await peek(uow, clock, catalog)
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
        return UsageView(sub.plan, sub.period, quotas, sub.suspended, sub.scheduled)


async def near_limits(
    uow: UnitOfWork, clock: Clock, catalog: PlanCatalog, first_threshold: int
) -> tuple[QuotaState, ...]:
    """The quotas of the tenant at or above the first warning threshold, for the banner;
    `uow` may be a reading unit of work."""
    async with uow:
        sub = await peek(uow, clock, catalog)
        states = [
            QuotaState(App(r.app), r.used, r.quota_limit, sub.period.end)
            for r in await uow.billing.usage(sub.period.start)
            if r.app in set(App)
        ]
    return tuple(s for s in states if s.used * 100 >= first_threshold * s.limit)


async def plans(uow: UnitOfWork, clock: Clock, catalog: PlanCatalog, who: Identity) -> PlansView:
    """The plans an admin may change to; `uow` may be a reading unit of work."""
    async with uow:
        actor = await find_actor(uow, who)
        sub = await peek(uow, clock, catalog)
        term = sub.plan.term
        same = [p for p in catalog.for_term(term)]
        # An annual term ends only at its end: free is reached by "do not renew", not here.
        if not sub.plan.is_free and term is not Term.ANNUAL and catalog.free not in same:
            same.insert(0, catalog.free)
        other = [p for p in catalog.all() if p.term != term and not p.is_free]
        # Paid plans cannot switch term; from free both terms are open.
        view = PlansView(
            sub.plan,
            tuple(same),
            tuple(other) if sub.plan.is_free else (),
            actor.role is Role.ADMIN,
        )
        return view


def _new_segments(sub: Subscription, target: Plan, kind: ChangeKind) -> Era:
    """The era the subscription is in after changing to `target` during today."""
    today = sub.today
    if kind is ChangeKind.RESTART:
        return Era(today, target.term, (PlanSegment(target, today, None),))
    # The old plan was in force today too: it ends tomorrow, and today is charged once.
    closed = tuple(
        PlanSegment(s.plan, s.start, today + _DAY if s.end is None else s.end, s.voided_to)
        for s in sub.era.segments
    )
    return Era(sub.era.anchor, sub.era.term, (*closed, PlanSegment(target, today, None)))


async def preview_change(uow: UnitOfWork, sub: Subscription, target: Plan) -> PlanChange:
    """What changing `sub` to `target` today does: prorated within the term, a new term from
    free, or, for a downgrade the usage so far does not fit, scheduled for the renewal (this
    period's bill stays). Refuses a change the rules forbid; writes nothing."""
    kind = check_plan_change(sub.plan, target)
    era = _new_segments(sub, target, kind)
    period = era.period(sub.today)
    used = await _usage(uow, sub) if kind is ChangeKind.PRORATED else {app: 0 for app in App}
    quotas = era.quotas(sub.today)
    effective = None
    if (
        kind is ChangeKind.PRORATED
        and is_downgrade(sub.plan, target)
        and not usage_fits(used, quotas)
    ):
        # Usage so far does not fit the lower plan: it waits for the renewal, and this
        # period's bill stays as it is.
        kind = ChangeKind.SCHEDULED
        era = sub.era
        effective = period.end
    lines = tuple(prorate_amounts(period, era.segments))
    accrued = prorate_amounts(period, era.segments, until=sub.today + _DAY)
    return PlanChange(
        sub.plan,
        target,
        kind,
        period,
        lines,
        sum((line.amount for line in lines), Decimal("0.00")),
        quotas,
        used,
        sum((line.amount for line in accrued), Decimal("0.00")),
        effective,
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
    target = catalog.get(plan_id)

    async def decide(sub: Subscription) -> PlanChange:
        return await preview_change(uow, sub, target)

    async def carry_out(sub: Subscription, change: PlanChange) -> None:
        if sub.row.source == MARKETPLACE_SOURCE:
            # The marketplace sells this subscription: it changes the plan, and its answer
            # (the operation succeeding) applies it here.
            from bot.services.marketplace import PlanChangeRequested, request_plan_change

            if await request_plan_change(uow, clock, target) is not None:
                await uow.commit()
                raise PlanChangeRequested(plan=target.name)
        await apply_change(uow, sub, change, clock.now())

    return await _admin_decision(uow, clock, catalog, who, decide, carry_out, apply=apply)


async def _admin_decision(
    uow: UnitOfWork,
    clock: Clock,
    catalog: PlanCatalog,
    who: Identity,
    decide: Callable[[Subscription], Awaitable[_Decision]],
    carry_out: Callable[[Subscription, _Decision], Awaitable[None]],
    *,
    apply: bool,
) -> _Decision:
    """The shape of every change an admin makes to the subscription, previewed or done: as an
    admin, `decide` what it does (refusing what may not be done), `carry_out` that decision
    only when `apply`, commit, and return the decision."""
    async with uow:
        sub = await _as_admin(uow, clock, catalog, who)
        decision = await decide(sub)
        if apply:
            await carry_out(sub, decision)
        await uow.commit()
        return decision


async def apply_change(
    uow: UnitOfWork, sub: Subscription, change: PlanChange, now: datetime
) -> None:
    """Carry out a change `preview_change` worked out: scheduled for the renewal, or at once.
    The one way a plan change is made, from chat and from the marketplace alike."""
    if change.kind is ChangeKind.SCHEDULED:
        assert change.effective is not None
        await schedule_change(uow, sub, change.target, change.effective, now)
    else:
        await switch_plan(uow, sub, change.target, change.kind, now)


async def schedule_change(
    uow: UnitOfWork, sub: Subscription, target: Plan, on: date, now: datetime
) -> None:
    """`target` takes over at 00:00 UTC of `on` (a renewal); until then nothing changes."""
    row: SubscriptionRow = sub.row
    row.scheduled_plan_id = target.id
    row.scheduled_on = on
    row.updated_at = now
    await uow.billing.save(row)


async def preview_end_of_term(
    uow: UnitOfWork, clock: Clock, catalog: PlanCatalog, who: Identity
) -> ScheduledChange:
    """What "do not renew" would schedule, without scheduling it."""
    return await _end_of_term(uow, clock, catalog, who, apply=False)


async def end_at_term(
    uow: UnitOfWork, clock: Clock, catalog: PlanCatalog, who: Identity
) -> ScheduledChange:
    """Do not renew: free from the end of the running term (period), at 00:00 UTC."""
    return await _end_of_term(uow, clock, catalog, who, apply=True)


async def _end_of_term(
    uow: UnitOfWork, clock: Clock, catalog: PlanCatalog, who: Identity, *, apply: bool
) -> ScheduledChange:
    async def decide(sub: Subscription) -> ScheduledChange:
        if sub.plan.is_free:
            raise NoTermToEnd(plan=sub.plan.name)
        return ScheduledChange(sub.plan, catalog.free, sub.period.end)

    async def carry_out(sub: Subscription, change: ScheduledChange) -> None:
        await schedule_change(uow, sub, catalog.free, change.on, clock.now())

    return await _admin_decision(uow, clock, catalog, who, decide, carry_out, apply=apply)


async def call_off_change(
    uow: UnitOfWork, clock: Clock, catalog: PlanCatalog, who: Identity
) -> ScheduledChange:
    """Call off the scheduled change: the current plan renews as usual."""
    async with uow:
        sub = await _as_admin(uow, clock, catalog, who)
        if sub.scheduled is None:
            raise NothingScheduled(plan=sub.plan.name)
        row: SubscriptionRow = sub.row
        row.scheduled_plan_id = None
        row.scheduled_on = None
        row.updated_at = clock.now()
        await uow.billing.save(row)
        await uow.commit()
        return sub.scheduled


async def switch_plan(
    uow: UnitOfWork, sub: Subscription, target: Plan, kind: ChangeKind, now: datetime
) -> None:
    """Put `sub` on `target` from today: close the open segment (in force today too) and open
    one for `target` (a new term from today for RESTART, the same term for PRORATED); set the
    period's limits. Any scheduled change is superseded."""
    today = sub.today
    for segment in await uow.billing.segments():
        if segment.end is None:
            segment.end = today + _DAY
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
    row.scheduled_plan_id = None
    row.scheduled_on = None
    row.updated_at = now
    await uow.billing.save(row)
    era = _new_segments(sub, target, kind)
    await _set_limits(uow, era, today)


async def _set_limits(uow: UnitOfWork, era: Era, today: date) -> None:
    period = era.period(today)
    for app, limit in era.quotas(today).items():
        await uow.billing.ensure_usage(app.value, period.start, limit)
        await uow.billing.set_limit(app.value, period.start, limit)


def _voided(sub: Subscription, catalog: PlanCatalog, since: date) -> tuple[list[Era], Decimal]:
    """The eras after voiding the purchase made on `since`, and what the voiding refunds: the
    charge of every day from the purchase to today, both included."""
    after = eras_of(void_purchase(sub.history, since, sub.today, catalog.free))
    return after, _refunds_due(sub, after)[1]


def _refunds_due(sub: Subscription, after: Sequence[Era]) -> tuple[list[Refund], Decimal]:
    # Charges voided before (an earlier cancellation) were refunded then: only the difference.
    before = {
        (c.anchor, c.term, c.period.start): c.amount for c in voided_charges(sub.eras, sub.today)
    }
    refunds = []
    for charge in voided_charges(after, sub.today):
        key = (charge.anchor, charge.term, charge.period.start)
        amount = charge.amount - before.get(key, Decimal("0.00"))
        if amount > 0:
            refunds.append(Refund(charge.anchor, charge.term, charge.period.start, amount))
    return refunds, sum((r.amount for r in refunds), Decimal("0.00"))


async def _cancellable(
    uow: UnitOfWork, sub: Subscription, catalog: PlanCatalog, now: datetime
) -> Cancellation:
    if sub.plan.is_free or sub.row.purchased_at is None:
        raise NothingToCancel(plan=sub.plan.name)
    purchased_at = sub.row.purchased_at
    check_cancellable(purchased_at, now)
    _, refund = _voided(sub, catalog, purchased_at.date())
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
    now = clock.now()

    async def decide(sub: Subscription) -> Cancellation:
        return await _cancellable(uow, sub, catalog, now)

    async def carry_out(sub: Subscription, cancellation: Cancellation) -> None:
        await _void(uow, sub, catalog, cancellation, now)

    return await _admin_decision(uow, clock, catalog, who, decide, carry_out, apply=apply)


async def _void(
    uow: UnitOfWork,
    sub: Subscription,
    catalog: PlanCatalog,
    cancellation: Cancellation,
    now: datetime,
) -> None:
    """Void the purchase: back to the anchor and period before it, with everything created
    meanwhile counted there; the charge stays on its period's statement with its refund."""
    since = cancellation.purchased_at.date()
    after = eras_of(void_purchase(sub.history, since, sub.today, catalog.free))
    refunds, _ = _refunds_due(sub, after)
    today = sub.today
    rows = await uow.billing.segments()
    for segment in rows:
        if segment.start >= since and not segment.voided and segment.plan_id != catalog.free.id:
            segment.voided = True
            if segment.end is None:
                segment.end = today + _DAY
            await uow.billing.save(segment)
    restored = next(era for era in after if era.end is None)
    await uow.billing.save(
        PlanSegmentRow(
            tenant_id=uow.tenant_id,
            plan_id=catalog.free.id,
            start=today,
            anchor=restored.anchor,
            term=restored.term.value,
            created_at=now,
        )
    )
    period = restored.period(today)
    limits = {app.value: limit for app, limit in restored.quotas(today).items()}
    await uow.billing.move_usage(sub.period.start, period.start, limits)
    for app, limit in limits.items():
        await uow.billing.set_limit(app, period.start, limit)
    for refund in refunds:
        await uow.billing.save(
            RefundRow(
                tenant_id=uow.tenant_id,
                anchor=refund.anchor,
                term=refund.term.value,
                period_start=refund.period_start,
                amount=refund.amount,
                currency=sub.plan.currency,
                created_at=now,
            )
        )
    row: SubscriptionRow = sub.row
    row.plan_id = catalog.free.id
    row.term = restored.term.value
    row.anchor = restored.anchor
    row.purchased_at = None
    row.scheduled_plan_id = None
    row.scheduled_on = None
    row.updated_at = now
    await uow.billing.save(row)


def _refund_rows(rows: Sequence[RefundRow], sub: Subscription) -> list[Refund]:
    refunds = []
    for r in rows:
        # Refunds from before they were filed with their era: the era of that period's start.
        anchor = r.anchor
        term = Term(r.term) if r.term else None
        if anchor is None or term is None:
            era = next((e for e in sub.eras if e.start <= r.period_start), sub.eras[0])
            anchor, term = era.anchor, era.term
        refunds.append(Refund(anchor, term, r.period_start, Decimal(r.amount)))
    return refunds


async def billing_statements(
    uow: UnitOfWork, clock: Clock, catalog: PlanCatalog, who: Identity, *, history: bool
) -> list[Statement]:
    return list((await billing(uow, clock, catalog, who, history=history)).statements)


async def billing(
    uow: UnitOfWork, clock: Clock, catalog: PlanCatalog, who: Identity, *, history: bool
) -> BillingView:
    """The statements (this period's, or the history too) and any change scheduled."""
    async with uow:
        sub = await _as_admin(uow, clock, catalog, who)
        refunds = _refund_rows(await uow.billing.refunds(), sub)
        result = statements(sub.eras, sub.today, refunds, HISTORY_PERIODS if history else 1)
        await uow.commit()
        return BillingView(tuple(result), sub.scheduled)
