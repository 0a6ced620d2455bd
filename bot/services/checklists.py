"""Checklist use-cases: templates, starting a checklist (quota-counted), checking items off,
submitting, reviewing. Built on the shared item machinery (bot/services/items.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from bot.domain.checklists import (
    Checklist,
    ChecklistDraft,
    ChecklistEvent,
    ChecklistFilter,
    ChecklistItem,
    ChecklistNotice,
    ChecklistStatus,
    ItemSpec,
    Template,
    TemplateAmbiguous,
    TemplateDraft,
    check_can_change_items,
    check_review,
    check_submit,
)
from bot.domain.clock import Clock
from bot.domain.errors import DomainError, Forbidden, InvalidInput, NotFound
from bot.domain.paging import Page
from bot.domain.people import Actor, Person, can_see
from bot.domain.plans import App
from bot.domain.quota import QuotaPolicy
from bot.services.identity import Identity, find_actor, resolve_actor
from bot.services.items import (
    ItemLog,
    Load,
    NewItem,
    add_comment,
    create_item,
    item_log,
    read_item,
    record_change,
    work_on_item,
)
from bot.services.notifications import notice_person, preview
from storage.models import ChecklistItemRow, ChecklistRow, ChecklistTemplateRow
from storage.statements import table_name
from storage.uow import UnitOfWork

APP = App.CHECKLISTS
COUNTER = "checklist"
TEMPLATE_COUNTER = "checklist_template"
PEOPLE_SHOWN = 50


@dataclass(frozen=True)
class TemplateView:
    template: Template
    can_manage: bool


@dataclass(frozen=True)
class ChecklistView:
    """A checklist as one user may see it, with what that user may do to it."""

    checklist: Checklist
    actor: Actor

    @property
    def can_check(self) -> bool:
        return self.checklist.is_open

    @property
    def can_submit(self) -> bool:
        doer = self.checklist.assignee or self.checklist.starter
        return self.checklist.is_open and (
            self.actor.user.id == doer.id or self.actor.role.works_all_items
        )

    @property
    def can_review(self) -> bool:
        reviewer = self.checklist.reviewer
        return (
            self.checklist.status is ChecklistStatus.SUBMITTED
            and reviewer is not None
            and reviewer.id == self.actor.user.id
        )


@dataclass(frozen=True)
class StartOptions:
    """What the start form offers: the tenant's templates and the people it knows."""

    templates: tuple[Template, ...]
    people: tuple[Person, ...]
    template: Template | None = None  # the one chosen already


# -- templates -------------------------------------------------------------------------------


def _items_json(items: tuple[ItemSpec, ...]) -> str:
    return json.dumps([{"text": i.text, "required": i.required} for i in items])


def _to_template(row: ChecklistTemplateRow) -> Template:
    items = tuple(ItemSpec(str(i["text"]), bool(i["required"])) for i in json.loads(row.items))
    return Template(
        row.number,
        row.title,
        row.description,
        items,
        row.archived,
        Person(row.author_id, row.author_name),
        row.updated_at,
    )


def _require_manager(actor: Actor) -> None:
    if not actor.role.works_all_items:
        raise Forbidden("checklists.only_agents_manage_templates")


async def create_template(
    uow: UnitOfWork, clock: Clock, who: Identity, draft: TemplateDraft
) -> TemplateView:
    """Agents and admins make templates; they are not counted against any quota."""
    async with uow:
        actor = await resolve_actor(uow, clock, who)
        _require_manager(actor)
        now = clock.now()
        row = await uow.checklists.add_template(
            ChecklistTemplateRow(
                tenant_id=uow.tenant_id,
                number=await uow.tenants.next_number(TEMPLATE_COUNTER),
                title=draft.title,
                description=draft.description,
                items=_items_json(draft.items),
                author_id=actor.user.id,
                author_name=actor.user.name,
                created_at=now,
                updated_at=now,
            )
        )
        view = TemplateView(_to_template(row), True)
        await uow.commit()
        return view


async def _managed_template(uow: UnitOfWork, actor: Actor, number: int) -> ChecklistTemplateRow:
    _require_manager(actor)
    row = await uow.checklists.template(number, for_update=True)
    if row is None:
        raise NotFound(what="template", number=number)
    return row


