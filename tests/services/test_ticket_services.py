"""Ticketing, roles, identity and installation use-cases on a real (in-memory SQLite) database."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlmodel import func, select

from bot.domain.clock import FixedClock
from bot.domain.errors import Forbidden, InvalidInput, InvalidTransition, NotFound, OnlyAdmins
from bot.domain.people import Person
from bot.domain.plans import load_catalog
from bot.domain.quota import QuotaPolicy
from bot.domain.roles import Role
from bot.domain.tickets import Priority, Status, TicketDraft, TicketFilter
from bot.services import conversations, roles, tickets
from bot.services.conversations import Installation
from bot.services.identity import Identity, resolve_actor
from bot.services.roles import LastAdmin, UnknownUser
from storage.db import Database
from storage.models import ConversationRef, ItemCommentRow, ItemEventRow, TicketRow, UserAccount
from storage.uow import UnitOfWorkFactory

A = "tenant-a"
B = "tenant-b"
ALICE = Identity(A, "29:alice", "Alice", "aad-alice")
BOB = Identity(A, "29:bob", "Bob")
CAROL = Identity(A, "29:carol", "Carol")
DAVE = Identity(B, "29:dave", "Dave")
POLICY = QuotaPolicy(load_catalog(), (80, 90))


def person(who: Identity) -> Person:
    return Person(who.user_id, who.name)


async def new_ticket(
    uow: UnitOfWorkFactory, clock: FixedClock, who: Identity, title: str, **fields: object
) -> int:
    draft = TicketDraft(title, **fields)  # type: ignore[arg-type]
    view = await tickets.create_ticket(uow(who.tenant_id), clock, POLICY, who, draft)
    return view.ticket.number


async def role_of(uow: UnitOfWorkFactory, clock: FixedClock, who: Identity) -> Role:
    async with uow(who.tenant_id) as unit:
        actor = await resolve_actor(unit, clock, who)
        await unit.commit()
    return actor.role


@pytest.fixture
async def help_desk(uow: UnitOfWorkFactory, clock: FixedClock) -> None:
    """Tenant A: Alice (admin, first user), Bob (agent), Carol (member). Tenant B: Dave."""
    await role_of(uow, clock, ALICE)
    await role_of(uow, clock, BOB)
    await roles.set_role(uow(A), clock, ALICE, BOB.user_id, Role.AGENT)
    await role_of(uow, clock, CAROL)
    await role_of(uow, clock, DAVE)


async def count(db: Database, model: type, **where: object) -> int:
    async with db.sessions() as session:
        stmt = select(func.count()).select_from(model)
        for name, value in where.items():
            stmt = stmt.where(getattr(model, name) == value)
        return int((await session.execute(stmt)).scalar_one())


# -- identity and roles ----------------------------------------------------------------------------


async def test_the_first_user_of_a_tenant_is_its_admin(
    uow: UnitOfWorkFactory, clock: FixedClock
) -> None:
    assert await role_of(uow, clock, ALICE) is Role.ADMIN
    assert await role_of(uow, clock, BOB) is Role.MEMBER
    assert await role_of(uow, clock, ALICE) is Role.ADMIN
    # Tenants do not share their first user.
    assert await role_of(uow, clock, DAVE) is Role.ADMIN


async def test_a_user_is_known_by_their_latest_name(
    uow: UnitOfWorkFactory, clock: FixedClock
) -> None:
    await role_of(uow, clock, CAROL)
    renamed = Identity(A, CAROL.user_id, "Carol Smith", "aad-carol")
    async with uow(A) as unit:
        actor = await resolve_actor(unit, clock, renamed)
        await unit.commit()
    assert actor.user == Person(CAROL.user_id, "Carol Smith")
    assert actor.role is Role.ADMIN  # Carol was first in tenant A here


async def test_only_admins_grant_roles(
    uow: UnitOfWorkFactory, clock: FixedClock, help_desk: None
) -> None:
    for who in (BOB, CAROL):
        with pytest.raises(OnlyAdmins) as caught:
            await roles.set_role(uow(A), clock, who, CAROL.user_id, Role.ADMIN)
        assert caught.value.params == {"admins": "Alice"}
    assert await role_of(uow, clock, CAROL) is Role.MEMBER


async def test_an_admin_grants_roles_and_the_roles_list_shows_them(
    uow: UnitOfWorkFactory, clock: FixedClock, help_desk: None
) -> None:
    view = await roles.set_role(uow(A), clock, ALICE, CAROL.user_id, Role.ADMIN)
    assert view.admins == (person(ALICE), person(CAROL))
    assert view.agents == (person(BOB),)
    assert await role_of(uow, clock, CAROL) is Role.ADMIN
    listed = await roles.list_roles(uow(A), clock, BOB)
    assert (listed.admins, listed.agents) == (view.admins, view.agents)
    assert view.changed == (person(CAROL), Role.ADMIN)


async def test_a_role_for_someone_the_bot_does_not_know_is_refused_and_makes_nobody(
    memory_db: Database, uow: UnitOfWorkFactory, clock: FixedClock
) -> None:
    await role_of(uow, clock, ALICE)
    with pytest.raises(UnknownUser):
        await roles.set_role(uow(A), clock, ALICE, "29:ghost", Role.ADMIN)
    assert await count(memory_db, UserAccount) == 1
    newcomer = Identity(A, "29:erin", "Erin")
    assert await role_of(uow, clock, newcomer) is Role.MEMBER


async def test_the_last_admin_cannot_be_demoted(
    uow: UnitOfWorkFactory, clock: FixedClock, help_desk: None
) -> None:
    for role in (Role.AGENT, Role.MEMBER):
        with pytest.raises(LastAdmin):
            await roles.set_role(uow(A), clock, ALICE, ALICE.user_id, role)
    assert await role_of(uow, clock, ALICE) is Role.ADMIN


async def test_with_a_second_admin_an_admin_may_step_down(
    uow: UnitOfWorkFactory, clock: FixedClock, help_desk: None
) -> None:
    await roles.set_role(uow(A), clock, ALICE, BOB.user_id, Role.ADMIN)
    view = await roles.set_role(uow(A), clock, ALICE, ALICE.user_id, Role.MEMBER)
    assert view.admins == (person(BOB),)
    assert await role_of(uow, clock, ALICE) is Role.MEMBER
    with pytest.raises(OnlyAdmins):
        await roles.set_role(uow(A), clock, ALICE, ALICE.user_id, Role.ADMIN)


async def test_roles_of_one_tenant_do_not_reach_another(
    uow: UnitOfWorkFactory, clock: FixedClock, help_desk: None
) -> None:
    # Dave, admin of tenant B, names Bob's id: tenant B knows no such user.
    with pytest.raises(UnknownUser):
        await roles.set_role(uow(B), clock, DAVE, BOB.user_id, Role.MEMBER)
    assert await role_of(uow, clock, BOB) is Role.AGENT
    assert (await roles.list_roles(uow(A), clock, ALICE)).admins == (person(ALICE),)


# -- creating and numbering ------------------------------------------------------------------------


async def test_numbers_count_up_per_tenant(
    uow: UnitOfWorkFactory, clock: FixedClock, help_desk: None
) -> None:
    assert [await new_ticket(uow, clock, ALICE, f"A{i}") for i in range(3)] == [1, 2, 3]
    assert await new_ticket(uow, clock, DAVE, "B0") == 1
    assert await new_ticket(uow, clock, CAROL, "A3") == 4
    assert await new_ticket(uow, clock, DAVE, "B1") == 2


async def test_a_new_ticket_is_new_unassigned_and_has_a_created_entry(
    uow: UnitOfWorkFactory, clock: FixedClock, help_desk: None
) -> None:
    view = await tickets.create_ticket(
        uow(A),
        clock,
        POLICY,
        CAROL,
        TicketDraft("Printer jam", "Tray 2", Priority.HIGH, "Hardware"),
        conversation_id="a:personal-carol",
    )
    ticket = view.ticket
    assert (ticket.number, ticket.title, ticket.description) == (1, "Printer jam", "Tray 2")
    assert (ticket.priority, ticket.category, ticket.status) == (
        Priority.HIGH,
        "Hardware",
        Status.NEW,
    )
    assert ticket.requester == person(CAROL)
    assert ticket.assignee is None
    assert ticket.created_at == ticket.updated_at == clock.now()
    assert [(h.actor, h.field, h.old, h.new) for h in ticket.history] == [
        (person(CAROL), "created", None, "Printer jam")
    ]
    assert view.can_work is False
    # A member's card in their personal chat offers no one to assign to: the help desk is
    # not read for it.
    assert view.agents == ()


async def test_the_help_desk_comes_with_a_view_whose_card_needs_it(
    uow: UnitOfWorkFactory, clock: FixedClock, help_desk: None
) -> None:
    """An agent's or admin's card offers the help desk (agents and admins, by name) to assign
    to; a card in a channel or group chat names them all for its refresh, a member's too."""
    created = await tickets.create_ticket(
        uow(A), clock, POLICY, replace(CAROL, shared=True), TicketDraft("Projector flickers")
    )
    help_desk_names = (person(ALICE), person(BOB))
    assert created.agents == help_desk_names
    number = created.ticket.number
    assert (await tickets.get_ticket(uow(A), clock, BOB, number)).agents == help_desk_names
    assert (await tickets.get_ticket(uow(A), clock, CAROL, number)).agents == ()
    shared = replace(CAROL, shared=True)
    assert (await tickets.get_ticket(uow(A), clock, shared, number)).agents == help_desk_names
    commented = await tickets.add_comment(uow(A), clock, CAROL, number, "Still flickers")
    assert commented.agents == ()
    assigned = await tickets.assign_ticket(uow(A), clock, BOB, number, None)
    assert assigned.agents == help_desk_names


