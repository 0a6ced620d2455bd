"""Ticketing rules: the workflow, what a submitted field may contain, who sees what, paging."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.errors import InvalidInput, InvalidTransition
from bot.domain.paging import PAGE_SIZE, Page, clamp_page
from bot.domain.people import Actor, Person, can_see
from bot.domain.roles import Role
from bot.domain.tickets import (
    TRANSITIONS,
    Priority,
    Status,
    TicketDraft,
    check_transition,
    parse_comment,
    parse_draft,
    parse_priority,
    parse_status,
)
from cards.common import error_text, field_errors

ALLOWED = [(current, target) for current, targets in TRANSITIONS.items() for target in targets]
TODAY = date(2026, 11, 2)
REFUSED = [
    (current, target)
    for current, target in itertools.product(Status, Status)
    if target not in TRANSITIONS[current]
]


def problems(error: InvalidInput) -> dict[str, str]:
    """Field name -> message key, the part of an InvalidInput a test usually cares about."""
    return {name: key for name, (key, _params) in error.fields.items()}


# -- the workflow ----------------------------------------------------------------------------


def test_every_status_has_a_way_out() -> None:
    assert set(TRANSITIONS) == set(Status)
    assert all(TRANSITIONS[status] for status in Status)


def test_the_happy_path_moves_forward_one_step_at_a_time() -> None:
    path = [
        Status.NEW,
        Status.OPEN,
        Status.IN_PROGRESS,
        Status.PENDING,
        Status.RESOLVED,
        Status.CLOSED,
    ]
    for current, target in itertools.pairwise(path):
        check_transition(current, target)


@pytest.mark.parametrize(("current", "target"), ALLOWED, ids=lambda s: str(s))
def test_allowed_transition_passes(current: Status, target: Status) -> None:
    check_transition(current, target)


@pytest.mark.parametrize(("current", "target"), REFUSED, ids=lambda s: str(s))
def test_refused_transition_names_the_allowed_ones(current: Status, target: Status) -> None:
    with pytest.raises(InvalidTransition) as caught:
        check_transition(current, target)
    assert caught.value.key == "error.invalid_transition"
    assert caught.value.params == {
        "current": current,
        "target": target,
        "allowed": TRANSITIONS[current],
    }


def test_a_ticket_never_transitions_to_its_own_status() -> None:
    assert all(status not in TRANSITIONS[status] for status in Status)


@pytest.mark.parametrize("closed", [Status.RESOLVED, Status.CLOSED])
def test_resolved_and_closed_tickets_reopen_to_open(closed: Status) -> None:
    check_transition(closed, Status.OPEN)
    for target in (Status.NEW, Status.IN_PROGRESS, Status.PENDING):
        with pytest.raises(InvalidTransition):
            check_transition(closed, target)


def test_a_closed_ticket_can_only_be_reopened() -> None:
    assert TRANSITIONS[Status.CLOSED] == (Status.OPEN,)


def test_pending_steps_back_to_in_progress_but_not_to_open() -> None:
    check_transition(Status.PENDING, Status.IN_PROGRESS)
    with pytest.raises(InvalidTransition):
        check_transition(Status.PENDING, Status.OPEN)


def test_the_refusal_message_lists_the_allowed_statuses_in_the_users_words() -> None:
    with pytest.raises(InvalidTransition) as caught:
        check_transition(Status.CLOSED, Status.IN_PROGRESS)
    assert error_text("en-US", caught.value) == (
        "A ticket that is Closed cannot become In progress. From Closed it can become: Open."
    )
    with pytest.raises(InvalidTransition) as caught:
        check_transition(Status.RESOLVED, Status.NEW)
    assert error_text("en-US", caught.value).endswith("it can become: Closed, Open.")


def test_only_resolved_and_closed_count_as_closed() -> None:
    assert {s for s in Status if s.is_closed} == {Status.RESOLVED, Status.CLOSED}


# -- a new ticket ------------------------------------------------------------------------------


def test_a_draft_with_only_a_title_gets_the_defaults() -> None:
    assert parse_draft({"title": "Printer jam"}, TODAY) == TicketDraft(
        title="Printer jam",
        description="",
        priority=Priority.NORMAL,
        category="",
        due=None,
    )


def test_a_full_draft_is_read_and_trimmed() -> None:
    draft = parse_draft(
        {
            "title": "  VPN drops every hour ",
            "description": " Since Monday.\nOnly on Wi-Fi. ",
            "priority": "high",
            "category": " Network ",
            "due": "2026-12-31",
            "verb": "ticket.create",  # the card's own data travels along and is ignored
        },
        TODAY,
    )
    assert draft == TicketDraft(
        title="VPN drops every hour",
        description="Since Monday.\nOnly on Wi-Fi.",
        priority=Priority.HIGH,
        category="Network",
        due=date(2026, 12, 31),
    )


@pytest.mark.parametrize(
    ("name", "limit"), [("title", 200), ("description", 4000), ("category", 60)]
)
def test_a_field_at_its_limit_is_accepted(name: str, limit: int) -> None:
    data = {"title": "t", name: "x" * limit}
    assert getattr(parse_draft(data, TODAY), name) == "x" * limit


@pytest.mark.parametrize(
    ("name", "limit"), [("title", 200), ("description", 4000), ("category", 60)]
)
def test_a_field_one_over_its_limit_is_refused_with_the_sizes(name: str, limit: int) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_draft({"title": "t", name: "x" * (limit + 1)}, TODAY)
    assert caught.value.fields == {
        name: ("field.too_long", {"max": limit, "length": limit + 1}),
    }
    assert field_errors("en", caught.value)[name] == (
        f"At most {limit:,} characters (you entered {limit + 1:,})."
    )


def test_surrounding_white_space_does_not_count_against_the_limit() -> None:
    assert parse_draft({"title": "   " + "x" * 200 + "\n"}, TODAY).title == "x" * 200


@pytest.mark.parametrize("title", [None, "", "   ", "\n\t"])
def test_a_title_is_required(title: Any) -> None:
    data = {} if title is None else {"title": title}
    with pytest.raises(InvalidInput) as caught:
        parse_draft(data, TODAY)
    assert problems(caught.value) == {"title": "field.required"}


@pytest.mark.parametrize("value", [123, 1.5, True, ["a"], {"a": "b"}])
@pytest.mark.parametrize("name", ["title", "description", "category"])
def test_a_text_field_of_another_type_is_refused(name: str, value: Any) -> None:
    data: dict[str, Any] = {"title": "t", name: value}
    with pytest.raises(InvalidInput) as caught:
        parse_draft(data, TODAY)
    assert problems(caught.value) == {name: "field.not_text"}


@pytest.mark.parametrize(
    ("typed", "priority"),
    [
        ("low", Priority.LOW),
        ("Normal", Priority.NORMAL),
        ("HIGH", Priority.HIGH),
        (" Urgent ", Priority.URGENT),
        ("", Priority.NORMAL),
        (None, Priority.NORMAL),
    ],
)
def test_priority_is_case_insensitive_and_defaults_to_normal(
    typed: str | None, priority: Priority
) -> None:
    assert parse_draft({"title": "t", "priority": typed}, TODAY).priority is priority


@pytest.mark.parametrize("typed", ["critical", "hi", "urgent!", 3, ["high"], {"p": "high"}, True])
def test_an_unknown_priority_is_refused_with_the_choices(typed: Any) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_draft({"title": "t", "priority": typed}, TODAY)
    assert caught.value.fields == {
        "priority": ("field.choose_one", {"allowed": "low, normal, high, urgent"})
    }


@pytest.mark.parametrize(
    ("typed", "due"),
    [("2026-12-31", date(2026, 12, 31)), (" 2027-02-28 ", date(2027, 2, 28)), ("", None)],
)
def test_a_due_date_is_an_iso_date(typed: str, due: date | None) -> None:
    assert parse_draft({"title": "t", "due": typed}, TODAY).due == due


@pytest.mark.parametrize(
    "typed",
    ["2026-02-30", "2026-13-01", "31.12.2026", "tomorrow", "2026-12-31T10:00", 20261231, ["x"]],
)
def test_a_bad_due_date_is_refused(typed: Any) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_draft({"title": "t", "due": typed}, TODAY)
    assert problems(caught.value) == {"due": "field.bad_date"}


@pytest.mark.parametrize("typed", ["2026-11-01", "0001-01-01", "1899-12-31"])
def test_a_due_date_in_the_past_is_refused(typed: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_draft({"title": "t", "due": typed}, TODAY)
    assert set(problems(caught.value).values()) <= {"field.date_in_past", "field.bad_date"}
    assert "due" in problems(caught.value)


@pytest.mark.parametrize("typed", ["9999-12-31", "2200-01-01", "２０２６-１２-３１"])
def test_an_absurd_due_date_is_refused(typed: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_draft({"title": "t", "due": typed}, TODAY)
    assert problems(caught.value) == {"due": "field.bad_date"}


def test_a_due_date_of_today_is_accepted() -> None:
    assert parse_draft({"title": "t", "due": "2026-11-02"}, TODAY).due == TODAY


@pytest.mark.parametrize(
    ("asked", "total", "shown"), [(0, 0, 0), (5, 13, 1), (-3, 13, 0), (1, 20, 1)]
)
def test_a_page_past_the_end_shows_the_last_page(asked: int, total: int, shown: int) -> None:
    assert clamp_page(asked, total) == shown


def test_every_problem_of_a_draft_is_reported_at_once() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_draft(
            {
                "title": "",
                "description": "d" * 4001,
                "category": 7,
                "priority": "critical",
                "due": "someday",
            },
            TODAY,
        )
    assert problems(caught.value) == {
        "title": "field.required",
        "description": "field.too_long",
        "category": "field.not_text",
        "priority": "field.choose_one",
        "due": "field.bad_date",
    }


# -- comments, priority and status changes ------------------------------------------------------


def test_a_comment_is_trimmed() -> None:
    assert parse_comment("  Rebooted, works again. \n") == "Rebooted, works again."


def test_a_comment_at_the_limit_is_accepted_and_one_over_is_refused() -> None:
    assert parse_comment("c" * 4000) == "c" * 4000
    with pytest.raises(InvalidInput) as caught:
        parse_comment("c" * 4001)
    assert caught.value.fields == {
        "comment": ("field.too_long", {"max": 4000, "length": 4001}),
    }


@pytest.mark.parametrize("value", [None, "", "  \n "])
def test_an_empty_comment_is_refused(value: str | None) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_comment(value)
    assert problems(caught.value) == {"comment": "field.required"}


@pytest.mark.parametrize("value", [42, ["text"], {"text": "x"}])
def test_a_comment_that_is_not_text_is_refused(value: Any) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_comment(value)
    assert problems(caught.value) == {"comment": "field.not_text"}


@pytest.mark.parametrize("typed", ["low", "LOW", " Urgent", "hIgH"])
def test_parse_priority_is_case_insensitive(typed: str) -> None:
    assert parse_priority(typed) is Priority(typed.strip().lower())


@pytest.mark.parametrize(("typed", "key"), [(None, "field.required"), ("", "field.required")])
def test_parse_priority_requires_a_value(typed: str | None, key: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_priority(typed)
    assert problems(caught.value) == {"priority": key}


@pytest.mark.parametrize("typed", ["critical", 1, ["low"]])
def test_parse_priority_refuses_unknown_values(typed: Any) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_priority(typed)
    assert problems(caught.value) == {"priority": "field.choose_one"}


@pytest.mark.parametrize(
    ("typed", "status"),
    [
        ("open", Status.OPEN),
        ("In_Progress", Status.IN_PROGRESS),
        (" RESOLVED ", Status.RESOLVED),
        ("closed", Status.CLOSED),
    ],
)
def test_parse_status_is_case_insensitive(typed: str, status: Status) -> None:
    assert parse_status(typed) is status


def test_parse_status_requires_a_value() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_status("")
    assert problems(caught.value) == {"status": "field.required"}


@pytest.mark.parametrize("typed", ["done", "reopened", 2, {"status": "open"}])
def test_parse_status_refuses_unknown_values_and_lists_the_statuses(typed: Any) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_status(typed)
    assert caught.value.fields == {
        "status": (
            "field.choose_one",
            {"allowed": "new, open, in_progress, pending, resolved, closed"},
        )
    }


# -- who sees a ticket -----------------------------------------------------------------------------

REQUESTER = "29:requester"
ASSIGNEE = "29:assignee"


def actor(user_id: str, role: Role) -> Actor:
    return Actor("tenant-a", Person(user_id, user_id), role)


@pytest.mark.parametrize("role", [Role.ADMIN, Role.AGENT])
def test_agents_and_admins_see_every_ticket(role: Role) -> None:
    assert can_see(actor("29:someone", role), REQUESTER, None)
    assert can_see(actor("29:someone", role), REQUESTER, ASSIGNEE)


def test_a_member_sees_the_tickets_they_asked_for_or_hold() -> None:
    assert can_see(actor(REQUESTER, Role.MEMBER), REQUESTER, None)
    assert can_see(actor(REQUESTER, Role.MEMBER), REQUESTER, ASSIGNEE)
    assert can_see(actor(ASSIGNEE, Role.MEMBER), REQUESTER, ASSIGNEE)


def test_a_member_does_not_see_other_peoples_tickets() -> None:
    assert not can_see(actor("29:other", Role.MEMBER), REQUESTER, None)
    assert not can_see(actor("29:other", Role.MEMBER), REQUESTER, ASSIGNEE)


# -- paging --------------------------------------------------------------------------------------


def page(number: int, total: int) -> Page[object]:
    return Page((), number, total)


@pytest.mark.parametrize(
    ("number", "total", "has_previous", "has_next"),
    [
        (0, 0, False, False),
        (0, 1, False, False),
        (0, PAGE_SIZE, False, False),
        (0, PAGE_SIZE + 1, False, True),
        (1, PAGE_SIZE + 1, True, False),
        (1, 2 * PAGE_SIZE, True, False),
        (1, 2 * PAGE_SIZE + 1, True, True),
        (2, 2 * PAGE_SIZE + 1, True, False),
    ],
)
def test_page_flags(number: int, total: int, has_previous: bool, has_next: bool) -> None:
    assert PAGE_SIZE == 10
    assert page(number, total).has_previous is has_previous
    assert page(number, total).has_next is has_next


@given(number=st.integers(min_value=0, max_value=500), total=st.integers(0, 10_000))
def test_there_is_a_next_page_exactly_when_tickets_remain_after_this_one(
    number: int, total: int
) -> None:
    shown_so_far = (number + 1) * PAGE_SIZE
    assert page(number, total).has_next is (total > shown_so_far)
    assert page(number, total).has_previous is (number > 0)
