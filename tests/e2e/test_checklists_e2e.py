"""The Checklist app over real HTTP with the fake Bot Connector, on SQLite and PostgreSQL: a
template from the form, checklists started from it and worked by two people, submitted,
returned, resubmitted and approved; the checklist quota on free; the daily reminder digest."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

from sqlmodel import func, select

from storage.db import Database
from storage.models import ChecklistItemRow, ChecklistRow, ItemEventRow
from tests.e2e.conftest import Bot
from tests.support import teams
from tests.support.cards import card_text, verbs
from tests.support.connector import Posted

ALICE = teams.TeamsUser("tenant-a", "29:alice", "Alice Admin", "aad-alice")  # admin
BOB = teams.TeamsUser("tenant-a", "29:bob", "Bob", "aad-bob")  # agent, the reviewer
CAROL = teams.TeamsUser("tenant-a", "29:carol", "Carol", "aad-carol")  # member, the assignee
DAVE = teams.TeamsUser("tenant-b", "29:dave", "Dave", "aad-dave")  # another tenant

TEAM = "19:team-a@thread.tacv2"
GENERAL = teams.Conversation("19:general-a@thread.tacv2", "channel", team_id=TEAM)


async def count(db: Database, model: type, **where: Any) -> int:
    async with db.sessions() as session:
        stmt = select(func.count()).select_from(model)
        for name, value in where.items():
            stmt = stmt.where(getattr(model, name) == value)
        return int((await session.execute(stmt)).scalar_one())


async def install(bot: Bot, user: teams.TeamsUser, conversation: teams.Conversation) -> None:
    status, _ = await bot.post(teams.installed(user, conversation, bot.connector.url))
    assert status == 200


async def organization(bot: Bot) -> None:
    for user in (ALICE, BOB, CAROL, DAVE):
        await install(bot, user, teams.Conversation(user.personal_chat))
    await install(bot, ALICE, GENERAL)
    made = await bot.say(ALICE, "role @Bob agent", mentions=[(BOB.user_id, "Bob")])
    assert "Bob is now agent." in made.text
    bot.connector.clear()


async def deliver(bot: Bot) -> list[Posted]:
    before = len(bot.connector.posted)
    await bot.sender.drain()
    return [p for p in bot.connector.posted[before:] if p.reply_to is None]


def told(posted: list[Posted]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for p in posted:
        out.setdefault(p.conversation_id, []).append(card_text(p.cards[0]))
    return out


async def make_template(bot: Bot) -> None:
    form = (await bot.say(BOB, "new template")).cards[0]
    assert "template.create" in verbs(form)
    card = await bot.press(
        BOB,
        "template.create",
        {"title": "Onboarding", "items": "Laptop ready\n* Accounts created\nWelcome lunch"},
    )
    assert "Template T1 was created." in card_text(card)


async def start(bot: Bot, title: str, **fields: Any) -> dict[str, Any]:
    data = {"title": title, "template": "1", "assignee": CAROL.user_id, "reviewer": BOB.user_id}
    return await bot.press(ALICE, "checklist.start", {**data, **fields})


async def test_a_template_two_checklists_two_people_return_and_approve(
    bot: Bot, any_db: Database
) -> None:
    await organization(bot)
    await make_template(bot)
    # Members see templates and start from them; only agents and admins make them.
    assert "Only agents and admins manage templates." in card_text(
        await bot.press(CAROL, "template.create", {"title": "Mine", "items": "x"})
    )
    form = (await bot.say(ALICE, "new checklist onboard")).cards[0]
    assert "checklist.start" in verbs(form) and "Onboarding" in str(form)

    first = await start(bot, "Onboarding José")
    assert "Checklist #1 was started." in card_text(first) and "0/3 done" in card_text(first)
    second = await start(bot, "Onboarding Mia", reviewer="")
    assert "Checklist #2 was started." in card_text(second)
    assert await count(any_db, ChecklistItemRow) == 6
    assert "assigned checklist #1" in " ".join(told(await deliver(bot))[CAROL.personal_chat])

    # Editing the template later does not change the running checklists.
    await bot.press(BOB, "template.update", {"number": 1, "title": "Onboarding", "items": "Only"})
    assert "0/3 done" in card_text(await bot.press(CAROL, "checklist.show", {"number": 1}))

    # Two people check items; a double click is harmless.
    card = await bot.press(CAROL, "checklist.check", {"number": 1, "position": 1, "checked": True})
    assert "1/3 done" in card_text(card) and "checked by Carol" in card_text(card)
    again = await bot.press(CAROL, "checklist.check", {"number": 1, "position": 1, "checked": True})
    assert "1/3 done" in card_text(again)
    card = await bot.press(BOB, "checklist.check", {"number": 1, "position": 3, "checked": True})
    assert "2/3 done" in card_text(card) and "checked by Bob" in card_text(card)
    checks = await count(any_db, ItemEventRow, app="checklists", field="item_checked")
    assert checks == 2

    # Submitting with a required item open is refused, naming it.
    refused = await bot.press(CAROL, "checklist.submit", {"number": 1})
    assert "Required items are still open (1): Accounts created (2)" in card_text(refused)
    await bot.press(CAROL, "checklist.check", {"number": 1, "position": 2, "checked": True})
    submitted = await bot.press(CAROL, "checklist.submit", {"number": 1})
    assert "submitted for review" in card_text(submitted)
    assert "submitted checklist #1" in " ".join(told(await deliver(bot))[BOB.personal_chat])

    # The submitter cannot approve; the reviewer returns it with a comment.
    assert "Only the reviewer, Bob" in card_text(
        await bot.press(CAROL, "checklist.approve", {"number": 1})
    )
    back = await bot.press(BOB, "checklist.return", {"number": 1, "comment": "Lunch was cancelled"})
    assert "went back" in card_text(back) and "Lunch was cancelled" in card_text(back)
    assert "returned checklist #1" in " ".join(told(await deliver(bot))[CAROL.personal_chat])
    await bot.press(CAROL, "checklist.check", {"number": 1, "position": 3, "checked": False})
    await bot.press(CAROL, "checklist.check", {"number": 1, "position": 3, "checked": True})
    await bot.press(CAROL, "checklist.submit", {"number": 1})
    approved = await bot.press(BOB, "checklist.approve", {"number": 1})
    assert "Checklist #1 is approved." in card_text(approved)
    assert "approved checklist #1" in " ".join(told(await deliver(bot))[ALICE.personal_chat])
    # A stale card acting on it now gets a clear answer and the current state.
    stale = await bot.press(
        CAROL, "checklist.check", {"number": 1, "position": 1, "checked": False}
    )
    assert "items can no longer change" in card_text(stale) and "Approved" in card_text(stale)

    # Without a reviewer, submitted is final.
    for position in (1, 2, 3):
        await bot.press(
            CAROL, "checklist.check", {"number": 2, "position": position, "checked": True}
        )
    final = await bot.press(CAROL, "checklist.submit", {"number": 2})
    assert "Checklist #2 is submitted." in card_text(final)
    assert "checklist.approve" not in verbs(final)

    # Lists, and nobody else's tenant.
    assert "#2" in (await bot.say(CAROL, "checklists assigned")).text
    assert "#1" in (await bot.say(BOB, "checklists all")).text
    assert "That was not found." in (await bot.say(DAVE, "checklist 1")).text
    assert "That was not found." in card_text(
        await bot.press(DAVE, "checklist.check", {"number": 1, "position": 1, "checked": True})
    )


async def test_a_name_that_matches_several_templates_asks_which(bot: Bot) -> None:
    await organization(bot)
    for title in ("Opening the shop", "Opening the office"):
        await bot.press(BOB, "template.create", {"title": title, "items": "Door"})
    asked = (await bot.say(ALICE, "new checklist opening")).cards[0]
    assert "Several templates (2) match" in card_text(asked)
    assert "No template is called" in (await bot.say(ALICE, "new checklist zzz")).text


async def test_bad_input_comes_back_with_the_form_and_writes_nothing(
    bot: Bot, any_db: Database
) -> None:
    await organization(bot)
    for data, message in (
        ({"title": "", "items": "a"}, "This field is required."),
        ({"title": "T", "items": ""}, "Enter at least one item."),
        ({"title": "T", "items": "\n".join(f"i{n}" for n in range(101))}, "At most 100 items"),
        ({"title": "T", "items": "a", "due": "2020-01-01"}, "or later"),
        ({"title": "T", "items": "a", "assignee": "29:ghost"}, "I do not know this person yet"),
    ):
        card = await bot.press(ALICE, "checklist.start", data)
        assert message in card_text(card), (data, card_text(card))
        assert "checklist.start" in verbs(card)
        if data.get("title"):
            assert data["title"] in str(card)
    assert await count(any_db, ChecklistRow) == 0
    assert "Enter at least one item." in card_text(
        await bot.press(BOB, "template.create", {"title": "T", "items": "  "})
    )


async def test_the_free_quota_of_ten_checklists_warns_once_at_each_threshold_and_running_ones_work(
    bot: Bot, any_db: Database
) -> None:
    await organization(bot)
    for n in range(10):
        card = await bot.press(CAROL, "checklist.start", {"title": f"Round {n}", "items": "* a\nb"})
        assert f"Checklist #{n + 1} was started." in card_text(card)
    warnings = told(await deliver(bot))
    alice = warnings[ALICE.personal_chat]
    assert [t for t in alice if "Checklists quota almost used" in t and "(80%)" in t]
    assert [t for t in alice if "Checklists quota almost used" in t and "(90%)" in t]
    assert len([t for t in alice if "Checklists quota reached" in t]) == 1
    assert len(warnings[GENERAL.id]) == 3

    refused = await bot.press(CAROL, "checklist.start", {"title": "Eleven", "items": "keep me"})
    assert "checklist.start" in verbs(refused) and "keep me" in str(refused)
    assert "Eleven" in str(refused) and "See plans" in card_text(refused)
    assert await count(any_db, ChecklistRow) == 10
    # Running checklists keep working at the limit.
    card = await bot.press(CAROL, "checklist.check", {"number": 3, "position": 1, "checked": True})
    assert "1/2 done" in card_text(card)
    assert "submitted" in card_text(await bot.press(CAROL, "checklist.submit", {"number": 3}))
    assert "Checklists: 10 of 10 (100%)" in (await bot.say(ALICE, "usage")).text
    assert await deliver(bot) == []  # each threshold once


async def test_a_daily_digest_names_overdue_checklists_and_tickets_once_a_day(bot: Bot) -> None:
    await organization(bot)
    await bot.press(
        ALICE,
        "checklist.start",
        {
            "title": "Safety round",
            "items": "Extinguishers",
            "assignee": CAROL.user_id,
            "due": "2026-11-03",
        },
    )
    await bot.say(BOB, "new ticket Broken door")
    await bot.press(BOB, "ticket.assign", {"number": 1, "assignee": BOB.user_id})
    # The ticket gets a due date through the form: a ticket created with one.
    await bot.press(BOB, "ticket.create", {"title": "Fire exit sign", "due": "2026-11-04"})
    await bot.press(BOB, "ticket.assign_me", {"number": 2})
    await deliver(bot)

    bot.clock.advance(timedelta(days=3))  # Nov 5, 09:00 UTC: both are overdue, past 07:00
    assert await bot.sender.run_daily() == 2
    digests = told(await deliver(bot))
    carol, bob = digests[CAROL.personal_chat], digests[BOB.personal_chat]
    assert len(carol) == 1 and "Safety round" in carol[0] and "overdue since" in carol[0]
    assert len(bob) == 1 and "Fire exit sign" in bob[0] and "Broken door" not in bob[0]
    # Once a day, even if the pass runs again (another process, a restart).
    bot.sender._daily_done = None
    assert await bot.sender.run_daily() == 0
    bot.clock.advance(timedelta(days=1))
    assert await bot.sender.run_daily() == 2
    assert Counter(p.conversation_id for p in await deliver(bot)) == Counter(
        {CAROL.personal_chat: 1, BOB.personal_chat: 1}
    )