# -- who sees what ---------------------------------------------------------------------------------


async def test_a_member_cannot_see_another_members_ticket(
    uow: UnitOfWorkFactory, clock: FixedClock, help_desk: None
) -> None:
    number = await new_ticket(uow, clock, ALICE, "Alice's laptop")
    with pytest.raises(NotFound):
        await tickets.get_ticket(uow(A), clock, CAROL, number)
    for change in (
        tickets.add_comment(uow(A), clock, CAROL, number, "mine now"),
        tickets.change_status(uow(A), clock, CAROL, number, Status.CLOSED),
        tickets.change_priority(uow(A), clock, CAROL, number, Priority.LOW),
        tickets.assign_ticket(uow(A), clock, CAROL, number, None),
    ):
        with pytest.raises(NotFound):
            await change
    view = await tickets.get_ticket(uow(A), clock, ALICE, number)
    assert view.ticket.status is Status.NEW
    assert view.ticket.priority is Priority.NORMAL
    assert view.ticket.comments == ()


async def test_agents_and_admins_see_every_ticket_of_their_tenant(
    uow: UnitOfWorkFactory, clock: FixedClock, help_desk: None
) -> None:
    number = await new_ticket(uow, clock, CAROL, "Carol's monitor")
    for who in (ALICE, BOB):
        view = await tickets.get_ticket(uow(A), clock, who, number)
        assert view.ticket.title == "Carol's monitor"
        assert view.can_work