async def update_template(
    uow: UnitOfWork, clock: Clock, who: Identity, number: int, draft: TemplateDraft
) -> TemplateView:
    """Edit a template; checklists already started from it keep the items they copied."""
    async with uow:
        actor = await resolve_actor(uow, clock, who)
        row = await _managed_template(uow, actor, number)
        row.title, row.description = draft.title, draft.description
        row.items = _items_json(draft.items)
        row.updated_at = clock.now()
        await uow.checklists.add_template(row)
        view = TemplateView(_to_template(row), True)
        await uow.commit()
        return view


async def archive_template(
    uow: UnitOfWork, clock: Clock, who: Identity, number: int, archived: bool = True
) -> TemplateView:
    async with uow:
        actor = await resolve_actor(uow, clock, who)
        row = await _managed_template(uow, actor, number)
        row.archived = archived
        row.updated_at = clock.now()
        await uow.checklists.add_template(row)
        view = TemplateView(_to_template(row), True)
        await uow.commit()
        return view


async def get_template(uow: UnitOfWork, clock: Clock, who: Identity, number: int) -> TemplateView:
    async with uow:
        actor = await find_actor(uow, who)
        row = await uow.checklists.template(number)
        if row is None:
            raise NotFound(what="template", number=number)
        return TemplateView(_to_template(row), actor.role.works_all_items)


async def list_templates(
    uow: UnitOfWork, clock: Clock, who: Identity, page: int = 0
) -> tuple[Page[Template], bool]:
    """A page of the active templates, and whether the user may manage them."""
    async with uow:
        actor = await find_actor(uow, who)
        rows, total, shown = await uow.checklists.template_page(page)
        result = Page(tuple(_to_template(r) for r in rows), shown, total)
        return result, actor.role.works_all_items


async def start_options(
    uow: UnitOfWork, clock: Clock, who: Identity, template: str | int | None = None
) -> StartOptions:
    """What the start form offers; `template` (a number or a name) preselects one. A name
    that matches several templates raises TemplateAmbiguous, so the user can pick."""
    async with uow:
        await find_actor(uow, who)
        templates = tuple(_to_template(r) for r in await uow.checklists.all_templates())
        people = tuple(Person(u.id, u.name) for u in (await uow.users.everyone())[:PEOPLE_SHOWN])
        chosen = None
        if isinstance(template, int):
            row = await uow.checklists.template(template)
            if row is None or row.archived:
                raise NotFound(what="template", number=template)
            chosen = _to_template(row)
        elif isinstance(template, str) and template.strip():
            matches = [_to_template(r) for r in await uow.checklists.templates_named(template)]
            if not matches:
                raise DomainError("checklists.no_template_named", typed=template[:100])
            if len(matches) > 1:
                raise TemplateAmbiguous(template[:100], matches)
            chosen = matches[0]
        return StartOptions(templates, people, chosen)


# -- checklists ------------------------------------------------------------------------------


def _person(person_id: str | None, name: str | None) -> Person | None:
    return Person(person_id, name or "") if person_id else None


def _to_checklist(
    row: ChecklistRow,
    items: list[ChecklistItemRow] | None = None,
    log: ItemLog | None = None,
    progress: tuple[int, int] | None = None,
) -> Checklist:
    return Checklist(
        number=row.number,
        title=row.title,
        status=ChecklistStatus(row.status),
        starter=Person(row.starter_id, row.starter_name),
        assignee=_person(row.assignee_id, row.assignee_name),
        reviewer=_person(row.reviewer_id, row.reviewer_name),
        due=row.due,
        items=tuple(
            ChecklistItem(
                i.position,
                i.text,
                i.required,
                _person(i.checked_by_id, i.checked_by_name),
                i.checked_at,
                i.note,
            )
            for i in items or []
        ),
        template=row.template_number,
        created_at=row.created_at,
        updated_at=row.updated_at,
        comments=log.comments if log else (),
        history=log.history if log else (),
        progress=progress,
    )


def _visible(number: int, *, for_update: bool = True) -> Load[ChecklistRow]:
    async def load(uow: UnitOfWork, actor: Actor) -> ChecklistRow:
        row = await uow.checklists.get(number, for_update=for_update)
        # Another tenant's checklist and one this user may not see look the same.
        if row is None or not can_see(actor, row.starter_id, row.assignee_id, row.reviewer_id):
            raise NotFound(what="checklist", number=number)
        return row

    return load


