"""The Checklists app: templates, checklists started from them, and their notices."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.apps.dispatch import Turn, form_refusal, number_of, page_of
from bot.apps.registry import AppSpec, Command, FormRenderer, Notice, Parsed, Verb, no_arguments
from bot.domain.checklists import (
    ChecklistFilter,
    ChecklistNotice,
    ReminderNotice,
    TemplateAmbiguous,
    items_text,
    parse_note,
    parse_return_comment,
    parse_start,
    parse_template,
)
from bot.domain.errors import DomainError
from bot.domain.fields import ascii_int
from bot.domain.people import Person
from bot.domain.plans import App
from bot.i18n import t
from bot.services import checklists as service
from bot.services.checklists import ChecklistView, StartOptions
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
from cards.common import Card

USAGE = "checklists.usage"
TEMPLATE_USAGE = "checklists.template_usage"


def _read_new_checklist(rest: str, mentions: Sequence[Person]) -> Parsed:
    return Parsed("checklist.form", {"template": rest} if rest else {})


# The filters in German.
FILTER_WORDS = {
    "meine": "mine",
    "zugewiesen": "assigned",
    "prüfen": "review",
    "offen": "open",
    "überfällig": "overdue",
    "alle": "all",
}


def _read_checklists(rest: str, mentions: Sequence[Person]) -> Parsed:
    words = rest.lower().split()
    flt = FILTER_WORDS.get(words[0], words[0]) if words else "mine"
    return Parsed("checklists.list", {"filter": flt, "page": 0})


def _read_number(verb: str) -> Any:
    def read(rest: str, mentions: Sequence[Person]) -> Parsed:
        words = rest.split()
        return Parsed(verb, {"number": words[0].lstrip("#").lstrip("Tt") if words else ""})

    return read


def _detail(turn: Turn, view: ChecklistView, **kwargs: Any) -> Card:
    return checklist_detail(
        turn.locale,
        view.checklist,
        can_check=view.can_check,
        can_submit=view.can_submit,
        can_review=view.can_review,
        today=turn.today,
        **kwargs,
    )


# -- templates -------------------------------------------------------------------------------


async def new_template_form(turn: Turn, data: dict[str, Any]) -> Card:
    return template_form(turn.locale)


async def create_template(turn: Turn, data: dict[str, Any]) -> Card:
    view = await service.create_template(turn.unit(), turn.clock, turn.who, parse_template(data))
    notice = t(turn.locale, "checklists.template_created", number=view.template.number)
    return template_detail(turn.locale, view.template, can_manage=True, notice=notice)


async def edit_template_form(turn: Turn, data: dict[str, Any]) -> Card:
    number = number_of(data, TEMPLATE_USAGE)
    view = await service.get_template(turn.reader(), turn.clock, turn.who, number)
    if not view.can_manage:
        raise DomainError("checklists.only_agents_manage_templates")
    values = {
        "title": view.template.title,
        "description": view.template.description,
        "items": items_text(view.template.items),
    }
    return template_form(turn.locale, values, number=number)


async def update_template(turn: Turn, data: dict[str, Any]) -> Card:
    number = number_of(data, TEMPLATE_USAGE)
    draft = parse_template(data)
    view = await service.update_template(turn.unit(), turn.clock, turn.who, number, draft)
    notice = t(turn.locale, "checklists.template_updated", number=number)
    return template_detail(turn.locale, view.template, can_manage=True, notice=notice)


async def _template_form_again(turn: Turn, data: dict[str, Any], error: DomainError) -> Card:
    number = ascii_int(data.get("number"))
    return template_form(turn.locale, data, error, number=number)


def _archive(archived: bool) -> Any:
    async def handler(turn: Turn, data: dict[str, Any]) -> Card:
        number = number_of(data, TEMPLATE_USAGE)
        view = await service.archive_template(turn.unit(), turn.clock, turn.who, number, archived)
        key = "checklists.template_archived" if archived else "checklists.template_restored"
        notice = t(turn.locale, key, number=number)
        return template_detail(turn.locale, view.template, can_manage=True, notice=notice)

    return handler


async def list_templates(turn: Turn, data: dict[str, Any]) -> Card:
    page, can_manage = await service.list_templates(
        turn.reader(), turn.clock, turn.who, page_of(data)
    )
    return template_list(turn.locale, page, can_manage=can_manage)


async def show_template(turn: Turn, data: dict[str, Any]) -> Card:
    number = number_of(data, TEMPLATE_USAGE)
    view = await service.get_template(turn.reader(), turn.clock, turn.who, number)
    return template_detail(turn.locale, view.template, can_manage=view.can_manage)


# -- checklists ------------------------------------------------------------------------------


def _start_form(options: StartOptions) -> FormRenderer:
    def form(
        locale: str | None, values: Any, error: DomainError | None, banner: Sequence[Any]
    ) -> Card:
        return checklist_form(
            locale,
            values,
            error,
            banner,
            templates=options.templates,
            people=options.people,
            template=options.template,
        )

    return form


def _template_asked(data: dict[str, Any]) -> str | int | None:
    raw = data.get("template")
    number = ascii_int(raw.lstrip("Tt") if isinstance(raw, str) else raw)
    if number is not None:
        return number
    return raw.strip()[:200] if isinstance(raw, str) and raw.strip() else None


async def new_checklist_form(turn: Turn, data: dict[str, Any]) -> Card:
    """The start form; `new checklist <name or number>` preselects that template, and a name
    that matches several templates asks which."""
    try:
        options = await service.start_options(
            turn.reader(), turn.clock, turn.who, _template_asked(data)
        )
    except TemplateAmbiguous as ambiguous:
        return template_choice_card(turn.locale, str(ambiguous.params["typed"]), ambiguous.matches)
    return _start_form(options)(turn.locale, None, None, ())


async def start_checklist(turn: Turn, data: dict[str, Any]) -> Card:
    template = ascii_int(data.get("template"))
    draft = parse_start(data, turn.today, from_template=template is not None)
    view = await service.start_checklist(
        turn.unit(), turn.clock, turn.policy, turn.who, draft, turn.conversation_id
    )
    notice = t(turn.locale, "checklists.started", number=view.checklist.number)
    return _detail(turn, view, notice=notice)


async def _start_refused(turn: Turn, data: dict[str, Any], error: DomainError) -> Card:
    """The start form comes back with everything typed: the shared refusal, with the form's
    choices of templates and people."""
    options = await service.start_options(turn.reader(), turn.clock, turn.who)
    return await form_refusal(_start_form(options))(turn, data, error)


async def list_checklists(turn: Turn, data: dict[str, Any]) -> Card:
    raw = data.get("filter") or "mine"
    try:
        flt = ChecklistFilter(raw.strip().lower() if isinstance(raw, str) else raw)
    except ValueError:
        raise DomainError(
            "checklists.bad_filter",
            filter=str(raw)[:40],
            allowed=", ".join(f.value for f in ChecklistFilter),
        ) from None
    page = await service.list_checklists(turn.reader(), turn.clock, turn.who, flt, page_of(data))
    return checklist_list(turn.locale, page, flt, turn.today)


async def show_checklist(turn: Turn, data: dict[str, Any]) -> Card:
    number = number_of(data, USAGE)
    view = await service.get_checklist(turn.reader(), turn.clock, turn.who, number)
    return _detail(turn, view)


async def _checklist_again(turn: Turn, data: dict[str, Any], error: DomainError) -> Card:
    """A refused action shows the checklist as it is now, under the reason."""
    number = number_of(data, USAGE)
    view = await service.get_checklist(turn.reader(), turn.clock, turn.who, number)
    return _detail(turn, view, error=error)


def _position(data: dict[str, Any]) -> int:
    position = ascii_int(data.get("position"))
    if position is None or not 1 <= position <= 1000:
        raise DomainError("checklists.no_such_item", position=str(data.get("position"))[:10])
    return position


async def check_item(turn: Turn, data: dict[str, Any]) -> Card:
    number, position = number_of(data, USAGE), _position(data)
    checked = data.get("checked") not in (False, "false", "0", 0)
    view = await service.check_item(turn.unit(), turn.clock, turn.who, number, position, checked)
    return _detail(turn, view)


async def note_item(turn: Turn, data: dict[str, Any]) -> Card:
    number, position = number_of(data, USAGE), _position(data)
    note = parse_note(data.get("note"))
    view = await service.note_item(turn.unit(), turn.clock, turn.who, number, position, note)
    return _detail(turn, view, notice=t(turn.locale, "checklists.updated", number=number))


async def submit(turn: Turn, data: dict[str, Any]) -> Card:
    number = number_of(data, USAGE)
    view = await service.submit_checklist(turn.unit(), turn.clock, turn.who, number)
    key = "checklists.submitted_review" if view.checklist.reviewer else "checklists.submitted"
    return _detail(turn, view, notice=t(turn.locale, key, number=number))


async def approve(turn: Turn, data: dict[str, Any]) -> Card:
    number = number_of(data, USAGE)
    view = await service.approve_checklist(turn.unit(), turn.clock, turn.who, number)
    return _detail(turn, view, notice=t(turn.locale, "checklists.approved", number=number))


async def send_back(turn: Turn, data: dict[str, Any]) -> Card:
    number = number_of(data, USAGE)
    comment = parse_return_comment(data.get("comment"))
    view = await service.return_checklist(turn.unit(), turn.clock, turn.who, number, comment)
    return _detail(turn, view, notice=t(turn.locale, "checklists.returned", number=number))


def _render_notice(locale: str | None, payload: str) -> Card:
    return checklist_notice_card(locale, ChecklistNotice.from_json(payload))


def _render_reminder(locale: str | None, payload: str) -> Card:
    return reminder_card(locale, ReminderNotice.from_json(payload))


def checklists_app() -> AppSpec:
    return AppSpec(
        name="checklists",
        commands=(
            Command(
                "new checklist",
                _read_new_checklist,
                (
                    ("new checklist", "help.cmd.new_checklist"),
                    ("new checklist <template>", "help.cmd.new_checklist_template"),
                ),
                de=("neue checkliste",),
                help_de=("neue checkliste", "neue checkliste <vorlage>"),
            ),
            Command(
                "checklists",
                _read_checklists,
                (("checklists [mine|assigned|review|open|overdue|all]", "help.cmd.checklists"),),
                featured=True,
                de=("checklisten",),
                help_de=("checklisten [meine|zugewiesen|prüfen|offen|überfällig|alle]",),
            ),
            Command(
                "checklist",
                _read_number("checklist.show"),
                (("checklist <number>", "help.cmd.checklist"),),
                de=("checkliste",),
                help_de=("checkliste <nummer>",),
            ),
            Command(
                "new template",
                no_arguments("template.form"),
                (("new template", "help.cmd.new_template"),),
                de=("neue vorlage",),
                help_de=("neue vorlage",),
            ),
            Command(
                "templates",
                no_arguments("templates.list", page=0),
                (("templates", "help.cmd.templates"),),
                de=("vorlagen",),
                help_de=("vorlagen",),
            ),
            Command(
                "template",
                _read_number("template.show"),
                (("template <number>", "help.cmd.template"),),
                de=("vorlage",),
                help_de=("vorlage <nummer>",),
            ),
        ),
        verbs=(
            Verb("template.form", new_template_form),
            Verb("template.create", create_template, refused=_template_form_again),
            Verb("template.edit_form", edit_template_form),
            Verb("template.update", update_template, refused=_template_form_again),
            Verb("template.archive", _archive(True)),
            Verb("template.restore", _archive(False)),
            Verb("templates.list", list_templates),
            Verb("template.show", show_template),
            Verb("checklist.form", new_checklist_form),
            Verb(
                "checklist.start",
                start_checklist,
                creates=App.CHECKLISTS,
                refused=_start_refused,
            ),
            Verb("checklists.list", list_checklists),
            Verb("checklist.show", show_checklist),
            Verb("checklist.check", check_item, refused=_checklist_again),
            Verb("checklist.note", note_item, refused=_checklist_again),
            Verb("checklist.submit", submit, refused=_checklist_again),
            Verb("checklist.approve", approve, refused=_checklist_again),
            Verb("checklist.return", send_back, refused=_checklist_again),
        ),
        notices=(
            Notice(ChecklistNotice.KIND, _render_notice),
            Notice(ReminderNotice.KIND, _render_reminder),
        ),
    )
