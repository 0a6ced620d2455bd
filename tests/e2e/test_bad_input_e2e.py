"""What the bot does with input it should not trust: malformed HTTP bodies, oversized and
mistyped card fields, forged payloads, redeliveries, and a database that went away."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import asyncpg
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.engine import make_url
from sqlmodel import func, select

from bot.app import create_app
from bot.domain.clock import FixedClock
from bot.settings import Settings
from storage.db import Database
from storage.models import ItemCommentRow, ProcessedActivity, Tenant, TicketRow, UserAccount
from tests.e2e.conftest import Bot
from tests.support import teams
from tests.support.cards import Card, card_text, inputs, submission, verbs

ALICE = teams.TeamsUser("tenant-a", "29:alice", "Alice", "aad-alice")
BOB = teams.TeamsUser("tenant-a", "29:bob", "Bob", "aad-bob")
CAROL = teams.TeamsUser("tenant-a", "29:carol", "Carol", "aad-carol")
DAVE = teams.TeamsUser("tenant-b", "29:dave", "Dave", "aad-dave")

NOT_FOUND = "That was not found."
CHECK_FIELDS = "Please check the fields marked below. Nothing was saved yet."
BAD_ACTION = "That button's data could not be read. Nothing was changed."


async def count(db: Database, model: type) -> int:
    async with db.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def post_raw(bot: Bot, body: bytes) -> tuple[int, Any]:
    response = await bot.client.post(
        "/api/messages", data=body, headers={"Content-Type": "application/json"}
    )
    payload = await response.json() if response.content_type == "application/json" else None
    return response.status, payload


def personal(user: teams.TeamsUser) -> teams.Conversation:
    return teams.Conversation(user.personal_chat)


async def new_form(bot: Bot, user: teams.TeamsUser) -> Card:
    return await bot.press(user, "ticket.form")


async def create(bot: Bot, user: teams.TeamsUser, **values: Any) -> Card:
    """Press "Create ticket" with these values, as Teams sends them (any JSON type)."""
    return await bot.press(user, "ticket.create", {"verb": "ticket.create", **values})


# -- HTTP -----------------------------------------------------------------------------------------
# Cases are looped inside one test (not parametrized) so that each file starts few bots; the
# assertions compare whole {case: outcome} maps, so a failure names every case that failed.

NOT_JSON = [b"not json", b"", b"{", b'{"type": "message",', b"\xff\xfe"]


async def test_a_body_that_is_not_json_is_a_bad_request(bot: Bot, any_db: Database) -> None:
    answers = {body: await post_raw(bot, body) for body in NOT_JSON}
    assert answers == {body: (400, {"error": "body is not JSON"}) for body in NOT_JSON}
    assert bot.connector.posted == []
    assert await count(any_db, Tenant) == 0


async def test_the_body_is_read_in_the_charset_of_its_content_type(
    bot: Bot, any_db: Database
) -> None:
    message = teams.message(ALICE, personal(ALICE), bot.connector.url, "new ticket Café")
    body = json.dumps(message, ensure_ascii=False)
    unknown = await bot.client.post(
        "/api/messages",
        data=body.encode(),
        headers={"Content-Type": "application/json; charset=no-such-charset"},
    )
    assert (unknown.status, await unknown.json()) == (400, {"error": "body is not JSON"})
    assert await count(any_db, TicketRow) == 0
    latin = await bot.client.post(
        "/api/messages",
        data=body.encode("latin-1"),
        headers={"Content-Type": "application/json; charset=latin-1"},
    )
    assert latin.status < 300
    async with any_db.sessions() as session:
        titles = (await session.execute(select(TicketRow.title))).scalars().all()
    assert titles == ["Café"]


def _message(bot: Bot) -> dict[str, Any]:
    return teams.message(ALICE, personal(ALICE), bot.connector.url, "new ticket Sneaky")


NOT_ACTIVITIES: dict[str, Any] = {
    "array": [1, 2],
    "string": "new ticket",
    "null": None,
    "number": 42,
    "empty object": {},
    "type is a number": {"type": 5},
    "no conversation": {"type": "message", "text": "hi", "serviceUrl": "http://127.0.0.1:1"},
}

MALFORMED_FIELDS: dict[str, dict[str, Any]] = {
    "conversation is a string": {"conversation": "a:personal"},
    "from is a string": {"from": "alice"},
    "entities is a number": {"entities": 5},
    "timestamp is not a time": {"timestamp": "yesterday"},
    "no serviceUrl": {"serviceUrl": None},
}


async def test_json_that_is_not_an_activity_is_a_bad_request(bot: Bot, any_db: Database) -> None:
    statuses = {}
    for name, body in NOT_ACTIVITIES.items():
        statuses[name] = (await post_raw(bot, json.dumps(body).encode()))[0]
    for name, change in MALFORMED_FIELDS.items():
        statuses[name] = (await post_raw(bot, json.dumps({**_message(bot), **change}).encode()))[0]
    assert statuses == dict.fromkeys([*NOT_ACTIVITIES, *MALFORMED_FIELDS], 400)
    assert bot.connector.posted == []
    assert await count(any_db, Tenant) == 0
    assert await count(any_db, TicketRow) == 0


MALFORMED_INVOKES: dict[str, Any] = {
    "value is a string": "ticket.create",
    "value is missing": None,
    "action is missing": {"trigger": "manual"},
    "action is not Action.Execute": {
        "action": {"type": "Action.Submit", "verb": "ticket.create", "data": {"title": "x"}}
    },
}


async def test_a_malformed_card_action_is_a_bad_request(bot: Bot, any_db: Database) -> None:
    statuses = {}
    for name, value in MALFORMED_INVOKES.items():
        invoke = teams.execute(ALICE, personal(ALICE), bot.connector.url, "ticket.create", {})
        invoke["value"] = value
        statuses[name] = (await bot.post(invoke))[0]
    assert statuses == dict.fromkeys(MALFORMED_INVOKES, 400)
    assert await count(any_db, TicketRow) == 0


async def test_a_body_over_the_http_limit_is_refused_unread(bot: Bot, any_db: Database) -> None:
    activity = _message(bot)
    activity["text"] = "new ticket " + "x" * 300_000
    status, _ = await post_raw(bot, json.dumps(activity).encode())
    assert status == 413
    assert bot.connector.posted == []
    assert await count(any_db, TicketRow) == 0


# -- the new-ticket form ------------------------------------------------------------------------

OVERSIZED = [
    ("title", 200, "At most 200 characters (you entered 201)."),
    ("description", 4000, "At most 4,000 characters (you entered 4,001)."),
    ("category", 60, "At most 60 characters (you entered 61)."),
]


async def test_an_oversized_field_brings_the_form_back_with_the_error_and_the_input(
    bot: Bot, any_db: Database
) -> None:
    typed = {
        "title": "Monitor flickers",
        "description": "Since the update.",
        "category": "Hardware",
        "priority": "high",
        "due": "2026-12-24",
    }
    form = await new_form(bot, CAROL)
    for field, limit, message in OVERSIZED:
        values = {**typed, field: "y" * (limit + 1)}
        card = await bot.press(CAROL, "ticket.create", submission(form, "ticket.create", **values))
        text = card_text(card)
        assert CHECK_FIELDS in text, field
        assert message in text, field
        assert "ticket.create" in verbs(card)
        fields = inputs(card)
        assert fields[field]["errorMessage"] == message
        assert {name: fields[name]["value"] for name in values} == values
    assert await count(any_db, TicketRow) == 0
    assert "No tickets here." in (await bot.say(CAROL, "tickets all")).text


async def test_fields_of_the_wrong_type_are_refused_and_the_text_ones_kept(
    bot: Bot, any_db: Database
) -> None:
    form = await create(
        bot,
        CAROL,
        title="Keyboard sticks",
        description=["not", "text"],
        category={"name": "Hardware"},
        priority=3,
        due=20261224,
    )
    fields = inputs(form)
    assert fields["title"]["value"] == "Keyboard sticks"
    assert fields["description"]["errorMessage"] == "Please enter text."
    assert fields["category"]["errorMessage"] == "Please enter text."
    text = card_text(form)
    assert CHECK_FIELDS in text
    assert "Priority: Choose one of: low, normal, high, urgent." in text
    assert "Due date: Enter a date such as 2026-12-31." in text
    assert await count(any_db, TicketRow) == 0


async def test_a_missing_title_is_asked_for(bot: Bot, any_db: Database) -> None:
    form = await create(bot, CAROL, title="   ", description="Only a description")
    assert inputs(form)["title"]["errorMessage"] == "This field is required."
    assert inputs(form)["description"]["value"] == "Only a description"
    assert await count(any_db, TicketRow) == 0


async def test_an_unknown_priority_is_refused_with_the_choices(bot: Bot, any_db: Database) -> None:
    for priority in ("critical", "P1", "urgent!"):
        form = await create(
            bot, CAROL, title="Coffee machine", priority=priority, category="Kitchen"
        )
        assert "Priority: Choose one of: low, normal, high, urgent." in card_text(form)
        assert inputs(form)["title"]["value"] == "Coffee machine"
        assert inputs(form)["category"]["value"] == "Kitchen"
    assert await count(any_db, TicketRow) == 0


async def test_priority_in_any_case_is_accepted(bot: Bot) -> None:
    card = await create(bot, CAROL, title="Coffee machine", priority="URGENT")
    assert "Ticket #1 was created." in card_text(card)
    assert "Urgent" in card_text(card)


async def test_a_bad_due_date_is_refused_and_kept(bot: Bot, any_db: Database) -> None:
    form = await create(bot, CAROL, title="Badge reader", due="2026-02-30")
    assert "Due date: Enter a date such as 2026-12-31." in card_text(form)
    assert inputs(form)["due"]["value"] == "2026-02-30"
    assert await count(any_db, TicketRow) == 0


async def test_a_payload_over_the_size_limit_is_refused_whole(bot: Bot, any_db: Database) -> None:
    card = await create(bot, CAROL, title="Huge", description="z" * 20_000)
    text = card_text(card)
    assert "That is more than I can take at once" in text
    assert "at most 16,000" in text and "Nothing was changed." in text
    assert await count(any_db, TicketRow) == 0


# -- changes to a ticket ------------------------------------------------------------------------


async def carols_ticket(bot: Bot) -> Card:
    await bot.say(ALICE, "help")  # Alice is first: admin.
    await bot.say(BOB, "help")
    await bot.say(ALICE, "role @Bob agent", mentions=[(BOB.user_id, "Bob")])
    return await create(bot, CAROL, title="Scanner offline")


async def test_an_oversized_comment_comes_back_in_the_comment_box(
    bot: Bot, any_db: Database
) -> None:
    detail = await carols_ticket(bot)
    comment = "w" * 4001
    card = await bot.press(
        CAROL, "ticket.comment", submission(detail, "ticket.comment", comment=comment)
    )
    text = card_text(card)
    assert "At most 4,000 characters (you entered 4,001)." in text
    assert "#1 Scanner offline" in text
    assert inputs(card)["comment"]["value"] == comment
    assert await count(any_db, ItemCommentRow) == 0


async def test_an_empty_comment_is_refused(bot: Bot, any_db: Database) -> None:
    detail = await carols_ticket(bot)
    card = await bot.press(CAROL, "ticket.comment", submission(detail, "ticket.comment"))
    assert "This field is required." in card_text(card)
    assert await count(any_db, ItemCommentRow) == 0


BAD_CHOICES: list[tuple[str, str, Any, str]] = [
    ("ticket.status", "status", "done", "Choose one of: new, open, in_progress"),
    ("ticket.status", "status", ["open"], "Choose one of: new, open, in_progress"),
    ("ticket.priority", "priority", "critical", "Choose one of: low, normal, high, urgent."),
    ("ticket.priority", "priority", 9, "Choose one of: low, normal, high, urgent."),
]


async def test_an_unknown_status_or_priority_changes_nothing(bot: Bot) -> None:
    await carols_ticket(bot)
    for verb, field, value, message in BAD_CHOICES:
        card = await bot.press(BOB, verb, {"verb": verb, "number": 1, field: value})
        assert message in card_text(card), (verb, value)
        assert "#1 Scanner offline" in card_text(card)
    history = (await bot.say(BOB, "ticket 1")).text
    assert "changed the" not in history
    assert "New" in history and "Normal" in history


async def test_an_invalid_transition_names_the_allowed_ones(bot: Bot) -> None:
    await carols_ticket(bot)
    card = await bot.press(BOB, "ticket.status", {"number": 1, "status": "pending"})
    assert (
        "A ticket that is New cannot become Pending. "
        "From New it can become: Open, In progress, Resolved, Closed."
    ) in card_text(card)


async def test_a_member_cannot_reopen_a_ticket_that_was_never_closed(bot: Bot) -> None:
    """The Reopen button is only on resolved and closed tickets; a forged press on a new
    ticket must not move it into the help desk's workflow."""
    await carols_ticket(bot)
    card = await bot.press(CAROL, "ticket.reopen", {"number": 1})
    assert "Ticket #1 was updated." not in card_text(card)
    assert "changed the status" not in (await bot.say(CAROL, "ticket 1")).text


