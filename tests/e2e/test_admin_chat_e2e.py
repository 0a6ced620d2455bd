"""An admin the bot knows only from a team still hears about the quota: the bot opens a
personal chat with them through the team, and uses that chat from then on."""

from __future__ import annotations

from aiohttp import web
from sqlmodel import select

from storage.db import Database
from storage.models import ConversationRef
from tests.e2e.conftest import Bot
from tests.support import teams
from tests.support.teams import Conversation, TeamsUser

ALICE = TeamsUser("tenant-a", "29:alice", "Alice Admin", "aad-alice")
BOB = TeamsUser("tenant-a", "29:bob", "Bob Member", "aad-bob")
CHANNEL = Conversation("19:general@thread.tacv2", "channel", "team-1")


async def create_tickets(bot: Bot, count: int) -> None:
    for index in range(count):
        await bot.say(BOB, f"new ticket Printer {index}")


async def test_an_admin_without_a_personal_chat_gets_one_opened_for_the_warning(
    bot: Bot, any_db: Database
) -> None:
    # Alice installs the bot in her team: she is the admin, but has never chatted with it.
    status, _ = await bot.post(teams.installed(ALICE, CHANNEL, bot.connector.url))
    assert status == 200
    await create_tickets(bot, 20)  # 80 % of the free plan's 25
    bot.connector.clear()

    await bot.sender.drain()

    assert len(bot.connector.created) == 1
    opened = bot.connector.created[0]
    assert opened["members"] == [{"id": ALICE.user_id}]
    # Teams reads the tenant from channelData (the SDK spells the top-level key "tenantID").
    assert opened["channelData"] == {"tenant": {"id": ALICE.tenant_id}}
    assert opened["isGroup"] is False
    to_alice = bot.connector.to(ALICE.personal_chat)
    assert len(to_alice) == 1
    assert "20 of its 25 tickets" in to_alice[0].text
    assert len(bot.connector.to(CHANNEL.id)) == 1
    # Bob is a member: no warning in his chat.
    assert bot.connector.to(BOB.personal_chat) == []

    async with any_db.sessions() as session:
        chats = (
            (
                await session.execute(
                    select(ConversationRef).where(ConversationRef.user_id == ALICE.user_id)
                )
            )
            .scalars()
            .all()
        )
    assert [(c.conversation_id, c.conversation_type, c.active) for c in chats] == [
        (ALICE.personal_chat, "personal", True)
    ]

    # The next warning goes straight to the chat that is now known.
    bot.connector.clear()
    bot.connector.created.clear()
    await create_tickets(bot, 3)  # 23 of 25: 90 %
    await bot.sender.drain()
    assert bot.connector.created == []
    assert ["23 of its 25 tickets" in p.text for p in bot.connector.to(ALICE.personal_chat)] == [
        True
    ]


async def test_an_admin_the_team_cannot_reach_does_not_cost_the_team_its_warnings(
    bot: Bot, any_db: Database
) -> None:
    await bot.post(teams.installed(ALICE, CHANNEL, bot.connector.url))
    await create_tickets(bot, 20)
    bot.connector.clear()

    def responder(request: web.Request) -> web.Response | None:
        if request.path == "/v3/conversations":
            return web.json_response({"error": {"code": "Forbidden"}}, status=403)
        return None

    bot.connector.responder = responder
    await bot.sender.drain()

    # The channel got its warning and stays active; only the message to Alice failed.
    assert len(bot.connector.to(CHANNEL.id)) == 1
    async with any_db.sessions() as session:
        channel = (
            await session.execute(
                select(ConversationRef).where(ConversationRef.conversation_id == CHANNEL.id)
            )
        ).scalar_one()
    assert channel.active
