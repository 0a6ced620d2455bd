"""Verb -> use-case -> card. Text commands and card actions both arrive here as (verb, data).

Every card submission is checked here (size, types, enums) before any service runs; the
services check roles, ownership and the tenant.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bot.domain.clock import Clock
from bot.domain.errors import DomainError, InvalidInput, NotFound
from bot.domain.plans import PlanCatalog
from bot.domain.quota import DEFAULT_THRESHOLDS, QuotaExceeded
from bot.domain.roles import Role
from bot.domain.tickets import (
    Person,
    Status,
    TicketFilter,
    parse_comment,
    parse_draft,
    parse_priority,
    parse_status,
)
from bot.i18n import t
from bot.services import roles as roles_service
from bot.services import subscriptions
from bot.services import tickets as ticket_service
from bot.services.identity import Identity
from bot.services.tickets import TicketView
from bot.teams.banner import QuotaBanner
from cards.billing import (
    call_off_card,
    cancellation_card,
    end_of_term_card,
    plan_change_card,
    plans_card,
    quota_reached_banner,
    statement_card,
    usage_card,
)
from cards.common import Card
from cards.general import error_card, help_card, roles_card, unknown_command_card
from cards.tickets import ticket_detail, ticket_form, ticket_list
from storage.uow import UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)

MAX_PAYLOAD_CHARS = 16_000
MAX_ID_CHARS = 200


class BadAction(DomainError):
    """The data of a card action is not what our cards send: a stale or forged payload."""

    key = "error.bad_action"


@dataclass(frozen=True)
class Turn:
    who: Identity
    locale: str | None
    conversation_id: str
    uow: UnitOfWorkFactory
    clock: Clock
    catalog: PlanCatalog
    thresholds: tuple[int, ...] = DEFAULT_THRESHOLDS
    banner: QuotaBanner | None = None

    def unit(self) -> UnitOfWork:
        return self.uow(self.who.tenant_id)


Route = Callable[[Turn, dict[str, Any]], Awaitable[Card]]
ROUTES: dict[str, Route] = {}


def route(verb: str) -> Callable[[Route], Route]:
    def register(fn: Route) -> Route:
        ROUTES[verb] = fn
        return fn

    return register


async def dispatch(turn: Turn, verb: str, data: Any) -> Card:
    """Run one verb and return the card to show. Domain errors become cards here."""
    fn = ROUTES.get(verb) if isinstance(verb, str) else None
    if fn is None or not isinstance(data, dict):
        return error_card(turn.locale, BadAction())
    size = len(json.dumps(data, default=str))
    if size > MAX_PAYLOAD_CHARS:
        return error_card(
            turn.locale, DomainError("error.too_large", size=size, max=MAX_PAYLOAD_CHARS)
        )
    try:
        result = await fn(turn, data)
    except DomainError as error:
        log.info("refused %s: %s", verb, error.key)
        result = error_card(turn.locale, error)
    return await _with_quota_banner(turn, verb, result)


# Verbs after which the quota may have moved: their cards read it afresh.
REFRESHING_VERBS = frozenset({"ticket.create", "plan.change", "subscription.cancel"})


async def _with_quota_banner(turn: Turn, verb: str, card: Card) -> Card:
    banner = turn.banner or QuotaBanner(turn.uow, turn.clock, turn.catalog, turn.thresholds)
    return await banner.add_to(
        card, turn.who.tenant_id, turn.locale, refresh=verb in REFRESHING_VERBS
    )


# -- input shapes ---------------------------------------------------------------------------


def _int(data: dict[str, Any], name: str, *, minimum: int, maximum: int) -> int | None:
    value = data.get(name)
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().lstrip("#").isdigit():
        value = int(value.strip().lstrip("#"))
    if isinstance(value, int) and minimum <= value <= maximum:
        return value
    return None


def _ticket_number(data: dict[str, Any]) -> int:
    number = _int(data, "number", minimum=1, maximum=2**31 - 1)
    if number is None:
        raise DomainError("ticket.usage")
    return number


def _short_id(data: dict[str, Any], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_ID_CHARS:
        raise BadAction()
    return value.strip()


# -- general ---------------------------------------------------------------------------------


@route("help")
async def show_help(turn: Turn, data: dict[str, Any]) -> Card:
    return help_card(turn.locale)


@route("unknown")
async def unknown(turn: Turn, data: dict[str, Any]) -> Card:
    typed = data.get("text") if isinstance(data.get("text"), str) else ""
    suggestion = data.get("suggestion") if isinstance(data.get("suggestion"), str) else None
    return unknown_command_card(turn.locale, str(typed), suggestion or None)


# -- tickets ---------------------------------------------------------------------------------


def _detail(turn: Turn, view: TicketView, **kwargs: Any) -> Card:
    return ticket_detail(
        turn.locale,
        view.ticket,
        viewer=view.actor.user,
        role=view.actor.role,
        agents=view.agents,
        **kwargs,
    )


@route("ticket.form")
async def new_ticket_form(turn: Turn, data: dict[str, Any]) -> Card:
    return ticket_form(turn.locale)


@route("ticket.create")
async def create_ticket(turn: Turn, data: dict[str, Any]) -> Card:
    try:
        draft = parse_draft(data)
    except InvalidInput as error:
        return ticket_form(turn.locale, data, error)
    try:
        view = await ticket_service.create_ticket(
            turn.unit(),
            turn.clock,
            turn.catalog,
            turn.who,
            draft,
            turn.conversation_id,
            thresholds=turn.thresholds,
        )
    except QuotaExceeded as refused:
        # Nothing typed is lost: the form comes back filled in, under the reason.
        return ticket_form(turn.locale, data, banner=quota_reached_banner(turn.locale, refused))
    return _detail(turn, view, notice=t(turn.locale, "ticket.created", number=view.ticket.number))


@route("tickets.list")
async def list_tickets(turn: Turn, data: dict[str, Any]) -> Card:
    raw = data.get("filter") or "mine"
    try:
        flt = TicketFilter(raw.strip().lower() if isinstance(raw, str) else raw)
    except ValueError:
        raise DomainError(
            "tickets.bad_filter",
            filter=str(raw)[:40],
            allowed=", ".join(f.value for f in TicketFilter),
        ) from None
    page = _int(data, "page", minimum=0, maximum=1_000_000)
    if page is None and data.get("page") not in (None, ""):
        raise BadAction()
    result = await ticket_service.list_tickets(turn.unit(), turn.clock, turn.who, flt, page or 0)
    return ticket_list(turn.locale, result)


@route("ticket.show")
async def show_ticket(turn: Turn, data: dict[str, Any]) -> Card:
    view = await ticket_service.get_ticket(turn.unit(), turn.clock, turn.who, _ticket_number(data))
    return _detail(turn, view)


TicketChange = Callable[[Turn, int], Awaitable[TicketView]]


async def _change(turn: Turn, data: dict[str, Any], change: TicketChange) -> Card:
    """Run a change on one ticket; a refusal shows the ticket again with the reason and the
    user's input kept, so nothing typed is lost."""
    number = _ticket_number(data)
    try:
        view = await change(turn, number)
    except NotFound:
        raise
    except DomainError as error:
        view = await ticket_service.get_ticket(turn.unit(), turn.clock, turn.who, number)
        return _detail(turn, view, error=error, inputs=data)
    return _detail(turn, view, notice=t(turn.locale, "ticket.updated", number=number))


