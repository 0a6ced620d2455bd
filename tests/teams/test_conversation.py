"""Whole conversations with the bot through botbuilder's TestAdapter, on in-memory SQLite.

The adapter runs the same middleware and handler as production; only HTTP and the Bot Connector
are left out (the end-to-end tests cover those)."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    ChannelAccount,
    ConversationAccount,
    Entity,
)
from sqlmodel import func, select

from bot.domain.clock import FixedClock
from bot.teams.middleware import (
    ConversationMiddleware,
    IdempotencyMiddleware,
    LogContextMiddleware,
)
from storage.db import Database
from storage.models import ConversationRef, Tenant, TicketRow, UserAccount
from storage.uow import UnitOfWorkFactory
from tests.support.apps import teams_bot
from tests.support.cards import Card, card_text, verbs
from tests.support.teams import BOT_ID, BOT_NAME, TeamsUser

ALICE = TeamsUser("tenant-a", "29:alice", "Alice", "aad-alice")
BOB = TeamsUser("tenant-a", "29:bob", "Bob", "aad-bob")
CAROL = TeamsUser("tenant-a", "29:carol", "Carol", "aad-carol")
ERIN = TeamsUser("tenant-a", "29:erin", "Erin", "aad-erin")
DAVE = TeamsUser("tenant-b", "29:dave", "Dave", "aad-dave")

SERVICE_URL = "https://smba.trafficmanager.net/emea/"
_ids = itertools.count(1)


@dataclass
class Chat:
    """Teams, as seen by the bot: activities in, replies out."""

    adapter: TestAdapter

    def activity(
        self,
        user: TeamsUser,
        *,
        conversation_id: str | None = None,
        conversation_type: str = "personal",
        tenant: bool = True,
        **fields: Any,
    ) -> Activity:
        conversation_id = conversation_id or f"a:personal-{user.user_id}"
        channel_data: dict[str, Any] = {"tenant": {"id": user.tenant_id}} if tenant else {}
        return Activity(
            id=f"act-{next(_ids)}",
            channel_id="msteams",
            service_url=SERVICE_URL,
            locale=user.locale,
            from_property=ChannelAccount(
                id=user.user_id, name=user.name, aad_object_id=user.aad_object_id
            ),
            recipient=ChannelAccount(id=BOT_ID, name=BOT_NAME),
            conversation=ConversationAccount(
                id=conversation_id,
                conversation_type=conversation_type,
                tenant_id=user.tenant_id if tenant else None,
                is_group=conversation_type != "personal" or None,
            ),
            channel_data=channel_data,
            **fields,
        )

    def message(
        self, user: TeamsUser, text: str, mentions: tuple[TeamsUser, ...] = (), **kw: Any
    ) -> Activity:
        entities = []
        for person in mentions:
            text = text.replace(f"@{person.name}", f"<at>{person.name}</at>")
            # As the channel's JSON arrives: Teams' mention fields are extra properties.
            entities.append(
                Entity().deserialize(
                    {
                        "type": "mention",
                        "text": f"<at>{person.name}</at>",
                        "mentioned": {"id": person.user_id, "name": person.name},
                    }
                )
            )
        return self.activity(
            user, type=ActivityTypes.message, text=text, entities=entities or None, **kw
        )

    def execute(self, user: TeamsUser, verb: str, data: dict[str, Any], **kw: Any) -> Activity:
        return self.activity(
            user,
            type=ActivityTypes.invoke,
            name="adaptiveCard/action",
            value={"action": {"type": "Action.Execute", "verb": verb, "data": data}},
            **kw,
        )

    async def send(self, activity: Activity) -> list[Activity]:
        """Deliver one activity; everything the bot sent back."""
        before = len(self.adapter.activity_buffer)
        await self.adapter.receive_activity(activity)
        replies = self.adapter.activity_buffer[before:]
        del self.adapter.activity_buffer[before:]
        return replies

    async def reply_card(self, activity: Activity) -> Card:
        replies = await self.send(activity)
        assert len(replies) == 1, replies
        [attachment] = replies[0].attachments
        assert attachment.content_type == "application/vnd.microsoft.card.adaptive"
        card: Card = attachment.content
        return card

    async def say(
        self, user: TeamsUser, text: str, mentions: tuple[TeamsUser, ...] = (), **kw: Any
    ) -> Card:
        return await self.reply_card(self.message(user, text, mentions, **kw))

    async def press(self, user: TeamsUser, verb: str, data: dict[str, Any] | None = None) -> Card:
        return await self.invoke_card(self.execute(user, verb, {"verb": verb, **(data or {})}))

    async def invoke_card(self, activity: Activity) -> Card:
        replies = await self.send(activity)
        [response] = [r for r in replies if r.type == ActivityTypes.invoke_response]
        assert response.value.status == 200
        body = response.value.body
        assert body["statusCode"] == 200
        assert body["type"] == "application/vnd.microsoft.card.adaptive"
        card: Card = body["value"]
        return card


@pytest.fixture
async def chat(uow: UnitOfWorkFactory, clock: FixedClock) -> AsyncIterator[Chat]:
    bot = teams_bot(uow, clock)
    adapter = TestAdapter(bot.on_turn)
    adapter.use(LogContextMiddleware())
    adapter.use(IdempotencyMiddleware(uow, clock))
    adapter.use(ConversationMiddleware(uow, clock))
    yield Chat(adapter)


async def count(db: Database, model: type) -> int:
    async with db.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


# -- first words ----------------------------------------------------------------------------------


async def test_help_lists_the_commands(chat: Chat) -> None:
    card = await chat.say(ALICE, "help")
    text = card_text(card)
    assert "What I can do" in text
    for command in ("new ticket <title>", "tickets [mine|assigned|unassigned|open|closed|all]"):
        assert command in text
    assert {"ticket.form", "tickets.list"} <= set(verbs(card))


async def test_unknown_text_suggests_the_nearest_command_and_offers_help(chat: Chat) -> None:
    card = await chat.say(ALICE, "tickts")
    assert "I did not understand “tickts”." in card_text(card)
    assert "Did you mean **tickets**?" in card_text(card)
    assert verbs(card) == ["help"]


async def test_installing_welcomes_once_and_remembers_the_conversation(
    chat: Chat, memory_db: Database
) -> None:
    added = chat.activity(
        ALICE,
        type=ActivityTypes.conversation_update,
        members_added=[ChannelAccount(id=BOT_ID)],
    )
    [welcome] = await chat.send(added)
    assert "Welcome to TeamsWork" in card_text(welcome.attachments[0].content)
    again = chat.activity(ALICE, type=ActivityTypes.installation_update, action="add")
    assert await chat.send(again) == []
    async with memory_db.sessions() as session:
        [row] = (await session.execute(select(ConversationRef))).scalars()
    assert (row.tenant_id, row.conversation_id, row.conversation_type, row.user_id) == (
        "tenant-a",
        ALICE.personal_chat,
        "personal",
        ALICE.user_id,
    )
    assert row.active


# -- tickets -------------------------------------------------------------------------------------


async def test_new_ticket_with_a_title_creates_it_at_once(chat: Chat) -> None:
    card = await chat.say(CAROL, "new ticket Printer on 3rd floor jams")
    text = card_text(card)
    assert "Ticket #1 was created." in text
    assert "#1 Printer on 3rd floor jams" in text
    assert "Normal" in text and "New" in text and "Carol" in text


async def test_new_ticket_alone_shows_the_form_and_the_form_creates(chat: Chat) -> None:
    form = await chat.say(ALICE, "new ticket")
    assert verbs(form) == ["ticket.create"]
    card = await chat.press(
        ALICE,
        "ticket.create",
        {"title": "Laptop battery", "priority": "HIGH", "category": "Hardware", "due": ""},
    )
    assert "Ticket #1 was created." in card_text(card)
    assert "High" in card_text(card)


async def test_tickets_lists_my_tickets(chat: Chat) -> None:
    await chat.say(CAROL, "new ticket First")
    await chat.say(CAROL, "new ticket Second")
    text = card_text(await chat.say(CAROL, "tickets"))
    assert "Tickets: mine" in text
    assert "**#2** Second" in text and "**#1** First" in text
    assert text.index("#2") < text.index("#1")
    assert "Page 1 of 1, 2 tickets" in text


async def test_a_member_cannot_see_another_members_ticket(chat: Chat) -> None:
    await chat.say(ALICE, "help")  # Alice is first: the tenant's admin.
    await chat.say(CAROL, "new ticket Carol's salary question")
    assert "That was not found." in card_text(await chat.say(ERIN, "ticket 1"))
    assert "That was not found." in card_text(await chat.press(ERIN, "ticket.show", {"number": 1}))
    listed = card_text(await chat.say(ERIN, "tickets all"))
    assert "No tickets here." in listed and "salary" not in listed
    # The admin sees it.
    assert "#1 Carol's salary question" in card_text(await chat.say(ALICE, "ticket #1"))


async def test_a_ticket_of_another_tenant_is_not_found(chat: Chat) -> None:
    await chat.say(ALICE, "new ticket Tenant A only")
    assert "That was not found." in card_text(await chat.say(DAVE, "ticket 1"))
    await chat.say(DAVE, "new ticket Tenant B's own")
    assert "#1 Tenant B's own" in card_text(await chat.say(DAVE, "ticket 1"))


async def test_an_admin_makes_an_agent_with_a_mention_and_the_agent_works_tickets(
    chat: Chat,
) -> None:
    await chat.say(ALICE, "help")
    await chat.say(CAROL, "new ticket Monitor flickers")
    # Roles go to people the bot knows: Bob has not written yet.
    refused = card_text(await chat.say(ALICE, "role @Bob agent", mentions=(BOB,)))
    assert "I do not know this person yet" in refused
    await chat.say(BOB, "help")
    made = card_text(await chat.say(ALICE, "role @Bob agent", mentions=(BOB,)))
    assert "Bob is now agent." in made
    card = await chat.press(BOB, "ticket.assign_me", {"number": 1})
    assert "Ticket #1 was updated." in card_text(card)
    assert "Bob assigned it to Bob" in card_text(card)
    card = await chat.press(BOB, "ticket.status", {"number": 1, "status": "in_progress"})
    assert "In progress" in card_text(card)


async def test_a_member_may_not_grant_roles(chat: Chat) -> None:
    await chat.say(ALICE, "help")
    text = card_text(await chat.say(CAROL, "role @Carol admin", mentions=(CAROL,)))
    assert "Only admins can do that. Admins of your organization: Alice." in text


async def test_a_card_submitted_as_a_message_routes_like_an_invoke(chat: Chat) -> None:
    submit = chat.message(CAROL, "", value={"verb": "ticket.create", "title": "Via Submit"})
    card = await chat.reply_card(submit)
    assert "Ticket #1 was created." in card_text(card)


# -- what must not happen ------------------------------------------------------------------------


async def test_a_message_without_a_tenant_is_told_so_and_changes_nothing(
    chat: Chat, memory_db: Database
) -> None:
    card = await chat.say(ALICE, "new ticket Nobody's", tenant=False)
    assert "I work inside a Microsoft Teams organization" in card_text(card)
    assert "Nothing was changed." in card_text(card)
    invoke = chat.execute(ALICE, "ticket.create", {"title": "Nobody's"}, tenant=False)
    assert "I work inside a Microsoft Teams organization" in card_text(
        await chat.invoke_card(invoke)
    )
    for model in (Tenant, UserAccount, ConversationRef, TicketRow):
        assert await count(memory_db, model) == 0, model


async def test_a_redelivered_message_creates_no_second_ticket(
    chat: Chat, memory_db: Database
) -> None:
    activity = chat.message(CAROL, "new ticket Once only")
    assert len(await chat.send(activity)) == 1
    assert await chat.send(activity) == []
    assert await count(memory_db, TicketRow) == 1
    assert "Page 1 of 1, 1 tickets" in card_text(await chat.say(CAROL, "tickets"))


async def test_a_redelivered_invoke_is_answered_but_not_repeated(
    chat: Chat, memory_db: Database
) -> None:
    activity = chat.execute(CAROL, "ticket.create", {"verb": "ticket.create", "title": "Once"})
    assert "Ticket #1 was created." in card_text(await chat.invoke_card(activity))
    assert "This was already done." in card_text(await chat.invoke_card(activity))
    assert await count(memory_db, TicketRow) == 1


async def test_the_same_activity_id_in_another_conversation_is_another_activity(
    chat: Chat, memory_db: Database
) -> None:
    first = chat.message(CAROL, "new ticket In my chat")
    second = chat.message(
        CAROL,
        "new ticket In the group chat",
        conversation_id="19:group@thread.v2",
        conversation_type="groupChat",
    )
    second.id = first.id
    await chat.send(first)
    assert "Ticket #2 was created." in card_text(await chat.reply_card(second))
    assert await count(memory_db, TicketRow) == 2


async def test_a_members_ticket_in_a_group_chat_names_the_help_desk_for_its_refresh(
    chat: Chat,
) -> None:
    """Where many people read one card, each person of the help desk gets a view of their own
    (Universal Actions' refresh): the activity's conversation type is what says so."""
    await chat.say(ALICE, "help")  # the first user: admin
    await chat.say(BOB, "help")
    await chat.say(ALICE, "role @Bob agent", mentions=(BOB,))
    in_group = await chat.say(
        CAROL,
        "new ticket Projector flickers",
        conversation_id="19:group@thread.v2",
        conversation_type="groupChat",
    )
    assert {CAROL.user_id, ALICE.user_id, BOB.user_id} <= set(in_group["refresh"]["userIds"])
    in_personal = await chat.say(CAROL, "ticket 1")
    assert "refresh" not in in_personal
    assert "ticket.assign" not in str(in_personal)  # a member assigns no one
