"""CRM cards: the opportunity form, one opportunity, lists, the pipeline, accounts, contacts."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from bot.domain.crm import (
    ACCOUNT_NAME_MAX,
    CONTACT_NAME_MAX,
    DOMAIN_MAX,
    EMAIL_MAX,
    JOB_ROLE_MAX,
    LOST_REASON_MAX,
    NAME_MAX,
    NEXT_STEP_MAX,
    NOTE_MAX,
    NOTES_MAX,
    PHONE_MAX,
    Account,
    AccountRef,
    Contact,
    ContactRef,
    Opportunity,
    OpportunityFilter,
    OpportunityNotice,
    Pipeline,
    Stage,
    Totals,
    next_stage,
)
from bot.domain.errors import DomainError, InvalidInput
from bot.domain.items import HistoryEntry
from bot.domain.paging import Page
from bot.domain.people import Person
from bot.i18n import (
    Messages,
    fmt_date,
    fmt_datetime,
    fmt_decimal,
    fmt_money,
    fmt_number,
    fmt_percent,
    t,
)
from cards.common import (
    Card,
    Element,
    attention,
    card,
    choice_set,
    comment_section,
    error_text,
    execute,
    facts,
    field_error_lines,
    field_errors,
    heading,
    history_section,
    list_row,
    literal,
    message,
    pager,
    show_card,
    text,
    text_input,
)

_AMOUNT = re.compile(r"[0-9]{1,12}\.[0-9]{2}")
_CURRENCY = re.compile(r"[A-Z]{3}")

NOTES_SHOWN = 5
HISTORY_SHOWN = 5
NOTE_SHOWN_MAX = 1000
CURRENCY_INPUT_MAX = 10
AMOUNT_INPUT_MAX = 20

FORM_FIELDS = (
    "name",
    "account",
    "contact",
    "contact_email",
    "amount",
    "currency",
    "close_date",
    "next_step",
)


def _typed(values: Mapping[str, Any], name: str) -> str | None:
    raw = values.get(name)
    return raw if isinstance(raw, str) else None


def _stage(locale: str | None, stage: Stage) -> str:
    return t(locale, f"stage.{stage.value}")


def _percent(locale: str | None, value: int) -> str:
    return fmt_percent(locale, value)


def _errors_block(locale: str | None, error: DomainError | None) -> list[Element]:
    if error is None:
        return []
    shown = [attention(error_text(locale, error))]
    for msg in field_errors(locale, error if isinstance(error, InvalidInput) else None).values():
        shown.append(text(msg, color="Attention", size="Small"))
    return shown


def _date_input(input_id: str, label: str, value: str | None) -> Element:
    return {
        "type": "Input.Date",
        "id": input_id,
        "label": label,
        **({"value": value} if value else {}),
    }


def _ref(account: AccountRef | ContactRef | None, locale: str | None) -> str:
    if account is None:
        return t(locale, "crm.none")
    return t(locale, "crm.ref", name=literal(account.name), number=account.number)


# -- the form ---------------------------------------------------------------------------------


def opportunity_form(
    locale: str | None,
    values: Mapping[str, Any] | None = None,
    error: DomainError | None = None,
    banner: Sequence[Element] = (),
) -> Card:
    """The new-opportunity form; after a refusal it comes back with the input and the errors."""
    values = values or {}
    errors = field_errors(locale, error if isinstance(error, InvalidInput) else None)
    body: list[Element] = [*banner, heading(t(locale, "crm.form.title"))]
    if error is not None:
        body.append(attention(error_text(locale, error)))

    def field(name: str, maximum: int, **extra: Any) -> Element:
        # A required input carries its message for the client to show before sending.
        missing = t(locale, "field.required") if extra.get("required") else None
        return text_input(
            name,
            t(locale, f"crm.field.{name}"),
            value=_typed(values, name),
            placeholder=t(locale, f"crm.placeholder.{name}"),
            max_length=maximum,
            error=errors.get(name) or missing,
            **extra,
        )

    body += [
        field("name", NAME_MAX, required=True),
        field("account", ACCOUNT_NAME_MAX),
        field("contact", CONTACT_NAME_MAX),
        field("contact_email", EMAIL_MAX),
        field("amount", AMOUNT_INPUT_MAX),
        field("currency", CURRENCY_INPUT_MAX),
        _date_input("close_date", t(locale, "crm.field.close_date"), _typed(values, "close_date")),
        field("next_step", NEXT_STEP_MAX),
    ]
    body += field_error_lines(locale, errors, FORM_FIELDS, "crm.field.")
    return card(body, [execute(t(locale, "button.create_opportunity"), "opportunity.create")])


# -- one opportunity --------------------------------------------------------------------------


def _history_value(locale: str | None, field: str, value: str | None) -> str:
    if value is None:
        return "-"
    if field == "stage":
        try:
            return _stage(locale, Stage(value))
        except ValueError:
            return literal(value)
    if field == "probability" and value.isdigit():
        return _percent(locale, int(value))
    # Amounts, currency codes and dates in the history are the bot's own values.
    if field == "amount" and _AMOUNT.fullmatch(value):
        return fmt_decimal(locale, Decimal(value))
    if field == "currency" and _CURRENCY.fullmatch(value):
        return value
    if field == "close_date":
        try:
            return fmt_date(locale, date.fromisoformat(value))
        except ValueError:
            pass
    return literal(value)


def _history_line(locale: str | None, entry: HistoryEntry) -> str:
    params = {
        "actor": literal(entry.actor.name),
        "old": _history_value(locale, entry.field, entry.old),
        "new": _history_value(locale, entry.field, entry.new),
    }
    key = f"crm.history.{entry.field}"
    try:
        line = t(locale, key, **params)
    except KeyError:
        line = t(locale, "crm.history.other", field=literal(entry.field), **params)
    return f"{line} ({fmt_datetime(locale, entry.at)})"


def _money(locale: str | None, amount: Decimal, currency: str) -> str:
    return fmt_money(locale, amount, currency)


def opportunity_detail(
    locale: str | None,
    opportunity: Opportunity,
    *,
    people: Sequence[Person] = (),
    notice: str | None = None,
    error: DomainError | None = None,
    inputs: Mapping[str, Any] | None = None,
    banner: Sequence[Element] = (),
) -> Card:
    o = opportunity
    inputs = inputs or {}
    body: list[Element] = [*banner, *_errors_block(locale, error)]
    if error is None and notice:
        body.append(text(notice, color="Good", weight="Bolder"))
    body.append(heading(t(locale, "crm.heading", number=o.number, name=literal(o.name))))
    shown = [
        (t(locale, "crm.field.stage"), _stage(locale, o.stage)),
        (t(locale, "crm.field.probability"), _percent(locale, o.probability)),
        (t(locale, "crm.field.amount"), _money(locale, o.amount, o.currency)),
        (t(locale, "crm.field.weighted"), _money(locale, o.weighted, o.currency)),
        (t(locale, "crm.field.account"), _ref(o.account, locale)),
        (t(locale, "crm.field.contact"), _ref(o.contact, locale)),
        (t(locale, "crm.field.owner"), literal(o.owner.name)),
        (
            t(locale, "crm.field.close_date"),
            fmt_date(locale, o.close_date) if o.close_date else t(locale, "crm.none"),
        ),
    ]
    if o.next_step:
        shown.append((t(locale, "crm.field.next_step"), literal(o.next_step)))
    if o.stage is Stage.LOST and o.lost_reason:
        shown.append((t(locale, "crm.field.lost_reason"), literal(o.lost_reason)))
    if o.closed_on:
        shown.append((t(locale, "crm.field.closed_on"), fmt_date(locale, o.closed_on)))
    shown.append((t(locale, "crm.field.updated"), fmt_datetime(locale, o.updated_at)))
    body.append(facts(shown))
    body += comment_section(
        locale,
        o.comments,
        ("crm.notes", "crm.no_notes", "crm.more_notes", "crm.note_line"),
        shown=NOTES_SHOWN,
        clip_at=NOTE_SHOWN_MAX,
    )
    body += history_section(
        locale, "crm.history", [_history_line(locale, e) for e in o.history[-HISTORY_SHOWN:]]
    )
    return card(body, _detail_actions(locale, o, people, inputs))


def _detail_actions(
    locale: str | None, o: Opportunity, people: Sequence[Person], inputs: Mapping[str, Any]
) -> list[Element]:
    """Three whole titles and a note in the overflow menu: the next stage (or reopen), any
    stage, edit the deal and its owner."""
    ref = {"number": o.number}
    following = next_stage(o.stage)
    actions: list[Element] = []
    if following is None:
        actions.append(execute(t(locale, "button.reopen_opportunity"), "opportunity.reopen", ref))
    else:
        actions.append(
            execute(
                t(locale, "button.next_stage", stage=_stage(locale, following)),
                "opportunity.advance",
                ref,
            )
        )
    others = [s for s in Stage if s is not o.stage]
    chosen = _typed(inputs, "stage")
    actions.append(
        show_card(
            t(locale, "button.stage"),
            [
                choice_set(
                    "stage",
                    t(locale, "crm.choose_stage"),
                    [(s.value, _stage(locale, s)) for s in others],
                    value=chosen if chosen in {s.value for s in others} else others[0].value,
                ),
                text_input(
                    "lost_reason",
                    t(locale, "crm.field.lost_reason_when_lost"),
                    value=_typed(inputs, "lost_reason"),
                    max_length=LOST_REASON_MAX,
                ),
            ],
            [execute(t(locale, "button.save"), "opportunity.stage", ref)],
        )
    )

    def kept(name: str, current: str) -> str:
        typed = _typed(inputs, name)
        return typed if typed is not None else current

    owners = list(people) if any(p.id == o.owner.id for p in people) else [o.owner, *people]
    actions.append(
        show_card(
            t(locale, "button.edit"),
            [
                text_input(
                    "amount",
                    t(locale, "crm.field.amount"),
                    value=kept("amount", f"{o.amount:.2f}"),
                    max_length=AMOUNT_INPUT_MAX,
                ),
                text_input(
                    "currency",
                    t(locale, "crm.field.currency"),
                    value=kept("currency", o.currency),
                    max_length=CURRENCY_INPUT_MAX,
                ),
                _date_input(
                    "close_date",
                    t(locale, "crm.field.close_date"),
                    kept("close_date", o.close_date.isoformat() if o.close_date else ""),
                ),
                text_input(
                    "probability",
                    t(locale, "crm.field.own_probability"),
                    value=kept(
                        "probability",
                        str(o.own_probability) if o.own_probability is not None else "",
                    ),
                    placeholder=t(
                        locale, "crm.placeholder.probability", percent=o.stage.default_probability
                    ),
                    max_length=3,
                ),
                text_input(
                    "next_step",
                    t(locale, "crm.field.next_step"),
                    value=kept("next_step", o.next_step),
                    max_length=NEXT_STEP_MAX,
                ),
                choice_set(
                    "owner",
                    t(locale, "crm.field.owner"),
                    [(p.id, p.name) for p in owners],
                    value=o.owner.id,
                ),
            ],
            [execute(t(locale, "button.save"), "opportunity.edit", ref)],
        )
    )
    actions.append(
        show_card(
            t(locale, "button.note"),
            [
                text_input(
                    "note",
                    t(locale, "button.note"),
                    value=_typed(inputs, "note"),
                    placeholder=t(locale, "crm.placeholder.note"),
                    multiline=True,
                    max_length=NOTE_MAX,
                )
            ],
            [execute(t(locale, "button.add_note"), "opportunity.note", ref)],
        )
        | {"mode": "secondary"}
    )
    return actions


# -- lists ------------------------------------------------------------------------------------


def _opportunity_row(locale: str | None, o: Opportunity) -> Element:
    about = t(
        locale,
        "crm.list.line",
        stage=_stage(locale, o.stage),
        amount=_money(locale, o.amount, o.currency),
        account=literal(o.account.name) if o.account else t(locale, "crm.none"),
        owner=literal(o.owner.name),
    )
    return list_row(
        execute(t(locale, "button.open"), "opportunity.show", {"number": o.number}),
        f"**#{o.number}** {literal(o.name)}",
        about,
    )


def opportunity_list(
    locale: str | None,
    page: Page[Opportunity],
    flt: OpportunityFilter,
    banner: Sequence[Element] = (),
) -> Card:
    body: list[Element] = [
        *banner,
        heading(t(locale, "crm.list.title", filter=t(locale, f"crm.filter.{flt.value}"))),
    ]
    if not page.items:
        body.append(text(t(locale, "crm.list.empty"), isSubtle=True))
    body += [_opportunity_row(locale, o) for o in page.items]
    line, actions = pager(
        locale, page, "opportunities.list", {"filter": flt.value}, "crm.list.page"
    )
    body.append(line)
    actions.append(execute(t(locale, "button.new_opportunity"), "opportunity.form"))
    actions.append(execute(t(locale, "button.pipeline"), "pipeline.show", {"mine": False}))
    return card(body, actions)


# -- the pipeline -----------------------------------------------------------------------------


def _totals_facts(locale: str | None, totals: Sequence[Totals], *, weighted: bool) -> Element:
    key = "crm.pipeline.figures" if weighted else "crm.pipeline.figures_won"
    return facts(
        (
            f.currency,
            t(
                locale,
                key,
                count=fmt_number(locale, f.count),
                total=_money(locale, f.total, f.currency),
                weighted=_money(locale, f.weighted, f.currency),
            ),
        )
        for f in totals
    )


def pipeline_card(
    locale: str | None, pipeline: Pipeline, mine: bool = False, banner: Sequence[Element] = ()
) -> Card:
    """Per open stage the count, total and weighted total of each currency (never summed
    across currencies); the open total; what was won this quarter."""
    body: list[Element] = [
        *banner,
        heading(t(locale, "crm.pipeline.mine" if mine else "crm.pipeline.title")),
    ]
    for stage in pipeline.stages:
        body.append(
            text(
                t(
                    locale,
                    "crm.pipeline.stage",
                    stage=_stage(locale, stage.stage),
                    percent=_percent(locale, stage.stage.default_probability),
                ),
                weight="Bolder",
                separator=True,
            )
        )
        if stage.totals:
            body.append(_totals_facts(locale, stage.totals, weighted=True))
        else:
            body.append(text(t(locale, "crm.pipeline.empty_stage"), isSubtle=True, spacing="None"))
    body.append(text(t(locale, "crm.pipeline.open"), weight="Bolder", separator=True))
    body.append(
        _totals_facts(locale, pipeline.open, weighted=True)
        if pipeline.open
        else text(t(locale, "crm.pipeline.nothing_open"), isSubtle=True, spacing="None")
    )
    quarter = pipeline.quarter
    body.append(
        text(
            t(locale, "crm.pipeline.won", quarter=quarter.number, year=quarter.start.year),
            weight="Bolder",
            separator=True,
        )
    )
    body.append(
        _totals_facts(locale, pipeline.won, weighted=False)
        if pipeline.won
        else text(t(locale, "crm.pipeline.nothing_won"), isSubtle=True, spacing="None")
    )
    listing = "mine" if mine else "open"
    return card(
        body,
        [
            execute(
                t(locale, "button.opportunities"),
                "opportunities.list",
                {"filter": listing, "page": 0},
            ),
            execute(
                t(locale, "button.whole_pipeline" if mine else "button.my_pipeline"),
                "pipeline.show",
                {"mine": not mine},
            ),
            execute(t(locale, "button.new_opportunity"), "opportunity.form", mode="secondary"),
        ],
    )


# -- accounts and contacts --------------------------------------------------------------------


def _related(locale: str | None, opportunities: Sequence[Opportunity]) -> list[Element]:
    body: list[Element] = [text(t(locale, "crm.related"), weight="Bolder", separator=True)]
    if not opportunities:
        body.append(text(t(locale, "crm.list.empty"), isSubtle=True))
    body += [_opportunity_row(locale, o) for o in opportunities]
    return body


def _search_box(locale: str | None, verb: str, name_filter: str) -> list[Element]:
    return [
        show_card(
            t(locale, "button.search"),
            [
                text_input(
                    "filter",
                    t(locale, "crm.field.name_filter"),
                    value=name_filter or None,
                    max_length=100,
                )
            ],
            [execute(t(locale, "button.search"), verb, {"page": 0})],
        )
    ]


def account_list(
    locale: str | None,
    page: Page[Account],
    name_filter: str = "",
    banner: Sequence[Element] = (),
) -> Card:
    title = (
        t(locale, "crm.accounts.filtered", filter=literal(name_filter))
        if name_filter
        else t(locale, "crm.accounts.title")
    )
    body: list[Element] = [*banner, heading(title)]
    if not page.items:
        body.append(text(t(locale, "crm.accounts.empty"), isSubtle=True))
    messages = Messages(locale)
    for account in page.items:
        body.append(
            list_row(
                execute(messages["button.open"], "account.show", {"number": account.number}),
                f"**{literal(account.name)}**",
                literal(account.domain) if account.domain else messages["crm.none"],
            )
        )
    line, actions = pager(
        locale, page, "accounts.list", {"filter": name_filter}, "crm.accounts.page"
    )
    body.append(line)
    return card(body, [*actions, *_search_box(locale, "accounts.list", name_filter)])


def account_detail(
    locale: str | None,
    account: Account,
    contacts: Sequence[Contact] = (),
    opportunities: Sequence[Opportunity] = (),
    *,
    notice: str | None = None,
    error: DomainError | None = None,
    inputs: Mapping[str, Any] | None = None,
    banner: Sequence[Element] = (),
) -> Card:
    inputs = inputs or {}
    body: list[Element] = [*banner, *_errors_block(locale, error)]
    if error is None and notice:
        body.append(text(notice, color="Good", weight="Bolder"))
    body.append(heading(literal(account.name)))
    body.append(
        facts(
            [
                (t(locale, "crm.field.number"), str(account.number)),
                (
                    t(locale, "crm.field.domain"),
                    literal(account.domain) if account.domain else t(locale, "crm.none"),
                ),
                (t(locale, "crm.field.updated"), fmt_datetime(locale, account.updated_at)),
            ]
        )
    )
    if account.notes:
        body.append(text(literal(account.notes), separator=True))
    body.append(text(t(locale, "crm.contacts.title"), weight="Bolder", separator=True))
    if not contacts:
        body.append(text(t(locale, "crm.contacts.empty"), isSubtle=True))
    for contact in contacts:
        body.append(
            {
                "type": "Container",
                "selectAction": execute(
                    t(locale, "button.open"), "contact.show", {"number": contact.number}
                ),
                "items": [text(literal(contact.name), spacing="None")],
            }
        )
    body += _related(locale, opportunities)

    def kept(name: str, current: str) -> str | None:
        typed = _typed(inputs, name)
        return typed if typed is not None else (current or None)

    edit = show_card(
        t(locale, "button.edit"),
        [
            text_input(
                "domain",
                t(locale, "crm.field.domain"),
                value=kept("domain", account.domain),
                placeholder=t(locale, "crm.placeholder.domain"),
                max_length=DOMAIN_MAX,
            ),
            text_input(
                "notes",
                t(locale, "crm.field.notes"),
                value=kept("notes", account.notes),
                multiline=True,
                max_length=NOTES_MAX,
            ),
        ],
        [execute(t(locale, "button.save"), "account.edit", {"number": account.number})],
    )
    back = execute(t(locale, "button.accounts"), "accounts.list", {"filter": "", "page": 0})
    return card(body, [edit, back])


def contact_list(
    locale: str | None,
    page: Page[Contact],
    name_filter: str = "",
    banner: Sequence[Element] = (),
) -> Card:
    title = (
        t(locale, "crm.contacts.filtered", filter=literal(name_filter))
        if name_filter
        else t(locale, "crm.contacts.title")
    )
    body: list[Element] = [*banner, heading(title)]
    if not page.items:
        body.append(text(t(locale, "crm.contacts.empty"), isSubtle=True))
    messages = Messages(locale)
    for contact in page.items:
        about = t(
            locale,
            "crm.contacts.line",
            account=literal(contact.account.name) if contact.account else messages["crm.none"],
            email=literal(contact.email) if contact.email else "-",
        )
        body.append(
            list_row(
                execute(messages["button.open"], "contact.show", {"number": contact.number}),
                f"**{literal(contact.name)}**",
                about,
            )
        )
    line, actions = pager(
        locale, page, "contacts.list", {"filter": name_filter}, "crm.contacts.page"
    )
    body.append(line)
    return card(body, [*actions, *_search_box(locale, "contacts.list", name_filter)])


def contact_detail(
    locale: str | None,
    contact: Contact,
    opportunities: Sequence[Opportunity] = (),
    *,
    notice: str | None = None,
    error: DomainError | None = None,
    inputs: Mapping[str, Any] | None = None,
    banner: Sequence[Element] = (),
) -> Card:
    inputs = inputs or {}
    body: list[Element] = [*banner, *_errors_block(locale, error)]
    if error is None and notice:
        body.append(text(notice, color="Good", weight="Bolder"))
    body.append(heading(literal(contact.name)))
    body.append(
        facts(
            [
                (t(locale, "crm.field.number"), str(contact.number)),
                (t(locale, "crm.field.account"), _ref(contact.account, locale)),
                (
                    t(locale, "crm.field.email"),
                    literal(contact.email) if contact.email else t(locale, "crm.none"),
                ),
                (
                    t(locale, "crm.field.phone"),
                    literal(contact.phone) if contact.phone else t(locale, "crm.none"),
                ),
                (
                    t(locale, "crm.field.job_role"),
                    literal(contact.job_role) if contact.job_role else t(locale, "crm.none"),
                ),
            ]
        )
    )
    body += _related(locale, opportunities)

    def kept(name: str, current: str) -> str | None:
        typed = _typed(inputs, name)
        return typed if typed is not None else (current or None)

    edit = show_card(
        t(locale, "button.edit"),
        [
            text_input(
                "email",
                t(locale, "crm.field.email"),
                value=kept("email", contact.email),
                max_length=EMAIL_MAX,
            ),
            text_input(
                "phone",
                t(locale, "crm.field.phone"),
                value=kept("phone", contact.phone),
                max_length=PHONE_MAX,
            ),
            text_input(
                "job_role",
                t(locale, "crm.field.job_role"),
                value=kept("job_role", contact.job_role),
                max_length=JOB_ROLE_MAX,
            ),
        ],
        [execute(t(locale, "button.save"), "contact.edit", {"number": contact.number})],
    )
    actions: list[Element] = [edit]
    if contact.account is not None:
        actions.append(
            execute(t(locale, "button.account"), "account.show", {"number": contact.account.number})
        )
    actions.append(
        execute(t(locale, "button.contacts"), "contacts.list", {"filter": "", "page": 0})
    )
    return card(body, actions)


# -- what the bot tells the new owner ---------------------------------------------------------


def opportunity_notice_card(locale: str | None, notice: OpportunityNotice) -> Card:
    params = {"actor": literal(notice.actor), "number": notice.number}
    return card(
        [
            text(t(locale, "crm.notify.owner", **params), weight="Bolder"),
            text(
                t(locale, "crm.heading", number=notice.number, name=literal(notice.name)),
                spacing="Small",
            ),
            text(message(locale, "crm.notify.stage", {"stage": notice.stage}), isSubtle=True),
        ],
        [execute(t(locale, "button.open"), "opportunity.show", {"number": notice.number})],
    )