NOT_NUMBERS: list[Any] = ["abc", -1, 0, 2**40, True, None, "1; DROP TABLE tickets", [1], 1.5]


async def test_a_ticket_number_that_is_no_number_is_explained(bot: Bot) -> None:
    await carols_ticket(bot)
    answers = {}
    for number in NOT_NUMBERS:
        card = await bot.press(BOB, "ticket.close", {"number": number})
        answers[repr(number)] = "Which ticket? For example: **ticket 12**" in card_text(card)
    assert answers == dict.fromkeys(answers, True)
    assert "changed the status" not in (await bot.say(BOB, "ticket 1")).text


async def test_a_forged_ticket_number_of_another_tenant_is_not_found(
    bot: Bot, any_db: Database
) -> None:
    await carols_ticket(bot)
    await create(bot, CAROL, title="Second of tenant A")
    await create(bot, DAVE, title="Dave's only ticket")
    forged: list[tuple[str, dict[str, Any]]] = [
        ("ticket.show", {"number": 2}),
        ("ticket.show", {"number": 2, "tenant": {"id": "tenant-a"}, "tenant_id": "tenant-a"}),
        ("ticket.comment", {"number": 2, "comment": "I was here"}),
        ("ticket.close", {"number": 2}),
        ("ticket.assign_me", {"number": 2}),
        ("ticket.priority", {"number": 2, "priority": "low"}),
        ("ticket.status", {"number": 2, "status": "closed"}),
    ]
    for verb, data in forged:
        card = await bot.press(DAVE, verb, data)
        assert NOT_FOUND in card_text(card), verb
        assert "Second of tenant A" not in card_text(card)
    untouched = (await bot.say(CAROL, "ticket 2")).text
    assert "No comments yet." in untouched and "New" in untouched and "Dave" not in untouched
    assert await count(any_db, ItemCommentRow) == 0


