"""Ticket notifications carry the near-limit banner like every other card the bot sends."""

from __future__ import annotations

from tests.e2e.conftest import Bot
from tests.support import teams
from tests.support.teams import Conversation, TeamsUser

ALICE = TeamsUser("tenant-a", "29:alice", "Alice Admin", "aad-alice")
CAROL = TeamsUser("tenant-a", "29:carol", "Carol Member", "aad-carol")
BANNER = "Tickets: 80% of this period's quota used"


async def test_a_ticket_notice_sent_near_the_limit_shows_the_banner(bot: Bot) -> None:
    await bot.post(teams.installed(ALICE, Conversation(ALICE.personal_chat), bot.connector.url))
    await bot.say(CAROL, "help")
    await bot.say(CAROL, "new ticket Printer 0")
    await bot.press(ALICE, "ticket.comment", {"number": 1, "comment": "On it"})
    await bot.sender.drain()
    before = bot.connector.to(CAROL.personal_chat)[-1]
    assert "commented on your ticket #1" in before.text
    assert BANNER not in before.text

    for index in range(1, 20):  # 20 of 25: past the 80 % threshold
        await bot.say(CAROL, f"new ticket Printer {index}")
    await bot.press(ALICE, "ticket.comment", {"number": 1, "comment": "Still on it"})
    await bot.sender.drain()

    notice = [p for p in bot.connector.to(CAROL.personal_chat) if "commented" in p.text][-1]
    assert "Still on it" in notice.text
    assert BANNER in notice.text
    # The banner sits above the notice itself.
    assert notice.cards[0]["body"][0]["text"].startswith(BANNER)