async def _view(uow: UnitOfWork, actor: Actor, row: ChecklistRow) -> ChecklistView:
    assert row.id is not None
    items = await uow.checklists.items(row.id)
    return ChecklistView(_to_checklist(row, items, await item_log(uow, APP, row)), actor)


async def _tell(
    uow: UnitOfWork,
    clock: Clock,
    who: Identity,
    row: ChecklistRow,
    person_id: str | None,
    event: ChecklistEvent,
    detail: str = "",
) -> None:
    if not person_id or person_id == who.user_id:
        return
    notice = ChecklistNotice(event, row.number, row.title, who.name, preview(detail))
    await notice_person(uow, clock, person_id, notice, row.conversation_id, who.locale)


async def _known(uow: UnitOfWork, field: str, user_id: str | None) -> Person | None:
    """Assignees and reviewers are people the bot knows in the tenant."""
    if user_id is None:
        return None
    user = await uow.users.get(user_id)
    if user is None:
        raise InvalidInput({field: ("checklists.unknown_person", {})})
    return Person(user.id, user.name)


async def start_checklist(
    uow: UnitOfWork,
    clock: Clock,
    policy: QuotaPolicy,
    who: Identity,
    draft: ChecklistDraft,
    conversation_id: str | None = None,
) -> ChecklistView:
    """Start a checklist from a template (its items are copied) or blank. It counts against
    the tenant's checklist quota in the same transaction; at the limit nothing is written."""

    async def insert(uow: UnitOfWork, actor: Actor, new: NewItem) -> ChecklistRow:
        items = draft.items
        if draft.template is not None:
            template = await uow.checklists.template(draft.template)
            if template is None or template.archived:
                raise InvalidInput({"template": ("checklists.template_gone", {})})
            items = _to_template(template).items
        assignee = await _known(uow, "assignee", draft.assignee_id)
        reviewer = await _known(uow, "reviewer", draft.reviewer_id)
        row = await uow.checklists.add(
            ChecklistRow(
                id=new.id,
                tenant_id=uow.tenant_id,
                number=new.number,
                title=draft.title,
                template_number=draft.template,
                status=ChecklistStatus.IN_PROGRESS.value,
                starter_id=actor.user.id,
                starter_name=actor.user.name,
                assignee_id=assignee.id if assignee else None,
                assignee_name=assignee.name if assignee else None,
                reviewer_id=reviewer.id if reviewer else None,
                reviewer_name=reviewer.name if reviewer else None,
                due=draft.due,
                conversation_id=conversation_id,
                created_at=new.at,
                updated_at=new.at,
            )
        )
        assert row.id is not None
        await uow.checklists.add_items(
            [
                ChecklistItemRow(
                    tenant_id=uow.tenant_id,
                    checklist_id=row.id,
                    position=position,
                    text=item.text,
                    required=item.required,
                )
                for position, item in enumerate(items, start=1)
            ]
        )
        await _tell(uow, clock, who, row, row.assignee_id, ChecklistEvent.ASSIGNED)
        return row

    return await create_item(
        uow,
        clock,
        policy,
        who,
        APP,
        COUNTER,
        draft.title,
        insert,
        _view,
        table=table_name(ChecklistRow),
    )


async def list_checklists(
    uow: UnitOfWork, clock: Clock, who: Identity, flt: ChecklistFilter, page: int = 0
) -> Page[Checklist]:
    async with uow:
        actor = await find_actor(uow, who)
        rows, total, shown = await uow.checklists.page(
            flt,
            actor.user.id,
            sees_all=actor.role.works_all_items,
            today=clock.now().date(),
            page=page,
        )
        progress = await uow.checklists.progress([r.id for r in rows if r.id is not None])
        return Page(
            tuple(_to_checklist(r, progress=progress.get(r.id or 0, (0, 0))) for r in rows),
            shown,
            total,
        )


async def get_checklist(uow: UnitOfWork, clock: Clock, who: Identity, number: int) -> ChecklistView:
    """One checklist; `uow` may be a reading unit of work."""
    return await read_item(uow, clock, who, _visible(number, for_update=False), _view)