async def test_a_member_cannot_touch_another_members_ticket(bot: Bot) -> None:
    await carols_ticket(bot)
    other = teams.TeamsUser("tenant-a", "29:erin", "Erin", "aad-erin")
    presses: list[tuple[str, dict[str, Any]]] = [
        ("ticket.show", {"number": 1}),
        ("ticket.comment", {"number": 1, "comment": "mine?"}),
        ("ticket.close", {"number": 1}),
    ]
    for verb, data in presses:
        assert NOT_FOUND in card_text(await bot.press(other, verb, data)), verb
    assert "No comments yet." in (await bot.say(CAROL, "ticket 1")).text


async def test_a_member_cannot_assign(bot: Bot) -> None:
    await carols_ticket(bot)
    card = await bot.press(CAROL, "ticket.assign", {"number": 1, "assignee": BOB.user_id})
    assert "Only agents and admins can assign tickets." in card_text(card)
    assert "Unassigned" in card_text(card)


async def test_assigning_to_someone_who_is_not_an_agent_is_refused(bot: Bot) -> None:
    await carols_ticket(bot)
    for assignee in (CAROL.user_id, DAVE.user_id, "29:nobody"):
        card = await bot.press(BOB, "ticket.assign", {"number": 1, "assignee": assignee})
        assert "Choose an agent or admin of your organization." in card_text(card), assignee
    card = await bot.press(BOB, "ticket.assign", {"number": 1, "assignee": "x" * 500})
    assert BAD_ACTION in card_text(card)
    assert "Unassigned" in (await bot.say(BOB, "ticket 1")).text