async def test_a_ticket_of_another_tenant_is_not_found_even_for_an_admin(
    uow: UnitOfWorkFactory, clock: FixedClock, help_desk: None
) -> None:
    await new_ticket(uow, clock, ALICE, "A's secret")
    await new_ticket(uow, clock, ALICE, "A's other secret")
    with pytest.raises(NotFound) as caught:
        await tickets.get_ticket(uow(B), clock, DAVE, 2)
    assert caught.value.params == {"what": "ticket", "number": 2}
    with pytest.raises(NotFound):
        await tickets.change_status(uow(B), clock, DAVE, 1, Status.CLOSED)
    assert await new_ticket(uow, clock, DAVE, "B's own") == 1
    own = await tickets.get_ticket(uow(B), clock, DAVE, 1)
    assert own.ticket.title == "B's own"
    assert (await tickets.get_ticket(uow(A), clock, ALICE, 1)).ticket.status is Status.NEW


async def test_a_ticket_that_does_not_exist_is_not_found(
    uow: UnitOfWorkFactory, clock: FixedClock, help_desk: None
) -> None:
    with pytest.raises(NotFound):
        await tickets.get_ticket(uow(A), clock, ALICE, 1)


# -- working a ticket ------------------------------------------------------------------------------


async def test_an_agent_works_a_ticket_through_the_workflow_and_history_records_it(
    uow: UnitOfWorkFactory, clock: FixedClock, help_desk: None
) -> None:
    number = await new_ticket(uow, clock, CAROL, "VPN down")
    clock.advance(timedelta(minutes=1))
    await tickets.assign_ticket(uow(A), clock, BOB, number, None)
    for status in (Status.OPEN, Status.IN_PROGRESS, Status.PENDING, Status.RESOLVED):
        clock.advance(timedelta(minutes=1))
        await tickets.change_status(uow(A), clock, BOB, number, status)
    clock.advance(timedelta(minutes=1))
    await tickets.change_priority(uow(A), clock, BOB, number, Priority.URGENT)
    clock.advance(timedelta(minutes=1))
    view = await tickets.change_status(uow(A), clock, ALICE, number, Status.CLOSED)

    ticket = view.ticket
    assert ticket.status is Status.CLOSED
    assert ticket.assignee == person(BOB)
    assert ticket.priority is Priority.URGENT
    assert ticket.updated_at == clock.now()
    assert [(h.actor.name, h.field, h.old, h.new) for h in ticket.history] == [
        ("Carol", "created", None, "VPN down"),
        ("Bob", "assignee", None, "Bob"),
        ("Bob", "status", "new", "open"),
        ("Bob", "status", "open", "in_progress"),
        ("Bob", "status", "in_progress", "pending"),
        ("Bob", "status", "pending", "resolved"),
        ("Bob", "priority", "normal", "urgent"),
        ("Alice", "status", "resolved", "closed"),
    ]
    assert [h.at for h in ticket.history] == sorted(h.at for h in ticket.history)


