"""What the bot sends on its own is in the recipient's language where the bot knows it."""

from __future__ import annotations

from tests.e2e.conftest import Bot
from tests.support import teams
from tests.support.teams import Conversation, TeamsUser

ANNA = TeamsUser("tenant-a", "29:anna", "Anna Admin", "aad-anna", locale="de-DE")
BOB = TeamsUser("tenant-a", "29:bob", "Bob Agent", "aad-bob", locale="en-US")
CHANNEL = Conversation("19:general@thread.tacv2", "channel", "team-1")


async def test_an_admin_reads_the_warning_in_her_language_whoever_crossed_the_line(
    bot: Bot,
) -> None:
    await bot.post(teams.installed(ANNA, Conversation(ANNA.personal_chat), bot.connector.url))
    await bot.post(teams.installed(ANNA, CHANNEL, bot.connector.url))
    for index in range(20):  # Bob, writing in English, takes the tenant to 80 %
        await bot.say(BOB, f"new ticket Printer {index}")
    bot.connector.clear()

    await bot.sender.drain()

    to_anna = bot.connector.to(ANNA.personal_chat)
    assert len(to_anna) == 1
    assert "20 von 25 Tickets genutzt (80 %)" in to_anna[0].text
    # The channel has no single reader: it gets the language of the turn that crossed the line.
    to_channel = bot.connector.to(CHANNEL.id)
    assert len(to_channel) == 1
    assert "used 20 of its 25 tickets" in to_channel[0].text


async def test_a_requester_is_told_in_his_language_not_the_agents(bot: Bot) -> None:
    english_admin = TeamsUser(ANNA.tenant_id, "29:alice", "Alice Admin", "aad-alice", "en-US")
    await bot.post(
        teams.installed(english_admin, Conversation(english_admin.personal_chat), bot.connector.url)
    )
    german_bob = TeamsUser(BOB.tenant_id, BOB.user_id, BOB.name, BOB.aad_object_id, "de-DE")
    await bot.say(german_bob, "new ticket Drucker klemmt")

    await bot.press(english_admin, "ticket.comment", {"number": 1, "comment": "Looking into it"})
    await bot.sender.drain()

    notice = bot.connector.to(BOB.personal_chat)[-1]
    assert "Alice Admin hat Ihr Ticket #1 kommentiert" in notice.text