# -- verbs, lists and roles ----------------------------------------------------------------------


async def test_an_unknown_verb_is_a_bad_action(bot: Bot) -> None:
    for verb in ("ticket.delete", "", "TICKET.SHOW", "admin.drop_all"):
        assert BAD_ACTION in card_text(await bot.press(ALICE, verb, {"number": 1})), verb


async def test_card_data_that_is_not_an_object_is_a_bad_action(bot: Bot) -> None:
    invoke = teams.execute(ALICE, personal(ALICE), bot.connector.url, "ticket.show", {})
    invoke["value"]["action"]["data"] = ["number", 1]
    status, body = await bot.post(invoke)
    assert status == 200
    assert BAD_ACTION in card_text(body["value"])


async def test_an_unknown_list_filter_names_the_filters(bot: Bot) -> None:
    text = (await bot.say(ALICE, "tickets bogus")).text
    assert "Unknown filter “bogus”. Use one of: mine, assigned, unassigned, open, closed, all." in (
        text
    )


async def test_a_bad_page_is_a_bad_action(bot: Bot) -> None:
    for page in (-1, "two", [1], 1.5):
        card = await bot.press(ALICE, "tickets.list", {"filter": "all", "page": page})
        assert BAD_ACTION in card_text(card), page


async def test_lists_page_by_ten_with_next_and_previous(bot: Bot, clock: FixedClock) -> None:
    for i in range(11):
        await bot.say(CAROL, f"new ticket Ticket {i + 1}")
    first = await bot.press(CAROL, "tickets.list", {"filter": "mine", "page": 0})
    assert "Page 1 of 2, 11 tickets" in card_text(first)
    assert "tickets.list" in verbs(first)
    assert sum(1 for v in verbs(first) if v == "ticket.show") == 10
    [nxt] = [
        a for a in first["actions"] if a["verb"] == "tickets.list" and a["data"].get("page") == 1
    ]
    second = await bot.press(CAROL, "tickets.list", nxt["data"])
    assert "Page 2 of 2, 11 tickets" in card_text(second)
    assert "**#1** Ticket 1" in card_text(second)
    assert [a["data"]["page"] for a in second["actions"] if a["verb"] == "tickets.list"][0] == 0