async def test_an_invalid_transition_is_refused_and_changes_nothing(
    uow: UnitOfWorkFactory, clock: FixedClock, help_desk: None
) -> None:
    number = await new_ticket(uow, clock, CAROL, "Mouse")
    await tickets.change_status(uow(A), clock, BOB, number, Status.CLOSED)
    clock.advance(timedelta(hours=1))
    with pytest.raises(InvalidTransition) as caught:
        await tickets.change_status(uow(A), clock, BOB, number, Status.IN_PROGRESS)
    assert caught.value.params["allowed"] == (Status.OPEN,)
    view = await tickets.get_ticket(uow(A), clock, BOB, number)
    assert view.ticket.status is Status.CLOSED
    assert view.ticket.updated_at == clock.now() - timedelta(hours=1)
    assert len(view.ticket.history) == 2


@pytest.mark.parametrize("closed", [Status.RESOLVED, Status.CLOSED])
async def test_a_resolved_or_closed_ticket_is_reopened(
    uow: UnitOfWorkFactory, clock: FixedClock, help_desk: None, closed: Status
) -> None:
    number = await new_ticket(uow, clock, CAROL, "Keyboard")
    await tickets.change_status(uow(A), clock, BOB, number, closed)
    view = await tickets.change_status(uow(A), clock, BOB, number, Status.OPEN)
    assert view.ticket.status is Status.OPEN
    assert (view.ticket.history[-1].old, view.ticket.history[-1].new) == (closed.value, "open")


async def test_a_member_closes_and_reopens_their_own_ticket(
    uow: UnitOfWorkFactory, clock: FixedClock, help_desk: None
) -> None:
    number = await new_ticket(uow, clock, CAROL, "Desk lamp")
    assert (
        await tickets.change_status(uow(A), clock, CAROL, number, Status.CLOSED)
    ).ticket.status is Status.CLOSED
    assert (
        await tickets.change_status(uow(A), clock, CAROL, number, Status.OPEN)
    ).ticket.status is Status.OPEN