@route("ticket.assign_me")
async def assign_me(turn: Turn, data: dict[str, Any]) -> Card:
    return await _change(
        turn,
        data,
        lambda turn, n: ticket_service.assign_ticket(turn.unit(), turn.clock, turn.who, n, None),
    )


@route("ticket.assign")
async def assign(turn: Turn, data: dict[str, Any]) -> Card:
    async def change(turn: Turn, number: int) -> TicketView:
        assignee = _short_id(data, "assignee")
        return await ticket_service.assign_ticket(
            turn.unit(), turn.clock, turn.who, number, assignee
        )

    return await _change(turn, data, change)


def _status_change(status: Status | None) -> Route:
    async def handler(turn: Turn, data: dict[str, Any]) -> Card:
        async def change(turn: Turn, number: int) -> TicketView:
            target = status or parse_status(data.get("status"))
            return await ticket_service.change_status(
                turn.unit(), turn.clock, turn.who, number, target
            )

        return await _change(turn, data, change)

    return handler


ROUTES["ticket.status"] = _status_change(None)
ROUTES["ticket.close"] = _status_change(Status.CLOSED)
ROUTES["ticket.reopen"] = _status_change(Status.OPEN)


@route("ticket.priority")
async def priority(turn: Turn, data: dict[str, Any]) -> Card:
    async def change(turn: Turn, number: int) -> TicketView:
        return await ticket_service.change_priority(
            turn.unit(), turn.clock, turn.who, number, parse_priority(data.get("priority"))
        )

    return await _change(turn, data, change)


