"""Properties of the subscription over random histories of an organization, through the
services and a real (in-memory SQLite) database: whatever an admin does (buy, change up or
down, cancel, stop the renewal, call it off) and however time passes, everything created
counts in the period the organization is in or goes back to, no period's usage ever drops, and
each refund appears exactly once across all statements, under its charge's period."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.domain.clock import FixedClock
from bot.domain.errors import DomainError
from bot.domain.plans import App, load_catalog
from bot.domain.quota import QuotaExceeded, QuotaPolicy
from bot.domain.tickets import TicketDraft
from bot.services import subscriptions
from bot.services import tickets as ticket_service
from bot.services.identity import Identity
from storage.uow import UnitOfWorkFactory
from tests.support.billing_db import refund_amounts
from tests.support.databases import migrated

CATALOG = load_catalog()
TENANT = "tenant-props"
ADA = Identity(TENANT, "29:ada", "Ada Lovelace", "aad-ada")
START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)

operations = st.one_of(
    st.tuples(st.just("create"), st.integers(min_value=1, max_value=30)),
    st.tuples(st.just("change"), st.sampled_from([p.id for p in CATALOG.all()])),
    st.tuples(st.just("cancel"), st.just(0)),
    st.tuples(st.just("do_not_renew"), st.just(0)),
    st.tuples(st.just("call_off"), st.just(0)),
    # From an hour to about two weeks: within the 72 hours, across renewals.
    st.tuples(st.just("wait"), st.integers(min_value=1, max_value=340)),
)


async def _run(steps: list[tuple[str, int | str]]) -> None:
    async with migrated("sqlite+aiosqlite://") as db:
        uow = UnitOfWorkFactory(db)
        clock = FixedClock(START)
        # What the organization created while each period (by its first day) was running.
        created: dict[date, int] = {}
        seen: dict[date, int] = {}

        async def current() -> tuple[date, int]:
            view = await subscriptions.usage(uow(TENANT), clock, CATALOG, ADA)
            tickets = next(q for q in view.quotas if q.app is App.TICKETS)
            return view.period.start, tickets.used

        for op, arg in steps:
            before, _ = await current()
            try:
                if op == "create":
                    for _ in range(int(arg)):
                        await ticket_service.create_ticket(
                            uow(TENANT),
                            clock,
                            QuotaPolicy(CATALOG, (80, 90)),
                            ADA,
                            TicketDraft("Request"),
                        )
                        created[before] = created.get(before, 0) + 1
                elif op == "change":
                    await subscriptions.change_plan(uow(TENANT), clock, CATALOG, ADA, str(arg))
                elif op == "cancel":
                    await subscriptions.cancel_subscription(uow(TENANT), clock, CATALOG, ADA)
                    after, _ = await current()
                    # Void: what was created meanwhile counts where the organization went back,
                    # and the voided purchase's period is gone (a purchase made again the same
                    # day opens a window of its own, with the same first day).
                    if after != before:
                        created[after] = created.get(after, 0) + created.pop(before, 0)
                        seen.pop(before, None)
                elif op == "do_not_renew":
                    await subscriptions.end_at_term(uow(TENANT), clock, CATALOG, ADA)
                elif op == "call_off":
                    await subscriptions.call_off_change(uow(TENANT), clock, CATALOG, ADA)
                else:
                    clock.advance(timedelta(hours=int(arg)))
            except QuotaExceeded:
                pass
            except DomainError:
                pass  # a refusal (same plan, annual term, window closed...) changes nothing

            period, used = await current()
            assert used == created.get(period, 0), (op, arg, period)
            # Usage of a period never goes down while it runs: no path opens a fresh window.
            assert used >= seen.get(period, 0), (op, arg, period)
            seen[period] = used

        history = await subscriptions.billing_statements(
            uow(TENANT), clock, CATALOG, ADA, history=True
        )
        shown = sorted(amount for s in history for amount in s.refunds)
        assert shown == sorted(await refund_amounts(db, TENANT))
        for statement in history:
            lines = sum((line.amount for line in statement.lines), Decimal("0.00"))
            assert statement.total == lines - sum(statement.refunds, Decimal("0.00"))
            # One line per plan held, and one per plan of a voided purchase (refunded).
            plans = {(line.plan.id, line.voided) for line in statement.lines}
            assert len(plans) == len(statement.lines)
            assert statement.total >= 0


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.lists(operations, min_size=1, max_size=10))
def test_usage_never_resets_and_each_refund_appears_once(
    steps: list[tuple[str, int | str]],
) -> None:
    asyncio.run(_run(steps))