@pytest.mark.parametrize("status", [Status.IN_PROGRESS, Status.RESOLVED])
async def test_a_member_does_not_move_their_ticket_through_the_help_desks_workflow(
    uow: UnitOfWorkFactory, clock: FixedClock, help_desk: None, status: Status
) -> None:
    number = await new_ticket(uow, clock, CAROL, "Chair")
    with pytest.raises(Forbidden) as caught:
        await tickets.change_status(uow(A), clock, CAROL, number, status)
    assert caught.value.key == "tickets.members_close_only"
    assert (await tickets.get_ticket(uow(A), clock, CAROL, number)).ticket.status is Status.NEW


async def test_a_member_cannot_triage_their_new_ticket_to_open(
    uow: UnitOfWorkFactory, clock: FixedClock, help_desk: None
) -> None:
    """Members close and reopen their own tickets; new -> open is the help desk's first step,
    not a reopening."""
    number = await new_ticket(uow, clock, CAROL, "Headset")
    with pytest.raises(Forbidden):
        await tickets.change_status(uow(A), clock, CAROL, number, Status.OPEN)
    assert (await tickets.get_ticket(uow(A), clock, CAROL, number)).ticket.status is Status.NEW


async def test_assigning_goes_to_agents_and_admins_only(
    uow: UnitOfWorkFactory, clock: FixedClock, help_desk: None
) -> None:
    number = await new_ticket(uow, clock, CAROL, "Phone")
    view = await tickets.assign_ticket(uow(A), clock, ALICE, number, BOB.user_id)
    assert view.ticket.assignee == person(BOB)
    for target in (CAROL.user_id, DAVE.user_id, "29:nobody"):
        with pytest.raises(InvalidInput) as caught:
            await tickets.assign_ticket(uow(A), clock, ALICE, number, target)
        assert caught.value.fields == {"assignee": ("tickets.assignee_not_agent", {})}
    assert (await tickets.get_ticket(uow(A), clock, ALICE, number)).ticket.assignee == person(BOB)


async def test_a_member_cannot_assign_even_their_own_ticket(
    uow: UnitOfWorkFactory, clock: FixedClock, help_desk: None
) -> None:
    number = await new_ticket(uow, clock, CAROL, "Badge")
    with pytest.raises(Forbidden) as caught:
        await tickets.assign_ticket(uow(A), clock, CAROL, number, BOB.user_id)
    assert caught.value.key == "tickets.only_agents_assign"


async def test_reassigning_to_the_same_person_records_nothing(
    uow: UnitOfWorkFactory, clock: FixedClock, help_desk: None
) -> None:
    number = await new_ticket(uow, clock, CAROL, "Cable")
    await tickets.assign_ticket(uow(A), clock, BOB, number, None)
    clock.advance(timedelta(minutes=5))
    view = await tickets.assign_ticket(uow(A), clock, ALICE, number, BOB.user_id)
    assert [h.field for h in view.ticket.history] == ["created", "assignee"]
    assert view.ticket.updated_at == clock.now() - timedelta(minutes=5)


async def test_a_ticket_assigned_to_an_agent_who_becomes_member_stays_visible_to_them(
    uow: UnitOfWorkFactory, clock: FixedClock, help_desk: None
) -> None:
    number = await new_ticket(uow, clock, CAROL, "Docking station")
    await tickets.assign_ticket(uow(A), clock, BOB, number, None)
    await roles.set_role(uow(A), clock, ALICE, BOB.user_id, Role.MEMBER)
    view = await tickets.get_ticket(uow(A), clock, BOB, number)
    assert view.ticket.assignee == person(BOB)
    assert not view.can_work


async def test_changing_the_priority_records_old_and_new(
    uow: UnitOfWorkFactory, clock: FixedClock, help_desk: None
) -> None:
    number = await new_ticket(uow, clock, CAROL, "Scanner")
    view = await tickets.change_priority(uow(A), clock, CAROL, number, Priority.HIGH)
    assert view.ticket.priority is Priority.HIGH
    assert (view.ticket.history[-1].field, view.ticket.history[-1].old) == ("priority", "normal")
    same = await tickets.change_priority(uow(A), clock, CAROL, number, Priority.HIGH)
    assert len(same.ticket.history) == 2


