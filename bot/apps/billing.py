"""The Billing app: usage, plans, plan changes, cancellation, statements and quota warnings."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.apps.dispatch import BadAction, Turn
from bot.apps.registry import AppSpec, Command, Notice, Parsed, Verb, no_arguments
from bot.domain.errors import DomainError
from bot.domain.notices import QuotaNotice
from bot.domain.people import Person
from bot.services import subscriptions
from cards.billing import (
    call_off_card,
    cancellation_card,
    end_of_term_card,
    plan_change_card,
    plans_card,
    statement_card,
    usage_card,
)
from cards.common import Card
from cards.notifications import quota_warning_card


def _read_change_plan(rest: str, mentions: Sequence[Person]) -> Parsed:
    words = rest.lower().split()
    return Parsed("plan.confirm", {"plan": words[0] if words else ""})


def _plan_id(data: dict[str, Any]) -> str:
    plan = data.get("plan")
    if not isinstance(plan, str) or not plan.strip():
        raise DomainError("billing.plan_usage")
    if len(plan) > 64:
        raise BadAction()
    return plan.strip().lower()


async def show_usage(turn: Turn, data: dict[str, Any]) -> Card:
    view = await subscriptions.usage(turn.reader(), turn.clock, turn.policy.catalog, turn.who)
    return usage_card(
        turn.locale, view.plan, view.period, view.quotas, view.suspended, view.scheduled
    )


async def show_plans(turn: Turn, data: dict[str, Any]) -> Card:
    view = await subscriptions.plans(turn.reader(), turn.clock, turn.policy.catalog, turn.who)
    return plans_card(turn.locale, view.current, view.plans, view.other_term, view.is_admin)


def _change_card(turn: Turn, change: subscriptions.PlanChange, *, done: bool) -> Card:
    return plan_change_card(
        turn.locale,
        change.current,
        change.target,
        change.kind,
        change.period,
        change.lines,
        change.total,
        change.quotas,
        change.used,
        done=done,
        accrued=change.accrued,
        effective=change.effective,
    )


async def confirm_plan_change(turn: Turn, data: dict[str, Any]) -> Card:
    change = await subscriptions.preview_plan_change(
        turn.unit(), turn.clock, turn.policy.catalog, turn.who, _plan_id(data)
    )
    return _change_card(turn, change, done=False)


async def change_plan(turn: Turn, data: dict[str, Any]) -> Card:
    change = await subscriptions.change_plan(
        turn.unit(), turn.clock, turn.policy.catalog, turn.who, _plan_id(data)
    )
    return _change_card(turn, change, done=True)


async def confirm_cancellation(turn: Turn, data: dict[str, Any]) -> Card:
    c = await subscriptions.preview_cancellation(
        turn.unit(), turn.clock, turn.policy.catalog, turn.who
    )
    return cancellation_card(turn.locale, c.plan, c.refund, c.deadline, c.free, done=False)


async def cancel_subscription(turn: Turn, data: dict[str, Any]) -> Card:
    c = await subscriptions.cancel_subscription(
        turn.unit(), turn.clock, turn.policy.catalog, turn.who
    )
    return cancellation_card(turn.locale, c.plan, c.refund, c.deadline, c.free, done=True)


async def call_off_change(turn: Turn, data: dict[str, Any]) -> Card:
    scheduled = await subscriptions.call_off_change(
        turn.unit(), turn.clock, turn.policy.catalog, turn.who
    )
    return call_off_card(turn.locale, scheduled)


async def confirm_end_of_term(turn: Turn, data: dict[str, Any]) -> Card:
    scheduled = await subscriptions.preview_end_of_term(
        turn.unit(), turn.clock, turn.policy.catalog, turn.who
    )
    return end_of_term_card(turn.locale, scheduled, done=False)


async def end_at_term(turn: Turn, data: dict[str, Any]) -> Card:
    scheduled = await subscriptions.end_at_term(
        turn.unit(), turn.clock, turn.policy.catalog, turn.who
    )
    return end_of_term_card(turn.locale, scheduled, done=True)


async def show_billing(turn: Turn, data: dict[str, Any]) -> Card:
    history = data.get("history") in (True, "true", "1")
    view = await subscriptions.billing(
        turn.unit(), turn.clock, turn.policy.catalog, turn.who, history=history
    )
    return statement_card(turn.locale, view.statements, view.scheduled)


def _render_warning(locale: str | None, payload: str) -> Card:
    return quota_warning_card(locale, QuotaNotice.from_json(payload))


def billing_app() -> AppSpec:
    return AppSpec(
        name="billing",
        commands=(
            Command(
                "usage",
                no_arguments("usage"),
                (("usage", "help.cmd.usage"),),
                featured=True,
                aliases=("quota",),
                de=("verbrauch", "kontingent"),
                help_de=("verbrauch",),
            ),
            Command(
                "plans",
                no_arguments("plans"),
                (("plans", "help.cmd.plans"),),
                featured=True,
                de=("tarife",),
                help_de=("tarife",),
            ),
            Command(
                "change plan",
                _read_change_plan,
                (("change plan <plan>", "help.cmd.change_plan"),),
                de=("tarif wechseln",),
                help_de=("tarif wechseln <tarif>",),
            ),
            Command(
                "cancel subscription",
                no_arguments("subscription.cancel_confirm"),
                (("cancel subscription", "help.cmd.cancel"),),
                de=("abo kündigen",),
                help_de=("abo kündigen",),
            ),
            Command(
                "do not renew",
                no_arguments("subscription.end_confirm"),
                (("do not renew", "help.cmd.do_not_renew"),),
                de=("nicht verlängern",),
                help_de=("nicht verlängern",),
            ),
            Command(
                "call off change",
                no_arguments("plan.call_off"),
                (("call off change", "help.cmd.call_off"),),
                de=("wechsel zurücknehmen",),
                help_de=("wechsel zurücknehmen",),
            ),
            Command(
                "billing",
                no_arguments("billing", history=False),
                (("billing", "help.cmd.billing"),),
                featured=True,
                aliases=("statement",),
                de=("abrechnung",),
                help_de=("abrechnung",),
            ),
            Command(
                "billing history",
                no_arguments("billing", history=True),
                (("billing history", "help.cmd.billing_history"),),
                de=("abrechnungsverlauf", "abrechnung verlauf"),
                help_de=("abrechnungsverlauf",),
            ),
        ),
        verbs=(
            Verb("usage", show_usage),
            Verb("plans", show_plans),
            Verb("plan.confirm", confirm_plan_change),
            Verb("plan.change", change_plan, refreshes_quota=True),
            Verb("subscription.cancel_confirm", confirm_cancellation),
            Verb("subscription.cancel", cancel_subscription, refreshes_quota=True),
            Verb("plan.call_off", call_off_change, refreshes_quota=True),
            Verb("subscription.end_confirm", confirm_end_of_term),
            Verb("subscription.end", end_at_term),
            Verb("billing", show_billing),
        ),
        notices=(Notice(QuotaNotice.KIND, _render_warning, banner=False),),
    )
