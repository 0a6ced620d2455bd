"""User text is data, never markup: every card shows what users typed (and the names Teams
supplies) literally. Every card function is rendered with hostile strings in every user field;
no live link, autolink, emphasis or block markup may survive, and the text still reads as typed."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import typing
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

import cards
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
    Stage,
)
from bot.domain.errors import DomainError, InvalidInput, OnlyAdmins
from bot.domain.items import Comment, HistoryEntry
from bot.domain.notices import TicketEvent, TicketNotice
from bot.domain.paging import Page
from bot.domain.people import Person
from bot.domain.roles import Role
from bot.domain.tickets import (
    Priority,
    Status,
    Ticket,
    TicketFilter,
)
from cards import common
from cards.checklists import (
    checklist_detail,
    checklist_form,
    checklist_list,
    checklist_notice_card,
    reminder_card,
    template_choice_card,
    template_detail,
    template_form,
    template_list,
)
from cards.common import card as make_card
from cards.common import literal
from cards.crm import (
    account_detail,
    account_list,
    contact_detail,
    contact_list,
    opportunity_detail,
    opportunity_form,
    opportunity_list,
    opportunity_notice_card,
)
from cards.general import error_card, notice_card, roles_card, unknown_command_card
from cards.notifications import ticket_notice_card
from cards.tickets import ticket_detail, ticket_form, ticket_list
from tests.support.cards import Card, card_text
from tests.support.markdown import live_markdown, live_markdown_in, markdown_texts, shown

HOSTILE = (
    "**URGENT** [Click to reset password](https://evil.example/phish)",
    "[Helpdesk](https://evil.example) **ADMIN**",
    "See [this](javascript:alert(document.cookie)) _SHOUT_ ~~GONE~~ `code` ***BOTH***",
    "<https://evil.example/auto> <b>LOUD</b> https://evil.example/bare www.evil.com a@evil.com",
    "# evil heading\r- evil item\n1. evil first\n> evil quote\n+ evil\n__LOUD__ {{DATE(2026)}}",
    "\\*\\*URGENT\\*\\* already escaped \\[x\\](https://evil.example) [ref][1]\n[1]: https://evil.example",
)
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def person(index: int) -> Person:
    return Person(f"29:hostile-{index}", HOSTILE[index % len(HOSTILE)])


def hostile_ticket(index: int = 0, *, assigned: bool = True) -> Ticket:
    text = HOSTILE[index % len(HOSTILE)]
    return Ticket(
        number=42 + index,
        title=text,
        description=text + "\n" + HOSTILE[(index + 1) % len(HOSTILE)],
        priority=Priority.HIGH,
        category=text[:50],
        status=Status.OPEN,
        requester=person(index + 1),
        assignee=person(index + 2) if assigned else None,
        due=date(2026, 11, 20),
        created_at=NOW,
        updated_at=NOW + timedelta(hours=1),
        comments=tuple(Comment(person(i), h, NOW) for i, h in enumerate(HOSTILE)),
        history=(
            HistoryEntry(person(index), "created", None, None, NOW),
            HistoryEntry(person(index + 3), "assignee", None, text, NOW),
            HistoryEntry(person(index + 4), "status", "new", "open", NOW),
        ),
    )


def hostile_opportunity(index: int = 0, stage: Stage = Stage.LOST) -> Opportunity:
    text = HOSTILE[index % len(HOSTILE)]
    return Opportunity(
        number=7 + index,
        name=text,
        account=AccountRef(3, text),
        contact=ContactRef(4, HOSTILE[(index + 1) % len(HOSTILE)]),
        amount=Decimal("1234.50"),
        currency="EUR",
        stage=stage,
        own_probability=None,
        close_date=date(2026, 12, 1),
        owner=person(index + 1),
        next_step=text,
        lost_reason=text,
        last_open_stage=Stage.PROPOSAL,
        closed_on=date(2026, 11, 2),
        created_at=NOW,
        updated_at=NOW,
        comments=tuple(Comment(person(i), h, NOW) for i, h in enumerate(HOSTILE)),
        history=(
            HistoryEntry(person(index), "created", None, text, NOW),
            HistoryEntry(person(index + 1), "owner", text, HOSTILE[index - 1], NOW),
            HistoryEntry(person(index + 2), "next_step", None, text, NOW),
            HistoryEntry(person(index + 3), "lost_reason", None, text, NOW),
            HistoryEntry(person(index + 4), "stage", "proposal", "lost", NOW),
        ),
    )


def hostile_account(index: int = 0) -> Account:
    text = HOSTILE[index % len(HOSTILE)]
    return Account(3 + index, text, text[:50], text, NOW, NOW)


def hostile_contact(index: int = 0) -> Contact:
    text = HOSTILE[index % len(HOSTILE)]
    return Contact(4 + index, text, text, text[:40], text, AccountRef(3, text), NOW, NOW)


def _crm_renders(locale: str) -> dict[str, Card]:
    rendered: dict[str, Card] = {}
    opportunities = tuple(hostile_opportunity(i) for i in range(len(HOSTILE)))
    people = [person(i) for i in range(len(HOSTILE))]
    for i, opportunity in enumerate(opportunities):
        rendered[f"opportunity_detail {i}"] = opportunity_detail(locale, opportunity, people=people)
        notice = OpportunityNotice(7, HOSTILE[i], HOSTILE[i - 1], Stage.PROPOSAL)
        rendered[f"opportunity_notice_card {i}"] = opportunity_notice_card(locale, notice)
        rendered[f"account_detail {i}"] = account_detail(
            locale, hostile_account(i), [hostile_contact(i)], opportunities
        )
        rendered[f"contact_detail {i}"] = contact_detail(locale, hostile_contact(i), opportunities)
    page = Page(opportunities, 0, len(opportunities))
    rendered["opportunity_list"] = opportunity_list(locale, page, OpportunityFilter.ALL)
    accounts = tuple(hostile_account(i) for i in range(len(HOSTILE)))
    rendered["account_list"] = account_list(locale, Page(accounts, 0, len(accounts)), HOSTILE[0])
    contacts = tuple(hostile_contact(i) for i in range(len(HOSTILE)))
    rendered["contact_list"] = contact_list(locale, Page(contacts, 0, len(contacts)), HOSTILE[1])
    for name, error in hostile_errors().items():
        rendered[f"opportunity_form {name}"] = opportunity_form(
            locale, {"name": HOSTILE[0], "account": HOSTILE[1]}, error
        )
        rendered[f"opportunity_detail {name}"] = opportunity_detail(
            locale, hostile_opportunity(), error=error
        )
    return rendered


def hostile_errors() -> dict[str, DomainError]:
    return {
        "only admins": OnlyAdmins(admins=[p.name for p in map(person, range(3))]),
        "bad filter": DomainError("tickets.bad_filter", filter=HOSTILE[0], allowed="mine, all"),
        "invalid input": InvalidInput({"title": ("field.choose_one", {"allowed": HOSTILE[1]})}),
    }


def hostile_template(index: int) -> Template:
    text = HOSTILE[index % len(HOSTILE)]
    items = tuple(ItemSpec(h, i % 2 == 0) for i, h in enumerate(HOSTILE))
    return Template(3 + index, text, text, items, False, person(index), NOW)


def hostile_checklist(index: int, status: ChecklistStatus) -> Checklist:
    text = HOSTILE[index % len(HOSTILE)]
    items = tuple(
        ChecklistItem(i + 1, h, i % 2 == 0, person(i) if i % 2 else None, NOW, h)
        for i, h in enumerate(HOSTILE)
    )
    return Checklist(
        number=7 + index,
        title=text,
        status=status,
        starter=person(index),
        assignee=person(index + 1),
        reviewer=person(index + 2),
        due=date(2026, 11, 1),
        items=items,
        template=None,
        created_at=NOW,
        updated_at=NOW,
        comments=tuple(Comment(person(i), h, NOW) for i, h in enumerate(HOSTILE)),
    )


def _checklist_renders(locale: str) -> dict[str, Card]:
    rendered: dict[str, Card] = {}
    templates = tuple(hostile_template(i) for i in range(len(HOSTILE)))
    people = tuple(person(i) for i in range(len(HOSTILE)))
    for i in range(len(HOSTILE)):
        rendered[f"template_detail {i}"] = template_detail(locale, templates[i], can_manage=True)
        for status in ChecklistStatus:
            rendered[f"checklist_detail {i} {status}"] = checklist_detail(
                locale,
                hostile_checklist(i, status),
                can_check=True,
                can_submit=True,
                can_review=True,
                today=NOW.date(),
            )
        for event in ChecklistEvent:
            notice = ChecklistNotice(event, 7, HOSTILE[i], HOSTILE[i - 1], HOSTILE[i])
            rendered[f"checklist_notice_card {event} {i}"] = checklist_notice_card(locale, notice)
    values = {"title": HOSTILE[0], "items": HOSTILE[1], "description": HOSTILE[2]}
    for name, error in hostile_errors().items():
        rendered[f"template_form {name}"] = template_form(locale, values, error)
        rendered[f"checklist_form {name}"] = checklist_form(
            locale, values, error, templates=templates, people=people, template=templates[0]
        )
    rendered["template_list"] = template_list(
        locale, Page(templates, 0, len(templates)), can_manage=True
    )
    rendered["template_choice_card"] = template_choice_card(locale, HOSTILE[3], templates)
    rendered["checklist_list"] = checklist_list(
        locale,
        Page(tuple(hostile_checklist(i, ChecklistStatus.IN_PROGRESS) for i in range(5)), 0, 5),
        ChecklistFilter.ALL,
        NOW.date(),
    )
    due = tuple(DueItem("tickets", i, h, NOW.date()) for i, h in enumerate(HOSTILE))
    rendered["reminder_card"] = reminder_card(locale, ReminderNotice(NOW.date(), due))
    return rendered


def _renders(locale: str) -> dict[str, Card]:
    rendered: dict[str, Card] = {}
    viewer = person(0)
    for i in range(len(HOSTILE)):
        ticket = hostile_ticket(i, assigned=bool(i % 2))
        rendered[f"ticket_detail {i}"] = ticket_detail(
            locale, ticket, viewer=viewer, role=Role.ADMIN, agents=[person(1), person(2)]
        )
        rendered[f"unknown_command_card {i}"] = unknown_command_card(locale, HOSTILE[i], None)
        for event in TicketEvent:
            notice = TicketNotice(event, 42, HOSTILE[i], HOSTILE[i - 1], Status.OPEN, HOSTILE[i])
            rendered[f"ticket_notice_card {event.value} {i}"] = ticket_notice_card(locale, notice)
    for name, error in hostile_errors().items():
        rendered[f"error_card {name}"] = error_card(locale, error)
        rendered[f"ticket_form {name}"] = ticket_form(
            locale, {"title": HOSTILE[0], "description": HOSTILE[1]}, error
        )
        rendered[f"ticket_detail {name}"] = ticket_detail(
            locale, hostile_ticket(), viewer=viewer, role=Role.MEMBER, error=error
        )
    rendered["ticket_list"] = ticket_list(
        locale,
        Page(
            tuple(hostile_ticket(i, assigned=bool(i % 2)) for i in range(len(HOSTILE))),
            0,
            len(HOSTILE),
        ),
        TicketFilter.ALL,
    )
    rendered.update(_checklist_renders(locale))
    people = [person(i) for i in range(len(HOSTILE))]
    rendered["roles_card"] = roles_card(locale, people, people, changed=(people[1], Role.AGENT))
    rendered["notice_card"] = notice_card(
        locale, "tickets.bad_filter", filter=HOSTILE[4], allowed="x"
    )
    rendered.update(_crm_renders(locale))
    return rendered


# Card functions that take no text from users or Teams: plan names, prices, quotas and dates
# are the bot's own (the plan catalog is the operator's file).
NO_USER_TEXT = {
    "billing.app_title",
    "billing.call_off_card",
    "billing.cancellation_card",
    "billing.end_of_term_card",
    "billing.near_limit_banner",
    "billing.plan_change_card",
    "billing.plans_card",
    "billing.quota_lines",
    "billing.quota_reached_banner",
    "billing.statement_card",
    "billing.usage_card",
    "crm.pipeline_card",
    "general.apology_card",
    "general.help_card",
    "general.welcome_card",
    "notifications.quota_warning_card",
}
RENDERED_HERE = {
    "checklists.checklist_detail",
    "checklists.checklist_form",
    "checklists.checklist_list",
    "checklists.checklist_notice_card",
    "checklists.reminder_card",
    "checklists.template_choice_card",
    "checklists.template_detail",
    "checklists.template_form",
    "checklists.template_list",
    "crm.account_detail",
    "crm.account_list",
    "crm.contact_detail",
    "crm.contact_list",
    "crm.opportunity_detail",
    "crm.opportunity_form",
    "crm.opportunity_list",
    "crm.opportunity_notice_card",
    "general.error_card",
    "general.notice_card",
    "general.roles_card",
    "general.unknown_command_card",
    "notifications.ticket_notice_card",
    "tickets.ticket_detail",
    "tickets.ticket_form",
    "tickets.ticket_list",
}


def _card_functions() -> set[str]:
    found: set[str] = set()
    for info in pkgutil.iter_modules(cards.__path__):
        if info.name == "common":
            continue
        module = importlib.import_module(f"cards.{info.name}")
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if fn.__module__ == module.__name__ and not name.startswith("_"):
                returned = typing.get_type_hints(fn).get("return")
                if typing.get_origin(returned) in (dict, list) or returned in (dict, list):
                    found.add(f"{info.name}.{name}")
    return found


def test_every_card_function_is_rendered_with_hostile_text_or_takes_none() -> None:
    missing = _card_functions() - NO_USER_TEXT - RENDERED_HERE
    assert not missing, (
        f"render these with hostile strings here, or list them in NO_USER_TEXT: {missing}"
    )


@pytest.mark.parametrize("locale", ["en-US", "de-DE"])
def test_no_live_markdown_survives_in_any_card(locale: str) -> None:
    rendered = _renders(locale)
    problems = {name: found for name, c in rendered.items() if (found := live_markdown_in([c]))}
    assert problems == {}


@pytest.mark.parametrize("locale", ["en-US", "de-DE"])
def test_hostile_text_still_reads_as_typed(locale: str) -> None:
    card = ticket_detail(locale, hostile_ticket(), viewer=person(0), role=Role.ADMIN)
    shown_texts = "\n".join(shown(t) for t in markdown_texts(card))
    assert hostile_ticket().title in shown_texts
    assert hostile_ticket().requester.name in shown_texts


def test_the_checker_sees_raw_markdown() -> None:
    """The test is only as good as its checker: unescaped, every hostile string is caught."""
    assert all(live_markdown(h) for h in HOSTILE)
    raw = make_card([{"type": "TextBlock", "text": HOSTILE[1]}])
    assert live_markdown_in([raw])


def test_the_bots_own_markup_stays_markup() -> None:
    card = ticket_list("en-US", Page((hostile_ticket(),), 0, 1), TicketFilter.ALL)
    assert any(t.startswith("**#42** ") for t in markdown_texts(card))


def test_form_inputs_keep_the_users_text_as_typed() -> None:
    """Inputs are not markdown: what comes back in a form is exactly what was typed."""
    form = ticket_form("en-US", {"title": HOSTILE[0], "description": HOSTILE[4]})
    assert HOSTILE[0] in card_text(form) and HOSTILE[4] in card_text(form)


@given(st.text())
def test_literal_shows_any_text_as_typed_and_makes_no_link(value: str) -> None:
    escaped = literal(value)
    assert shown(escaped) == value.replace("\u2060", "")
    assert not [p for p in live_markdown(escaped) if "link" in p or "HTML" in p]


_MARKUP_ALPHABET = "\\`*~[]<>&|_#+=-.):{}( \t\r\n0123456789aZ\u2060é"


@given(st.text() | st.text(alphabet=_MARKUP_ALPHABET, max_size=12))
def test_a_text_literal_leaves_as_it_is_is_one_the_escaping_leaves_as_it_is(value: str) -> None:
    """literal skips its escaping for a text without markup characters: only where escaping
    would change nothing."""
    assert literal(value) == common._escape_markdown(value)


@pytest.mark.parametrize(
    "value",
    ["1. item", "1) item", "- item", "# title", "+ x", "= x", "a:b", "a.com", "{{x}}", "x_", "_x"],
)
def test_markup_that_needs_no_backslash_characters_is_still_escaped(value: str) -> None:
    assert literal(value) != value