async def test_comments_are_kept_in_order_and_touch_the_ticket(
    uow: UnitOfWorkFactory, clock: FixedClock, help_desk: None
) -> None:
    number = await new_ticket(uow, clock, CAROL, "Wi-Fi")
    clock.advance(timedelta(minutes=3))
    await tickets.add_comment(uow(A), clock, BOB, number, "Which floor?")
    clock.advance(timedelta(minutes=3))
    view = await tickets.add_comment(uow(A), clock, CAROL, number, "Third.")
    assert [(c.author, c.text) for c in view.ticket.comments] == [
        (person(BOB), "Which floor?"),
        (person(CAROL), "Third."),
    ]
    assert view.ticket.comments[1].at == view.ticket.updated_at == clock.now()


async def test_a_closed_ticket_still_takes_comments(
    uow: UnitOfWorkFactory, clock: FixedClock, help_desk: None
) -> None:
    number = await new_ticket(uow, clock, CAROL, "Toner")
    await tickets.change_status(uow(A), clock, CAROL, number, Status.CLOSED)
    view = await tickets.add_comment(uow(A), clock, CAROL, number, "Thanks!")
    assert view.ticket.comments[-1].text == "Thanks!"


async def test_a_refused_change_writes_nothing(
    uow: UnitOfWorkFactory, clock: FixedClock, memory_db: Database, help_desk: None
) -> None:
    number = await new_ticket(uow, clock, CAROL, "Projector")
    events = await count(memory_db, ItemEventRow)
    with pytest.raises(Forbidden):
        await tickets.assign_ticket(uow(A), clock, CAROL, number, BOB.user_id)
    with pytest.raises(InvalidTransition):
        await tickets.change_status(uow(A), clock, BOB, number, Status.PENDING)
    with pytest.raises(NotFound):
        await tickets.add_comment(uow(A), clock, BOB, number + 1, "lost")
    assert await count(memory_db, ItemEventRow) == events
    assert await count(memory_db, ItemCommentRow) == 0
    assert await count(memory_db, TicketRow) == 1


# -- lists -----------------------------------------------------------------------------------------


async def numbers(
    uow: UnitOfWorkFactory, clock: FixedClock, who: Identity, flt: TicketFilter, page: int = 0
) -> list[int]:
    result = await tickets.list_tickets(uow(who.tenant_id), clock, who, flt, page)
    return [t.number for t in result.items]


async def test_lists_are_paged_by_ten_newest_change_first(
    uow: UnitOfWorkFactory, clock: FixedClock, help_desk: None
) -> None:
    # 13 tickets: two pages, and well under the free plan's quota and its warnings.
    for i in range(13):
        await new_ticket(uow, clock, CAROL, f"Ticket {i + 1}")
        clock.advance(timedelta(minutes=1))
    first = await tickets.list_tickets(uow(A), clock, BOB, TicketFilter.ALL, 0)
    assert [t.number for t in first.items] == list(range(13, 3, -1))
    assert (first.page, first.total, first.has_previous, first.has_next) == (0, 13, False, True)
    second = await tickets.list_tickets(uow(A), clock, BOB, TicketFilter.ALL, 1)
    assert [t.number for t in second.items] == [3, 2, 1]
    assert (second.page, second.total, second.has_previous, second.has_next) == (
        1,
        13,
        True,
        False,
    )
    beyond = await tickets.list_tickets(uow(A), clock, BOB, TicketFilter.ALL, 2)
    # A page past the end (a stale card, a typed number) shows the last page.
    assert (beyond.page, [t.number for t in beyond.items], beyond.has_next) == (1, [3, 2, 1], False)
    # "Mine" counts only the tickets one asked for or holds.
    assert (await tickets.list_tickets(uow(A), clock, ALICE, TicketFilter.MINE, 0)).total == 0


async def test_a_change_brings_a_ticket_to_the_top(
    uow: UnitOfWorkFactory, clock: FixedClock, help_desk: None
) -> None:
    for title in ("one", "two", "three"):
        await new_ticket(uow, clock, CAROL, title)
        clock.advance(timedelta(minutes=1))
    assert await numbers(uow, clock, CAROL, TicketFilter.MINE) == [3, 2, 1]
    await tickets.add_comment(uow(A), clock, BOB, 1, "on it")
    clock.advance(timedelta(minutes=1))
    assert await numbers(uow, clock, CAROL, TicketFilter.MINE) == [1, 3, 2]
    await tickets.change_priority(uow(A), clock, BOB, 2, Priority.HIGH)
    assert await numbers(uow, clock, CAROL, TicketFilter.MINE) == [2, 1, 3]


