"""The subscription as the Microsoft commercial marketplace drives it.

The marketplace's state is the truth: these use-cases apply what it says (activation, plan and
quantity changes, renewal, suspension, reinstatement, unsubscription) to the tenant's
subscription, through the same plan-change rules as a change made in chat. They run inside the
caller's unit of work, which is bound to the beneficiary's tenant; no HTTP here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from bot.domain.billing import ChangeKind
from bot.domain.clock import Clock
from bot.domain.errors import DomainError
from bot.domain.plans import Plan, PlanCatalog
from bot.services import subscriptions
from bot.services.subscriptions import SUSPENDED
from storage.marketplace import REQUESTED, MarketplaceRequestRow, MarketplaceSubscriptionRow
from storage.models import UserAccount
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)

MARKETPLACE = subscriptions.MARKETPLACE_SOURCE
ACTIVE = "active"


class UnmappedPlan(DomainError):
    """A marketplace plan id the plan catalog does not map: refused, never guessed."""

    key = "marketplace.unmapped_plan"


class QuantityNotApplicable(DomainError):
    """A change of quantity: the subscription is one license for the whole organization, with
    any number of users, so there are no seats to change."""

    key = "marketplace.quantity_not_applicable"


class PlanChangeRequested(DomainError):
    """Shown to an admin of a marketplace tenant who changes the plan in chat: the change was
    sent to the marketplace and is applied when it confirms."""

    key = "marketplace.change_requested"


@dataclass(frozen=True)
class Purchase:
    """What the Fulfillment API says about one SaaS subscription (the fields we use)."""

    subscription_id: str
    tenant_id: str  # the beneficiary's
    offer_id: str
    marketplace_plan: str
    quantity: int | None
    status: str
    name: str = ""
    purchaser_tenant_id: str | None = None
    purchaser_object_id: str | None = None
    purchaser_email: str | None = None
    beneficiary_email: str | None = None
    term_start: date | None = None
    term_end: date | None = None


def catalog_plan(catalog: PlanCatalog, marketplace_plan: str) -> Plan:
    plan = catalog.by_marketplace_plan(marketplace_plan)
    if plan is None:
        log.warning(
            "marketplace plan %r is not mapped in the plan catalog: refused", marketplace_plan
        )
        raise UnmappedPlan(plan=marketplace_plan)
    return plan


async def record(uow: UnitOfWork, clock: Clock, purchase: Purchase) -> MarketplaceSubscriptionRow:
    """Store what the marketplace said about the subscription (the tenant's own row)."""
    now = clock.now()
    row = await uow.marketplace.get(purchase.subscription_id)
    if row is None:
        row = MarketplaceSubscriptionRow(
            id=purchase.subscription_id, tenant_id=uow.tenant_id, created_at=now, updated_at=now
        )
    row.offer_id = purchase.offer_id
    row.plan_id = purchase.marketplace_plan
    row.quantity = purchase.quantity
    row.status = purchase.status
    row.name = purchase.name[:200]
    row.purchaser_tenant_id = purchase.purchaser_tenant_id
    row.purchaser_object_id = purchase.purchaser_object_id
    row.purchaser_email = purchase.purchaser_email
    row.beneficiary_email = purchase.beneficiary_email
    row.term_start = purchase.term_start
    row.term_end = purchase.term_end
    row.updated_at = now
    await uow.marketplace.save(row)
    return row


async def apply_plan(uow: UnitOfWork, clock: Clock, catalog: PlanCatalog, plan: Plan) -> bool:
    """Put the tenant on `plan` as a chat plan change would (prorated within the term, a new
    subscription from free, a downgrade usage does not fit at the renewal); a change of term
    that the marketplace made starts a new term today. False when it already is on it."""
    sub = await subscriptions.load(uow, clock, catalog)
    row = sub.row
    row.source = MARKETPLACE
    await uow.billing.save(row)
    if sub.plan.id == plan.id:
        if sub.scheduled is not None:  # the marketplace says: stay on this plan
            row.scheduled_plan_id = row.scheduled_on = None
            await uow.billing.save(row)
        return False
    if sub.plan.is_free or sub.plan.term != plan.term:
        await subscriptions.switch_plan(uow, sub, plan, ChangeKind.RESTART, clock.now())
        return True
    change = await subscriptions.preview_change(uow, sub, plan)
    await subscriptions.apply_change(uow, sub, change, clock.now())
    return True


async def activate(
    uow: UnitOfWork, clock: Clock, catalog: PlanCatalog, purchase: Purchase
) -> MarketplaceSubscriptionRow:
    """The subscription bought in the marketplace starts: the tenant is on the plan bought, the
    purchaser (if they already talk to the bot) is an admin."""
    plan = catalog_plan(catalog, purchase.marketplace_plan)
    row = await record(uow, clock, purchase)
    await uow.tenants.ensure(clock.now())
    await apply_plan(uow, clock, catalog, plan)
    await set_status(uow, clock, catalog, ACTIVE)
    if purchase.purchaser_object_id:
        await promote_purchaser(uow, purchase.purchaser_object_id)
    return row


async def promote_purchaser(uow: UnitOfWork, aad_object_id: str) -> None:
    """A purchaser who already talks to the bot is made admin now; one who does not yet is
    made admin at their first message (`resolve_actor`)."""
    users = await uow.users.signed_in_as(aad_object_id)
    if not users:
        return
    if await uow.marketplace.claim_purchaser(aad_object_id):
        for user in users:
            await _make_admin(uow, user)


async def _make_admin(uow: UnitOfWork, user: UserAccount) -> None:
    user.role = "admin"
    await uow.users.add(user)


async def set_status(uow: UnitOfWork, clock: Clock, catalog: PlanCatalog, status: str) -> bool:
    """active or suspended; True when it changed."""
    sub = await subscriptions.load(uow, clock, catalog)
    row = sub.row
    if row.status == status:
        return False
    row.status = status
    row.updated_at = clock.now()
    await uow.billing.save(row)
    return True


async def suspend(uow: UnitOfWork, clock: Clock, catalog: PlanCatalog) -> bool:
    return await set_status(uow, clock, catalog, SUSPENDED)


async def reinstate(uow: UnitOfWork, clock: Clock, catalog: PlanCatalog) -> bool:
    return await set_status(uow, clock, catalog, ACTIVE)


async def renew(uow: UnitOfWork, clock: Clock, catalog: PlanCatalog) -> bool:
    """The marketplace renewed the term: a new term starts today, with a fresh quota. When the
    running period starts today already (renewal on the anniversary), nothing changes."""
    await set_status(uow, clock, catalog, ACTIVE)
    sub = await subscriptions.load(uow, clock, catalog)  # as set_status left it
    if sub.plan.is_free or sub.period.start == sub.today:
        return False
    await subscriptions.switch_plan(uow, sub, sub.plan, ChangeKind.RESTART, clock.now())
    return True


async def unsubscribe(uow: UnitOfWork, clock: Clock, catalog: PlanCatalog) -> bool:
    """The subscription ended in the marketplace: the tenant is on free from today, with all
    its data; this period's usage still counts."""
    sub = await subscriptions.load(uow, clock, catalog)
    row = sub.row
    row.status = ACTIVE
    row.source = "bot"
    await uow.billing.save(row)
    if sub.plan.is_free:
        return False
    free = catalog.free
    kind = ChangeKind.PRORATED if sub.plan.term == free.term else ChangeKind.RESTART
    await subscriptions.switch_plan(uow, sub, free, kind, clock.now())
    return True


async def request_plan_change(
    uow: UnitOfWork, clock: Clock, target: Plan
) -> MarketplaceRequestRow | None:
    """For a tenant whose subscription the marketplace sells: queue the change for the
    marketplace (the worker PATCHes it) instead of applying it. None for any other tenant."""
    market = await uow.marketplace.subscription()
    if market is None:
        return None
    if target.marketplace_plan is None:
        raise UnmappedPlan(plan=target.id)
    now = clock.now()
    request = MarketplaceRequestRow(
        tenant_id=uow.tenant_id,
        subscription_id=market.id,
        plan_id=target.id,
        marketplace_plan=target.marketplace_plan,
        status=REQUESTED,
        created_at=now,
        updated_at=now,
    )
    await uow.marketplace.save(request)
    return request
