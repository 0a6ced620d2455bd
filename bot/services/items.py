"""The item machinery every app shares: create an item against its quota, work on an item the
user may see, and the item's comments and history.

An app's service supplies only what is its own (how to load and check its row, what a change
does, how its view looks); opening the unit of work, resolving the actor, counting the quota,
numbering, recording and committing happen here, once for every app.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar

from bot.domain.clock import Clock
from bot.domain.items import Comment, HistoryEntry
from bot.domain.people import Actor, Person
from bot.domain.plans import App
from bot.domain.quota import QuotaPolicy
from bot.services.identity import Identity, find_actor, resolve_actor
from bot.services.subscriptions import consume_recorded
from storage.models import ItemCommentRow, ItemEventRow
from storage.statements import new_row
from storage.uow import UnitOfWork

# How much of an item's log its detail view loads.
DETAIL_ITEMS = 20


class StoredItem(Protocol):
    @property
    def id(self) -> int | None: ...


R = TypeVar("R", bound=StoredItem)
V = TypeVar("V")

Load = Callable[[UnitOfWork, Actor], Awaitable[R]]
Change = Callable[[UnitOfWork, Actor, R], Awaitable[None]]
View = Callable[[UnitOfWork, Actor, R], Awaitable[V]]
Insert = Callable[[UnitOfWork, Actor, "NewItem"], Awaitable[R]]


@dataclass(frozen=True)
class NewItem:
    """What an app's insert gives its new item: its number; its id, where the count gave it
    (PostgreSQL: the insert uses it; None: the database assigns one); its time of creation."""

    number: int
    id: int | None
    at: datetime


@dataclass(frozen=True)
class ItemLog:
    comments: tuple[Comment, ...]
    history: tuple[HistoryEntry, ...]


def item_id(row: StoredItem) -> int:
    if row.id is None:
        raise ValueError("the item has not been stored yet")
    return row.id


def _event_row(uow: UnitOfWork, app: App, entry: HistoryEntry, **item: int) -> ItemEventRow:
    """The history line's row; `item_id=` unless the statement that writes it gives it."""
    return new_row(
        ItemEventRow,
        tenant_id=uow.tenant_id,
        app=app.value,
        actor_id=entry.actor.id,
        actor_name=entry.actor.name,
        field=entry.field,
        old=entry.old,
        new=entry.new,
        created_at=entry.at,
        **item,
    )


async def record_change(
    uow: UnitOfWork,
    clock: Clock,
    actor: Actor,
    app: App,
    row: StoredItem,
    field: str,
    old: str | None,
    new: str | None,
) -> HistoryEntry:
    """One line of the item's history, inside the caller's unit of work."""
    entry = HistoryEntry(actor.user, field, old, new, clock.now())
    await uow.items.add_event(_event_row(uow, app, entry, item_id=item_id(row)))
    key = (app.value, item_id(row))
    known = uow.created.get(key)
    if isinstance(known, ItemLog):
        uow.created[key] = ItemLog(known.comments, (*known.history, entry)[-DETAIL_ITEMS:])
    return entry


async def add_comment(
    uow: UnitOfWork, clock: Clock, actor: Actor, app: App, row: StoredItem, text: str
) -> None:
    comment = Comment(actor.user, text, clock.now())
    key = (app.value, item_id(row))
    known = uow.created.get(key)
    if isinstance(known, ItemLog):
        uow.created[key] = ItemLog((*known.comments, comment)[-DETAIL_ITEMS:], known.history)
    await uow.items.add_comment(
        new_row(
            ItemCommentRow,
            tenant_id=uow.tenant_id,
            app=app.value,
            item_id=item_id(row),
            author_id=actor.user.id,
            author_name=actor.user.name,
            text=text,
            created_at=comment.at,
        )
    )


async def item_log(uow: UnitOfWork, app: App, row: StoredItem) -> ItemLog:
    """The newest comments and history entries of an item, oldest first."""
    number = item_id(row)
    created = uow.created.get((app.value, number))
    if isinstance(created, ItemLog):  # created in this unit: nothing to read back
        return created
    comments = await uow.items.comments(app.value, number, last=DETAIL_ITEMS)
    events = await uow.items.events(app.value, number, last=DETAIL_ITEMS)
    return ItemLog(
        tuple(Comment(Person(c.author_id, c.author_name), c.text, c.created_at) for c in comments),
        tuple(
            HistoryEntry(Person(e.actor_id, e.actor_name), e.field, e.old, e.new, e.created_at)
            for e in events
        ),
    )


async def create_item(
    uow: UnitOfWork,
    clock: Clock,
    policy: QuotaPolicy,
    who: Identity,
    app: App,
    counter: str,
    label: str,
    insert: Insert[R],
    view: View[R, V],
    *,
    table: str,
    listed: Sequence[str] = (),
) -> V:
    """Create one item of `app`, stored in `table`: it counts against the tenant's quota in the
    same transaction as the insert, takes the next number of the tenant's `counter`, and its
    history starts with "created" (on PostgreSQL written by the count's statement, with the
    item's id, which the insert then uses). At the limit nothing is written (QuotaExceeded).
    `listed`: the roles whose users the view lists when the actor has one of them, read with
    the actor (`resolve_actor`)."""
    async with uow:
        actor = await resolve_actor(uow, clock, who, listed)
        created = HistoryEntry(actor.user, "created", None, label, clock.now())
        line = _event_row(uow, app, created)
        _, number, given = await consume_recorded(
            uow, clock, policy, who.locale, counter, table, line
        )
        row = await insert(uow, actor, NewItem(number, given, created.at))
        if given is None:  # SQLite: the line is written now, with the id the insert gave
            line.item_id = item_id(row)
            await uow.items.add_event(line)
        elif item_id(row) != given:
            raise RuntimeError(f"the new item of {app.value} was not stored with its id {given}")
        # A new item's log is what this unit writes: its view reads nothing back.
        uow.created[(app.value, item_id(row))] = ItemLog((), (created,))
        result = await view(uow, actor, row)
        await uow.commit()
        return result


async def work_on_item(
    uow: UnitOfWork,
    clock: Clock,
    who: Identity,
    load: Load[R],
    change: Change[R],
    view: View[R, V],
    *,
    listed: Sequence[str] = (),
) -> V:
    """Load one item the user may see (`load` raises NotFound otherwise), apply `change` (which
    checks the role, changes the row, records history and queues notices), and return the view,
    all in one unit of work; `listed` as in `create_item`."""
    async with uow:
        actor = await resolve_actor(uow, clock, who, listed)
        row = await load(uow, actor)
        await change(uow, actor, row)
        result = await view(uow, actor, row)
        await uow.commit()
        return result


async def read_item(
    uow: UnitOfWork,
    clock: Clock,
    who: Identity,
    load: Load[R],
    view: View[R, V],
    *,
    listed: Sequence[str] = (),
) -> V:
    """Show one item the user may see, in a reading unit of work (no row lock, no insert);
    `listed` as in `create_item`."""
    async with uow:
        actor = await find_actor(uow, who, listed)
        row = await load(uow, actor)
        return await view(uow, actor, row)