async def test_a_role_that_does_not_exist_is_explained(bot: Bot) -> None:
    await bot.say(ALICE, "help")
    text = (await bot.say(ALICE, "role @Bob boss", mentions=[(BOB.user_id, "Bob")])).text
    assert "role @Alex agent" in text
    assert "Bob is now" not in text


async def test_a_role_without_a_mention_is_explained(bot: Bot) -> None:
    await bot.say(ALICE, "help")
    assert "Mention the person" in (await bot.say(ALICE, "role agent")).text


async def test_the_last_admin_cannot_step_down(bot: Bot, any_db: Database) -> None:
    await bot.say(ALICE, "help")
    text = (await bot.say(ALICE, "role @Alice member", mentions=[(ALICE.user_id, "Alice")])).text
    assert "Your organization needs at least one admin" in text
    assert (
        "Only admins can do that"
        not in (await bot.say(ALICE, "role @Bob agent", mentions=[(BOB.user_id, "Bob")])).text
    )


# -- text ---------------------------------------------------------------------------------------


async def test_unknown_text_gets_the_nearest_command_and_a_help_button(bot: Bot) -> None:
    reply = await bot.say(ALICE, "tickts")
    assert "I did not understand “tickts”." in reply.text
    assert "Did you mean **tickets**?" in reply.text
    assert verbs(reply.cards[0]) == ["help"]
    assert "What I can do" in card_text(await bot.press(ALICE, "help"))


async def test_a_message_without_a_tenant_is_told_so_and_changes_nothing(
    bot: Bot, any_db: Database
) -> None:
    activity = teams.message(ALICE, personal(ALICE), bot.connector.url, "new ticket Orphan")
    activity["channelData"] = {}
    activity["conversation"].pop("tenantId")
    status, _ = await bot.post(activity)
    assert status == 200
    [reply] = bot.connector.posted
    assert "I work inside a Microsoft Teams organization" in reply.text
    for model in (Tenant, UserAccount, TicketRow, ProcessedActivity):
        assert await count(any_db, model) == 0, model


async def test_a_card_submitted_as_a_message_is_checked_the_same_way(
    bot: Bot, any_db: Database
) -> None:
    activity = teams.message(CAROL, personal(CAROL), bot.connector.url, "")
    activity["value"] = {"verb": "ticket.create", "title": "t" * 201}
    await bot.post(activity)
    [reply] = bot.connector.posted
    assert "At most 200 characters (you entered 201)." in reply.text
    assert await count(any_db, TicketRow) == 0
    activity = teams.message(CAROL, personal(CAROL), bot.connector.url, "")
    activity["value"] = {"verb": "ticket.create", "title": "Submitted"}
    await bot.post(activity)
    assert "Ticket #1 was created." in bot.connector.posted[-1].text


async def test_a_one_line_ticket_with_an_oversized_title_comes_back_as_the_form(
    bot: Bot, any_db: Database
) -> None:
    title = "T" * 201
    reply = await bot.say(CAROL, f"new ticket {title}")
    assert "At most 200 characters (you entered 201)." in reply.text
    assert inputs(reply.cards[0])["title"]["value"] == title
    assert await count(any_db, TicketRow) == 0


