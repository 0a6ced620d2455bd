"""CRM use-cases, on the shared item machinery (bot/services/items.py).

Opportunities are items: created against the opportunity quota, worked on with history,
noted on with the shared comments. Members see the opportunities they own, agents and admins
all of them; accounts and contacts belong to everyone in the tenant and are never counted.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from bot.domain.clock import Clock
from bot.domain.crm import (
    Account,
    AccountEdit,
    AccountRef,
    Contact,
    ContactEdit,
    ContactRef,
    DealEdit,
    Opportunity,
    OpportunityDraft,
    OpportunityFilter,
    OpportunityNotice,
    Pipeline,
    PipelineEntry,
    Quarter,
    Stage,
    StageMove,
    StageRefused,
    build_pipeline,
    move_to,
    name_key,
    next_stage,
    probability,
    reopen,
)
from bot.domain.errors import InvalidInput, NotFound
from bot.domain.paging import Page
from bot.domain.people import Actor, Person, can_see
from bot.domain.plans import App
from bot.domain.quota import QuotaPolicy
from bot.domain.roles import Role
from bot.services.identity import Identity, find_actor
from bot.services.items import (
    Load,
    NewItem,
    add_comment,
    create_item,
    item_log,
    read_item,
    record_change,
    work_on_item,
)
from bot.services.notifications import notice_person
from storage.models import AccountRow, ContactRow, OpportunityRow
from storage.statements import table_name
from storage.uow import UnitOfWork

APP = App.OPPORTUNITIES
COUNTER = "opportunity"
ACCOUNT_COUNTER = "account"
CONTACT_COUNTER = "contact"
# The people an owner can be chosen from, in a card's one choice set.
OWNERS_SHOWN = 100
# Whose users those are: every role (an opportunity's view lists them, read with the actor).
OWNERS = tuple(r.value for r in Role)


@dataclass(frozen=True)
class OpportunityView:
    """An opportunity as one user may see it, and whom it could be handed to."""

    opportunity: Opportunity
    actor: Actor
    people: tuple[Person, ...]


@dataclass(frozen=True)
class AccountView:
    account: Account
    contacts: tuple[Contact, ...]
    opportunities: tuple[Opportunity, ...]  # the newest ones the user may see


@dataclass(frozen=True)
class ContactView:
    contact: Contact
    opportunities: tuple[Opportunity, ...]


# -- rows to values ---------------------------------------------------------------------------


def _account_ref(row: AccountRow | None) -> AccountRef | None:
    return AccountRef(row.number, row.name) if row is not None else None


def _contact_ref(row: ContactRow | None) -> ContactRef | None:
    return ContactRef(row.number, row.name) if row is not None else None


def _to_account(row: AccountRow) -> Account:
    return Account(row.number, row.name, row.domain, row.notes, row.created_at, row.updated_at)


def _to_contact(row: ContactRow, account: AccountRow | None) -> Contact:
    return Contact(
        row.number,
        row.name,
        row.email,
        row.phone,
        row.job_role,
        _account_ref(account),
        row.created_at,
        row.updated_at,
    )


def _to_opportunity(
    row: OpportunityRow,
    account: AccountRow | None,
    contact: ContactRow | None,
) -> Opportunity:
    return Opportunity(
        number=row.number,
        name=row.name,
        account=_account_ref(account),
        contact=_contact_ref(contact),
        amount=Decimal(row.amount),
        currency=row.currency,
        stage=Stage(row.stage),
        own_probability=row.own_probability,
        close_date=row.close_date,
        owner=Person(row.owner_id, row.owner_name),
        next_step=row.next_step,
        lost_reason=row.lost_reason,
        last_open_stage=Stage(row.last_open_stage),
        closed_on=row.closed_on,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


async def _opportunities(uow: UnitOfWork, rows: list[OpportunityRow]) -> tuple[Opportunity, ...]:
    accounts = await uow.crm.accounts_by_id(r.account_id for r in rows)
    contacts = await uow.crm.contacts_by_id(r.contact_id for r in rows)
    return tuple(
        _to_opportunity(
            r,
            accounts.get(r.account_id) if r.account_id else None,
            contacts.get(r.contact_id) if r.contact_id else None,
        )
        for r in rows
    )


async def _people(uow: UnitOfWork) -> tuple[Person, ...]:
    users = await uow.users.with_roles(OWNERS)
    return tuple(Person(u.id, u.name) for u in users[:OWNERS_SHOWN])


def _visible(number: int, *, for_update: bool = True) -> Load[OpportunityRow]:
    async def load(uow: UnitOfWork, actor: Actor) -> OpportunityRow:
        row = await uow.crm.opportunity(number, for_update=for_update)
        # Another tenant's opportunity and one this user may not see look the same.
        if row is None or not can_see(actor, row.owner_id):
            raise NotFound(what="opportunity", number=number)
        return row

    return load


async def _view(uow: UnitOfWork, actor: Actor, row: OpportunityRow) -> OpportunityView:
    (opportunity,) = await _opportunities(uow, [row])
    log = await item_log(uow, APP, row)
    opportunity = replace(opportunity, comments=log.comments, history=log.history)
    return OpportunityView(opportunity, actor, await _people(uow))


async def _changed(
    uow: UnitOfWork,
    clock: Clock,
    actor: Actor,
    row: OpportunityRow,
    changes: list[tuple[str, str | None, str | None]],
) -> None:
    if not changes:
        return
    row.updated_at = clock.now()
    await uow.crm.add_opportunity(row)
    for name, old, new in changes:
        await record_change(uow, clock, actor, APP, row, name, old, new)


def _money(amount: Decimal) -> str:
    return f"{amount:.2f}"


# -- accounts and contacts named on an opportunity --------------------------------------------


async def _account_named(uow: UnitOfWork, name: str, now: datetime) -> AccountRow | None:
    if not name:
        return None
    found = await uow.crm.account_named(name)
    if found is not None:
        return found
    number = await uow.tenants.next_number(ACCOUNT_COUNTER)
    return await uow.crm.account_or_new(
        AccountRow(
            tenant_id=uow.tenant_id,
            number=number,
            name=name,
            name_key=name_key(name),
            created_at=now,
            updated_at=now,
        )
    )


async def _contact_named(
    uow: UnitOfWork, name: str, email: str, account: AccountRow | None, now: datetime
) -> ContactRow | None:
    if not name:
        return None
    account_id = account.id if account is not None else None
    found = await uow.crm.contact_named(name, account_id)
    if found is not None:
        if email and not found.email:
            found.email, found.updated_at = email, now
            await uow.crm.add_contact(found)
        return found
    number = await uow.tenants.next_number(CONTACT_COUNTER)
    return await uow.crm.add_contact(
        ContactRow(
            tenant_id=uow.tenant_id,
            number=number,
            name=name,
            name_key=name_key(name),
            email=email,
            account_id=account_id,
            created_at=now,
            updated_at=now,
        )
    )


# -- opportunities ----------------------------------------------------------------------------


async def create_opportunity(
    uow: UnitOfWork,
    clock: Clock,
    policy: QuotaPolicy,
    who: Identity,
    draft: OpportunityDraft,
    conversation_id: str | None = None,
) -> OpportunityView:
    """Create an opportunity at stage lead, owned by its creator; it counts against the
    opportunity quota in the same transaction (at the limit nothing is written, not even a
    new account or contact)."""

    async def insert(uow: UnitOfWork, actor: Actor, new: NewItem) -> OpportunityRow:
        account = await _account_named(uow, draft.account, new.at)
        contact = await _contact_named(uow, draft.contact, draft.contact_email, account, new.at)
        return await uow.crm.add_opportunity(
            OpportunityRow(
                id=new.id,
                tenant_id=uow.tenant_id,
                number=new.number,
                name=draft.name,
                account_id=account.id if account is not None else None,
                contact_id=contact.id if contact is not None else None,
                amount=draft.amount,
                currency=draft.currency,
                stage=Stage.LEAD.value,
                last_open_stage=Stage.LEAD.value,
                close_date=draft.close_date,
                owner_id=actor.user.id,
                owner_name=actor.user.name,
                next_step=draft.next_step,
                conversation_id=conversation_id,
                created_at=new.at,
                updated_at=new.at,
            )
        )

    return await create_item(
        uow,
        clock,
        policy,
        who,
        APP,
        COUNTER,
        draft.name,
        insert,
        _view,
        table=table_name(OpportunityRow),
        listed=OWNERS,
    )


async def list_opportunities(
    uow: UnitOfWork, who: Identity, flt: OpportunityFilter, page: int = 0
) -> Page[Opportunity]:
    """A page of the opportunities the user may see; `uow` is a reading unit of work."""
    async with uow:
        actor = await find_actor(uow, who)
        rows, total, shown = await uow.crm.opportunity_page(
            flt, actor.user.id, sees_all=actor.role.works_all_items, page=page
        )
        return Page(await _opportunities(uow, rows), shown, total)


async def get_opportunity(
    uow: UnitOfWork, clock: Clock, who: Identity, number: int
) -> OpportunityView:
    """One opportunity; `uow` may be a reading unit of work."""
    return await read_item(
        uow, clock, who, _visible(number, for_update=False), _view, listed=OWNERS
    )


def _stage_changes(
    row: OpportunityRow, move: StageMove
) -> list[tuple[str, str | None, str | None]]:
    old_stage = Stage(row.stage)
    old_chance = probability(old_stage, row.own_probability)
    changes: list[tuple[str, str | None, str | None]] = [("stage", row.stage, move.stage.value)]
    row.stage = move.stage.value
    row.last_open_stage = move.last_open_stage.value
    row.closed_on = move.closed_on
    if move.lost_reason != row.lost_reason:
        if move.lost_reason:
            changes.append(("lost_reason", row.lost_reason, move.lost_reason))
        row.lost_reason = move.lost_reason
    new_chance = probability(move.stage, row.own_probability)
    if new_chance != old_chance:
        changes.append(("probability", str(old_chance), str(new_chance)))
    return changes


async def _move(
    uow: UnitOfWork, clock: Clock, who: Identity, number: int, decide: StageDecision
) -> OpportunityView:
    async def change(uow: UnitOfWork, actor: Actor, row: OpportunityRow) -> None:
        move = decide(Stage(row.stage), Stage(row.last_open_stage), clock)
        await _changed(uow, clock, actor, row, _stage_changes(row, move))

    return await work_on_item(uow, clock, who, _visible(number), change, _view, listed=OWNERS)


class StageDecision:
    """How a stage verb picks the move, from the current stage and the last open one."""

    def __init__(self, target: Stage | None, lost_reason: str = "", *, reopening: bool = False):
        self.target = target
        self.lost_reason = lost_reason
        self.reopening = reopening

    def __call__(self, current: Stage, last_open: Stage, clock: Clock) -> StageMove:
        if self.reopening:
            return reopen(current, last_open)
        target = self.target or next_stage(current)
        if target is None:
            raise StageRefused("crm.already_closed", stage=current)
        return move_to(current, last_open, target, clock.now().date(), self.lost_reason)


async def advance(uow: UnitOfWork, clock: Clock, who: Identity, number: int) -> OpportunityView:
    """To the next stage (after negotiation: won)."""
    return await _move(uow, clock, who, number, StageDecision(None))


async def move_stage(
    uow: UnitOfWork, clock: Clock, who: Identity, number: int, stage: Stage, lost_reason: str = ""
) -> OpportunityView:
    """To any stage: won and lost close it (lost with a reason), an open stage reopens it."""
    return await _move(uow, clock, who, number, StageDecision(stage, lost_reason))


async def reopen_opportunity(
    uow: UnitOfWork, clock: Clock, who: Identity, number: int
) -> OpportunityView:
    return await _move(uow, clock, who, number, StageDecision(None, reopening=True))


async def _apply_deal(
    uow: UnitOfWork, clock: Clock, actor: Actor, row: OpportunityRow, edit: DealEdit
) -> None:
    changes: list[tuple[str, str | None, str | None]] = []
    stage = Stage(row.stage)
    if Decimal(row.amount) != edit.amount:
        changes.append(("amount", _money(Decimal(row.amount)), _money(edit.amount)))
        row.amount = edit.amount
    if row.currency != edit.currency:
        changes.append(("currency", row.currency, edit.currency))
        row.currency = edit.currency
    if row.close_date != edit.close_date:
        old = row.close_date.isoformat() if row.close_date else None
        new = edit.close_date.isoformat() if edit.close_date else None
        changes.append(("close_date", old, new))
        row.close_date = edit.close_date
    if row.own_probability != edit.probability:
        if stage.is_closed and edit.probability is not None:
            raise InvalidInput({"probability": ("crm.closed_probability", {})})
        old_chance = probability(stage, row.own_probability)
        row.own_probability = edit.probability
        new_chance = probability(stage, row.own_probability)
        if old_chance != new_chance:
            changes.append(("probability", str(old_chance), str(new_chance)))
    if row.next_step != edit.next_step:
        changes.append(("next_step", row.next_step or None, edit.next_step or None))
        row.next_step = edit.next_step
    await _changed(uow, clock, actor, row, changes)


async def _apply_owner(
    uow: UnitOfWork, clock: Clock, who: Identity, actor: Actor, row: OpportunityRow, owner_id: str
) -> None:
    """Hand the opportunity to another user of the tenant, who is told."""
    if row.owner_id == owner_id:
        return
    target = await uow.users.get(owner_id)
    if target is None:
        raise InvalidInput({"owner": ("crm.owner_unknown", {})})
    old = row.owner_name
    row.owner_id, row.owner_name = target.id, target.name
    await _changed(uow, clock, actor, row, [("owner", old, target.name)])
    if target.id != actor.user.id:
        notice = OpportunityNotice(row.number, row.name, who.name, Stage(row.stage))
        await notice_person(uow, clock, target.id, notice, row.conversation_id, who.locale)


async def edit_deal(
    uow: UnitOfWork,
    clock: Clock,
    who: Identity,
    number: int,
    edit: DealEdit,
    owner_id: str | None = None,
) -> OpportunityView:
    """New amount, currency, close date, own probability (None: the stage's), next step and,
    when given, owner: all or nothing. A member who hands theirs on no longer sees it; the view
    shows it once more, as it was handed on."""

    async def change(uow: UnitOfWork, actor: Actor, row: OpportunityRow) -> None:
        await _apply_deal(uow, clock, actor, row, edit)
        if owner_id is not None:
            await _apply_owner(uow, clock, who, actor, row, owner_id)

    return await work_on_item(uow, clock, who, _visible(number), change, _view, listed=OWNERS)


async def change_owner(
    uow: UnitOfWork, clock: Clock, who: Identity, number: int, owner_id: str
) -> OpportunityView:
    async def change(uow: UnitOfWork, actor: Actor, row: OpportunityRow) -> None:
        await _apply_owner(uow, clock, who, actor, row, owner_id)

    return await work_on_item(uow, clock, who, _visible(number), change, _view, listed=OWNERS)


async def add_note(
    uow: UnitOfWork, clock: Clock, who: Identity, number: int, text: str
) -> OpportunityView:
    async def change(uow: UnitOfWork, actor: Actor, row: OpportunityRow) -> None:
        await add_comment(uow, clock, actor, APP, row, text)
        row.updated_at = clock.now()
        await uow.crm.add_opportunity(row)

    return await work_on_item(uow, clock, who, _visible(number), change, _view, listed=OWNERS)


async def pipeline(uow: UnitOfWork, clock: Clock, who: Identity, *, mine: bool = False) -> Pipeline:
    """The pipeline of what the user may see (`mine`: of what they own), in a reading unit."""
    today = clock.now().date()
    async with uow:
        actor = await find_actor(uow, who)
        owner = actor.user.id if mine or not actor.role.works_all_items else None
        rows = await uow.crm.pipeline_rows(owner, Quarter.of(today).start)
    entries = (
        PipelineEntry(
            Stage(stage), currency, Decimal(amount), probability(Stage(stage), own), closed_on
        )
        for stage, currency, amount, own, closed_on in rows
    )
    return build_pipeline(entries, today)


# -- accounts and contacts --------------------------------------------------------------------


def _owner_filter(actor: Actor) -> str | None:
    return None if actor.role.works_all_items else actor.user.id


async def list_accounts(uow: UnitOfWork, name_filter: str, page: int = 0) -> Page[Account]:
    """A page of the tenant's accounts (every user sees them); a reading unit of work."""
    async with uow:
        rows, total, shown = await uow.crm.account_page(name_filter, page)
        return Page(tuple(_to_account(r) for r in rows), shown, total)


async def list_contacts(uow: UnitOfWork, name_filter: str, page: int = 0) -> Page[Contact]:
    async with uow:
        rows, total, shown = await uow.crm.contact_page(name_filter, page)
        accounts = await uow.crm.accounts_by_id(r.account_id for r in rows)
        return Page(
            tuple(
                _to_contact(r, accounts.get(r.account_id) if r.account_id else None) for r in rows
            ),
            shown,
            total,
        )


async def _account_view(uow: UnitOfWork, actor: Actor, row: AccountRow) -> AccountView:
    assert row.id is not None
    contacts = await uow.crm.contacts_of(row.id)
    opportunities = await uow.crm.opportunities_of(_owner_filter(actor), account_id=row.id)
    return AccountView(
        _to_account(row),
        tuple(_to_contact(c, row) for c in contacts),
        await _opportunities(uow, opportunities),
    )


async def _contact_view(uow: UnitOfWork, actor: Actor, row: ContactRow) -> ContactView:
    assert row.id is not None
    accounts = await uow.crm.accounts_by_id([row.account_id])
    opportunities = await uow.crm.opportunities_of(_owner_filter(actor), contact_id=row.id)
    return ContactView(
        _to_contact(row, accounts.get(row.account_id) if row.account_id else None),
        await _opportunities(uow, opportunities),
    )


def _account(number: int) -> Load[AccountRow]:
    async def load(uow: UnitOfWork, actor: Actor) -> AccountRow:
        row = await uow.crm.account(number)
        if row is None:
            raise NotFound(what="account", number=number)
        return row

    return load


def _contact(number: int) -> Load[ContactRow]:
    async def load(uow: UnitOfWork, actor: Actor) -> ContactRow:
        row = await uow.crm.contact(number)
        if row is None:
            raise NotFound(what="contact", number=number)
        return row

    return load


async def get_account(uow: UnitOfWork, clock: Clock, who: Identity, number: int) -> AccountView:
    return await read_item(uow, clock, who, _account(number), _account_view)


async def get_contact(uow: UnitOfWork, clock: Clock, who: Identity, number: int) -> ContactView:
    return await read_item(uow, clock, who, _contact(number), _contact_view)


async def edit_account(
    uow: UnitOfWork, clock: Clock, who: Identity, number: int, edit: AccountEdit
) -> AccountView:
    async def change(uow: UnitOfWork, actor: Actor, row: AccountRow) -> None:
        if (row.domain, row.notes) != (edit.domain, edit.notes):
            row.domain, row.notes, row.updated_at = edit.domain, edit.notes, clock.now()
            await uow.crm.add_account(row)

    return await work_on_item(uow, clock, who, _account(number), change, _account_view)


async def edit_contact(
    uow: UnitOfWork, clock: Clock, who: Identity, number: int, edit: ContactEdit
) -> ContactView:
    async def change(uow: UnitOfWork, actor: Actor, row: ContactRow) -> None:
        if (row.email, row.phone, row.job_role) != (edit.email, edit.phone, edit.job_role):
            row.email, row.phone, row.job_role = edit.email, edit.phone, edit.job_role
            row.updated_at = clock.now()
            await uow.crm.add_contact(row)

    return await work_on_item(uow, clock, who, _contact(number), change, _contact_view)
