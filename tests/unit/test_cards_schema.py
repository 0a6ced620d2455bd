"""Every card the product renders is a valid Adaptive Card 1.5, the newest version Teams renders.

The cards are found, not listed: every public function of every module in `cards/` (except the
building blocks in cards/common.py) that returns a card, or a list of card elements (a banner),
is rendered in English and German with realistic domain values, and validated against the
official schema at ../shared/schemas/adaptive-card-1.5.json. Known functions get hand-written
scenarios (error variants, maximal inputs); a function without them is rendered with values
generated from its type hints, so a new card module is covered the day it appears (and the
generated values are added next to hand-written ones where they render).
"""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields, is_dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft6Validator
from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for

import cards
from bot.apps import build_registry
from bot.domain.billing import BillingPeriod, ChangeKind, StatementLine
from bot.domain.crm import (
    ACCOUNT_NAME_MAX,
    LOST_REASON_MAX,
    NAME_MAX,
    NEXT_STEP_MAX,
    NOTE_MAX,
    NOTES_MAX,
    Account,
    AccountRef,
    Contact,
    ContactRef,
    Opportunity,
    OpportunityFilter,
    OpportunityNotice,
    Pipeline,
    PipelineEntry,
    Stage,
    build_pipeline,
)
from bot.domain.errors import (
    DomainError,
    Forbidden,
    InvalidInput,
    InvalidTransition,
    MissingTenant,
    NotFound,
    OnlyAdmins,
)
from bot.domain.items import Comment, HistoryEntry
from bot.domain.notices import QuotaNotice, TicketEvent, TicketNotice
from bot.domain.paging import PAGE_SIZE, Page
from bot.domain.people import Person
from bot.domain.plans import App, Plan, PlanCatalog, Term, load_catalog
from bot.domain.quota import QuotaExceeded, QuotaState, SubscriptionSuspended
from bot.domain.roles import Role
from bot.domain.subscription import Statement
from bot.domain.tickets import (
    CATEGORY_MAX,
    COMMENT_MAX,
    DESCRIPTION_MAX,
    TITLE_MAX,
    Priority,
    Status,
    Ticket,
    TicketFilter,
)
from cards.billing import quota_reached_banner
from cards.common import card as make_card
from cards.common import execute
from cards.gallery.samples import samples
from cards.tickets import ticket_detail
from tests.support.cards import verbs, walk
from tests.support.schemas import not_run

SCHEMA_PATH = (
    Path(__file__).resolve().parents[2].parent / "shared" / "schemas" / "adaptive-card-1.5.json"
)
if not SCHEMA_PATH.is_file():
    not_run(
        "Adaptive Card 1.5 schema (every card)",
        f"the schema is not at {SCHEMA_PATH} (it is not published on npm)",
        module_level=True,
    )

SCHEMA: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
# The schema names its draft in $schema (draft-06); let jsonschema pick the matching class.
VALIDATOR_CLASS = validator_for(SCHEMA, default=Draft6Validator)
VALIDATOR_CLASS.check_schema(SCHEMA)
VALIDATOR = VALIDATOR_CLASS(SCHEMA, format_checker=VALIDATOR_CLASS.FORMAT_CHECKER)

TEAMS_VERSION = "1.5"
# Teams refuses a message over about 28 KB; the card is most of it.
MAX_CARD_BYTES = 28 * 1024
# The one key Teams adds to the root card (full width, mentions), outside the official schema.
TEAMS_ROOT_EXTENSION = "msteams"
TEAMS_EXTENSION_KEYS = {"width", "entities"}
LOCALES = ("en-US", "de-DE")
BUILDING_BLOCKS = {"cards.common"}
Card = dict[str, Any]


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def _types_in_schema() -> dict[str, tuple[int, ...]]:
    """Every element and action type the 1.5 schema defines, with the version it came in."""
    found: dict[str, tuple[int, ...]] = {}
    for definition in SCHEMA["definitions"].values():
        for name in definition.get("properties", {}).get("type", {}).get("enum", []):
            found[name] = _version(definition.get("version", "1.0"))
    return found


SCHEMA_TYPES = _types_in_schema()


# -- realistic domain values -----------------------------------------------------------------

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
TODAY = NOW.date()
CATALOG: PlanCatalog = load_catalog()
FREE = CATALOG.free
STANDARD = CATALOG.get("standard")
PREMIUM = CATALOG.get("premium")
PROFESSIONAL = CATALOG.get("professional")
PREMIUM_ANNUAL = CATALOG.get("premium-annual")
PERIOD = BillingPeriod(date(2026, 10, 15), date(2026, 11, 15))

ADA = Person("29:1ada-lovelace", "Ada Lovelace")
GRACE = Person("29:1grace-hopper", "Grace Hopper")
ALAN = Person("29:1alan-turing", "Alan Turing")
JOSE = Person("29:1jose-muller", "José Müller-Lüdenscheidt")
AGENTS = (GRACE, ALAN, JOSE)

PROSE = {
    "en": "The printer on the 2nd floor prints blank pages since Monday; Müller's team can't "
    "send invoices. Restarting it did not help. ",
    "de": "Der Drucker im 2. Stock druckt seit Montag nur leere Seiten; das Team von Frau "
    "Müller kann keine Rechnungen verschicken. Neustart hat nicht geholfen. ",
}