async def _touch(
    uow: UnitOfWork,
    clock: Clock,
    actor: Actor,
    row: ChecklistRow,
    field: str,
    old: str | None,
    new: str | None,
) -> None:
    row.updated_at = clock.now()
    await uow.checklists.add(row)
    await record_change(uow, clock, actor, APP, row, field, old, new)


async def _item(uow: UnitOfWork, row: ChecklistRow, position: int) -> ChecklistItemRow:
    assert row.id is not None
    for item in await uow.checklists.items(row.id):
        if item.position == position:
            return item
    raise DomainError("checklists.no_such_item", position=position)


async def check_item(
    uow: UnitOfWork, clock: Clock, who: Identity, number: int, position: int, checked: bool
) -> ChecklistView:
    """Check or uncheck one item. Asking for the state it already has changes nothing (a
    double click, a second person at the same moment)."""

    async def toggle(uow: UnitOfWork, actor: Actor, row: ChecklistRow) -> None:
        check_can_change_items(ChecklistStatus(row.status))
        item = await _item(uow, row, position)
        if (item.checked_by_id is not None) == checked:
            return
        now = clock.now()
        item.checked_by_id = actor.user.id if checked else None
        item.checked_by_name = actor.user.name if checked else None
        item.checked_at = now if checked else None
        await uow.checklists.save_item(item)
        field = "item_checked" if checked else "item_unchecked"
        await _touch(uow, clock, actor, row, field, None, f"{position}. {item.text}"[:400])

    return await work_on_item(uow, clock, who, _visible(number), toggle, _view)


async def note_item(
    uow: UnitOfWork, clock: Clock, who: Identity, number: int, position: int, note: str
) -> ChecklistView:
    async def annotate(uow: UnitOfWork, actor: Actor, row: ChecklistRow) -> None:
        check_can_change_items(ChecklistStatus(row.status))
        item = await _item(uow, row, position)
        if item.note != note:
            item.note = note
            await uow.checklists.save_item(item)
            await _touch(uow, clock, actor, row, "item_note", None, f"{position}. {note}"[:400])

    return await work_on_item(uow, clock, who, _visible(number), annotate, _view)


async def _current(uow: UnitOfWork, actor: Actor, row: ChecklistRow) -> Checklist:
    return (await _view(uow, actor, row)).checklist


async def submit_checklist(
    uow: UnitOfWork, clock: Clock, who: Identity, number: int
) -> ChecklistView:
    """The assignee submits once every required item is checked: to the reviewer, or, without
    one, as final."""

    async def submit(uow: UnitOfWork, actor: Actor, row: ChecklistRow) -> None:
        old = row.status
        row.status = check_submit(actor, await _current(uow, actor, row)).value
        await _touch(uow, clock, actor, row, "status", old, row.status)
        await _tell(uow, clock, who, row, row.reviewer_id, ChecklistEvent.SUBMITTED)

    return await work_on_item(uow, clock, who, _visible(number), submit, _view)


async def approve_checklist(
    uow: UnitOfWork, clock: Clock, who: Identity, number: int
) -> ChecklistView:
    async def approve(uow: UnitOfWork, actor: Actor, row: ChecklistRow) -> None:
        check_review(actor, await _current(uow, actor, row))
        old, row.status = row.status, ChecklistStatus.APPROVED.value
        await _touch(uow, clock, actor, row, "status", old, row.status)
        await _tell(uow, clock, who, row, row.starter_id, ChecklistEvent.APPROVED)

    return await work_on_item(uow, clock, who, _visible(number), approve, _view)


async def return_checklist(
    uow: UnitOfWork, clock: Clock, who: Identity, number: int, comment: str
) -> ChecklistView:
    """The reviewer sends it back with a comment: it is in progress again."""

    async def send_back(uow: UnitOfWork, actor: Actor, row: ChecklistRow) -> None:
        check_review(actor, await _current(uow, actor, row))
        old, row.status = row.status, ChecklistStatus.RETURNED.value
        await add_comment(uow, clock, actor, APP, row, comment)
        await _touch(uow, clock, actor, row, "status", old, row.status)
        doer = row.assignee_id or row.starter_id
        await _tell(uow, clock, who, row, doer, ChecklistEvent.RETURNED, comment)

    return await work_on_item(uow, clock, who, _visible(number), send_back, _view)
