"""Checklist cards: the template form, a template, the start form, one checklist with its items,
lists, the "which template?" question, notices and the reminder digest."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from bot.domain.checklists import (
    DESCRIPTION_MAX,
    ITEM_MAX,
    ITEMS_MAX,
    NOTE_MAX,
    TITLE_MAX,
    Checklist,
    ChecklistFilter,
    ChecklistNotice,
    ReminderNotice,
    Template,
)
from bot.domain.errors import DomainError, InvalidInput
from bot.domain.paging import Page
from bot.domain.people import Person
from bot.i18n import Messages, fmt_date, fmt_datetime, t
from cards.common import (
    Card,
    Element,
    as_of_line,
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
    list_row,
    literal,
    pager,
    progress_bar,
    show_card,
    text,
    text_input,
)

ITEMS_FIELD_MAX = ITEMS_MAX * (ITEM_MAX + 3)
COMMENTS_SHOWN = 3


def _value(values: Mapping[str, Any], name: str) -> str | None:
    raw = values.get(name)
    return raw if isinstance(raw, str) else None


def _errors_block(locale: str | None, error: DomainError | None) -> list[Element]:
    if error is None:
        return []
    body = [attention(error_text(locale, error))]
    if isinstance(error, InvalidInput):
        for msg in field_errors(locale, error).values():
            body.append(text(msg, color="Attention", size="Small"))
    return body


# -- templates -------------------------------------------------------------------------------


def template_form(
    locale: str | None,
    values: Mapping[str, Any] | None = None,
    error: DomainError | None = None,
    banner: Sequence[Element] = (),
    *,
    number: int | None = None,
) -> Card:
    """A new template, or (with `number`) the edit form of one; it comes back with the input
    after a refusal."""
    values = values or {}
    errors = field_errors(locale, error if isinstance(error, InvalidInput) else None)
    title_key = "checklists.template_form.edit" if number else "checklists.template_form.title"
    body: list[Element] = [*banner, heading(t(locale, title_key, number=number or 0))]
    body += _errors_block(locale, error)
    body += [
        text_input(
            "title",
            t(locale, "checklists.field.title"),
            value=_value(values, "title"),
            placeholder=t(locale, "checklists.placeholder.template_title"),
            max_length=TITLE_MAX,
            required=True,
            error=errors.get("title") or t(locale, "field.required"),
        ),
        text_input(
            "description",
            t(locale, "checklists.field.description"),
            value=_value(values, "description"),
            multiline=True,
            max_length=DESCRIPTION_MAX,
        ),
        text_input(
            "items",
            t(locale, "checklists.field.items"),
            value=_value(values, "items"),
            placeholder=t(locale, "checklists.placeholder.items"),
            multiline=True,
            max_length=ITEMS_FIELD_MAX,
            required=True,
            error=errors.get("items") or t(locale, "checklists.no_items"),
        ),
        text(t(locale, "checklists.items_hint"), isSubtle=True, size="Small"),
    ]
    if number:
        action = execute(t(locale, "button.save"), "template.update", {"number": number})
    else:
        action = execute(t(locale, "button.create_template"), "template.create")
    return card(body, [action])


def template_detail(
    locale: str | None, template: Template, *, can_manage: bool, notice: str | None = None
) -> Card:
    body: list[Element] = []
    if notice:
        body.append(text(notice, color="Good", weight="Bolder"))
    body.append(
        heading(
            t(
                locale,
                "checklists.template_heading",
                number=template.number,
                title=literal(template.title),
            )
        )
    )
    if template.archived:
        body.append(text(t(locale, "checklists.archived"), color="Warning"))
    if template.description:
        body.append(text(literal(template.description)))
    required = f" ({t(locale, 'checklists.required')})"
    listed = facts(
        (f"{i}.", literal(item.text) + (required if item.required else ""))
        for i, item in enumerate(template.items, start=1)
    )
    body.append({**listed, "separator": True})
    body.append(
        text(
            t(
                locale,
                "checklists.template_line",
                count=len(template.items),
                author=literal(template.author.name),
                updated=fmt_date(locale, template.updated_at),
            ),
            size="Small",
            isSubtle=True,
        )
    )
    ref = {"number": template.number}
    actions: list[Element] = []
    if not template.archived:
        actions.append(
            execute(
                t(locale, "button.start_checklist"), "checklist.form", {"template": template.number}
            )
        )
    if can_manage:
        actions.append(execute(t(locale, "button.edit"), "template.edit_form", ref))
        archive_verb = "template.restore" if template.archived else "template.archive"
        archive_key = "button.restore" if template.archived else "button.archive"
        actions.append(execute(t(locale, archive_key), archive_verb, ref, mode="secondary"))
    return card(body, actions)


def template_list(locale: str | None, page: Page[Template], *, can_manage: bool) -> Card:
    body: list[Element] = [heading(t(locale, "checklists.templates_title"))]
    if not page.items:
        body.append(text(t(locale, "checklists.no_templates"), isSubtle=True))
    opens = t(locale, "button.open")
    for template in page.items:
        body.append(
            list_row(
                execute(opens, "template.show", {"number": template.number}),
                f"**T{template.number}** {literal(template.title)}",
                t(locale, "checklists.template_count", count=len(template.items)),
            )
        )
    line, actions = pager(locale, page, "templates.list", {}, "checklists.templates_page")
    body.append(line)
    if can_manage:
        actions.append(execute(t(locale, "button.new_template"), "template.form"))
    actions.append(execute(t(locale, "button.new_checklist"), "checklist.form"))
    return card(body, actions)


def template_choice_card(locale: str | None, typed: str, matches: Sequence[Template]) -> Card:
    """A name matched several templates: which one?"""
    body: list[Element] = [
        text(t(locale, "checklists.which_template", typed=literal(typed), count=len(matches)))
    ]
    choices = [(str(m.number), f"T{m.number} {m.title}") for m in matches]
    body.append(
        choice_set("template", t(locale, "checklists.field.template"), choices, choices[0][0])
    )
    return card(body, [execute(t(locale, "button.start_checklist"), "checklist.form")])


# -- starting ---------------------------------------------------------------------------------


def checklist_form(
    locale: str | None,
    values: Mapping[str, Any] | None = None,
    error: DomainError | None = None,
    banner: Sequence[Element] = (),
    *,
    templates: Sequence[Template] = (),
    people: Sequence[Person] = (),
    template: Template | None = None,
) -> Card:
    """Start a checklist: from a template, or blank with the items typed in."""
    values = values or {}
    errors = field_errors(locale, error if isinstance(error, InvalidInput) else None)
    body: list[Element] = [*banner, heading(t(locale, "checklists.form.title"))]
    body += _errors_block(locale, error)
    chosen = template.number if template else None
    typed_template = _value(values, "template")
    title = _value(values, "title") or (template.title if template else None)
    body.append(
        text_input(
            "title",
            t(locale, "checklists.field.title"),
            value=title,
            placeholder=t(locale, "checklists.placeholder.title"),
            max_length=TITLE_MAX,
            required=True,
            error=errors.get("title") or t(locale, "field.required"),
        )
    )
    if templates:
        options = [(str(x.number), f"T{x.number} {x.title}") for x in templates]
        preset = typed_template if typed_template is not None else str(chosen or "")
        body.append(
            choice_set(
                "template",
                t(locale, "checklists.field.template"),
                options,
                preset or None,
                placeholder=t(locale, "checklists.blank"),
            )
        )
    body.append(
        text_input(
            "items",
            t(locale, "checklists.field.items_blank"),
            value=_value(values, "items"),
            placeholder=t(locale, "checklists.placeholder.items"),
            multiline=True,
            max_length=ITEMS_FIELD_MAX,
        )
    )
    people_choices = [(p.id, p.name) for p in people]
    for name in ("assignee", "reviewer"):
        if people_choices:
            body.append(
                choice_set(
                    name,
                    t(locale, f"checklists.field.{name}"),
                    people_choices,
                    _value(values, name) or None,
                    placeholder=t(locale, "checklists.nobody"),
                )
            )
    body.append(
        {
            "type": "Input.Date",
            "id": "due",
            "label": t(locale, "checklists.field.due"),
            **({"value": _value(values, "due")} if _value(values, "due") else {}),
        }
    )
    body += field_error_lines(
        locale, errors, ("template", "items", "assignee", "reviewer", "due"), "checklists.field."
    )
    return card(body, [execute(t(locale, "button.start_checklist"), "checklist.start")])


# -- one checklist ---------------------------------------------------------------------------


def _status(locale: str | None, checklist: Checklist) -> str:
    return t(locale, f"checkliststatus.{checklist.status.value}")


def _item_row(locale: str | None, checklist: Checklist, position: int, editable: bool) -> Element:
    item = checklist.items[position - 1]
    mark = "☑" if item.checked else "☐"
    label = f"{mark} {position}. {literal(item.text)}"
    if item.required:
        label += " *"
    lines: list[Element] = [
        text(label, spacing="None", weight="Bolder" if item.required else "Default")
    ]
    if item.checked_by is not None and item.checked_at is not None:
        lines.append(
            text(
                t(
                    locale,
                    "checklists.checked_by",
                    name=literal(item.checked_by.name),
                    at=fmt_datetime(locale, item.checked_at),
                ),
                size="Small",
                isSubtle=True,
                spacing="None",
            )
        )
    if item.note:
        lines.append(text(literal(item.note), size="Small", spacing="None"))
    container: Element = {"type": "Container", "items": lines, "spacing": "Small"}
    if editable:
        container["selectAction"] = execute(
            t(locale, "button.uncheck" if item.checked else "button.check"),
            "checklist.check",
            {"number": checklist.number, "position": position, "checked": not item.checked},
        )
    return container


def checklist_detail(
    locale: str | None,
    checklist: Checklist,
    *,
    can_check: bool,
    can_submit: bool,
    can_review: bool,
    notice: str | None = None,
    error: DomainError | None = None,
    today: date | None = None,
) -> Card:
    body: list[Element] = _errors_block(locale, error)
    if notice and error is None:
        body.append(text(notice, color="Good", weight="Bolder"))
    body.append(
        heading(
            t(
                locale,
                "checklists.heading",
                number=checklist.number,
                title=literal(checklist.title),
            )
        )
    )
    done, total = checklist.done, checklist.total
    percent = (done * 100) // total if total else 0
    body.append(text(t(locale, "checklists.progress", done=done, total=total), weight="Bolder"))
    body.append(progress_bar(percent, calm=True))
    nobody = t(locale, "checklists.nobody")
    due = fmt_date(locale, checklist.due) if checklist.due else t(locale, "ticket.no_due")
    if today is not None and checklist.overdue(today):
        due = t(locale, "checklists.overdue_due", due=due)
    body.append(
        facts(
            [
                (t(locale, "checklists.field.status"), _status(locale, checklist)),
                (t(locale, "checklists.field.starter"), literal(checklist.starter.name)),
                (
                    t(locale, "checklists.field.assignee"),
                    literal(checklist.assignee.name) if checklist.assignee else nobody,
                ),
                (
                    t(locale, "checklists.field.reviewer"),
                    literal(checklist.reviewer.name) if checklist.reviewer else nobody,
                ),
                (t(locale, "checklists.field.due"), due),
            ]
        )
    )
    editable = can_check and checklist.is_open
    for position in range(1, len(checklist.items) + 1):
        body.append(_item_row(locale, checklist, position, editable))
    if editable and checklist.items:
        body.append(text(t(locale, "checklists.tap_hint"), size="Small", isSubtle=True))
    if checklist.comments:  # a checklist has comments only from its reviews
        body += comment_section(
            locale,
            checklist.comments,
            (
                "ticket.comments",
                "ticket.no_comments",
                "ticket.more_comments",
                "ticket.comment_line",
            ),
            shown=COMMENTS_SHOWN,
            clip_at=2000,
        )
    body.append(as_of_line(locale, checklist.updated_at))
    ref = {"number": checklist.number}
    actions: list[Element] = []
    if can_submit:
        actions.append(execute(t(locale, "button.submit"), "checklist.submit", ref))
    if can_review:
        actions.append(execute(t(locale, "button.approve"), "checklist.approve", ref))
        actions.append(
            show_card(
                t(locale, "button.return"),
                [
                    text_input(
                        "comment",
                        t(locale, "checklists.field.return_comment"),
                        multiline=True,
                        max_length=2000,
                        required=True,
                        error=t(locale, "field.required"),
                    )
                ],
                [execute(t(locale, "button.return"), "checklist.return", ref)],
            )
        )
    if editable and checklist.items:
        choices = [(str(i.position), f"{i.position}. {i.text}") for i in checklist.items]
        actions.append(
            show_card(
                t(locale, "button.note"),
                [
                    choice_set(
                        "position", t(locale, "checklists.field.item"), choices, choices[0][0]
                    ),
                    text_input("note", t(locale, "checklists.field.note"), max_length=NOTE_MAX),
                ],
                [execute(t(locale, "button.save"), "checklist.note", ref)],
            )
        )
    actions.append(execute(t(locale, "button.refresh"), "checklist.show", ref, mode="secondary"))
    return card(body, actions)


def checklist_list(
    locale: str | None, page: Page[Checklist], flt: ChecklistFilter, today: date
) -> Card:
    body: list[Element] = [
        heading(
            t(locale, "checklists.list_title", filter=t(locale, f"checklistfilter.{flt.value}"))
        )
    ]
    if not page.items:
        body.append(text(t(locale, "checklists.list_empty"), isSubtle=True))
    messages = Messages(locale)
    for checklist in page.items:
        due = fmt_date(locale, checklist.due) if checklist.due else "-"
        if checklist.overdue(today):
            due = t(locale, "checklists.overdue_due", due=due)
        about = t(
            locale,
            "checklists.list_line",
            done=checklist.done,
            total=checklist.total,
            status=messages["checkliststatus." + checklist.status],
            assignee=literal(checklist.assignee.name)
            if checklist.assignee
            else messages["checklists.nobody"],
            due=due,
        )
        body.append(
            list_row(
                execute(messages["button.open"], "checklist.show", {"number": checklist.number}),
                f"**#{checklist.number}** {literal(checklist.title)}",
                about,
            )
        )
    line, actions = pager(
        locale, page, "checklists.list", {"filter": flt.value}, "checklists.list_page"
    )
    body.append(line)
    actions.append(execute(t(locale, "button.new_checklist"), "checklist.form"))
    if flt is not ChecklistFilter.ALL:
        actions.append(
            execute(t(locale, "button.all"), "checklists.list", {"filter": "all", "page": 0})
        )
    return card(body, actions)


# -- what the bot says on its own ------------------------------------------------------------


def checklist_notice_card(locale: str | None, notice: ChecklistNotice) -> Card:
    body: list[Element] = [
        text(
            t(
                locale,
                f"checklists.notify.{notice.event.value}",
                actor=literal(notice.actor),
                number=notice.number,
                title=literal(notice.title),
            ),
            weight="Bolder",
        )
    ]
    if notice.detail:
        body.append(text(literal(notice.detail), isSubtle=True))
    return card(
        body, [execute(t(locale, "button.open"), "checklist.show", {"number": notice.number})]
    )


def reminder_card(locale: str | None, notice: ReminderNotice) -> Card:
    """The daily digest of one person's tickets and checklists due today or overdue."""
    body: list[Element] = [heading(t(locale, "reminders.title", count=len(notice.items)))]
    for item in notice.items:
        key = "reminders.overdue" if item.due < notice.day else "reminders.today"
        kind = t(locale, f"reminders.kind.{item.app}")
        verb = "ticket.show" if item.app == "tickets" else "checklist.show"
        body.append(
            list_row(
                execute(t(locale, "button.open"), verb, {"number": item.number}),
                f"{kind} **#{item.number}** {literal(item.title)}",
                t(locale, key, due=fmt_date(locale, item.due)),
                color="Attention" if item.due < notice.day else "Default",
            )
        )
    return card(
        body,
        [
            execute(
                t(locale, "button.my_tickets"), "tickets.list", {"filter": "assigned", "page": 0}
            ),
            execute(
                t(locale, "button.my_checklists"),
                "checklists.list",
                {"filter": "assigned", "page": 0},
            ),
        ],
    )
