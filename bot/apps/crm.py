"""The CRM app: its commands, verbs and notices."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.apps.dispatch import BadAction, Turn, card_id, form_refusal, number_of, page_of
from bot.apps.registry import AppSpec, Command, Handler, Notice, Parsed, Verb
from bot.domain.crm import (
    OpportunityFilter,
    OpportunityNotice,
    parse_account_edit,
    parse_contact_edit,
    parse_deal,
    parse_draft,
    parse_name_filter,
    parse_note,
    parse_stage,
)
from bot.domain.errors import DomainError
from bot.domain.people import Person
from bot.domain.plans import App
from bot.i18n import t
from bot.services import crm as crm_service
from bot.services.crm import AccountView, ContactView, OpportunityView
from cards.common import Card
from cards.crm import (
    account_detail,
    account_list,
    contact_detail,
    contact_list,
    opportunity_detail,
    opportunity_form,
    opportunity_list,
    opportunity_notice_card,
    pipeline_card,
)

USAGE = "crm.usage"
ACCOUNT_USAGE = "crm.account_usage"
CONTACT_USAGE = "crm.contact_usage"


# -- what follows the phrases -----------------------------------------------------------------


def _read_new(rest: str, mentions: Sequence[Person]) -> Parsed:
    return Parsed("opportunity.create", {"name": rest}) if rest else Parsed("opportunity.form")


# The filters and stages in German.
FILTER_WORDS = {
    "meine": "mine",
    "offen": "open",
    "gewonnen": "won",
    "verloren": "lost",
    "alle": "all",
    "interessent": "lead",
    "qualifiziert": "qualified",
    "angebot": "proposal",
    "verhandlung": "negotiation",
}


def _read_list(rest: str, mentions: Sequence[Person]) -> Parsed:
    words = rest.lower().split()
    flt = FILTER_WORDS.get(words[0], words[0]) if words else "mine"
    return Parsed("opportunities.list", {"filter": flt, "page": 0})


def _read_number(verb: str) -> Any:
    def read(rest: str, mentions: Sequence[Person]) -> Parsed:
        words = rest.split()
        return Parsed(verb, {"number": words[0].lstrip("#") if words else ""})

    return read


def _read_pipeline(rest: str, mentions: Sequence[Person]) -> Parsed | None:
    if rest.lower() not in ("", "mine", "meine"):
        return None
    return Parsed("pipeline.show", {"mine": rest.lower() in ("mine", "meine")})


def _read_names(verb: str) -> Any:
    def read(rest: str, mentions: Sequence[Person]) -> Parsed:
        return Parsed(verb, {"filter": rest, "page": 0})

    return read


# -- opportunities ----------------------------------------------------------------------------


def _detail(turn: Turn, view: OpportunityView, **kwargs: Any) -> Card:
    return opportunity_detail(turn.locale, view.opportunity, people=view.people, **kwargs)


def _updated(turn: Turn, view: OpportunityView) -> Card:
    number = view.opportunity.number
    return _detail(turn, view, notice=t(turn.locale, "crm.updated", number=number))


async def new_form(turn: Turn, data: dict[str, Any]) -> Card:
    return opportunity_form(turn.locale)


async def create(turn: Turn, data: dict[str, Any]) -> Card:
    view = await crm_service.create_opportunity(
        turn.unit(), turn.clock, turn.policy, turn.who, parse_draft(data), turn.conversation_id
    )
    number = view.opportunity.number
    return _detail(turn, view, notice=t(turn.locale, "crm.created", number=number))


async def list_opportunities(turn: Turn, data: dict[str, Any]) -> Card:
    raw = data.get("filter") or "mine"
    try:
        flt = OpportunityFilter(raw.strip().lower() if isinstance(raw, str) else raw)
    except ValueError:
        raise DomainError(
            "crm.bad_filter",
            filter=str(raw)[:40],
            allowed=", ".join(f.value for f in OpportunityFilter),
        ) from None
    page = await crm_service.list_opportunities(turn.reader(), turn.who, flt, page_of(data))
    return opportunity_list(turn.locale, page, flt)


async def show(turn: Turn, data: dict[str, Any]) -> Card:
    number = number_of(data, USAGE)
    return _detail(
        turn, await crm_service.get_opportunity(turn.reader(), turn.clock, turn.who, number)
    )


async def _again(turn: Turn, data: dict[str, Any], error: DomainError) -> Card:
    """A refused change shows the opportunity again with the reason and the input kept."""
    number = number_of(data, USAGE)
    view = await crm_service.get_opportunity(turn.reader(), turn.clock, turn.who, number)
    return _detail(turn, view, error=error, inputs=data)


async def advance(turn: Turn, data: dict[str, Any]) -> Card:
    number = number_of(data, USAGE)
    return _updated(turn, await crm_service.advance(turn.unit(), turn.clock, turn.who, number))


async def stage(turn: Turn, data: dict[str, Any]) -> Card:
    number = number_of(data, USAGE)
    choice = parse_stage(data)
    view = await crm_service.move_stage(
        turn.unit(), turn.clock, turn.who, number, choice.stage, choice.lost_reason
    )
    return _updated(turn, view)


async def reopen(turn: Turn, data: dict[str, Any]) -> Card:
    number = number_of(data, USAGE)
    view = await crm_service.reopen_opportunity(turn.unit(), turn.clock, turn.who, number)
    return _updated(turn, view)


async def edit(turn: Turn, data: dict[str, Any]) -> Card:
    number = number_of(data, USAGE)
    deal = parse_deal(data)
    owner = card_id(data, "owner") if data.get("owner") not in (None, "") else None
    view = await crm_service.edit_deal(turn.unit(), turn.clock, turn.who, number, deal, owner)
    return _updated(turn, view)


async def owner(turn: Turn, data: dict[str, Any]) -> Card:
    number = number_of(data, USAGE)
    chosen = card_id(data, "owner")
    view = await crm_service.change_owner(turn.unit(), turn.clock, turn.who, number, chosen)
    return _updated(turn, view)


async def note(turn: Turn, data: dict[str, Any]) -> Card:
    number = number_of(data, USAGE)
    text = parse_note(data.get("note"))
    view = await crm_service.add_note(turn.unit(), turn.clock, turn.who, number, text)
    return _updated(turn, view)


async def pipeline(turn: Turn, data: dict[str, Any]) -> Card:
    mine = data.get("mine", False)
    if not isinstance(mine, bool):
        raise BadAction()
    figures = await crm_service.pipeline(turn.reader(), turn.clock, turn.who, mine=mine)
    return pipeline_card(turn.locale, figures, mine)


# -- accounts and contacts --------------------------------------------------------------------


async def list_accounts(turn: Turn, data: dict[str, Any]) -> Card:
    name_filter = parse_name_filter(data.get("filter"))
    page = await crm_service.list_accounts(turn.reader(), name_filter, page_of(data))
    return account_list(turn.locale, page, name_filter)


async def list_contacts(turn: Turn, data: dict[str, Any]) -> Card:
    name_filter = parse_name_filter(data.get("filter"))
    page = await crm_service.list_contacts(turn.reader(), name_filter, page_of(data))
    return contact_list(turn.locale, page, name_filter)


def _account(turn: Turn, view: AccountView, **kwargs: Any) -> Card:
    return account_detail(turn.locale, view.account, view.contacts, view.opportunities, **kwargs)


def _contact(turn: Turn, view: ContactView, **kwargs: Any) -> Card:
    return contact_detail(turn.locale, view.contact, view.opportunities, **kwargs)


async def show_account(turn: Turn, data: dict[str, Any]) -> Card:
    number = number_of(data, ACCOUNT_USAGE)
    view = await crm_service.get_account(turn.reader(), turn.clock, turn.who, number)
    return _account(turn, view)


async def edit_account(turn: Turn, data: dict[str, Any]) -> Card:
    number = number_of(data, ACCOUNT_USAGE)
    changes = parse_account_edit(data)
    view = await crm_service.edit_account(turn.unit(), turn.clock, turn.who, number, changes)
    return _account(turn, view, notice=t(turn.locale, "crm.account_updated"))


async def _account_again(turn: Turn, data: dict[str, Any], error: DomainError) -> Card:
    number = number_of(data, ACCOUNT_USAGE)
    view = await crm_service.get_account(turn.reader(), turn.clock, turn.who, number)
    return _account(turn, view, error=error, inputs=data)


async def show_contact(turn: Turn, data: dict[str, Any]) -> Card:
    number = number_of(data, CONTACT_USAGE)
    view = await crm_service.get_contact(turn.reader(), turn.clock, turn.who, number)
    return _contact(turn, view)


async def edit_contact(turn: Turn, data: dict[str, Any]) -> Card:
    number = number_of(data, CONTACT_USAGE)
    changes = parse_contact_edit(data)
    view = await crm_service.edit_contact(turn.unit(), turn.clock, turn.who, number, changes)
    return _contact(turn, view, notice=t(turn.locale, "crm.contact_updated"))


async def _contact_again(turn: Turn, data: dict[str, Any], error: DomainError) -> Card:
    number = number_of(data, CONTACT_USAGE)
    view = await crm_service.get_contact(turn.reader(), turn.clock, turn.who, number)
    return _contact(turn, view, error=error, inputs=data)


def _render_notice(locale: str | None, payload: str) -> Card:
    return opportunity_notice_card(locale, OpportunityNotice.from_json(payload))


def _changes(name: str, handler: Handler) -> Verb:
    return Verb(name, handler, refused=_again)


def crm_app() -> AppSpec:
    return AppSpec(
        name="crm",
        commands=(
            Command(
                "new opportunity",
                _read_new,
                (
                    ("new opportunity", "help.cmd.new_opportunity"),
                    ("new opportunity <name>", "help.cmd.new_opportunity_name"),
                ),
                de=("neue chance",),
                help_de=("neue chance", "neue chance <name>"),
            ),
            Command(
                "opportunities",
                _read_list,
                (
                    (
                        "opportunities [mine|open|won|lost|<stage>|all]",
                        "help.cmd.opportunities",
                    ),
                ),
                de=("chancen",),
                help_de=("chancen [meine|offen|gewonnen|verloren|<phase>|alle]",),
            ),
            Command(
                "opportunity",
                _read_number("opportunity.show"),
                (("opportunity <number>", "help.cmd.opportunity"),),
                de=("chance",),
                help_de=("chance <nummer>",),
            ),
            Command(
                "pipeline",
                _read_pipeline,
                (("pipeline", "help.cmd.pipeline"), ("pipeline mine", "help.cmd.pipeline_mine")),
                featured=True,
                de=("pipeline",),
                help_de=("pipeline", "pipeline meine"),
            ),
            Command(
                "accounts",
                _read_names("accounts.list"),
                (("accounts [<name>]", "help.cmd.accounts"),),
                de=("konten",),
                help_de=("konten [<name>]",),
            ),
            Command(
                "account",
                _read_number("account.show"),
                (("account <number>", "help.cmd.account"),),
                de=("konto",),
                help_de=("konto <nummer>",),
            ),
            Command(
                "contacts",
                _read_names("contacts.list"),
                (("contacts [<name>]", "help.cmd.contacts"),),
                de=("kontakte",),
                help_de=("kontakte [<name>]",),
            ),
            Command(
                "contact",
                _read_number("contact.show"),
                (("contact <number>", "help.cmd.contact"),),
                de=("kontakt",),
                help_de=("kontakt <nummer>",),
            ),
        ),
        verbs=(
            Verb("opportunity.form", new_form),
            Verb(
                "opportunity.create",
                create,
                creates=App.OPPORTUNITIES,
                refused=form_refusal(opportunity_form),
            ),
            Verb("opportunities.list", list_opportunities),
            Verb("opportunity.show", show),
            _changes("opportunity.advance", advance),
            _changes("opportunity.stage", stage),
            _changes("opportunity.reopen", reopen),
            _changes("opportunity.edit", edit),
            _changes("opportunity.owner", owner),
            _changes("opportunity.note", note),
            Verb("pipeline.show", pipeline),
            Verb("accounts.list", list_accounts),
            Verb("account.show", show_account),
            Verb("account.edit", edit_account, refused=_account_again),
            Verb("contacts.list", list_contacts),
            Verb("contact.show", show_contact),
            Verb("contact.edit", edit_contact, refused=_contact_again),
        ),
        notices=(Notice(OpportunityNotice.KIND, _render_notice),),
    )
