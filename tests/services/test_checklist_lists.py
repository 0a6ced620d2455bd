"""A page of checklists, every filter, for the help desk's view of the whole tenant and for a
person: each page holds what the checklists themselves give, the newest change first, and each
checklist once, also where one person starts, works and reviews the same checklist. On a
SQLite file and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from bot.domain.checklists import ChecklistFilter, ChecklistStatus
from bot.domain.paging import PAGE_SIZE
from storage.db import Database
from storage.models import ChecklistRow
from storage.uow import UnitOfWorkFactory

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
TODAY = NOW.date()
PEOPLE = ["29:a", "29:b", "29:c"]
OPEN = {ChecklistStatus.IN_PROGRESS, ChecklistStatus.RETURNED}


def checklist(number: int, **fields: object) -> ChecklistRow:
    values: dict[str, object] = {
        "tenant_id": "t1",
        "number": number,
        "title": f"Daily {number}",
        "status": ChecklistStatus.IN_PROGRESS.value,
        "starter_id": "29:a",
        "created_at": NOW,
        "updated_at": NOW,
    }
    values.update(fields)
    return ChecklistRow(**values)


def made_checklists() -> list[ChecklistRow]:
    """40 checklists: every status; due yesterday, tomorrow or never; assignees and reviewers
    drawn so that a person is now the starter, now the assignee, now the reviewer, now two or
    all three of them, and some have no assignee or no reviewer. One of another tenant."""
    statuses = list(ChecklistStatus)
    rows = []
    for n in range(1, 41):
        rows.append(
            checklist(
                n,
                status=statuses[n % len(statuses)].value,
                starter_id=PEOPLE[n % 3],
                assignee_id=None if n % 7 == 0 else PEOPLE[(n // 3) % 3],
                reviewer_id=None if n % 5 == 0 else PEOPLE[(n // 2) % 3],
                due=(TODAY - timedelta(days=1), TODAY + timedelta(days=1), None)[n % 3],
                updated_at=NOW + timedelta(minutes=(n * 7) % 13),
            )
        )
    return rows


def expected(
    rows: list[ChecklistRow], flt: ChecklistFilter, user: str, sees_all: bool
) -> list[int]:
    def involved(r: ChecklistRow, *roles: str) -> bool:
        return any(getattr(r, role) == user for role in roles)

    def shown(r: ChecklistRow) -> bool:
        if r.tenant_id != "t1":
            return False
        if not sees_all and not involved(r, "starter_id", "assignee_id", "reviewer_id"):
            return False
        status = ChecklistStatus(r.status)
        due: date | None = r.due
        return {
            ChecklistFilter.MINE: involved(r, "starter_id", "assignee_id"),
            ChecklistFilter.ASSIGNED: r.assignee_id == user,
            ChecklistFilter.REVIEW: r.reviewer_id == user and status is ChecklistStatus.SUBMITTED,
            ChecklistFilter.OPEN: status in OPEN,
            ChecklistFilter.OVERDUE: status in OPEN and due is not None and due < TODAY,
            ChecklistFilter.ALL: True,
        }[flt]

    ordered = sorted(rows, key=lambda r: (r.updated_at, r.number), reverse=True)
    return [r.number for r in ordered if shown(r)]


async def test_every_checklist_list_pages_through_what_its_checklists_give(
    any_db: Database,
) -> None:
    rows = made_checklists()
    units = UnitOfWorkFactory(any_db)
    for tenant in ("t1", "t2"):
        async with units(tenant) as uow:
            await uow.tenants.ensure(NOW)
            session = await uow.orm()
            if tenant == "t1":
                session.add_all(rows)
            else:  # another tenant's, of the same people, newer than all of t1's
                session.add(checklist(1, tenant_id="t2", updated_at=NOW + timedelta(days=1)))
            await uow.commit()
    for flt in ChecklistFilter:
        for user, sees_all in (("29:a", True), ("29:b", False), ("29:c", False), ("29:x", False)):
            want = expected(rows, flt, user, sees_all)
            shown: list[int] = []
            async with units.reader("t1") as uow:
                for page in range(max(1, -(-len(want) // PAGE_SIZE))):
                    found, total, at = await uow.checklists.page(
                        flt, user, sees_all=sees_all, today=TODAY, page=page
                    )
                    assert (total, at) == (len(want), page), (flt, user)
                    assert all(isinstance(r, ChecklistRow) for r in found)
                    shown += [r.number for r in found]
            assert shown == want, (flt, user, sees_all)


async def test_a_person_s_checklists_page_past_the_first_of_each_role(any_db: Database) -> None:
    """A person who started 14 checklists, is assigned 9 others (3 of them also reviewed by
    them) and reviews 8 more: their list is 31 checklists, each once, in 4 pages; later pages
    need more than a page of each role's."""
    units = UnitOfWorkFactory(any_db)
    async with units("t1") as uow:
        await uow.tenants.ensure(NOW)
        session = await uow.orm()
        for n in range(1, 32):
            role = "starter" if n <= 14 else "assignee" if n <= 23 else "reviewer"
            reviews = role == "reviewer" or (role == "assignee" and n % 3 == 0)
            session.add(
                checklist(
                    n,
                    starter_id="29:p" if role == "starter" else "29:q",
                    assignee_id="29:p" if role == "assignee" else "29:q" if n % 2 else None,
                    reviewer_id="29:p" if reviews else None,
                    updated_at=NOW + timedelta(minutes=(n * 11) % 41),
                )
            )
        for n in range(32, 41):  # the tenant's others, not the person's
            session.add(checklist(n, starter_id="29:q", updated_at=NOW + timedelta(hours=1)))
        await uow.commit()
    want = sorted(range(1, 32), key=lambda n: ((n * 11) % 41, n), reverse=True)
    async with units.reader("t1") as uow:
        shown: list[int] = []
        for page in range(4):
            found, total, at = await uow.checklists.page(
                ChecklistFilter.ALL, "29:p", sees_all=False, today=TODAY, page=page
            )
            assert (total, at) == (31, page)
            shown += [r.number for r in found]
    assert shown == want
