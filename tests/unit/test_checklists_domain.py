"""Checklist rules: items typed one per line, what a start needs, who submits and reviews."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.domain.checklists import (
    ITEMS_MAX,
    Checklist,
    ChecklistItem,
    ChecklistStatus,
    ItemSpec,
    check_review,
    check_submit,
    items_text,
    parse_start,
    parse_template,
)
from bot.domain.errors import DomainError, InvalidInput
from bot.domain.people import Actor, Person
from bot.domain.roles import Role

TODAY = date(2026, 11, 2)
NOW = datetime(2026, 11, 2, 9, tzinfo=UTC)
ADA, GRACE, ALAN = Person("29:ada", "Ada"), Person("29:grace", "Grace"), Person("29:alan", "Alan")


def actor(person: Person, role: Role = Role.MEMBER) -> Actor:
    return Actor("t", person, role)


def checklist(
    status: ChecklistStatus = ChecklistStatus.IN_PROGRESS,
    *,
    checked: tuple[bool, ...] = (True, False),
    reviewer: Person | None = ALAN,
) -> Checklist:
    items = tuple(
        ChecklistItem(i + 1, f"Item {i + 1}", True, GRACE if done else None, NOW if done else None)
        for i, done in enumerate(checked)
    )
    return Checklist(7, "Onboarding", status, ADA, GRACE, reviewer, None, items, None, NOW, NOW)


def problems(error: InvalidInput) -> dict[str, str]:
    return {name: key for name, (key, _) in error.fields.items()}


def test_items_are_read_one_per_line_and_a_star_marks_a_required_one() -> None:
    draft = parse_template(
        {"title": " Opening the shop ", "items": "Lights\n* Till\n\n  *  Alarm  "}
    )
    assert draft.title == "Opening the shop"
    assert draft.items == (ItemSpec("Lights"), ItemSpec("Till", True), ItemSpec("Alarm", True))
    assert items_text(draft.items) == "Lights\n* Till\n* Alarm"


@pytest.mark.parametrize(
    ("items", "problem"),
    [
        ("", "checklists.no_items"),
        ("\n  \n*", "checklists.no_items"),
        ("\n".join(f"step {i}" for i in range(ITEMS_MAX + 1)), "checklists.too_many_items"),
        ("x" * 301, "checklists.item_too_long"),
        (["a list"], "field.not_text"),
    ],
)
def test_a_template_needs_one_to_a_hundred_items_of_at_most_300_characters(
    items: object, problem: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_template({"title": "T", "items": items})
    assert problems(caught.value) == {"items": problem}


def test_exactly_a_hundred_items_of_300_characters_are_fine() -> None:
    draft = parse_template({"title": "T", "items": "\n".join("x" * 300 for _ in range(ITEMS_MAX))})
    assert len(draft.items) == ITEMS_MAX


def test_a_start_from_a_template_needs_no_items_and_a_blank_one_does() -> None:
    draft = parse_start(
        {"title": "Alex", "template": "3", "due": "2026-11-20"}, TODAY, from_template=True
    )
    assert (draft.template, draft.items, draft.due) == (3, (), date(2026, 11, 20))
    with pytest.raises(InvalidInput) as caught:
        parse_start({"title": "Alex"}, TODAY, from_template=False)
    assert problems(caught.value) == {"items": "checklists.no_items"}


def test_a_start_refuses_every_bad_field_at_once() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_start(
            {"title": "", "items": "x", "template": "²", "due": "2026-11-01", "assignee": 5},
            TODAY,
            from_template=False,
        )
    assert problems(caught.value) == {
        "title": "field.required",
        "template": "field.not_number",
        "due": "field.date_in_past",
        "assignee": "field.choose_one",
    }


def test_submitting_with_required_items_open_names_them() -> None:
    with pytest.raises(DomainError) as caught:
        check_submit(actor(GRACE), checklist(checked=(True, False)))
    assert caught.value.key == "checklists.required_open"
    assert caught.value.params == {"items": "Item 2 (2)", "count": 1}


def test_the_assignee_submits_and_a_stranger_member_may_not() -> None:
    done = checklist(checked=(True, True))
    assert check_submit(actor(GRACE), done) is ChecklistStatus.SUBMITTED
    assert check_submit(actor(ALAN, Role.AGENT), done) is ChecklistStatus.SUBMITTED
    with pytest.raises(DomainError, match="only_assignee_submits"):
        check_submit(actor(ADA), done)


@pytest.mark.parametrize("status", [ChecklistStatus.SUBMITTED, ChecklistStatus.APPROVED])
def test_a_submitted_or_approved_checklist_cannot_be_submitted_again(
    status: ChecklistStatus,
) -> None:
    with pytest.raises(DomainError, match="not_open"):
        check_submit(actor(GRACE), checklist(status, checked=(True, True)))


def test_only_the_named_reviewer_approves_not_the_submitter_nor_an_admin() -> None:
    submitted = checklist(ChecklistStatus.SUBMITTED, checked=(True, True))
    check_review(actor(ALAN), submitted)
    for who in (actor(GRACE), actor(ADA, Role.ADMIN)):
        with pytest.raises(DomainError, match="only_reviewer"):
            check_review(who, submitted)


def test_without_a_reviewer_there_is_nothing_to_review() -> None:
    with pytest.raises(DomainError, match="not_for_review"):
        check_review(actor(ALAN), checklist(ChecklistStatus.SUBMITTED, reviewer=None))


def test_progress_counts_checked_items() -> None:
    assert (
        checklist(checked=(True, False, True)).done,
        checklist(checked=(True, False, True)).total,
    ) == (2, 3)
