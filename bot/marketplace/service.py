"""What the marketplace's messages do here: activation from the landing page, webhook
operations (each id once, confirmed with a GET first), the plan changes admins asked for in
chat, and the reconciliation of `python -m bot marketplace sync`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_result,
    stop_after_attempt,
    wait_exponential,
)

from bot.domain.clock import Clock
from bot.domain.errors import DomainError
from bot.domain.plans import PlanCatalog
from bot.marketplace.api import FulfillmentClient, FulfillmentError, Operation
from bot.services import marketplace as market
from bot.services import subscriptions
from bot.services.marketplace import Purchase
from storage.db import Database
from storage.marketplace import REQUESTED, SENT, MarketplaceRequestRow, MarketplaceStore
from storage.uow import UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)

SUBSCRIBED = "Subscribed"
SUSPENDED = "Suspended"
UNSUBSCRIBED = "Unsubscribed"
PENDING = "PendingFulfillmentStart"
# The operation statuses of the API.
IN_PROGRESS = "InProgress"
SUCCEEDED = "Succeeded"
FAILED_STATUSES = frozenset({"Failed", "Conflict", "NotStarted"})
# Following an operation we started (a plan change asked in chat): a GET at once, then after
# waits of 0.5, 1, 2, 4, 8 and 8 s (23.5 s in all). One still running after that is looked at
# again once a RECHECK has passed, and settled at once if its webhook comes first.
FOLLOW_ATTEMPTS = 7
FOLLOW_FIRST_WAIT = 0.5
FOLLOW_MAX_WAIT = 8.0
RECHECK = timedelta(seconds=60)

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class Outcome:
    operation_id: str
    action: str
    outcome: str  # applied | refused | ignored | duplicate
    detail: str = ""


class MarketplaceService:
    def __init__(
        self,
        db: Database,
        client: FulfillmentClient,
        clock: Clock,
        catalog: PlanCatalog,
        sleep: Sleep | None = None,
    ) -> None:
        self.units = UnitOfWorkFactory(db)
        # The waits between the GETs that follow an operation (tests record them).
        self.sleep: Sleep = sleep or asyncio.sleep
        self.store = MarketplaceStore(db)
        self.client = client
        self.clock = clock
        self.catalog = catalog
        self._tasks: set[asyncio.Task[Any]] = set()
        self.outcomes: list[Outcome] = []

    # -- background work ----------------------------------------------------------------

    def spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        """Run in the background (the webhook answers first); failures are logged."""

        async def guarded() -> None:
            try:
                await work
            except Exception:
                log.exception("marketplace background work failed")

        task = asyncio.ensure_future(guarded())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def idle(self) -> None:
        """Wait until the background work started so far is done (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        await self.idle()
        await self.client.close()

    # -- activation ---------------------------------------------------------------------

    async def activate(self, purchase: Purchase) -> None:
        """Activate in the marketplace, then here (the beneficiary's tenant)."""
        market.catalog_plan(self.catalog, purchase.marketplace_plan)  # refuse unmapped first
        await self.client.activate(
            purchase.subscription_id, purchase.marketplace_plan, purchase.quantity
        )
        confirmed = await self.client.get_subscription(purchase.subscription_id)
        confirmed = _with_tenant(confirmed, purchase)
        async with self.units(confirmed.tenant_id) as uow:
            await market.activate(uow, self.clock, self.catalog, confirmed)
            await uow.commit()

    # -- webhook ------------------------------------------------------------------------

    async def handle_webhook(self, payload: Mapping[str, Any]) -> Outcome:
        operation_id = payload.get("id")
        subscription_id = payload.get("subscriptionId")
        action = str(payload.get("action") or "")
        if not isinstance(operation_id, str) or not isinstance(subscription_id, str):
            return self._done(Outcome(str(operation_id), action, "ignored", "no id"))
        if await self.store.handled(operation_id):
            return self._done(Outcome(operation_id, action, "duplicate"))
        # The payload is only a hint: the operation as the API has it is what we act on.
        try:
            operation = await self.client.get_operation(subscription_id, operation_id)
        except FulfillmentError as error:
            log.warning("webhook operation %s not confirmed: %s", operation_id, error)
            return self._done(Outcome(operation_id, action, "ignored", "not confirmed"))
        if operation.id and operation.id != operation_id:
            return self._done(Outcome(operation_id, action, "ignored", "other operation"))
        purchase = await self.client.get_subscription(subscription_id)
        return self._done(await self._apply(operation, purchase, operation_id, subscription_id))

    def _done(self, outcome: Outcome) -> Outcome:
        log.info(
            "marketplace operation %s (%s): %s %s",
            outcome.operation_id,
            outcome.action,
            outcome.outcome,
            outcome.detail,
        )
        self.outcomes.append(outcome)
        return outcome

    async def _apply(
        self, operation: Operation, purchase: Purchase, operation_id: str, subscription_id: str
    ) -> Outcome:
        action = operation.action
        tenant_id = purchase.tenant_id or await self.store.tenant_of(subscription_id)
        if not tenant_id:
            return Outcome(operation_id, action, "ignored", "no beneficiary tenant")
        patch: bool | None = None
        async with self.units(tenant_id) as uow:
            ours = await uow.marketplace.request_of_operation(operation_id)
            if ours is not None and operation.status not in (SUCCEEDED, *FAILED_STATUSES):
                # Our own change, still running: the marketplace finishes it, not our answer.
                return Outcome(operation_id, action, "ignored", "ours, in progress")
            if not await uow.marketplace.claim_operation(
                operation_id, subscription_id, action, self.clock.now()
            ):
                return Outcome(operation_id, action, "duplicate")
            if ours is not None and operation.status in FAILED_STATUSES:
                outcome = Outcome(
                    operation_id, action, "refused", f"marketplace {operation.status}"
                )
                await uow.marketplace.set_outcome(operation_id, "refused", operation.status)
            else:
                try:
                    detail = await self._act(uow, action, operation, purchase)
                    outcome = Outcome(operation_id, action, "applied", detail)
                    patch = True
                except DomainError as error:
                    outcome = Outcome(operation_id, action, "refused", error.key)
                    await uow.marketplace.set_outcome(operation_id, "refused", error.key)
                    patch = False
            if ours is not None:
                ours.status = "done" if outcome.outcome == "applied" else "failed"
                ours.updated_at = self.clock.now()
                await uow.marketplace.save(ours)
            await uow.commit()
        needs_answer = (
            ours is None
            and action in ("ChangePlan", "ChangeQuantity")
            and operation.status in (IN_PROGRESS, "")
        )
        if needs_answer and patch is not None:
            await self.client.patch_operation(subscription_id, operation_id, patch)
        return outcome

    async def _act(
        self, uow: UnitOfWork, action: str, operation: Operation, purchase: Purchase
    ) -> str:
        clock, catalog = self.clock, self.catalog
        if action == "ChangePlan":
            marketplace_plan = operation.plan_id or purchase.marketplace_plan
            plan = market.catalog_plan(catalog, marketplace_plan)
            if operation.status in (IN_PROGRESS, "", SUCCEEDED):
                purchase = _replace_plan(purchase, marketplace_plan, operation.quantity)
            await market.record(uow, clock, purchase)
            changed = await market.apply_plan(uow, clock, catalog, plan)
            return f"plan {plan.id}" if changed else "already on the plan"
        if action == "ChangeQuantity":
            # One license per organization, for every user: a quantity buys nothing more, so
            # a change still waiting for our answer is refused (patched Failure) and the
            # customer keeps paying for one. One the marketplace made anyway is recorded: its
            # state wins, and the plan and quotas stay as they are.
            if operation.status in (IN_PROGRESS, ""):
                raise market.QuantityNotApplicable(quantity=operation.quantity)
            await market.record(uow, clock, _replace_plan(purchase, None, operation.quantity))
            return f"quantity {operation.quantity} recorded, nothing else changes"
        await market.record(uow, clock, purchase)
        if action == "Renew":
            return "new term" if await market.renew(uow, clock, catalog) else "term runs on"
        if action == "Suspend":
            await market.suspend(uow, clock, catalog)
            return "suspended"
        if action == "Reinstate":
            await market.reinstate(uow, clock, catalog)
            return "reinstated"
        if action == "Unsubscribe":
            await market.unsubscribe(uow, clock, catalog)
            return "free"
        raise _UnknownAction(action=action)

    # -- plan changes asked in chat -----------------------------------------------------

    async def run_requests(self) -> int:
        """Send the plan changes admins asked for, follow each to its end for a short while, and
        apply those the marketplace finished (the marketplace's operation is what applies a
        change, here as for the webhook). Returns how many were applied."""
        applied = 0
        for tenant_id in await self.store.tenants_with_requests():
            applied += await self._requests_of(tenant_id)
        return applied

    async def _requests_of(self, tenant_id: str) -> int:
        async with self.units.reader(tenant_id) as uow:
            # Copies: the rows are updated one by one, each in a transaction of its own.
            pending = [
                MarketplaceRequestRow.model_validate(r.model_dump())
                for r in await uow.marketplace.requests((REQUESTED, SENT))
            ]
        applied = 0
        for request in pending:
            if request.status == REQUESTED:
                if not await self._send(tenant_id, request):
                    continue
                operation = await self._follow(request)
            elif self.clock.now() - request.updated_at >= RECHECK:
                operation = await self._follow(request, attempts=1)
            else:
                continue  # looked at lately: its webhook or the next RECHECK settles it
            if operation is not None and operation.status == SUCCEEDED:
                applied += await self._finish(request, operation)
            elif operation is not None and operation.status in FAILED_STATUSES:
                log.warning("marketplace plan change %s: %s", request.id, operation.status)
                await self._save_request(tenant_id, request, "failed")
            else:
                await self._save_request(tenant_id, request, SENT)  # RECHECK counts from now
        return applied

    async def _send(self, tenant_id: str, request: MarketplaceRequestRow) -> bool:
        """PATCH the change to the marketplace; True once it accepted it (202)."""
        try:
            accepted = await self.client.change_plan(
                request.subscription_id, request.marketplace_plan
            )
        except FulfillmentError as error:
            log.warning("marketplace refused plan change %s: %s", request.id, error)
            await self._save_request(tenant_id, request, "failed")
            return False
        request.operation_id = accepted.operation_id
        await self._save_request(tenant_id, request, SENT if accepted.operation_id else "failed")
        return bool(accepted.operation_id)

    async def _follow(
        self, request: MarketplaceRequestRow, attempts: int = FOLLOW_ATTEMPTS
    ) -> Operation | None:
        """The operation of `request`, asked again with a short backoff (`self.sleep`) while it
        runs; the last answer (None when the API could not say)."""
        assert request.operation_id is not None
        operation_id = request.operation_id

        def last(state: RetryCallState) -> Operation | None:
            return state.outcome.result() if state.outcome is not None else None

        retrying = AsyncRetrying(
            retry=retry_if_result(
                lambda op: op is not None and op.status not in (SUCCEEDED, *FAILED_STATUSES)
            ),
            stop=stop_after_attempt(attempts),
            wait=wait_exponential(multiplier=FOLLOW_FIRST_WAIT, max=FOLLOW_MAX_WAIT),
            sleep=self.sleep,
            retry_error_callback=last,
        )
        try:
            result: Operation | None = await retrying(
                self.client.get_operation, request.subscription_id, operation_id
            )
        except FulfillmentError as error:
            log.warning("marketplace operation %s not followed: %s", operation_id, error)
            return None
        return result

    async def _finish(self, request: MarketplaceRequestRow, operation: Operation) -> int:
        """The marketplace made the change: apply the plan it says (as for its webhook); the
        request is done in the same transaction. 1 when this call applied it."""
        assert request.operation_id is not None
        purchase = await self.client.get_subscription(request.subscription_id)
        outcome = self._done(
            await self._apply(
                Operation(
                    request.operation_id,
                    request.subscription_id,
                    "ChangePlan",
                    SUCCEEDED,
                    operation.plan_id or request.marketplace_plan,
                ),
                purchase,
                request.operation_id,
                request.subscription_id,
            )
        )
        return 1 if outcome.outcome == "applied" else 0

    async def _save_request(
        self, tenant_id: str, request: MarketplaceRequestRow, status: str
    ) -> None:
        async with self.units(tenant_id) as uow:
            row = next(
                (
                    r
                    for r in await uow.marketplace.requests((REQUESTED, SENT))
                    if r.id == request.id
                ),
                None,
            )
            if row is None:
                return  # settled meanwhile (its webhook)
            request.status = row.status = status
            row.operation_id = request.operation_id
            request.updated_at = row.updated_at = self.clock.now()
            await uow.marketplace.save(row)
            await uow.commit()

    async def worker(self, wake: asyncio.Event, interval: float = 2.0) -> None:
        """Forever: run the requests, then wait for a wake-up or the interval."""
        while True:
            try:
                await self.run_requests()
            except Exception:
                log.exception("marketplace requests failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), timeout=interval)
            wake.clear()

    # -- reconciliation -----------------------------------------------------------------

    async def sync(self, say: Callable[[str], Awaitable[None] | None] = print) -> list[str]:
        """Every subscription the marketplace has, applied here where we differ."""
        changes: list[str] = []
        for purchase in await self.client.list_subscriptions():
            if not purchase.subscription_id or not purchase.tenant_id:
                continue
            try:
                change = await self._reconcile(purchase)
            except DomainError as error:
                change = f"{purchase.tenant_id}: refused ({error.key} {purchase.marketplace_plan})"
            if change:
                changes.append(change)
                result = say(change)
                if result is not None:
                    await result
        return changes

    async def _reconcile(self, purchase: Purchase) -> str | None:
        if purchase.status == PENDING:
            return None  # not activated yet: the landing page does that
        async with self.units(purchase.tenant_id) as uow:
            sub = await subscriptions.load(uow, self.clock, self.catalog)
            known = await uow.marketplace.get(purchase.subscription_id)
            if known is None and purchase.status == UNSUBSCRIBED:
                return None
            before = (sub.plan.id, sub.row.status)
            await market.record(uow, self.clock, purchase)
            if purchase.status == UNSUBSCRIBED:
                if sub.row.source == market.MARKETPLACE:
                    await market.unsubscribe(uow, self.clock, self.catalog)
            else:
                plan = market.catalog_plan(self.catalog, purchase.marketplace_plan)
                await market.apply_plan(uow, self.clock, self.catalog, plan)
                status = "suspended" if purchase.status == SUSPENDED else market.ACTIVE
                await market.set_status(uow, self.clock, self.catalog, status)
            after_sub = await subscriptions.load(uow, self.clock, self.catalog)
            after = (after_sub.plan.id, after_sub.row.status)
            await uow.commit()
        if before == after:
            return None
        return (
            f"{purchase.tenant_id}: {before[0]} ({before[1]}) -> {after[0]} ({after[1]}) "
            f"[subscription {purchase.subscription_id}, marketplace {purchase.status}]"
        )


class _UnknownAction(DomainError):
    key = "marketplace.unknown_action"


def _with_tenant(confirmed: Purchase, resolved: Purchase) -> Purchase:
    if confirmed.tenant_id:
        return confirmed
    return Purchase(**{**confirmed.__dict__, "tenant_id": resolved.tenant_id})


def _replace_plan(purchase: Purchase, plan: str | None, quantity: int | None) -> Purchase:
    values = dict(purchase.__dict__)
    if plan is not None:
        values["marketplace_plan"] = plan
    if quantity is not None:
        values["quantity"] = quantity
    return Purchase(**values)