@route("ticket.comment")
async def comment(turn: Turn, data: dict[str, Any]) -> Card:
    async def change(turn: Turn, number: int) -> TicketView:
        return await ticket_service.add_comment(
            turn.unit(), turn.clock, turn.who, number, parse_comment(data.get("comment"))
        )

    return await _change(turn, data, change)


# -- roles -----------------------------------------------------------------------------------


@route("roles.list")
async def list_roles(turn: Turn, data: dict[str, Any]) -> Card:
    view = await roles_service.list_roles(turn.unit(), turn.clock, turn.who)
    return roles_card(turn.locale, view.admins, view.agents)


@route("roles.set")
async def set_role(turn: Turn, data: dict[str, Any]) -> Card:
    user_id = data.get("user_id")
    user_name = data.get("user_name")
    try:
        role = Role(str(data.get("role", "")).lower())
    except ValueError:
        raise DomainError("roles.usage") from None
    if not isinstance(user_id, str) or not user_id or len(user_id) > MAX_ID_CHARS:
        raise DomainError("roles.usage")
    target = Person(user_id, str(user_name or "")[:200])
    view = await roles_service.set_role(turn.unit(), turn.clock, turn.who, target, role)
    return roles_card(turn.locale, view.admins, view.agents, changed=(target, role))


# -- subscription ----------------------------------------------------------------------------


def _plan_id(data: dict[str, Any]) -> str:
    plan = data.get("plan")
    if not isinstance(plan, str) or not plan.strip():
        raise DomainError("billing.plan_usage")
    if len(plan) > 64:
        raise BadAction()
    return plan.strip().lower()


@route("usage")
async def show_usage(turn: Turn, data: dict[str, Any]) -> Card:
    view = await subscriptions.usage(turn.unit(), turn.clock, turn.catalog, turn.who)
    return usage_card(
        turn.locale, view.plan, view.period, view.quotas, view.suspended, view.scheduled
    )


@route("plans")
async def show_plans(turn: Turn, data: dict[str, Any]) -> Card:
    view = await subscriptions.plans(turn.unit(), turn.clock, turn.catalog, turn.who)
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


@route("plan.confirm")
async def confirm_plan_change(turn: Turn, data: dict[str, Any]) -> Card:
    change = await subscriptions.preview_plan_change(
        turn.unit(), turn.clock, turn.catalog, turn.who, _plan_id(data)
    )
    return _change_card(turn, change, done=False)


@route("plan.change")
async def change_plan(turn: Turn, data: dict[str, Any]) -> Card:
    change = await subscriptions.change_plan(
        turn.unit(), turn.clock, turn.catalog, turn.who, _plan_id(data)
    )
    return _change_card(turn, change, done=True)


@route("subscription.cancel_confirm")
async def confirm_cancellation(turn: Turn, data: dict[str, Any]) -> Card:
    c = await subscriptions.preview_cancellation(turn.unit(), turn.clock, turn.catalog, turn.who)
    return cancellation_card(turn.locale, c.plan, c.refund, c.deadline, c.free, done=False)


@route("subscription.cancel")
async def cancel_subscription(turn: Turn, data: dict[str, Any]) -> Card:
    c = await subscriptions.cancel_subscription(turn.unit(), turn.clock, turn.catalog, turn.who)
    return cancellation_card(turn.locale, c.plan, c.refund, c.deadline, c.free, done=True)


@route("plan.call_off")
async def call_off_change(turn: Turn, data: dict[str, Any]) -> Card:
    scheduled = await subscriptions.call_off_change(turn.unit(), turn.clock, turn.catalog, turn.who)
    return call_off_card(turn.locale, scheduled)


@route("subscription.end_confirm")
async def confirm_end_of_term(turn: Turn, data: dict[str, Any]) -> Card:
    scheduled = await subscriptions.preview_end_of_term(
        turn.unit(), turn.clock, turn.catalog, turn.who
    )
    return end_of_term_card(turn.locale, scheduled, done=False)


@route("subscription.end")
async def end_at_term(turn: Turn, data: dict[str, Any]) -> Card:
    scheduled = await subscriptions.end_at_term(turn.unit(), turn.clock, turn.catalog, turn.who)
    return end_of_term_card(turn.locale, scheduled, done=True)


@route("billing")
async def show_billing(turn: Turn, data: dict[str, Any]) -> Card:
    history = data.get("history") in (True, "true", "1")
    view = await subscriptions.billing(
        turn.unit(), turn.clock, turn.catalog, turn.who, history=history
    )
    return statement_card(turn.locale, view.statements, view.scheduled)
