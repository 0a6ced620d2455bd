"""Ticketing cards: the form, one ticket, a page of tickets."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from bot.domain.errors import DomainError, InvalidInput
from bot.domain.items import HistoryEntry
from bot.domain.paging import Page
from bot.domain.people import Person
from bot.domain.roles import Role
from bot.domain.tickets import (
    CATEGORY_MAX,
    COMMENT_MAX,
    DESCRIPTION_MAX,
    TITLE_MAX,
    TRANSITIONS,
    Priority,
    Status,
    Ticket,
    TicketFilter,
)
from bot.i18n import Messages, fmt_date, fmt_datetime, t
from cards.common import (
    Card,
    Element,
    as_of_line,
    attention,
    card,
    choice_row,
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
    refresh,
    show_card,
    text,
    text_input,
)

COMMENTS_SHOWN = 5
HISTORY_SHOWN = 5
COMMENT_SHOWN_MAX = 1000


def _priority_choices(locale: str | None) -> list[tuple[str, str]]:
    return [(p.value, t(locale, f"priority.{p.value}")) for p in Priority]


def ticket_form(
    locale: str | None,
    values: Mapping[str, Any] | None = None,
    error: DomainError | None = None,
    banner: Sequence[Element] = (),
) -> Card:
    """The new-ticket form; after a refusal it comes back with the user's input and the errors."""
    values = values or {}
    errors = field_errors(locale, error if isinstance(error, InvalidInput) else None)

    def value(name: str) -> str | None:
        raw = values.get(name)
        return raw if isinstance(raw, str) else None

    body: list[Element] = [*banner, heading(t(locale, "ticket.form.title"))]
    if error is not None:
        body.append(attention(error_text(locale, error)))
    body += [
        text_input(
            "title",
            t(locale, "ticket.field.title"),
            value=value("title"),
            placeholder=t(locale, "ticket.placeholder.title"),
            max_length=TITLE_MAX,
            required=True,
            error=errors.get("title") or t(locale, "field.required"),
        ),
        text_input(
            "description",
            t(locale, "ticket.field.description"),
            value=value("description"),
            placeholder=t(locale, "ticket.placeholder.description"),
            multiline=True,
            max_length=DESCRIPTION_MAX,
            error=errors.get("description"),
        ),
        choice_set(
            "priority",
            t(locale, "ticket.field.priority"),
            _priority_choices(locale),
            value=value("priority") if value("priority") in set(Priority) else "normal",
        ),
        text_input(
            "category",
            t(locale, "ticket.field.category"),
            value=value("category"),
            placeholder=t(locale, "ticket.placeholder.category"),
            max_length=CATEGORY_MAX,
            error=errors.get("category"),
        ),
        {
            "type": "Input.Date",
            "id": "due",
            "label": t(locale, "ticket.field.due"),
            **({"value": value("due")} if value("due") else {}),
        },
    ]
    body += field_error_lines(
        locale, errors, ("title", "description", "category", "priority", "due"), "ticket.field."
    )
    return card(body, [execute(t(locale, "button.create_ticket"), "ticket.create")])


def _history_line(locale: str | None, entry: HistoryEntry) -> str:
    def label(field: str, value: str | None) -> str:
        if value is None:
            return "-"
        if field in ("status", "priority"):
            return t(locale, f"{field}.{value}")
        return value

    return (
        message(
            locale,
            f"history.{entry.field}",
            {
                "actor": entry.actor.name,
                "old": label(entry.field, entry.old),
                "new": label(entry.field, entry.new),
            },
        )
        + f" ({fmt_datetime(locale, entry.at)})"
    )


def ticket_detail(
    locale: str | None,
    ticket: Ticket,
    *,
    viewer: Person,
    role: Role,
    agents: Sequence[Person] = (),
    notice: str | None = None,
    error: DomainError | None = None,
    inputs: Mapping[str, Any] | None = None,
    banner: Sequence[Element] = (),
    as_of: datetime | None = None,
    refresh_for: Sequence[str] = (),
    read_only: bool = False,
) -> Card:
    """One ticket, with the actions `viewer` may use in `role`.

    Posted where many read it (a channel, a group chat), the card is `read_only` (its one action
    is "Refresh") and carries a Universal Actions refresh for `refresh_for` (the people involved):
    Teams shows each of them their own view. `as_of` says when the card was made or refreshed."""
    inputs = inputs or {}
    body: list[Element] = list(banner)
    if error is not None:
        body.append(attention(error_text(locale, error)))
        for msg in field_errors(
            locale, error if isinstance(error, InvalidInput) else None
        ).values():
            body.append(text(msg, color="Attention", size="Small"))
    elif notice:
        body.append(text(notice, color="Good", weight="Bolder"))
    body.append(
        heading(t(locale, "ticket.heading", number=ticket.number, title=literal(ticket.title)))
    )
    body.append(
        facts(
            [
                (t(locale, "ticket.field.status"), t(locale, f"status.{ticket.status.value}")),
                (
                    t(locale, "ticket.field.priority"),
                    t(locale, f"priority.{ticket.priority.value}"),
                ),
                *(
                    [(t(locale, "ticket.field.category"), literal(ticket.category))]
                    if ticket.category
                    else []
                ),
                (t(locale, "ticket.field.requester"), literal(ticket.requester.name)),
                (
                    t(locale, "ticket.field.assignee"),
                    literal(ticket.assignee.name)
                    if ticket.assignee
                    else t(locale, "ticket.unassigned"),
                ),
                (
                    t(locale, "ticket.field.due"),
                    fmt_date(locale, ticket.due) if ticket.due else t(locale, "ticket.no_due"),
                ),
                (t(locale, "ticket.field.created"), fmt_datetime(locale, ticket.created_at)),
                (t(locale, "ticket.field.updated"), fmt_datetime(locale, ticket.updated_at)),
            ]
        )
    )
    if ticket.description:
        body.append(text(literal(ticket.description), separator=True))
    body += comment_section(
        locale,
        ticket.comments,
        ("ticket.comments", "ticket.no_comments", "ticket.more_comments", "ticket.comment_line"),
        shown=COMMENTS_SHOWN,
        clip_at=COMMENT_SHOWN_MAX,
    )
    body += history_section(
        locale,
        "ticket.history",
        [_history_line(locale, e) for e in ticket.history[-HISTORY_SHOWN:]],
    )
    if as_of is not None:
        body.append(as_of_line(locale, as_of))
    again = execute(t(locale, "button.refresh"), "ticket.refresh", _ref(ticket))
    actions = (
        [again] if read_only else _detail_actions(locale, ticket, viewer, role, agents, inputs)
    )
    return card(body, actions, refresh(again, refresh_for) if refresh_for else None)