def prose(locale: str, length: int) -> str:
    """Text of exactly `length` characters, in the user's language, umlauts included."""
    sentence = PROSE[locale[:2]]
    return (sentence * (length // len(sentence) + 1))[:length]


def a_ticket(
    locale: str,
    number: int = 42,
    *,
    status: Status = Status.IN_PROGRESS,
    title: str | None = None,
    description: str | None = None,
    assignee: Person | None = GRACE,
    comments: int = 2,
    comment_length: int = 120,
    history: int = 3,
    category: str = "Hardware",
    due: date | None = date(2026, 11, 20),
) -> Ticket:
    changes = [
        HistoryEntry(ADA, "created", None, None, NOW),
        HistoryEntry(GRACE, "assignee", None, GRACE.name, NOW + timedelta(minutes=5)),
        HistoryEntry(
            GRACE, "status", Status.NEW.value, Status.OPEN.value, NOW + timedelta(hours=1)
        ),
        HistoryEntry(GRACE, "priority", Priority.NORMAL.value, Priority.HIGH.value, NOW),
        HistoryEntry(GRACE, "status", Status.OPEN.value, Status.IN_PROGRESS.value, NOW),
    ]
    return Ticket(
        number=number,
        title=title if title is not None else prose(locale, 48).strip(),
        description=description if description is not None else prose(locale, 300),
        priority=Priority.HIGH,
        category=category,
        status=status,
        requester=ADA,
        assignee=assignee,
        due=due,
        created_at=NOW,
        updated_at=NOW + timedelta(hours=3),
        comments=tuple(
            Comment((ADA, GRACE)[i % 2], prose(locale, comment_length), NOW + timedelta(hours=i))
            for i in range(comments)
        ),
        history=tuple(changes[i % len(changes)] for i in range(history)),
    )


def a_page(locale: str, count: int, *, page: int = 0, total: int | None = None) -> Page[Ticket]:
    tickets = tuple(
        a_ticket(
            locale, 100 + i, status=list(Status)[i % len(Status)], assignee=(None, GRACE)[i % 2]
        )
        for i in range(count)
    )
    return Page(tickets, page, total if total is not None else count)


def quota(app: App, used: int, limit: int) -> QuotaState:
    return QuotaState(app, used, limit, PERIOD.end)


def quota_exceeded(current: Plan = STANDARD) -> QuotaExceeded:
    return QuotaExceeded(
        quota(App.TICKETS, current.quotas[App.TICKETS], current.quotas[App.TICKETS]),
        current,
        CATALOG.above(current),
    )


def invalid_form() -> InvalidInput:
    """Every field of the ticket form wrong at once, as parse_draft reports it."""
    return InvalidInput(
        {
            "title": ("field.required", {}),
            "description": ("field.too_long", {"max": DESCRIPTION_MAX, "length": 4321}),
            "category": ("field.too_long", {"max": CATEGORY_MAX, "length": 75}),
            "priority": ("field.choose_one", {"allowed": ", ".join(p.value for p in Priority)}),
            "due": ("field.bad_date", {}),
        }
    )


def statement(lines: Sequence[tuple[Plan, int]], *, current: bool, refund: str = "0") -> Statement:
    start = PERIOD.start
    made: list[StatementLine] = []
    for plan, days in lines:
        amount = (plan.price * days / PERIOD.days).quantize(Decimal("0.01"))
        made.append(StatementLine(plan, start, start + timedelta(days=days), days, amount))
        start += timedelta(days=days)
    refunds = (Decimal(refund),) if Decimal(refund) else ()
    total = sum((line.amount for line in made), Decimal("0.00")) - sum(refunds, Decimal("0"))
    return Statement(PERIOD, tuple(made), refunds, total, current)


# -- scenarios written by hand ---------------------------------------------------------------

Rendered = Any  # a card dict, or a list of elements (a banner)
CardFn = Callable[..., Rendered]
Scenarios = Callable[[CardFn, str], dict[str, Rendered]]
HAND_WRITTEN: dict[str, Scenarios] = {}


def scenarios(card_id: str) -> Callable[[Scenarios], Scenarios]:
    """Register the hand-written scenarios of one card function ("module.function")."""

    def register(fn: Scenarios) -> Scenarios:
        HAND_WRITTEN[card_id] = fn
        return fn

    return register


def _from_gallery(card_id: str) -> None:
    """The gallery's samples of a card function serve as its scenarios here too."""

    def made(fn: CardFn, locale: str) -> dict[str, Rendered]:
        prefix = card_id + ": "
        return {n[len(prefix) :]: c for n, c in samples(locale).items() if n.startswith(prefix)}

    HAND_WRITTEN[card_id] = made


for _name in (
    "template_form",
    "template_detail",
    "template_list",
    "template_choice_card",
    "checklist_form",
    "checklist_detail",
    "checklist_list",
    "checklist_notice_card",
    "reminder_card",
):
    _from_gallery(f"checklists.{_name}")


@scenarios("general.welcome_card")
def _welcome(fn: CardFn, locale: str) -> dict[str, Rendered]:
    return {"default": fn(locale)}


@scenarios("general.help_card")
def _help(fn: CardFn, locale: str) -> dict[str, Rendered]:
    return {"every command of the registry": fn(locale, build_registry().help_lines())}


@scenarios("general.unknown_command_card")
def _unknown(fn: CardFn, locale: str) -> dict[str, Rendered]:
    return {
        "with suggestion": fn(locale, "nwe tikcet", "new ticket"),
        "without suggestion": fn(locale, "what's the weather?", None),
        "very long input": fn(locale, prose(locale, 5000), None),
    }


@scenarios("general.error_card")
def _error(fn: CardFn, locale: str) -> dict[str, Rendered]:
    return {
        "not found": fn(locale, NotFound()),
        "forbidden": fn(locale, Forbidden()),
        "only admins": fn(locale, OnlyAdmins(admins="Ada Lovelace, Grace Hopper")),
        "no tenant": fn(locale, MissingTenant()),
        "invalid transition": fn(
            locale,
            InvalidTransition(current=Status.CLOSED, target=Status.PENDING, allowed=(Status.OPEN,)),
            [execute("Open ticket", "ticket.show", {"number": 42})],
        ),
        "too large": fn(locale, DomainError("error.too_large", size=40000, max=20000)),
        "suspended": fn(locale, SubscriptionSuspended()),
        "quota exceeded": fn(locale, quota_exceeded()),
    }


@scenarios("general.notice_card")
def _notice(fn: CardFn, locale: str) -> dict[str, Rendered]:
    return {
        "duplicate": fn(locale, "error.duplicate"),
        "with params": fn(locale, "ticket.updated", number=42),
    }


@scenarios("general.apology_card")
def _apology(fn: CardFn, locale: str) -> dict[str, Rendered]:
    return {"default": fn(locale, "a1b2c3d4")}


@scenarios("general.roles_card")
def _roles(fn: CardFn, locale: str) -> dict[str, Rendered]:
    return {
        "list": fn(locale, [ADA], [GRACE, ALAN]),
        "nobody yet": fn(locale, [ADA], []),
        "changed": fn(locale, [ADA], [GRACE, ALAN, JOSE], changed=(JOSE, Role.AGENT)),
        "many people": fn(
            locale,
            [Person(f"29:a{i}", f"Admin Person {i}") for i in range(20)],
            [Person(f"29:g{i}", f"Agent Person {i}") for i in range(200)],
        ),
    }


@scenarios("tickets.ticket_form")
def _ticket_form(fn: CardFn, locale: str) -> dict[str, Rendered]:
    filled = {
        "title": "Printer prints blank pages",
        "description": prose(locale, 400),
        "priority": "high",
        "category": "Hardware",
        "due": "2026-11-20",
    }
    maximal = {
        "title": prose(locale, TITLE_MAX),
        "description": prose(locale, DESCRIPTION_MAX),
        "priority": "urgent",
        "category": prose(locale, CATEGORY_MAX),
        "due": "2026-12-31",
    }
    wrong = {
        "title": "   ",
        "description": prose(locale, 4321),
        "priority": "whenever",
        "category": prose(locale, 75),
        "due": "next friday",
    }
    return {
        "empty": fn(locale),
        "filled": fn(locale, filled),
        "invalid input": fn(locale, wrong, invalid_form()),
        "one field wrong": fn(
            locale, {**filled, "title": ""}, InvalidInput({"title": ("field.required", {})})
        ),
        "refused at quota": fn(
            locale, filled, banner=quota_reached_banner(locale, quota_exceeded())
        ),
        "maximal input": fn(locale, maximal),
        "maximal input with errors": fn(locale, maximal, invalid_form()),
    }


def maximal_ticket(locale: str) -> Ticket:
    return a_ticket(
        locale,
        2_147_483_647,
        title=prose(locale, TITLE_MAX),
        description=prose(locale, DESCRIPTION_MAX),
        comments=20,
        comment_length=COMMENT_MAX,
        history=40,
        category=prose(locale, CATEGORY_MAX),
    )


COMMENT_TOO_LONG = InvalidInput(
    {"comment": ("field.too_long", {"max": COMMENT_MAX, "length": 4100})}
)


@scenarios("tickets.ticket_detail")
def _ticket_detail(fn: CardFn, locale: str) -> dict[str, Rendered]:
    ticket = a_ticket(locale)
    many_agents = tuple(Person(f"29:agent-{i}", f"Agent Person Number {i}") for i in range(50))
    transition = InvalidTransition(
        current=Status.CLOSED, target=Status.PENDING, allowed=(Status.OPEN,)
    )
    return {
        "member": fn(locale, ticket, viewer=ADA, role=Role.MEMBER),
        "agent": fn(locale, ticket, viewer=ALAN, role=Role.AGENT, agents=AGENTS),
        "admin, unassigned new ticket": fn(
            locale,
            a_ticket(locale, status=Status.NEW, assignee=None, comments=0, history=1),
            viewer=ADA,
            role=Role.ADMIN,
            agents=AGENTS,
        ),
        "closed": fn(
            locale,
            a_ticket(locale, status=Status.CLOSED, due=None, category=""),
            viewer=GRACE,
            role=Role.AGENT,
            agents=AGENTS,
        ),
        "with notice": fn(
            locale, ticket, viewer=ADA, role=Role.MEMBER, notice="Ticket #42 was updated."
        ),
        "with error": fn(
            locale,
            ticket,
            viewer=GRACE,
            role=Role.AGENT,
            agents=AGENTS,
            error=transition,
            inputs={"number": 42, "status": "pending"},
        ),
        "with invalid comment kept": fn(
            locale,
            ticket,
            viewer=ADA,
            role=Role.MEMBER,
            error=COMMENT_TOO_LONG,
            inputs={"number": 42, "comment": prose(locale, 4100)},
        ),
        "maximal": fn(
            locale,
            maximal_ticket(locale),
            viewer=GRACE,
            role=Role.ADMIN,
            agents=many_agents,
            error=COMMENT_TOO_LONG,
            inputs={"comment": prose(locale, COMMENT_MAX)},
        ),
    }


@scenarios("tickets.ticket_list")
def _ticket_list(fn: CardFn, locale: str) -> dict[str, Rendered]:
    longest = tuple(
        a_ticket(locale, 10_000 + i, title=prose(locale, TITLE_MAX)) for i in range(PAGE_SIZE)
    )
    return {
        "empty": fn(locale, Page((), 0, 0), TicketFilter.MINE),
        "first page": fn(locale, a_page(locale, PAGE_SIZE, total=35), TicketFilter.MINE),
        "middle page": fn(locale, a_page(locale, PAGE_SIZE, page=1, total=35), TicketFilter.MINE),
        "last page, all": fn(locale, Page(a_page(locale, 5).items, 3, 35), TicketFilter.ALL),
        "maximal titles": fn(locale, Page(longest, 0, 1_000), TicketFilter.OPEN),
    }


QUOTAS = (
    quota(App.TICKETS, 120, 250),
    quota(App.CHECKLISTS, 85, 100),
    quota(App.OPPORTUNITIES, 100, 100),
)


@scenarios("billing.usage_card")
def _usage(fn: CardFn, locale: str) -> dict[str, Rendered]:
    return {
        "standard": fn(locale, STANDARD, PERIOD, QUOTAS),
        "suspended": fn(locale, STANDARD, PERIOD, QUOTAS, suspended=True),
        "over the limit after a downgrade": fn(
            locale, FREE, PERIOD, [quota(App.TICKETS, 240, 25), quota(App.CHECKLISTS, 0, 10)]
        ),
    }


@scenarios("billing.plans_card")
def _plans(fn: CardFn, locale: str) -> dict[str, Rendered]:
    monthly = CATALOG.for_term(Term.MONTHLY)
    annual = CATALOG.for_term(Term.ANNUAL)
    return {
        "free, admin": fn(locale, FREE, monthly, annual, True),
        "premium, admin": fn(locale, PREMIUM, monthly, annual, True),
        "premium annual, admin": fn(locale, PREMIUM_ANNUAL, annual, monthly, True),
        "member": fn(locale, STANDARD, monthly, annual, False),
        "no other term": fn(locale, STANDARD, monthly, [], True),
    }


@scenarios("billing.plan_change_card")
def _plan_change(fn: CardFn, locale: str) -> dict[str, Rendered]:
    lines = statement([(PREMIUM, 20), (PROFESSIONAL, 11)], current=True).lines
    total = sum((line.amount for line in lines), Decimal("0.00"))
    limits = {App.TICKETS: 2_258, App.CHECKLISTS: 1_129, App.OPPORTUNITIES: 1_129}
    used = {App.TICKETS: 812, App.CHECKLISTS: 1_200, App.OPPORTUNITIES: 3}
    restart = statement([(PREMIUM_ANNUAL, 31)], current=True).lines
    annual_limits = dict(PREMIUM_ANNUAL.quotas)
    prorated = (PREMIUM, PROFESSIONAL, ChangeKind.PRORATED, PERIOD, lines, total, limits, used)
    return {
        "preview": fn(locale, *prorated, done=False),
        "done": fn(locale, *prorated, done=True),
        "restart, annual": fn(
            locale,
            *(FREE, PREMIUM_ANNUAL, ChangeKind.RESTART, PERIOD, restart, PREMIUM_ANNUAL.price),
            annual_limits,
            used,
            done=False,
        ),
    }


@scenarios("billing.cancellation_card")
def _cancellation(fn: CardFn, locale: str) -> dict[str, Rendered]:
    deadline = NOW + timedelta(hours=72)
    return {
        "confirm": fn(locale, PREMIUM, Decimal("49.00"), deadline, FREE, done=False),
        "done": fn(locale, PREMIUM, Decimal("49.00"), deadline, FREE, done=True),
    }


@scenarios("billing.statement_card")
def _statement(fn: CardFn, locale: str) -> dict[str, Rendered]:
    history = [
        statement([(PREMIUM, 31)], current=True),
        statement([(STANDARD, 10), (PREMIUM, 21)], current=False, refund="6.13"),
        statement([], current=False),
        *(statement([(STANDARD, 31)], current=False) for _ in range(9)),
    ]
    return {
        "current": fn(locale, [statement([(PREMIUM, 20), (PROFESSIONAL, 11)], current=True)]),
        "history": fn(locale, history),
    }


@scenarios("billing.quota_reached_banner")
def _quota_reached(fn: CardFn, locale: str) -> dict[str, Rendered]:
    return {
        "with upgrades": fn(locale, quota_exceeded(STANDARD)),
        "top plan": fn(locale, quota_exceeded(PROFESSIONAL)),
    }


@scenarios("billing.near_limit_banner")
def _near_limit(fn: CardFn, locale: str) -> dict[str, Rendered]:
    return {"two apps": fn(locale, QUOTAS[:2]), "none": fn(locale, [])}


@scenarios("billing.quota_lines")
def _quota_lines(fn: CardFn, locale: str) -> dict[str, Rendered]:
    return {f"{q.app.value} {q.percent}%": fn(locale, q) for q in QUOTAS}


@scenarios("notifications.quota_warning_card")
def _quota_warning(fn: CardFn, locale: str) -> dict[str, Rendered]:
    return {
        f"{app.value} at {threshold}%": fn(
            locale, QuotaNotice(app, used, limit, threshold, PERIOD.end)
        )
        for app, used, limit, threshold in (
            (App.TICKETS, 200, 250, 80),
            (App.CHECKLISTS, 91, 100, 90),
            (App.OPPORTUNITIES, 2_500, 2_500, 100),
        )
    }


@scenarios("notifications.ticket_notice_card")
def _ticket_notice(fn: CardFn, locale: str) -> dict[str, Rendered]:
    title = prose(locale, TITLE_MAX)
    details = {
        TicketEvent.COMMENTED: prose(locale, COMMENT_MAX),
        TicketEvent.ASSIGNED: GRACE.name,
    }
    return {
        event.value: fn(
            locale,
            TicketNotice(event, 42, title, GRACE.name, Status.RESOLVED, details.get(event, "")),
        )
        for event in TicketEvent
    }


# -- CRM ---------------------------------------------------------------------------------------

ACME = AccountRef(3, "Acme Müller GmbH")
WILE = ContactRef(5, "Wile E. Coyote")


def an_opportunity(
    locale: str,
    number: int = 17,
    *,
    stage: Stage = Stage.PROPOSAL,
    name: str | None = None,
    currency: str = "EUR",
    amount: str = "12500.00",
    notes: int = 2,
    note_length: int = 120,
    history: int = 3,
    owner: Person = GRACE,
) -> Opportunity:
    changes = [
        HistoryEntry(ADA, "created", None, "Fleet renewal", NOW),
        HistoryEntry(GRACE, "stage", "lead", "qualified", NOW),
        HistoryEntry(GRACE, "probability", "25", "50", NOW),
        HistoryEntry(GRACE, "amount", "1000.00", "12500.00", NOW),
        HistoryEntry(GRACE, "owner", ADA.name, GRACE.name, NOW),
        HistoryEntry(GRACE, "lost_reason", None, prose(locale, 60), NOW),
        HistoryEntry(GRACE, "mystery", "a", "b", NOW),
    ]
    return Opportunity(
        number=number,
        name=name if name is not None else prose(locale, 40).strip(),
        account=ACME,
        contact=WILE,
        amount=Decimal(amount),
        currency=currency,
        stage=stage,
        own_probability=None if stage.is_closed else 40,
        close_date=date(2026, 12, 15),
        owner=owner,
        next_step=prose(locale, 80),
        lost_reason=prose(locale, 100) if stage is Stage.LOST else None,
        last_open_stage=Stage.NEGOTIATION if stage.is_closed else stage,
        closed_on=TODAY if stage.is_closed else None,
        created_at=NOW,
        updated_at=NOW + timedelta(hours=2),
        comments=tuple(
            Comment((ADA, GRACE)[i % 2], prose(locale, note_length), NOW) for i in range(notes)
        ),
        history=tuple(changes[i % len(changes)] for i in range(history)),
    )


def an_account(locale: str, number: int = 3) -> Account:
    return Account(number, ACME.name, "acme.example", prose(locale, 300), NOW, NOW)


def a_contact(locale: str, number: int = 5, account: AccountRef | None = ACME) -> Contact:
    return Contact(
        number, WILE.name, "wile@acme.example", "+49 30 1234567", "CFO", account, NOW, NOW
    )


def a_pipeline(*, empty: bool = False) -> Pipeline:
    entries = (
        []
        if empty
        else [
            PipelineEntry(stage, currency, Decimal("999999999999.99"), stage.default_probability)
            for stage in Stage
            if not stage.is_closed
            for currency in ("EUR", "USD", "CHF", "JPY")
        ]
    )
    if not empty:
        entries.append(PipelineEntry(Stage.WON, "EUR", Decimal("5000.00"), 100, TODAY))
    return build_pipeline(entries, TODAY)


def invalid_opportunity() -> InvalidInput:
    return InvalidInput(
        {
            "name": ("field.required", {}),
            "amount": ("field.too_many_digits", {"max": 12}),
            "currency": ("crm.unknown_currency", {}),
            "close_date": ("field.bad_date", {}),
            "contact_email": ("crm.bad_email", {}),
            "contact": ("crm.contact_name_needed", {}),
        }
    )


@scenarios("crm.opportunity_form")
def _opportunity_form(fn: CardFn, locale: str) -> dict[str, Rendered]:
    filled = {
        "name": "Fleet renewal 2027",
        "account": "Acme",
        "contact": "Wile E. Coyote",
        "contact_email": "wile@acme.example",
        "amount": "12500.00",
        "currency": "EUR",
        "close_date": "2026-12-15",
        "next_step": "Send the offer",
    }
    wrong = {
        **filled,
        "name": "",
        "amount": "1234567890123",
        "currency": "XYZ",
        "close_date": "next friday",
        "contact": "",
        "contact_email": "nope",
    }
    maximal = {
        **filled,
        "name": prose(locale, NAME_MAX),
        "account": prose(locale, ACCOUNT_NAME_MAX),
        "next_step": prose(locale, NEXT_STEP_MAX),
    }
    return {
        "empty": fn(locale),
        "filled": fn(locale, filled),
        "invalid input": fn(locale, wrong, invalid_opportunity()),
        "refused at quota": fn(
            locale, filled, banner=quota_reached_banner(locale, quota_exceeded())
        ),
        "maximal input with errors": fn(locale, maximal, invalid_opportunity()),
    }


@scenarios("crm.opportunity_detail")
def _opportunity_detail(fn: CardFn, locale: str) -> dict[str, Rendered]:
    many = tuple(Person(f"29:p-{i}", f"Sales Person Number {i}") for i in range(100))
    return {
        "proposal": fn(locale, an_opportunity(locale), people=AGENTS),
        "lead, no people": fn(locale, an_opportunity(locale, stage=Stage.LEAD, notes=0, history=1)),
        "won": fn(
            locale,
            an_opportunity(locale, stage=Stage.WON),
            people=AGENTS,
            notice="Opportunity #17 was updated.",
        ),
        "lost": fn(locale, an_opportunity(locale, stage=Stage.LOST, currency="JPY")),
        "refused lost without reason": fn(
            locale,
            an_opportunity(locale),
            people=AGENTS,
            error=InvalidInput({"lost_reason": ("crm.lost_reason_required", {})}),
            inputs={"number": 17, "stage": "lost", "lost_reason": ""},
        ),
        "refused amount kept": fn(
            locale,
            an_opportunity(locale),
            error=InvalidInput({"amount": ("field.too_many_places", {"max": 2})}),
            inputs={"number": 17, "amount": "1.005", "currency": "XYZ", "probability": "x"},
        ),
        "maximal": fn(
            locale,
            an_opportunity(
                locale,
                2_147_483_647,
                name=prose(locale, NAME_MAX),
                amount="999999999999.99",
                notes=20,
                note_length=NOTE_MAX,
                history=40,
            ),
            people=many,
            error=InvalidInput({"note": ("field.too_long", {"max": NOTE_MAX, "length": 4100})}),
            inputs={"note": prose(locale, NOTE_MAX), "lost_reason": prose(locale, LOST_REASON_MAX)},
        ),
    }


@scenarios("crm.opportunity_list")
def _opportunity_list(fn: CardFn, locale: str) -> dict[str, Rendered]:
    items = tuple(
        an_opportunity(
            locale, 100 + i, stage=list(Stage)[i % len(Stage)], name=prose(locale, NAME_MAX)
        )
        for i in range(PAGE_SIZE)
    )
    return {
        "empty": fn(locale, Page((), 0, 0), OpportunityFilter.MINE),
        "first page": fn(locale, Page(items, 0, 35), OpportunityFilter.OPEN),
        "middle page": fn(locale, Page(items, 1, 35), OpportunityFilter.WON),
        "last page": fn(locale, Page(items[:5], 3, 35), OpportunityFilter.ALL),
    }


@scenarios("crm.pipeline_card")
def _pipeline(fn: CardFn, locale: str) -> dict[str, Rendered]:
    return {
        "empty": fn(locale, a_pipeline(empty=True)),
        "four currencies, largest amounts": fn(locale, a_pipeline()),
        "mine": fn(locale, a_pipeline(), True),
    }


@scenarios("crm.account_list")
def _account_list(fn: CardFn, locale: str) -> dict[str, Rendered]:
    accounts = tuple(an_account(locale, i + 1) for i in range(PAGE_SIZE))
    return {
        "empty": fn(locale, Page((), 0, 0)),
        "filtered": fn(locale, Page(accounts[:3], 0, 3), "acme"),
        "paged": fn(locale, Page(accounts, 1, 45)),
    }


@scenarios("crm.account_detail")
def _account_detail(fn: CardFn, locale: str) -> dict[str, Rendered]:
    contacts = tuple(a_contact(locale, i + 1) for i in range(10))
    opportunities = tuple(an_opportunity(locale, i + 1, notes=0, history=0) for i in range(10))
    return {
        "bare": fn(locale, Account(1, "Acme", "", "", NOW, NOW)),
        "full": fn(locale, an_account(locale), contacts, opportunities, notice="Updated."),
        "refused": fn(
            locale,
            an_account(locale),
            error=InvalidInput({"domain": ("crm.bad_domain", {})}),
            inputs={"domain": "not a domain", "notes": prose(locale, NOTES_MAX)},
        ),
    }


@scenarios("crm.contact_list")
def _contact_list(fn: CardFn, locale: str) -> dict[str, Rendered]:
    contacts = tuple(a_contact(locale, i + 1, (ACME, None)[i % 2]) for i in range(PAGE_SIZE))
    return {
        "empty": fn(locale, Page((), 0, 0), "nobody"),
        "paged": fn(locale, Page(contacts, 0, 25)),
    }


@scenarios("crm.contact_detail")
def _contact_detail(fn: CardFn, locale: str) -> dict[str, Rendered]:
    opportunities = tuple(an_opportunity(locale, i + 1, notes=0, history=0) for i in range(10))
    return {
        "bare": fn(locale, Contact(1, "Wile", "", "", "", None, NOW, NOW)),
        "full": fn(locale, a_contact(locale), opportunities, notice="Updated."),
        "refused": fn(
            locale,
            a_contact(locale),
            error=InvalidInput({"email": ("crm.bad_email", {})}),
            inputs={"email": "nope", "phone": "call me"},
        ),
    }


@scenarios("crm.opportunity_notice_card")
def _opportunity_notice(fn: CardFn, locale: str) -> dict[str, Rendered]:
    return {
        stage.value: fn(locale, OpportunityNotice(42, prose(locale, NAME_MAX), GRACE.name, stage))
        for stage in Stage
    }


# -- scenarios generated from type hints -----------------------------------------------------


class CannotBuild(TypeError):
    pass


def _known_value(tp: Any, name: str, locale: str) -> Any:
    """Values of domain types whose fields depend on one another (or on the catalog)."""
    known: dict[Any, Callable[[], Any]] = {
        Person: lambda: GRACE,
        Ticket: lambda: a_ticket(locale),
        Page[Ticket]: lambda: a_page(locale, 3),
        Page: lambda: a_page(locale, 3),
        HistoryEntry: lambda: HistoryEntry(GRACE, "status", "new", "open", NOW),
        Comment: lambda: Comment(ADA, prose(locale, 200), NOW),
        Plan: lambda: PREMIUM if "target" in name else STANDARD,
        PlanCatalog: lambda: CATALOG,
        BillingPeriod: lambda: PERIOD,
        QuotaState: lambda: quota(App.TICKETS, 212, 250),
        QuotaExceeded: quota_exceeded,
        InvalidInput: invalid_form,
        StatementLine: lambda: statement([(PREMIUM, 20)], current=True).lines[0],
        Statement: lambda: statement([(PREMIUM, 20), (PROFESSIONAL, 11)], current=True),
        DomainError: NotFound,
        Role: lambda: Role.AGENT,
        datetime: lambda: NOW,
        date: lambda: TODAY,
        Decimal: lambda: Decimal("49.00"),
        Opportunity: lambda: an_opportunity(locale),
        Account: lambda: an_account(locale),
        Contact: lambda: a_contact(locale),
        Pipeline: a_pipeline,
        Page[Opportunity]: lambda: Page((an_opportunity(locale),), 0, 1),
        Page[Account]: lambda: Page((an_account(locale),), 0, 1),
        Page[Contact]: lambda: Page((a_contact(locale),), 0, 1),
    }
    if tp in known:
        return known[tp]()
    raise KeyError(tp)


INT_BY_NAME = {
    "number": 42,
    "page": 0,
    "total": 35,
    "used": 212,
    "limit": 250,
    "days": 30,
    "threshold": 90,
    "percent": 85,
}
STR_BY_NAME = {
    "locale": None,  # replaced by the scenario's locale
    "typed": "nwe tikcet",
    "suggestion": "new ticket",
    "reference": "a1b2c3d4",
    "key": "error.duplicate",
    "notice": "Ticket #42 was updated.",
    "currency": "EUR",
}


def build(tp: Any, name: str, locale: str, *, full: bool) -> Any:
    """A realistic value of type `tp` for a parameter or field called `name`."""
    if name == "locale":
        return locale
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in args if a is not type(None)]
        for option in options:
            try:
                return build(option, name, locale, full=full)
            except CannotBuild:
                continue
        raise CannotBuild(f"{name}: {tp}")
    if tp is Any:
        raise CannotBuild(f"{name}: Any")
    try:
        return _known_value(tp, name, locale)
    except (KeyError, TypeError):
        pass
    if isinstance(tp, type) and issubclass(tp, Enum):
        return list(tp)[-1 if full else 0]
    if tp is bool:
        return full
    if tp is int:
        return INT_BY_NAME.get(name, 3)
    if tp is str:
        return STR_BY_NAME.get(name) or f"Sample {name.replace('_', ' ')}"
    if origin in (list, tuple, Sequence, typing.Sequence) or tp in (list, tuple):
        item = args[0] if args else Any
        if typing.get_origin(item) in (dict, Mapping) or item is dict:
            return ()  # elements (a banner): hand-written scenarios cover real ones
        if origin is tuple and len(args) >= 2 and args[1] is not Ellipsis:
            return tuple(build(a, f"{name}[{i}]", locale, full=full) for i, a in enumerate(args))
        return tuple(build(item, name, locale, full=full) for _ in range(2))
    if origin in (dict, Mapping, typing.Mapping) or tp in (dict, Mapping):
        key_type, value_type = args if args else (str, Any)
        if isinstance(key_type, type) and issubclass(key_type, Enum):
            return {k: build(value_type, f"{name}.{k.value}", locale, full=full) for k in key_type}
        return {}
    if isinstance(tp, type) and is_dataclass(tp):
        hints = typing.get_type_hints(tp)
        values = {}
        for f in fields(tp):
            if f.init:
                values[f.name] = build(hints[f.name], f.name, locale, full=full)
        return tp(**values)
    if isinstance(tp, type) and issubclass(tp, DomainError):
        return _call_with_built_args(tp, locale, full=full)
    raise CannotBuild(f"{name}: {tp!r}")


def _call_with_built_args(fn: Callable[..., Any], locale: str, *, full: bool) -> Any:
    target = fn.__init__ if isinstance(fn, type) else fn  # type: ignore[misc]
    hints = typing.get_type_hints(target)
    positional: list[Any] = []
    keywords: dict[str, Any] = {}
    for parameter in inspect.signature(fn).parameters.values():
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        required = parameter.default is inspect.Parameter.empty
        if not required and not full:
            continue
        try:
            value = build(hints.get(parameter.name, Any), parameter.name, locale, full=full)
        except CannotBuild:
            if required:
                raise
            continue
        if parameter.kind is parameter.KEYWORD_ONLY:
            keywords[parameter.name] = value
        else:
            positional.append(value)
    return fn(*positional, **keywords)


def generated_calls(fn: CardFn, locale: str) -> dict[str, Callable[[], Rendered]]:
    return {
        "generated, required arguments": lambda: _call_with_built_args(fn, locale, full=False),
        "generated, every argument": lambda: _call_with_built_args(fn, locale, full=True),
    }


def generated(fn: CardFn, locale: str) -> dict[str, Rendered]:
    return {variant: call() for variant, call in generated_calls(fn, locale).items()}


# -- discovery -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CardFunction:
    module: str
    name: str
    fn: Callable[..., Rendered]

    @property
    def id(self) -> str:
        return f"{self.module.removeprefix('cards.')}.{self.name}"


def _renders_card(fn: Callable[..., Any]) -> bool:
    """Returns a card (dict) or card elements (list of dicts): what this test validates."""
    try:
        returned = typing.get_type_hints(fn).get("return")
    except Exception as error:  # an unresolvable hint must not hide a card from this test
        raise AssertionError(f"cannot read the type hints of {fn.__qualname__}: {error}") from error
    origin = typing.get_origin(returned)
    if origin is dict or returned is dict:
        return True
    if origin in (list, Sequence, typing.Sequence):
        (item,) = typing.get_args(returned) or (Any,)
        return typing.get_origin(item) is dict or item is dict
    return False


def discover() -> list[CardFunction]:
    found: list[CardFunction] = []
    for info in sorted(pkgutil.iter_modules(cards.__path__), key=lambda i: i.name):
        module_name = f"cards.{info.name}"
        if module_name in BUILDING_BLOCKS or info.name.startswith("_"):
            continue
        module = importlib.import_module(module_name)
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if fn.__module__ == module_name and not name.startswith("_") and _renders_card(fn):
                found.append(CardFunction(module_name, name, fn))
    return found


CARD_FUNCTIONS = discover()


def render_all(card_function: CardFunction, locale: str) -> dict[str, Card]:
    """Every scenario of one card function, as whole cards (a banner goes into a card)."""
    rendered: dict[str, Rendered] = {}
    hand_written = HAND_WRITTEN.get(card_function.id)
    if hand_written is None:
        try:
            rendered.update(generated(card_function.fn, locale))
        except CannotBuild as error:
            pytest.fail(
                f"{card_function.id}: no hand-written scenario, and its arguments cannot be "
                f"generated ({error}); add @scenarios({card_function.id!r}) to "
                f"{Path(__file__).name}"
            )
        return {variant: as_card(result) for variant, result in rendered.items()}
    rendered.update(hand_written(card_function.fn, locale))
    # Generated values are blind to meaning (a string that must be a message key, say); next to
    # hand-written scenarios they only add what they can render.
    for variant, call in generated_calls(card_function.fn, locale).items():
        try:
            rendered[variant] = call()
        except Exception:
            continue
    return {variant: as_card(result) for variant, result in rendered.items()}


def as_card(result: Rendered) -> Card:
    """A card as is; a banner (a list of elements) inside a card, as the product shows it."""
    return result if isinstance(result, dict) else make_card(list(result))


def without_teams_extension(card: Card) -> Card:
    """The official schema forbids unknown root keys; `msteams` is Teams' documented one."""
    return {k: v for k, v in card.items() if k != TEAMS_ROOT_EXTENSION}


def schema_errors(card: Card) -> list[str]:
    """Readable errors: the schema is a tree of anyOf, so point at the deepest best match."""
    problems = []
    for error in VALIDATOR.iter_errors(without_teams_extension(card)):
        while error.context:
            error = best_match(error.context)
        problems.append(f"{error.json_path}: {error.message[:300]}")
    return problems


def card_bytes(card: Card) -> int:
    # What goes over the wire: msrest posts json.dumps(...) with its ASCII escapes.
    return len(json.dumps(card).encode("utf-8"))


# -- the checks ------------------------------------------------------------------------------


def test_cards_are_discovered() -> None:
    ids = {f.id for f in CARD_FUNCTIONS}
    assert {
        "general.welcome_card",
        "general.error_card",
        "tickets.ticket_form",
        "tickets.ticket_detail",
        "tickets.ticket_list",
    } <= ids, sorted(ids)


def test_hand_written_scenarios_name_existing_card_functions() -> None:
    """A renamed card function must not leave its scenarios silently unused. (A new one needs
    none to be checked: the generated scenarios cover it.)"""
    stale = set(HAND_WRITTEN) - {f.id for f in CARD_FUNCTIONS}
    assert not stale, f"scenarios for card functions that no longer exist: {sorted(stale)}"


@pytest.fixture(params=LOCALES)
def locale(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


@pytest.fixture(params=CARD_FUNCTIONS, ids=[f.id for f in CARD_FUNCTIONS])
def rendered(request: pytest.FixtureRequest, locale: str) -> dict[str, Card]:
    rendered_cards = render_all(request.param, locale)
    assert rendered_cards, f"{request.param.id}: nothing rendered"
    return rendered_cards


def test_card_is_valid_against_the_adaptive_cards_1_5_schema(rendered: dict[str, Card]) -> None:
    problems = {variant: schema_errors(card) for variant, card in rendered.items()}
    assert not {v: p for v, p in problems.items() if p}


def test_card_is_version_1_5_with_only_1_5_elements(rendered: dict[str, Card]) -> None:
    for variant, card in rendered.items():
        assert card["type"] == "AdaptiveCard", variant
        assert card["version"] == TEAMS_VERSION, variant
        extension = card.get(TEAMS_ROOT_EXTENSION, {})
        assert set(extension) <= TEAMS_EXTENSION_KEYS, (variant, extension)
        for node in walk(card):
            kind = node.get("type")
            if not isinstance(kind, str):
                continue
            assert kind in SCHEMA_TYPES, f"{variant}: {kind!r} is not an Adaptive Cards 1.5 type"
            assert SCHEMA_TYPES[kind] <= _version(TEAMS_VERSION), (variant, kind)


def test_every_action_execute_has_a_verb_that_its_data_repeats(rendered: dict[str, Card]) -> None:
    for variant, card in rendered.items():
        for node in walk(card):
            if node.get("type") != "Action.Execute":
                continue
            verb = node.get("verb")
            assert isinstance(verb, str) and verb.strip(), (variant, node)
            data = node.get("data")
            # Action.Submit clients (and the message path) only see `data`: it must carry the verb.
            assert isinstance(data, dict) and data.get("verb") == verb, (variant, node)
            assert isinstance(node.get("title"), str) and node["title"].strip(), (variant, node)


def test_every_input_has_an_id_and_a_label(rendered: dict[str, Card]) -> None:
    for variant, card in rendered.items():
        ids: list[str] = []
        for node in walk(card):
            if not str(node.get("type", "")).startswith("Input."):
                continue
            assert isinstance(node.get("id"), str) and node["id"].strip(), (variant, node)
            assert isinstance(node.get("label"), str) and node["label"].strip(), (variant, node)
            ids.append(node["id"])
        assert len(ids) == len(set(ids)), f"{variant}: input ids repeat: {ids}"


def test_card_stays_under_the_teams_message_size_limit(rendered: dict[str, Card]) -> None:
    sizes = {variant: card_bytes(card) for variant, card in rendered.items()}
    assert all(size < MAX_CARD_BYTES for size in sizes.values()), sizes


def test_maximal_ticket_detail_is_large_yet_fits(locale: str) -> None:
    """The size check is only worth something if the maximal scenario really is big."""
    card = _ticket_detail(ticket_detail, locale)["maximal"]
    text = json.dumps(card, ensure_ascii=False)
    assert prose(locale, DESCRIPTION_MAX) in text
    assert prose(locale, TITLE_MAX) in text
    assert prose(locale, COMMENT_MAX) in text  # the comment the user typed comes back
    assert 10 * 1024 < card_bytes(card) < MAX_CARD_BYTES


def test_every_verb_on_a_card_has_a_handler_in_the_app_registry(
    rendered: dict[str, Card],
) -> None:
    registry = build_registry()
    for variant, card in rendered.items():
        missing = [verb for verb in verbs(card) if registry.verb(verb) is None]
        assert not missing, (variant, missing)