async def test_tickets_changed_at_the_same_instant_list_newest_number_first(
    uow: UnitOfWorkFactory, clock: FixedClock, help_desk: None
) -> None:
    for title in ("one", "two", "three"):
        await new_ticket(uow, clock, CAROL, title)
    assert await numbers(uow, clock, CAROL, TicketFilter.MINE) == [3, 2, 1]


async def test_a_negative_page_is_the_first_page(
    uow: UnitOfWorkFactory, clock: FixedClock, help_desk: None
) -> None:
    await new_ticket(uow, clock, CAROL, "one")
    result = await tickets.list_tickets(uow(A), clock, CAROL, TicketFilter.MINE, -3)
    assert (result.page, [t.number for t in result.items]) == (0, [1])


async def test_filters(uow: UnitOfWorkFactory, clock: FixedClock, help_desk: None) -> None:
    carols = await new_ticket(uow, clock, CAROL, "Carol's, Bob works it")  # 1
    await tickets.assign_ticket(uow(A), clock, BOB, carols, None)
    await tickets.change_status(uow(A), clock, BOB, carols, Status.IN_PROGRESS)
    await new_ticket(uow, clock, CAROL, "Carol's, nobody works it")  # 2
    alices = await new_ticket(uow, clock, ALICE, "Alice's, resolved by Bob")  # 3
    await tickets.assign_ticket(uow(A), clock, BOB, alices, None)
    await tickets.change_status(uow(A), clock, BOB, alices, Status.RESOLVED)
    bobs = await new_ticket(uow, clock, BOB, "Bob's own, closed")  # 4
    await tickets.change_status(uow(A), clock, BOB, bobs, Status.CLOSED)
    await new_ticket(uow, clock, DAVE, "Dave's, another tenant")  # B-1

    def as_set(found: list[int]) -> set[int]:
        return set(found)

    assert as_set(await numbers(uow, clock, BOB, TicketFilter.ALL)) == {1, 2, 3, 4}
    assert as_set(await numbers(uow, clock, BOB, TicketFilter.MINE)) == {1, 3, 4}
    assert as_set(await numbers(uow, clock, BOB, TicketFilter.ASSIGNED)) == {1, 3}
    assert as_set(await numbers(uow, clock, BOB, TicketFilter.UNASSIGNED)) == {2, 4}
    assert as_set(await numbers(uow, clock, BOB, TicketFilter.OPEN)) == {1, 2}
    assert as_set(await numbers(uow, clock, BOB, TicketFilter.CLOSED)) == {3, 4}
    # A member's lists never go past their own tickets, whatever the filter.
    assert as_set(await numbers(uow, clock, CAROL, TicketFilter.ALL)) == {1, 2}
    assert as_set(await numbers(uow, clock, CAROL, TicketFilter.UNASSIGNED)) == {2}
    assert as_set(await numbers(uow, clock, CAROL, TicketFilter.CLOSED)) == set()
    assert as_set(await numbers(uow, clock, CAROL, TicketFilter.ASSIGNED)) == set()
    # And an admin's never go past their tenant.
    assert as_set(await numbers(uow, clock, DAVE, TicketFilter.ALL)) == {1}
    page = await tickets.list_tickets(uow(B), clock, DAVE, TicketFilter.ALL)
    assert [t.title for t in page.items] == ["Dave's, another tenant"]


# -- installations and redeliveries ----------------------------------------------------------------


def installation(conversation_id: str, kind: str = "personal", **extra: str) -> Installation:
    return Installation(
        conversation_id=conversation_id,
        conversation_type=kind,
        service_url="https://smba.example/emea/",
        reference_json=json.dumps({"conversation": {"id": conversation_id}}),
        **extra,
    )


async def stored(memory_db: Database, conversation_id: str) -> list[ConversationRef]:
    async with memory_db.sessions() as session:
        stmt = select(ConversationRef).where(ConversationRef.conversation_id == conversation_id)
        return list((await session.execute(stmt)).scalars())


