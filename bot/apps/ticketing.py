"""The Ticketing app: its commands, verbs and notices."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from bot.apps.dispatch import Turn, card_id, form_refusal, number_of, page_of
from bot.apps.registry import AppSpec, Command, Notice, Parsed, Verb
from bot.domain.errors import DomainError
from bot.domain.notices import TicketNotice
from bot.domain.people import Person
from bot.domain.plans import App
from bot.domain.tickets import (
    Status,
    TicketFilter,
    parse_comment,
    parse_draft,
    parse_priority,
    parse_status,
)
from bot.i18n import t
from bot.services import tickets as ticket_service
from bot.services.tickets import TicketView
from cards.common import Card
from cards.notifications import ticket_notice_card
from cards.tickets import ticket_detail, ticket_form, ticket_list

USAGE = "ticket.usage"


def _read_new_ticket(rest: str, mentions: Sequence[Person]) -> Parsed:
    return Parsed("ticket.create", {"title": rest}) if rest else Parsed("ticket.form")


# The filters in German.
FILTER_WORDS = {
    "meine": "mine",
    "zugewiesen": "assigned",
    "unzugewiesen": "unassigned",
    "offen": "open",
    "geschlossen": "closed",
    "alle": "all",
}


def _read_tickets(rest: str, mentions: Sequence[Person]) -> Parsed:
    words = rest.lower().split()
    flt = FILTER_WORDS.get(words[0], words[0]) if words else "mine"
    return Parsed("tickets.list", {"filter": flt, "page": 0})


def _read_ticket(rest: str, mentions: Sequence[Person]) -> Parsed:
    words = rest.lower().split()
    return Parsed("ticket.show", {"number": words[0].lstrip("#") if words else ""})


def _detail(turn: Turn, view: TicketView, **kwargs: Any) -> Card:
    ticket = view.ticket
    involved: tuple[str, ...] = ()
    if turn.shared:
        # Who gets their own view in a channel: the requester, the assignee, the one acting,
        # and the help desk (Teams takes the first 60).
        involved = (
            ticket.requester.id,
            *((ticket.assignee.id,) if ticket.assignee else ()),
            view.actor.user.id,
            *(agent.id for agent in view.agents),
        )
    return ticket_detail(
        turn.locale,
        ticket,
        viewer=view.actor.user,
        role=view.actor.role,
        agents=view.agents,
        as_of=turn.clock.now(),
        refresh_for=involved,
        read_only=turn.everyone,
        **kwargs,
    )


async def new_ticket_form(turn: Turn, data: dict[str, Any]) -> Card:
    return ticket_form(turn.locale)


async def create_ticket(turn: Turn, data: dict[str, Any]) -> Card:
    view = await ticket_service.create_ticket(
        turn.unit(),
        turn.clock,
        turn.policy,
        turn.who,
        parse_draft(data, turn.today),
        turn.conversation_id,
    )
    return _detail(turn, view, notice=t(turn.locale, "ticket.created", number=view.ticket.number))


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
    page = await ticket_service.list_tickets(turn.unit(), turn.clock, turn.who, flt, page_of(data))
    return ticket_list(turn.locale, page, flt)


async def show_ticket(turn: Turn, data: dict[str, Any]) -> Card:
    number = number_of(data, USAGE)
    return _detail(
        turn, await ticket_service.get_ticket(turn.reader(), turn.clock, turn.who, number)
    )


async def refresh_ticket(turn: Turn, data: dict[str, Any]) -> Card:
    """The ticket as this user may see and work it now: what Teams asks for on its own
    (`trigger: automatic`) for the people in a card's refresh, and the Refresh button."""
    return await show_ticket(turn, data)


def _seen(data: dict[str, Any]) -> datetime | None:
    """The version of the ticket the pressed card showed (its `updated` time)."""
    raw = data.get("seen")
    if not isinstance(raw, str) or len(raw) > 40:
        return None
    try:
        seen = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return seen if seen.tzinfo else seen.replace(tzinfo=UTC)


