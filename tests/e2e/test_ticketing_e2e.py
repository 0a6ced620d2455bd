"""Ticketing over real HTTP, on SQLite and on PostgreSQL: install, help, tickets from the form and
from one line, lists, assigning, comments and the workflow, with two tenants side by side."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

from sqlmodel import select

from bot.domain.clock import FixedClock
from storage.db import Database
from storage.models import ConversationRef
from tests.e2e.conftest import Bot
from tests.support import teams
from tests.support.cards import action, actions, card_text, inputs, submission, verbs
from tests.support.connector import Posted

ALICE = teams.TeamsUser("tenant-a", "29:alice", "Alice Admin", "aad-alice")
BOB = teams.TeamsUser("tenant-a", "29:bob", "Bob", "aad-bob")
CAROL = teams.TeamsUser("tenant-a", "29:carol", "Carol", "aad-carol")
DAVE = teams.TeamsUser("tenant-b", "29:dave", "Dave", "aad-dave")

TEAM = "19:team-a@thread.tacv2"
GENERAL = teams.Conversation("19:general-a@thread.tacv2", "channel", team_id=TEAM)
GROUP = teams.Conversation("19:group-a@thread.v2", "groupChat")

NOT_FOUND = "That was not found."


def personal(user: teams.TeamsUser) -> teams.Conversation:
    return teams.Conversation(user.personal_chat)


async def install(
    bot: Bot, user: teams.TeamsUser, conversation: teams.Conversation
) -> list[Posted]:
    """The bot is added to a conversation; what it posted there in answer."""
    before = len(bot.connector.posted)
    status, _ = await bot.post(teams.installed(user, conversation, bot.connector.url))
    assert status == 200
    return bot.connector.posted[before:]


async def stored_conversations(db: Database) -> list[ConversationRef]:
    async with db.sessions() as session:
        stmt = select(ConversationRef).order_by(ConversationRef.conversation_id)
        return list((await session.execute(stmt)).scalars())


async def text_of(bot: Bot, user: teams.TeamsUser, text: str, **kw: object) -> str:
    return (await bot.say(user, text, **kw)).text  # type: ignore[arg-type]


# -- the whole story -----------------------------------------------------------------------------


async def test_a_help_desk_day(bot: Bot, clock: FixedClock) -> None:
    # Alice installs the app first: she is the organization's admin.
    [welcome] = await install(bot, ALICE, personal(ALICE))
    assert welcome.conversation_id == ALICE.personal_chat
    assert "Welcome to TeamsWork" in welcome.text
    assert {"ticket.form", "tickets.list", "help"} <= set(verbs(welcome.cards[0]))

    help_text = await text_of(bot, ALICE, "help")
    assert "What I can do" in help_text and "new ticket <title>" in help_text

    # Alice makes Bob an agent by mentioning him, once Bob has said hello to the bot.
    await text_of(bot, BOB, "hello")
    made = await text_of(bot, ALICE, "role @Bob agent", mentions=[(BOB.user_id, "Bob")])
    assert "Bob is now agent." in made
    roles = await text_of(bot, CAROL, "roles")
    assert "Alice Admin" in roles and "Bob" in roles

    # Carol, a member, fills in the new-ticket form.
    form = await bot.press(CAROL, "ticket.form")
    assert set(inputs(form)) == {"title", "description", "priority", "category", "due"}
    created = await bot.press(
        CAROL,
        "ticket.create",
        submission(
            form,
            "ticket.create",
            title="Printer on 3rd floor jams",
            description="Tray 2, every second page.",
            priority="high",
            category="Hardware",
            due="2026-12-01",
        ),
    )
    text = card_text(created)
    assert "Ticket #1 was created." in text
    assert "#1 Printer on 3rd floor jams" in text
    for shown in ("New", "High", "Hardware", "Carol", "Unassigned", "Dec 1, 2026", "Tray 2"):
        assert shown in text, shown

    # ...and, a little later, another with one line.
    clock.advance(timedelta(minutes=5))
    second = await text_of(bot, CAROL, "new ticket VPN drops every hour")
    assert "Ticket #2 was created." in second and "Normal" in second

    # Bob, the agent, lists everything, newest change first, and opens #1 from the list.
    listed = await bot.press(BOB, "tickets.list", {"filter": "all", "page": 0})
    assert "Page 1 of 1, 2 tickets" in card_text(listed)
    rows = [a["data"] for a in actions(listed) if a["verb"] == "ticket.show"]
    assert [row["number"] for row in rows] == [2, 1]
    detail = await bot.press(BOB, "ticket.show", rows[1])
    assert "#1 Printer on 3rd floor jams" in card_text(detail)
    assert {"ticket.assign_me", "ticket.assign", "ticket.status", "ticket.comment"} <= set(
        verbs(detail)
    )

    # Alice assigns it to Bob from the card.
    clock.advance(timedelta(minutes=5))
    detail = await bot.press(
        ALICE, "ticket.assign", submission(detail, "ticket.assign", assignee=BOB.user_id)
    )
    assert "Ticket #1 was updated." in card_text(detail)
    assert "Alice Admin assigned it to Bob" in card_text(detail)

    # Bob comments and works it through to resolved.
    detail = await bot.press(
        BOB, "ticket.comment", submission(detail, "ticket.comment", comment="New fuser ordered.")
    )
    assert "New fuser ordered." in card_text(detail)
    assert "No comments yet." not in card_text(detail)
    steps = [("New", "Open"), ("Open", "In progress"), ("In progress", "Resolved")]
    for (old, new), status in zip(steps, ("open", "in_progress", "resolved"), strict=True):
        detail = await bot.press(
            BOB, "ticket.status", submission(detail, "ticket.status", status=status)
        )
        assert f"Bob changed the status from {old} to {new}" in card_text(detail)
    # A resolved ticket offers to reopen, not to close again.
    assert "ticket.reopen" in verbs(detail) and "ticket.close" not in verbs(detail)

    # Alice closes it; Carol, its requester, reopens it.
    detail = await bot.press(
        ALICE, "ticket.status", submission(detail, "ticket.status", status="closed")
    )
    assert "Alice Admin changed the status from Resolved to Closed" in card_text(detail)
    carols_view = await bot.press(CAROL, "ticket.show", {"number": 1})
    assert "ticket.status" not in verbs(carols_view)  # the workflow is the help desk's
    reopened = await bot.press(CAROL, "ticket.reopen", action(carols_view, "ticket.reopen")["data"])
    assert "Carol changed the status from Closed to Open" in card_text(reopened)
    assert "ticket.close" in verbs(reopened)

    # Lists follow: #1 changed last, so it is first; nothing is closed any more.
    mine = await text_of(bot, CAROL, "tickets")
    assert mine.index("**#1** Printer on 3rd floor jams") < mine.index("**#2** VPN drops")
    assert "No tickets here." in await text_of(bot, CAROL, "tickets closed")
    assert "**#1**" in await text_of(bot, BOB, "tickets assigned")
    assert "**#2**" in await text_of(bot, BOB, "tickets unassigned")

    # A ticket of Alice's is not Carol's business.
    assert "Ticket #3 was created." in await text_of(bot, ALICE, "new ticket Salary review")
    assert NOT_FOUND in await text_of(bot, CAROL, "ticket 3")
    assert "Salary review" not in await text_of(bot, CAROL, "tickets all")

    # Dave, in another organization, sees none of it, even as his organization's admin.
    assert NOT_FOUND in await text_of(bot, DAVE, "ticket 1")
    assert "No tickets here." in await text_of(bot, DAVE, "tickets all")
    assert "Ticket #1 was created." in await text_of(bot, DAVE, "new ticket Dave's projector")
    own = await text_of(bot, DAVE, "ticket #1")
    assert "#1 Dave's projector" in own and "Printer" not in own
    everything = await text_of(bot, DAVE, "tickets all")
    assert "Page 1 of 1, 1 tickets" in everything and "VPN" not in everything
    # Tenant A's numbering went on untouched.
    assert "#1 Printer on 3rd floor jams" in await text_of(bot, ALICE, "ticket 1")


async def test_tickets_created_at_the_same_time_get_distinct_numbers(bot: Bot) -> None:
    users = [teams.TeamsUser("tenant-a", f"29:user-{i}", f"User {i}", f"aad-{i}") for i in range(6)]
    others = [teams.TeamsUser("tenant-b", f"29:b-{i}", f"B {i}", f"aad-b-{i}") for i in range(2)]
    activities = [
        teams.message(u, personal(u), bot.connector.url, f"new ticket From {u.name}")
        for u in [*users, *others]
    ]
    answers = await asyncio.gather(*(bot.post(a) for a in activities))
    assert all(status == 200 for status, _ in answers)
    created = {
        (p.conversation_id.startswith("a:personal-29:b-"), line)
        for p in bot.connector.posted
        for line in p.text.splitlines()
        if line.startswith("Ticket #")
    }
    assert created == {
        *((False, f"Ticket #{n} was created.") for n in range(1, 7)),
        *((True, f"Ticket #{n} was created.") for n in range(1, 3)),
    }


# -- where the bot is installed ----------------------------------------------------------------


async def test_installing_in_a_personal_chat_stores_the_reference_with_its_tenant(
    bot: Bot, any_db: Database
) -> None:
    [welcome] = await install(bot, ALICE, personal(ALICE))
    assert "Welcome to TeamsWork" in welcome.text
    [row] = await stored_conversations(any_db)
    assert (row.tenant_id, row.conversation_id, row.conversation_type, row.user_id) == (
        "tenant-a",
        ALICE.personal_chat,
        "personal",
        ALICE.user_id,
    )
    assert (row.active, row.service_url) == (True, bot.connector.url)
    reference = json.loads(row.reference)
    assert reference["conversation"]["id"] == ALICE.personal_chat
    assert reference["serviceUrl"] == bot.connector.url
    # The same installation announced again (installationUpdate) is not welcomed twice.
    before = len(bot.connector.posted)
    status, _ = await bot.post(
        teams.installation_update(ALICE, personal(ALICE), bot.connector.url, "add")
    )
    assert status == 200
    assert bot.connector.posted[before:] == []
    assert len(await stored_conversations(any_db)) == 1


async def test_installing_in_a_team_channel_stores_the_channel_not_a_thread(
    bot: Bot, any_db: Database
) -> None:
    [welcome] = await install(bot, ALICE, GENERAL)
    assert welcome.conversation_id == GENERAL.id
    assert "Welcome to TeamsWork" in welcome.text
    # Later, someone writes in a reply thread of that channel.
    thread = teams.Conversation(f"{GENERAL.id};messageid=1764230400000", "channel", TEAM)
    assert "What I can do" in await text_of(bot, BOB, "help", conversation=thread)
    # And in a thread of a channel the bot never saw being installed in.
    other = teams.Conversation("19:random-a@thread.tacv2;messageid=1764230400999", "channel", TEAM)
    assert "What I can do" in await text_of(bot, BOB, "help", conversation=other)

    rows = await stored_conversations(any_db)
    assert [r.conversation_id for r in rows] == [GENERAL.id, "19:random-a@thread.tacv2"]
    general = rows[0]
    assert (general.tenant_id, general.conversation_type, general.team_id) == (
        "tenant-a",
        "channel",
        TEAM,
    )
    assert general.channel_id == GENERAL.id
    assert general.user_id is None
    assert json.loads(general.reference)["conversation"]["id"] == GENERAL.id
    assert all(";messageid=" not in r.reference for r in rows)


async def test_the_user_who_installs_in_a_team_is_the_admin(bot: Bot) -> None:
    await install(bot, ALICE, GENERAL)
    refused = await text_of(bot, BOB, "role @Carol agent", mentions=[(CAROL.user_id, "Carol")])
    assert "Only admins can do that. Admins of your organization: Alice Admin." in refused
    made = await text_of(bot, ALICE, "role @Bob agent", mentions=[(BOB.user_id, "Bob")])
    assert "Bob is now agent." in made


async def test_installing_in_a_group_chat(bot: Bot, any_db: Database) -> None:
    [welcome] = await install(bot, CAROL, GROUP)
    assert welcome.conversation_id == GROUP.id
    assert "Welcome to TeamsWork" in welcome.text
    [row] = await stored_conversations(any_db)
    assert (row.tenant_id, row.conversation_type, row.active) == ("tenant-a", "groupChat", True)
    # The group chat works like any other: @mention and command.
    assert "Ticket #1 was created." in await text_of(
        bot, CAROL, "new ticket Team offsite booking", conversation=GROUP
    )


async def test_removing_the_bot_marks_its_conversations_inactive(
    bot: Bot, any_db: Database
) -> None:
    await install(bot, ALICE, GENERAL)
    await install(bot, ALICE, GROUP)
    await install(bot, ALICE, personal(ALICE))
    url = bot.connector.url
    assert (await bot.post(teams.uninstalled(ALICE, GENERAL, url)))[0] == 200
    assert (await bot.post(teams.uninstalled(ALICE, GROUP, url)))[0] == 200
    status, _ = await bot.post(teams.installation_update(ALICE, personal(ALICE), url, "remove"))
    assert status == 200
    rows = await stored_conversations(any_db)
    assert len(rows) == 3
    assert [r.active for r in rows] == [False, False, False]
    # Installed again, the conversation is active and welcomed again.
    [welcome] = await install(bot, ALICE, GROUP)
    assert "Welcome to TeamsWork" in welcome.text
    active = {r.conversation_id for r in await stored_conversations(any_db) if r.active}
    assert active == {GROUP.id}


async def test_an_installation_without_a_tenant_stores_nothing(bot: Bot, any_db: Database) -> None:
    activity = teams.installed(ALICE, personal(ALICE), bot.connector.url)
    activity["channelData"] = {}
    activity["conversation"].pop("tenantId")
    before = len(bot.connector.posted)
    status, _ = await bot.post(activity)
    assert status == 200
    assert bot.connector.posted[before:] == []
    assert await stored_conversations(any_db) == []