def _ref(ticket: Ticket) -> dict[str, Any]:
    """What every action of a ticket card sends: the ticket, and the version the card shows (a
    change refused on a ticket that has changed since shows the ticket as it is now)."""
    return {"number": ticket.number, "seen": ticket.updated_at.isoformat()}


def _detail_actions(
    locale: str | None,
    ticket: Ticket,
    viewer: Person,
    role: Role,
    agents: Sequence[Person],
    inputs: Mapping[str, Any],
) -> list[Element]:
    """Three buttons with short whole titles: Comment, Change (a list per field, each with its
    Save; members change the priority only), and Assign to me or Close/Reopen."""
    ref = _ref(ticket)
    comment_value = inputs.get("comment") if isinstance(inputs.get("comment"), str) else None
    comment = show_card(
        t(locale, "button.comment"),
        [
            text_input(
                "comment",
                t(locale, "button.comment"),
                value=comment_value,
                placeholder=t(locale, "ticket.placeholder.comment"),
                multiline=True,
                max_length=COMMENT_MAX,
            )
        ],
        [execute(t(locale, "button.send_comment"), "ticket.comment", ref)],
    )
    works = role.works_all_items
    save = t(locale, "button.save")
    rows: list[Element] = []
    if works:
        allowed = TRANSITIONS[ticket.status]
        rows.append(
            choice_row(
                choice_set(
                    "status",
                    t(locale, "ticket.choose_status"),
                    [(s.value, t(locale, f"status.{s.value}")) for s in allowed],
                    value=allowed[0].value,
                ),
                execute(save, "ticket.status", ref),
            )
        )
    rows.append(
        choice_row(
            choice_set(
                "priority",
                t(locale, "ticket.choose_priority"),
                _priority_choices(locale),
                value=ticket.priority.value,
            ),
            execute(save, "ticket.priority", ref),
        )
    )
    if works and agents:
        rows.append(
            choice_row(
                choice_set(
                    "assignee",
                    t(locale, "ticket.choose_agent"),
                    [(a.id, a.name) for a in agents],
                    value=ticket.assignee.id if ticket.assignee else None,
                ),
                execute(save, "ticket.assign", ref),
            )
        )
    change = show_card(t(locale, "button.change" if works else "button.priority"), rows, [])
    if ticket.status in (Status.RESOLVED, Status.CLOSED):
        close = execute(t(locale, "button.reopen"), "ticket.reopen", ref)
    else:
        close = execute(t(locale, "button.close"), "ticket.close", ref)
    if works and (ticket.assignee is None or ticket.assignee.id != viewer.id):
        # An agent closes through the status list; taking the ticket is the next step.
        return [comment, change, execute(t(locale, "button.assign_me"), "ticket.assign_me", ref)]
    return [comment, change, close]


def ticket_list(
    locale: str | None,
    page: Page[Ticket],
    flt: TicketFilter,
    banner: Sequence[Element] = (),
) -> Card:
    body: list[Element] = [
        *banner,
        heading(t(locale, "tickets.list.title", filter=t(locale, f"filter.{flt.value}"))),
    ]
    if not page.items:
        body.append(text(t(locale, "tickets.list.empty"), isSubtle=True))
    messages = Messages(locale)
    for ticket in page.items:
        about = t(
            locale,
            "tickets.list.line",
            status=messages["status." + ticket.status],
            priority=messages["priority." + ticket.priority],
            assignee=literal(ticket.assignee.name)
            if ticket.assignee
            else messages["ticket.unassigned"],
            updated=fmt_date(locale, ticket.updated_at),
        )
        body.append(
            list_row(
                execute(messages["button.open"], "ticket.show", {"number": ticket.number}),
                f"**#{ticket.number}** {literal(ticket.title)}",
                about,
            )
        )
    line, actions = pager(locale, page, "tickets.list", {"filter": flt.value}, "tickets.list.page")
    body.append(line)
    actions.append(execute(t(locale, "button.new_ticket"), "ticket.form"))
    if flt is not TicketFilter.ALL:
        actions.append(
            execute(t(locale, "button.all_tickets"), "tickets.list", {"filter": "all", "page": 0})
        )
    return card(body, actions)
