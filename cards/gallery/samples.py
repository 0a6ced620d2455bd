"""Realistic values for every card of the product, in the user's language: what the gallery
shows and what the rendering test measures. Names are "module.function: variant"."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from bot.apps import build_registry
from bot.domain.billing import BillingPeriod, ChangeKind, StatementLine
from bot.domain.checklists import (
    Checklist,
    ChecklistEvent,
    ChecklistFilter,
    ChecklistItem,
    ChecklistNotice,
    ChecklistStatus,
    DueItem,
    ItemSpec,
    ReminderNotice,
    Template,
)
from bot.domain.crm import (
    Account,
    AccountRef,
    Contact,
    ContactRef,
    Opportunity,
    OpportunityFilter,
    OpportunityNotice,
    PipelineEntry,
    Stage,
    build_pipeline,
)
from bot.domain.errors import InvalidInput, InvalidTransition, NotFound, OnlyAdmins
from bot.domain.items import Comment, HistoryEntry
from bot.domain.notices import QuotaNotice, TicketEvent, TicketNotice
from bot.domain.paging import Page
from bot.domain.people import Person
from bot.domain.plans import App, Plan, Term, load_catalog
from bot.domain.quota import QuotaExceeded, QuotaState
from bot.domain.roles import Role
from bot.domain.subscription import ScheduledChange, Statement
from bot.domain.tickets import Priority, Status, Ticket, TicketFilter
from cards import billing, checklists, crm, general, notifications, tickets
from cards.common import Card, card

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
CATALOG = load_catalog()
FREE, STANDARD = CATALOG.free, CATALOG.get("standard")
PREMIUM, PROFESSIONAL = CATALOG.get("premium"), CATALOG.get("professional")
PERIOD = BillingPeriod(date(2026, 10, 15), date(2026, 11, 15))

ADA = Person("29:1ada-lovelace", "Ada Lovelace")
GRACE = Person("29:1grace-hopper", "Grace Hopper")
ALAN = Person("29:1alan-turing", "Alan Turing")
JOSE = Person("29:1jose-muller", "José Müller-Lüdenscheidt")
AGENTS = (GRACE, ALAN, JOSE)

TEXT = {
    "en": {
        # The title a user typed as a markdown link: it must show as typed, never as a link.
        "title": "[Printer](https://evil.example) prints blank pages",
        "description": "Since Monday the printer on the 2nd floor prints blank pages; "
        "restarting it did not help.",
        "comment": "I ordered a new fuser, it arrives on Thursday.",
        "category": "Hardware",
    },
    "de": {
        "title": "[Drucker](https://evil.example) druckt leere Seiten",
        "description": "Seit Montag druckt der Drucker im 2. Stock nur leere Seiten; ein "
        "Neustart hat nicht geholfen.",
        "comment": "Ich habe eine neue Fixiereinheit bestellt, sie kommt am Donnerstag.",
        "category": "Hardware",
    },
}


def _text(locale: str, name: str) -> str:
    return TEXT[locale[:2]][name]


def _ticket(locale: str, number: int = 42, status: Status = Status.IN_PROGRESS) -> Ticket:
    return Ticket(
        number=number,
        title=_text(locale, "title"),
        description=_text(locale, "description"),
        priority=Priority.HIGH,
        category=_text(locale, "category"),
        status=status,
        requester=ADA,
        assignee=GRACE if status is not Status.NEW else None,
        due=date(2026, 11, 20),
        created_at=NOW,
        updated_at=NOW + timedelta(hours=3),
        comments=(Comment(GRACE, _text(locale, "comment"), NOW + timedelta(hours=2)),),
        history=(
            HistoryEntry(ADA, "created", None, None, NOW),
            HistoryEntry(GRACE, "assignee", None, GRACE.name, NOW + timedelta(minutes=5)),
            HistoryEntry(GRACE, "status", "open", "in_progress", NOW + timedelta(hours=1)),
        ),
    )


def _quota(app: App, used: int, limit: int) -> QuotaState:
    return QuotaState(app, used, limit, PERIOD.end)


QUOTAS = (
    _quota(App.TICKETS, 212, 250),
    _quota(App.CHECKLISTS, 40, 100),
    _quota(App.OPPORTUNITIES, 100, 100),
)


def _exceeded(current: Plan = STANDARD) -> QuotaExceeded:
    limit = current.quotas[App.TICKETS]
    return QuotaExceeded(_quota(App.TICKETS, limit, limit), current, CATALOG.above(current))


def _statement(lines: list[tuple[Plan, int]], *, current: bool, refund: str = "0") -> Statement:
    start, made = PERIOD.start, []
    for plan, days in lines:
        amount = (plan.price * days / PERIOD.days).quantize(Decimal("0.01"))
        made.append(StatementLine(plan, start, start + timedelta(days=days), days, amount))
        start += timedelta(days=days)
    refunds = (Decimal(refund),) if Decimal(refund) else ()
    total = sum((line.amount for line in made), Decimal("0.00")) - sum(refunds, Decimal("0"))
    return Statement(PERIOD, tuple(made), refunds, total, current)


ONBOARDING = {
    "en": ("Onboarding a new hire", ["Laptop ready", "Accounts created", "Welcome lunch"]),
    "de": ("Einarbeitung", ["Laptop bereit", "Konten angelegt", "Begrüßungsessen"]),
}


def _template(locale: str, number: int = 3) -> Template:
    title, items = ONBOARDING[locale[:2]]
    specs = tuple(ItemSpec(text, i == 1) for i, text in enumerate(items))
    return Template(number, title, "", specs, False, GRACE, NOW)


def _checklist(locale: str, status: ChecklistStatus = ChecklistStatus.IN_PROGRESS) -> Checklist:
    title, texts = ONBOARDING[locale[:2]]
    items = tuple(
        ChecklistItem(i + 1, text, i == 1, GRACE if i == 0 else None, NOW if i == 0 else None)
        for i, text in enumerate(texts)
    )
    return Checklist(
        number=7,
        title=f"{title}: José",
        status=status,
        starter=ADA,
        assignee=GRACE,
        reviewer=ALAN,
        due=date(2026, 11, 20),
        items=items,
        template=3,
        created_at=NOW,
        updated_at=NOW + timedelta(hours=1),
    )


ACME = AccountRef(3, "Acme Müller GmbH")
WILE = ContactRef(5, "Wile E. Coyote")


def _opportunity(locale: str, number: int = 17, stage: Stage = Stage.PROPOSAL) -> Opportunity:
    name = {"en": "Fleet renewal 2027", "de": "Flottenerneuerung 2027"}[locale[:2]]
    return Opportunity(
        number=number,
        name=name,
        account=ACME,
        contact=WILE,
        amount=Decimal("12500.00"),
        currency="EUR",
        stage=stage,
        own_probability=None,
        close_date=date(2026, 12, 15),
        owner=GRACE,
        next_step=_text(locale, "comment"),
        lost_reason=None,
        last_open_stage=stage,
        closed_on=None,
        created_at=NOW,
        updated_at=NOW + timedelta(hours=2),
        comments=(Comment(GRACE, _text(locale, "comment"), NOW),),
        history=(HistoryEntry(ADA, "created", None, name, NOW),),
    )


def _pipeline() -> Any:
    entries = [
        PipelineEntry(stage, currency, Decimal(amount), stage.default_probability)
        for stage, currency, amount in (
            (Stage.LEAD, "EUR", "40000.00"),
            (Stage.PROPOSAL, "EUR", "12500.00"),
            (Stage.PROPOSAL, "USD", "8000.00"),
            (Stage.NEGOTIATION, "CHF", "30000.00"),
        )
    ]
    entries.append(PipelineEntry(Stage.WON, "EUR", Decimal("5000.00"), 100, NOW.date()))
    return build_pipeline(entries, NOW.date())


def _as_card(rendered: Any) -> Card:
    """A card as is; a banner (card elements) inside a card, as the product shows it."""
    return rendered if isinstance(rendered, dict) else card(list(rendered))


def _detail(locale: str, role: Role, viewer: Person, **kwargs: Any) -> Card:
    return tickets.ticket_detail(
        locale, _ticket(locale), viewer=viewer, role=role, agents=AGENTS, as_of=NOW, **kwargs
    )


def samples(locale: str) -> dict[str, Card]:
    """Every card of the product, by name, in `locale`."""
    scheduled = ScheduledChange(PREMIUM, STANDARD, PERIOD.end)
    lines = _statement([(PREMIUM, 20), (PROFESSIONAL, 11)], current=True).lines
    total = sum((line.amount for line in lines), Decimal("0.00"))
    limits = {App.TICKETS: 2_258, App.CHECKLISTS: 1_129, App.OPPORTUNITIES: 1_129}
    used = {App.TICKETS: 812, App.CHECKLISTS: 1_200, App.OPPORTUNITIES: 3}
    change = (PREMIUM, PROFESSIONAL, ChangeKind.PRORATED, PERIOD, lines, total, limits, used)
    monthly, annual = CATALOG.for_term(Term.MONTHLY), CATALOG.for_term(Term.ANNUAL)
    transition = InvalidTransition(
        current=Status.CLOSED, target=Status.PENDING, allowed=(Status.OPEN,)
    )
    made: dict[str, Callable[[], Any]] = {
        "general.welcome_card: default": lambda: general.welcome_card(locale),
        "general.help_card: default": lambda: general.help_card(
            locale, build_registry().help_lines()
        ),
        "general.unknown_command_card: suggestion": lambda: general.unknown_command_card(
            locale, "tickts", "tickets"
        ),
        "general.error_card: only admins": lambda: general.error_card(
            locale, OnlyAdmins(admins="Ada Lovelace")
        ),
        "general.error_card: not found": lambda: general.error_card(locale, NotFound()),
        "general.notice_card: default": lambda: general.notice_card(
            locale, "ticket.updated", number=42
        ),
        "general.apology_card: default": lambda: general.apology_card(locale, "a1b2c3d4"),
        "general.roles_card: changed": lambda: general.roles_card(
            locale, [ADA], AGENTS, changed=(JOSE, Role.AGENT)
        ),
        "tickets.ticket_form: empty": lambda: tickets.ticket_form(locale),
        "tickets.ticket_form: refused at quota": lambda: tickets.ticket_form(
            locale,
            {"title": _text(locale, "title"), "priority": "high"},
            banner=billing.quota_reached_banner(locale, _exceeded()),
        ),
        "tickets.ticket_form: invalid input": lambda: tickets.ticket_form(
            locale, {"title": ""}, InvalidInput({"title": ("field.required", {})})
        ),
        "tickets.ticket_detail: agent": lambda: _detail(locale, Role.AGENT, ALAN),
        "tickets.ticket_detail: assignee": lambda: _detail(locale, Role.AGENT, GRACE),
        "tickets.ticket_detail: member": lambda: _detail(locale, Role.MEMBER, ADA),
        "tickets.ticket_detail: in a channel, read-only": lambda: _detail(
            locale, Role.MEMBER, ADA, read_only=True, refresh_for=(ADA.id, GRACE.id)
        ),
        "tickets.ticket_detail: refused": lambda: _detail(
            locale, Role.AGENT, GRACE, error=transition, inputs={"status": "pending"}
        ),
        "tickets.ticket_list: first page": lambda: tickets.ticket_list(
            locale,
            Page(tuple(_ticket(locale, 40 + i, list(Status)[i]) for i in range(5)), 0, 35),
            TicketFilter.MINE,
        ),
        "checklists.template_form: empty": lambda: checklists.template_form(locale),
        "checklists.template_detail: agent": lambda: checklists.template_detail(
            locale, _template(locale), can_manage=True
        ),
        "checklists.template_list: agent": lambda: checklists.template_list(
            locale, Page((_template(locale), _template(locale, 4)), 0, 2), can_manage=True
        ),
        "checklists.template_choice_card: default": lambda: checklists.template_choice_card(
            locale, "onb", (_template(locale), _template(locale, 4))
        ),
        "checklists.checklist_form: from a template": lambda: checklists.checklist_form(
            locale,
            templates=(_template(locale),),
            people=AGENTS,
            template=_template(locale),
        ),
        "checklists.checklist_detail: assignee": lambda: checklists.checklist_detail(
            locale, _checklist(locale), can_check=True, can_submit=True, can_review=False
        ),
        "checklists.checklist_detail: reviewer": lambda: checklists.checklist_detail(
            locale,
            _checklist(locale, ChecklistStatus.SUBMITTED),
            can_check=False,
            can_submit=False,
            can_review=True,
        ),
        "checklists.checklist_list: mine": lambda: checklists.checklist_list(
            locale, Page((_checklist(locale),), 0, 1), ChecklistFilter.MINE, NOW.date()
        ),
        "checklists.checklist_notice_card: submitted": lambda: checklists.checklist_notice_card(
            locale, ChecklistNotice(ChecklistEvent.SUBMITTED, 7, _checklist(locale).title, "Grace")
        ),
        "checklists.reminder_card: default": lambda: checklists.reminder_card(
            locale,
            ReminderNotice(
                NOW.date(),
                (
                    DueItem("tickets", 42, _text(locale, "title"), date(2026, 10, 30)),
                    DueItem("checklists", 7, _checklist(locale).title, NOW.date()),
                ),
            ),
        ),
        "crm.opportunity_form: empty": lambda: crm.opportunity_form(locale),
        "crm.opportunity_detail: proposal": lambda: crm.opportunity_detail(
            locale, _opportunity(locale), people=AGENTS
        ),
        "crm.opportunity_list: open": lambda: crm.opportunity_list(
            locale,
            Page((_opportunity(locale), _opportunity(locale, 18, Stage.LEAD)), 0, 2),
            OpportunityFilter.OPEN,
        ),
        "crm.pipeline_card: four stages, three currencies": lambda: crm.pipeline_card(
            locale, _pipeline()
        ),
        "crm.account_list: default": lambda: crm.account_list(
            locale, Page((Account(3, ACME.name, "acme.example", "", NOW, NOW),), 0, 1)
        ),
        "crm.account_detail: default": lambda: crm.account_detail(
            locale,
            Account(3, ACME.name, "acme.example", "", NOW, NOW),
            (Contact(5, WILE.name, "wile@acme.example", "", "CFO", ACME, NOW, NOW),),
            (_opportunity(locale),),
        ),
        "crm.contact_list: default": lambda: crm.contact_list(
            locale,
            Page((Contact(5, WILE.name, "wile@acme.example", "", "CFO", ACME, NOW, NOW),), 0, 1),
        ),
        "crm.contact_detail: default": lambda: crm.contact_detail(
            locale,
            Contact(5, WILE.name, "wile@acme.example", "", "CFO", ACME, NOW, NOW),
            (_opportunity(locale),),
        ),
        "crm.opportunity_notice_card: owner": lambda: crm.opportunity_notice_card(
            locale, OpportunityNotice(17, _opportunity(locale).name, "Grace", Stage.PROPOSAL)
        ),
        "billing.usage_card: standard": lambda: billing.usage_card(
            locale, STANDARD, PERIOD, QUOTAS
        ),
        "billing.usage_card: change scheduled": lambda: billing.usage_card(
            locale, PREMIUM, PERIOD, QUOTAS, scheduled=scheduled
        ),
        "billing.call_off_card: default": lambda: billing.call_off_card(locale, scheduled),
        "billing.end_of_term_card: confirm": lambda: billing.end_of_term_card(
            locale, scheduled, done=False
        ),
        "billing.plans_card: admin": lambda: billing.plans_card(
            locale, STANDARD, monthly, annual, True
        ),
        "billing.plans_card: member": lambda: billing.plans_card(
            locale, STANDARD, monthly, annual, False
        ),
        "billing.plan_change_card: preview": lambda: billing.plan_change_card(
            locale, *change, done=False
        ),
        "billing.plan_change_card: done": lambda: billing.plan_change_card(
            locale, *change, done=True
        ),
        "billing.cancellation_card: confirm": lambda: billing.cancellation_card(
            locale, PREMIUM, Decimal("49.00"), NOW + timedelta(hours=72), FREE, done=False
        ),
        "billing.statement_card: current": lambda: billing.statement_card(
            locale, [_statement([(PREMIUM, 20), (PROFESSIONAL, 11)], current=True)]
        ),
        "billing.statement_card: history": lambda: billing.statement_card(
            locale,
            [
                _statement([(PREMIUM, 31)], current=True),
                _statement([(STANDARD, 10), (PREMIUM, 21)], current=False, refund="6.13"),
            ],
        ),
        "billing.quota_reached_banner: default": lambda: billing.quota_reached_banner(
            locale, _exceeded()
        ),
        "billing.near_limit_banner: default": lambda: billing.near_limit_banner(locale, QUOTAS[:2]),
        "billing.quota_lines: default": lambda: billing.quota_lines(locale, QUOTAS[0]),
        "notifications.quota_warning_card: default": lambda: notifications.quota_warning_card(
            locale, QuotaNotice(App.TICKETS, 200, 250, 80, PERIOD.end)
        ),
        "notifications.ticket_notice_card: commented": lambda: notifications.ticket_notice_card(
            locale,
            TicketNotice(
                TicketEvent.COMMENTED,
                42,
                _text(locale, "title"),
                GRACE.name,
                Status.IN_PROGRESS,
                _text(locale, "comment"),
            ),
        ),
    }
    return {name: _as_card(make()) for name, make in made.items()}


def card_function(name: str) -> str:
    """The card function a sample shows ("module.function")."""
    return name.split(":", 1)[0]