async def test_a_user_id_longer_than_usual_works_on_every_database(
    bot: Bot, any_db: Database
) -> None:
    """The bot clips user ids and names to its 200-character columns; SQLite would not notice
    if it forgot to, PostgreSQL would."""
    long = teams.TeamsUser("tenant-a", "29:" + "u" * 250, "N" * 250, "aad-long")
    reply = await bot.say(long, "new ticket From a long id")
    assert "Ticket #1 was created." in reply.text
    assert await count(any_db, TicketRow) == 1


async def test_an_overlong_conversation_id_is_not_an_internal_error(
    bot: Bot, any_db: Database
) -> None:
    conversation = teams.Conversation("a:" + "c" * 450)
    activity = teams.message(CAROL, conversation, bot.connector.url, "new ticket Long chat")
    status, _ = await bot.post(activity)
    replies = [p.text for p in bot.connector.posted]
    # Refused as a bad request, or served: either way the same on every database.
    assert status == 400 or (len(replies) == 1 and "Ticket #1 was created." in replies[0]), (
        status,
        replies,
    )
    assert not any("something went wrong" in text for text in replies)


# -- redelivery -----------------------------------------------------------------------------------


async def test_a_message_delivered_twice_creates_one_ticket(bot: Bot, any_db: Database) -> None:
    activity = teams.message(CAROL, personal(CAROL), bot.connector.url, "new ticket Only once")
    assert (await bot.post(activity))[0] == 200
    assert (await bot.post(activity))[0] == 200
    assert len(bot.connector.posted) == 1
    assert await count(any_db, TicketRow) == 1
    # The same id in another conversation is another activity.
    group = teams.Conversation("19:group@thread.v2", "groupChat")
    elsewhere = teams.message(CAROL, group, bot.connector.url, "new ticket In the group")
    elsewhere["id"] = activity["id"]
    await bot.post(elsewhere)
    assert await count(any_db, TicketRow) == 2


async def test_an_action_delivered_twice_creates_one_ticket(bot: Bot, any_db: Database) -> None:
    activity = teams.execute(
        CAROL, personal(CAROL), bot.connector.url, "ticket.create", {"title": "Pressed once"}
    )
    first_status, first = await bot.post(activity)
    second_status, second = await bot.post(activity)
    assert (first_status, second_status) == (200, 200)
    assert "Ticket #1 was created." in card_text(first["value"])
    assert "This was already done." in card_text(second["value"])
    assert await count(any_db, TicketRow) == 1


async def test_a_message_delivered_twice_at_once_creates_one_ticket(
    bot: Bot, any_db: Database
) -> None:
    activity = teams.message(CAROL, personal(CAROL), bot.connector.url, "new ticket Raced")
    answers = await asyncio.gather(*(bot.post(activity) for _ in range(3)))
    assert [status for status, _ in answers] == [200, 200, 200]
    assert len(bot.connector.posted) == 1
    assert await count(any_db, TicketRow) == 1


# -- health ---------------------------------------------------------------------------------------


async def take_offline(db: Database) -> None:
    """The database goes away under the running bot: its file or its server database is gone."""
    await db.dispose()
    url = make_url(db.url)
    if db.is_sqlite:
        path = Path(str(url.database))
        for leftover in path.parent.glob(path.name + "*"):
            leftover.rename(leftover.with_name(leftover.name + ".gone"))
        path.mkdir()  # a directory where the file was: SQLite cannot open it
    else:
        admin = url.set(drivername="postgresql", database="postgres")
        conn = await asyncpg.connect(admin.render_as_string(hide_password=False))
        try:
            await conn.execute(f'DROP DATABASE "{url.database}" WITH (FORCE)')
        finally:
            await conn.close()


async def test_health_is_ok_with_the_database_and_503_without(bot: Bot, any_db: Database) -> None:
    response = await bot.client.get("/healthz")
    assert response.status == 200
    assert await response.json() == {"status": "ok"}
    await take_offline(any_db)
    response = await bot.client.get("/healthz")
    assert response.status == 503
    assert await response.json() == {"status": "database unreachable"}


async def test_health_is_503_when_the_database_server_cannot_be_reached(
    clock: FixedClock,
) -> None:
    """A bot whose database server is down from the start: the app is built (building has no
    side effects), and its health route answers without the startup migration having run."""
    database = Database("postgresql://postgres@127.0.0.1:1/unreachable")
    app = create_app(Settings(database_url=database.url), clock=clock, database=database)
    app.cleanup_ctx.clear()  # the startup migration would (rightly) stop the app
    client: TestClient[Any, Any] = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    try:
        response = await client.get("/healthz")
        assert response.status == 503
    finally:
        await client.close()
        await database.dispose()