async def _ticket_again(turn: Turn, data: dict[str, Any], error: DomainError) -> Card:
    """A refused change shows the ticket again with the reason and the user's input kept; if
    the ticket has changed since the card was sent, it shows the ticket as it is now instead
    (the card was stale, the user did nothing wrong)."""
    number = number_of(data, USAGE)
    view = await ticket_service.get_ticket(turn.reader(), turn.clock, turn.who, number)
    seen = _seen(data)
    if seen is not None and seen != view.ticket.updated_at:
        notice = t(turn.locale, "ticket.changed_meanwhile", number=number)
        return _detail(turn, view, notice=notice)
    return _detail(turn, view, error=error, inputs=data)


def _updated(turn: Turn, view: TicketView) -> Card:
    number = view.ticket.number
    return _detail(turn, view, notice=t(turn.locale, "ticket.updated", number=number))


async def assign_me(turn: Turn, data: dict[str, Any]) -> Card:
    number = number_of(data, USAGE)
    view = await ticket_service.assign_ticket(turn.unit(), turn.clock, turn.who, number, None)
    return _updated(turn, view)


async def assign(turn: Turn, data: dict[str, Any]) -> Card:
    number = number_of(data, USAGE)
    assignee = card_id(data, "assignee")
    view = await ticket_service.assign_ticket(turn.unit(), turn.clock, turn.who, number, assignee)
    return _updated(turn, view)


def _status_change(status: Status | None) -> Any:
    async def handler(turn: Turn, data: dict[str, Any]) -> Card:
        number = number_of(data, USAGE)
        target = status or parse_status(data.get("status"))
        view = await ticket_service.change_status(turn.unit(), turn.clock, turn.who, number, target)
        return _updated(turn, view)

    return handler


async def priority(turn: Turn, data: dict[str, Any]) -> Card:
    number = number_of(data, USAGE)
    chosen = parse_priority(data.get("priority"))
    view = await ticket_service.change_priority(turn.unit(), turn.clock, turn.who, number, chosen)
    return _updated(turn, view)


async def comment(turn: Turn, data: dict[str, Any]) -> Card:
    number = number_of(data, USAGE)
    text = parse_comment(data.get("comment"))
    view = await ticket_service.add_comment(turn.unit(), turn.clock, turn.who, number, text)
    return _updated(turn, view)


def _render_notice(locale: str | None, payload: str) -> Card:
    return ticket_notice_card(locale, TicketNotice.from_json(payload))


def ticketing_app() -> AppSpec:
    return AppSpec(
        name="tickets",
        commands=(
            Command(
                "new ticket",
                _read_new_ticket,
                (
                    ("new ticket", "help.cmd.new_ticket"),
                    ("new ticket <title>", "help.cmd.new_ticket_title"),
                ),
                featured=True,
                de=("neues ticket",),
                help_de=("neues ticket", "neues ticket <titel>"),
            ),
            Command(
                "tickets",
                _read_tickets,
                (("tickets [mine|assigned|unassigned|open|closed|all]", "help.cmd.tickets"),),
                featured=True,
                de=("tickets",),
                help_de=("tickets [meine|zugewiesen|unzugewiesen|offen|geschlossen|alle]",),
            ),
            Command(
                "ticket",
                _read_ticket,
                (("ticket <number>", "help.cmd.ticket"),),
                featured=True,
                de=("ticket",),
                help_de=("ticket <nummer>",),
            ),
        ),
        verbs=(
            Verb("ticket.form", new_ticket_form),
            Verb(
                "ticket.create",
                create_ticket,
                creates=App.TICKETS,
                refused=form_refusal(ticket_form),
            ),
            Verb("tickets.list", list_tickets),
            Verb("ticket.show", show_ticket),
            Verb("ticket.refresh", refresh_ticket),
            Verb("ticket.assign_me", assign_me, refused=_ticket_again),
            Verb("ticket.assign", assign, refused=_ticket_again),
            Verb("ticket.status", _status_change(None), refused=_ticket_again),
            Verb("ticket.close", _status_change(Status.CLOSED), refused=_ticket_again),
            Verb("ticket.reopen", _status_change(Status.OPEN), refused=_ticket_again),
            Verb("ticket.priority", priority, refused=_ticket_again),
            Verb("ticket.comment", comment, refused=_ticket_again),
        ),
        notices=(Notice(TicketNotice.KIND, _render_notice),),
    )