async def test_an_installation_is_stored_with_its_tenant_once(
    uow: UnitOfWorkFactory, clock: FixedClock, memory_db: Database
) -> None:
    channel = installation(
        "19:general@thread.tacv2",
        "channel",
        team_id="19:team",
        channel_id="19:general@thread.tacv2",
    )
    assert await conversations.record_installation(uow(A), clock, ALICE, channel) is True
    clock.advance(timedelta(minutes=1))
    assert await conversations.record_installation(uow(A), clock, ALICE, channel) is False
    [row] = await stored(memory_db, "19:general@thread.tacv2")
    assert (row.tenant_id, row.conversation_type, row.team_id, row.active) == (
        A,
        "channel",
        "19:team",
        True,
    )
    assert row.created_at == clock.now() - timedelta(minutes=1)
    assert row.updated_at == clock.now()
    # The installer is the tenant's first user: its admin.
    assert await role_of(uow, clock, ALICE) is Role.ADMIN


async def test_an_uninstalled_conversation_is_inactive_until_installed_again(
    uow: UnitOfWorkFactory, clock: FixedClock, memory_db: Database
) -> None:
    chat = installation("19:group@thread.v2", "groupChat")
    await conversations.record_installation(uow(A), clock, ALICE, chat)
    await conversations.record_uninstallation(uow(A), clock, "19:group@thread.v2")
    [row] = await stored(memory_db, "19:group@thread.v2")
    assert row.active is False
    assert await conversations.record_installation(uow(A), clock, ALICE, chat) is True
    [row] = await stored(memory_db, "19:group@thread.v2")
    assert row.active is True


async def test_uninstalling_in_one_tenant_leaves_another_tenants_row_alone(
    uow: UnitOfWorkFactory, clock: FixedClock, memory_db: Database
) -> None:
    await conversations.record_installation(uow(A), clock, ALICE, installation("19:shared"))
    await conversations.record_uninstallation(uow(B), clock, "19:shared")
    [row] = await stored(memory_db, "19:shared")
    assert (row.tenant_id, row.active) == (A, True)


async def test_an_activity_is_claimed_once_per_tenant(
    uow: UnitOfWorkFactory, clock: FixedClock
) -> None:
    assert await conversations.claim_activity(uow(A), clock, "activity-1") is True
    assert await conversations.claim_activity(uow(A), clock, "activity-1") is False
    assert await conversations.claim_activity(uow(B), clock, "activity-1") is True
    assert await conversations.claim_activity(uow(A), clock, "activity-2") is True


async def test_a_released_claim_can_be_claimed_again(
    uow: UnitOfWorkFactory, clock: FixedClock
) -> None:
    assert await conversations.claim_activity(uow(A), clock, "activity-1") is True
    await conversations.release_activity(uow(A), "activity-1")
    assert await conversations.claim_activity(uow(A), clock, "activity-1") is True
    assert await conversations.claim_activity(uow(A), clock, "activity-1") is False


async def test_a_new_tickets_view_is_what_reading_it_back_shows(
    uow: UnitOfWorkFactory, clock: FixedClock, help_desk: None
) -> None:
    """Creating builds the view from what it wrote (no read back of the log): the same
    ticket, history and comments as a later read, inside a turn's transaction too."""
    draft = TicketDraft("VPN down", description="since 9:00")
    created = await tickets.create_ticket(uow(A), clock, POLICY, BOB, draft)
    clock.advance(timedelta(minutes=5))
    shown = await tickets.get_ticket(uow.reader(A), clock, BOB, created.ticket.number)
    assert created.ticket == shown.ticket
    assert [(h.actor, h.field, h.new) for h in shown.ticket.history] == [
        (person(BOB), "created", "VPN down")
    ]
    assert shown.ticket.comments == ()
    async with uow.turn(A):
        again = await tickets.create_ticket(uow(A), clock, POLICY, CAROL, TicketDraft("Printer"))
        inside = await tickets.get_ticket(uow.reader(A), clock, CAROL, again.ticket.number)
        assert again.ticket == inside.ticket
