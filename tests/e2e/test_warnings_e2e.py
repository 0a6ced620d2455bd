"""Quota warnings and ticket notifications over real HTTP, on SQLite and on PostgreSQL.

The bot runs with its proactive sender stopped: a test creates tickets through
/api/messages, then delivers what is due with `bot.sender.drain()` at `bot.clock`'s time, and
reads what arrived at the fake Bot Connector. The connector's `responder` plays Teams' 429, 403
and 503 answers.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.app import SENDER, create_app
from bot.domain.clock import FixedClock
from bot.settings import Settings
from storage.db import Database
from storage.outbox import FAILED, PENDING, SENT
from tests.e2e.conftest import Bot, start_bot
from tests.support import teams
from tests.support.cards import card_text, submission, verbs
from tests.support.connector import FakeConnector, Posted
from tests.support.outbox_db import conversation_active, outbox_rows

ALICE = teams.TeamsUser("tenant-a", "29:alice", "Alice Admin", "aad-alice")  # admin
BOB = teams.TeamsUser("tenant-a", "29:bob", "Bob", "aad-bob")  # agent
CAROL = teams.TeamsUser("tenant-a", "29:carol", "Carol", "aad-carol")  # member
DAVE = teams.TeamsUser("tenant-b", "29:dave", "Dave", "aad-dave")  # tenant B's admin

TEAM = "19:team-a@thread.tacv2"
GENERAL = teams.Conversation("19:general-a@thread.tacv2", "channel", team_id=TEAM)
GROUP = teams.Conversation("19:group-a@thread.v2", "groupChat")
B_GENERAL = teams.Conversation("19:general-b@thread.tacv2", "channel", team_id="19:team-b")

# Where tenant A is warned, and where nobody may be.
AUDIENCE = (GENERAL.id, GROUP.id, ALICE.personal_chat)
NEVER_WARNED = (CAROL.personal_chat, BOB.personal_chat, DAVE.personal_chat, B_GENERAL.id)

RENEWS = "Dec 2, 2026"  # the free period of a tenant first seen on 2026-11-02
NEAR_TITLE = "Tickets quota almost used"
REACHED_TITLE = "Tickets quota reached"


def personal(user: teams.TeamsUser) -> teams.Conversation:
    return teams.Conversation(user.personal_chat)


async def install(bot: Bot, user: teams.TeamsUser, conversation: teams.Conversation) -> None:
    status, _ = await bot.post(teams.installed(user, conversation, bot.connector.url))
    assert status == 200


async def set_up_organizations(bot: Bot) -> None:
    """Tenant A: the bot in a team channel, a group chat, and the personal chats of Alice
    (admin), Bob (agent) and Carol (member). Tenant B, next door: Dave's chat and a channel."""
    await install(bot, ALICE, personal(ALICE))
    await install(bot, ALICE, GENERAL)
    await install(bot, ALICE, GROUP)
    await install(bot, CAROL, personal(CAROL))
    await install(bot, BOB, personal(BOB))
    made = await bot.say(ALICE, "role @Bob agent", mentions=[(BOB.user_id, "Bob")])
    assert "Bob is now agent." in made.text
    await install(bot, DAVE, personal(DAVE))
    await install(bot, DAVE, B_GENERAL)
    bot.connector.clear()


async def create_tickets(bot: Bot, count: int, user: teams.TeamsUser = CAROL) -> list[Posted]:
    replies: list[Posted] = []
    for _ in range(count):
        replies.append(await bot.say(user, f"new ticket Printer jam {len(replies)}"))
        assert "was created" in replies[-1].text, replies[-1].text
    return replies


async def deliver(bot: Bot) -> list[Posted]:
    """Drain the outbox now; what the connector received meanwhile."""
    before = len(bot.connector.posted)
    await bot.sender.drain()
    return bot.connector.posted[before:]


def proactive(posted: list[Posted]) -> list[Posted]:
    # A proactive message starts a new message; a reply names the activity it answers.
    return [p for p in posted if p.reply_to is None]


def by_conversation(posted: list[Posted]) -> dict[str, list[Posted]]:
    grouped: dict[str, list[Posted]] = {}
    for p in posted:
        grouped.setdefault(p.conversation_id, []).append(p)
    return grouped


def assert_near_warning(post: Posted, used: int, percent: int) -> None:
    assert post.cards, post.activity
    text = card_text(post.cards[0])
    assert NEAR_TITLE in text
    assert f"has used {used} of its 25 tickets this period ({percent}%)" in text
    assert f"renews on {RENEWS}" in text
    assert "plans" in verbs(post.cards[0])


def assert_reached_warning(post: Posted) -> None:
    text = card_text(post.cards[0])
    assert REACHED_TITLE in text
    assert "used all 25 tickets of this period" in text
    assert RENEWS in text
    assert "plans" in verbs(post.cards[0])


def rejecting(
    status: int,
    *,
    only: set[str] | None = None,
    times: int | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[Callable[[web.Request], web.Response | None], Counter[str]]:
    """A responder that answers proactive posts (to `only` these conversations) with `status`,
    the first `times` times per conversation (always if None); and what it counted."""
    seen: Counter[str] = Counter()

    def respond(request: web.Request) -> web.Response | None:
        conversation = request.match_info["cid"]
        if request.match_info.get("aid") is not None:
            return None  # replies to the user's own turns go through
        if only is not None and conversation not in only:
            return None
        seen[conversation] += 1
        if times is None or seen[conversation] <= times:
            return web.json_response(
                {"error": {"code": "Throttled" if status == 429 else "Error", "message": "no"}},
                status=status,
                headers=headers,
            )
        return None

    return respond, seen


async def start_bot_with(
    db: Database, connector: FakeConnector, clock: FixedClock, **settings: Any
) -> Bot:
    """The e2e bot, with settings of the test's own (thresholds)."""
    app = create_app(
        Settings(database_url=db.url, **settings), clock=clock, database=db, start_sender=False
    )
    client: TestClient[Any, Any] = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    return Bot(client, connector, clock, app[SENDER])


# -- 80 %, 90 %, 100 % -----------------------------------------------------------------------------


async def test_each_threshold_is_announced_once_in_every_channel_group_chat_and_admin_chat(
    bot: Bot,
) -> None:
    await set_up_organizations(bot)
    await create_tickets(bot, 19)
    assert proactive(await deliver(bot)) == []  # 76 %: nothing to say yet

    await create_tickets(bot, 1)  # 20 of 25
    eighty = by_conversation(proactive(await deliver(bot)))
    assert sorted(eighty) == sorted(AUDIENCE)
    for conversation in AUDIENCE:
        [post] = eighty[conversation]
        assert_near_warning(post, 20, 80)

    await create_tickets(bot, 2)  # 22: 88 %, no threshold crossed
    assert proactive(await deliver(bot)) == []

    await create_tickets(bot, 1)  # 23: 92 %
    ninety = by_conversation(proactive(await deliver(bot)))
    assert sorted(ninety) == sorted(AUDIENCE)
    for conversation in AUDIENCE:
        [post] = ninety[conversation]
        assert_near_warning(post, 23, 92)

    await create_tickets(bot, 2)  # 25: the quota is used up
    reached = by_conversation(proactive(await deliver(bot)))
    assert sorted(reached) == sorted(AUDIENCE)
    for conversation in AUDIENCE:
        [post] = reached[conversation]
        assert_reached_warning(post)

    # A refused create, and later drains, announce nothing more.
    refused = await bot.say(CAROL, "new ticket One too many")
    assert "used all 25 tickets" in refused.text
    assert proactive(await deliver(bot)) == []

    everything = by_conversation(proactive(bot.connector.posted))
    assert {c: len(p) for c, p in everything.items()} == {c: 3 for c in AUDIENCE}
    for conversation in NEVER_WARNED:
        assert everything.get(conversation, []) == []


async def test_the_warnings_go_to_the_channel_not_into_a_thread(bot: Bot) -> None:
    await set_up_organizations(bot)
    # Carol's tickets start from a channel thread this time.
    for i in range(20):
        reply = await bot.say(CAROL, f"new ticket Beamer {i}", GENERAL)
        assert "was created" in reply.text

    [post] = by_conversation(proactive(await deliver(bot)))[GENERAL.id]
    assert post.conversation_id == GENERAL.id  # no ";messageid="
    assert_near_warning(post, 20, 80)


async def test_other_tenants_hear_nothing_and_keep_their_own_thresholds(bot: Bot) -> None:
    await set_up_organizations(bot)
    await create_tickets(bot, 20)
    await create_tickets(bot, 19, user=DAVE)
    warned = by_conversation(proactive(await deliver(bot)))
    assert sorted(warned) == sorted(AUDIENCE)

    await create_tickets(bot, 1, user=DAVE)  # tenant B's own 80 %
    b_warned = by_conversation(proactive(await deliver(bot)))
    assert sorted(b_warned) == sorted([DAVE.personal_chat, B_GENERAL.id])
    for posts in b_warned.values():
        [post] = posts
        assert_near_warning(post, 20, 80)


async def test_a_jump_over_several_thresholds_sends_only_the_highest(
    any_db: Database, connector: FakeConnector, clock: FixedClock
) -> None:
    # QUOTA_WARNING_THRESHOLDS=85,86,87: the 22nd ticket (84 % -> 88 %) passes all three.
    bot = await start_bot_with(any_db, connector, clock, quota_thresholds=(85, 86, 87))
    try:
        await set_up_organizations(bot)
        await create_tickets(bot, 21)
        assert proactive(await deliver(bot)) == []

        await create_tickets(bot, 1)
        warned = by_conversation(proactive(await deliver(bot)))
        assert sorted(warned) == sorted(AUDIENCE)
        for posts in warned.values():
            [post] = posts
            assert_near_warning(post, 22, 88)
        assert {r.quota.threshold for r in await outbox_rows(any_db)} == {87}
    finally:
        await bot.client.close()


# -- the banner ------------------------------------------------------------------------------------


BANNER = f"Tickets: 80% of this period's quota used (renews {RENEWS} UTC)."


async def test_cards_carry_a_banner_once_the_first_threshold_is_passed(bot: Bot) -> None:
    await set_up_organizations(bot)
    replies = await create_tickets(bot, 19)
    assert "% of this period's quota used" not in replies[-1].text
    assert "% of this period's quota used" not in (await bot.say(BOB, "help")).text

    [twentieth] = await create_tickets(bot, 1)
    first = twentieth.cards[0]["body"][0]
    assert first["type"] == "TextBlock" and first["text"] == BANNER
    # Every card, for everyone in the tenant: a reply to a message, a refreshed card.
    for user in (ALICE, BOB, CAROL):
        assert (await bot.say(user, "help")).cards[0]["body"][0]["text"] == BANNER
    listed = await bot.press(BOB, "tickets.list", {"filter": "all", "page": 0})
    assert listed["body"][0]["text"] == BANNER
    # Not in the other tenant.
    assert "% of this period's quota used" not in (await bot.say(DAVE, "help")).text

    await create_tickets(bot, 3)  # 23 of 25
    banner = (await bot.say(CAROL, "tickets")).cards[0]["body"][0]["text"]
    assert banner == f"Tickets: 92% of this period's quota used (renews {RENEWS} UTC)."


# -- Teams says "not now", "gone", "broken" --------------------------------------------------------


async def test_429_with_retry_after_is_retried_after_the_wait_and_delivered_once(
    bot: Bot, any_db: Database
) -> None:
    await set_up_organizations(bot)
    responder, tries = rejecting(429, times=2, headers={"Retry-After": "5"})
    bot.connector.responder = responder
    await create_tickets(bot, 20)
    started = bot.clock.now()

    assert proactive(await deliver(bot)) == []
    assert tries == {c: 1 for c in AUDIENCE}
    rows = await outbox_rows(any_db)
    assert {(r.status, r.attempts) for r in rows} == {(PENDING, 1)}
    # Retry-After is honoured: no retry before 5 s.
    assert all(r.next_attempt_at >= started + timedelta(seconds=5) for r in rows)
    assert all(r.next_attempt_at <= started + timedelta(minutes=1) for r in rows)

    bot.clock.advance(timedelta(seconds=4))
    assert proactive(await deliver(bot)) == []
    assert tries == {c: 1 for c in AUDIENCE}  # nobody asked Teams again too early

    # The second try is throttled too, the third goes through.
    await advance_until_all_due(bot, any_db)
    assert proactive(await deliver(bot)) == []
    assert tries == {c: 2 for c in AUDIENCE}
    second = bot.clock.now()
    assert all(
        r.next_attempt_at >= second + timedelta(seconds=5) for r in await outbox_rows(any_db)
    )

    await advance_until_all_due(bot, any_db)
    delivered = by_conversation(proactive(await deliver(bot)))
    assert sorted(delivered) == sorted(AUDIENCE)
    assert all(len(posts) == 1 for posts in delivered.values())
    assert {(r.status, r.attempts) for r in await outbox_rows(any_db)} == {(SENT, 2)}

    bot.clock.advance(timedelta(hours=1))
    assert proactive(await deliver(bot)) == []
    assert len(proactive(bot.connector.posted)) == len(AUDIENCE)


async def advance_until_all_due(bot: Bot, db: Database) -> None:
    """Move the clock to the latest retry time of the waiting messages (each has its jitter)."""
    waiting = [r.next_attempt_at for r in await outbox_rows(db) if r.status == PENDING]
    assert waiting, "nothing is waiting"
    bot.clock.set(max([*waiting, bot.clock.now()]))


async def advance_to_next_due(bot: Bot) -> datetime:
    due = await bot.sender.store.next_due()
    assert due is not None, "nothing is waiting"
    bot.clock.set(max(due, bot.clock.now()))
    return due


@pytest.mark.parametrize("status", [403, 404])
async def test_a_conversation_the_bot_was_removed_from_is_marked_inactive_and_skipped(
    bot: Bot, any_db: Database, status: int
) -> None:
    await set_up_organizations(bot)
    responder, tries = rejecting(status, only={GROUP.id})
    bot.connector.responder = responder
    await create_tickets(bot, 20)

    delivered = by_conversation(proactive(await deliver(bot)))
    assert sorted(delivered) == sorted([GENERAL.id, ALICE.personal_chat])
    assert tries[GROUP.id] == 1
    assert not await conversation_active(any_db, "tenant-a", GROUP.id)
    [gone] = [r for r in await outbox_rows(any_db) if r.conversation_id == GROUP.id]
    assert gone.status == FAILED

    # No retry of the message, and the next warning does not go there at all.
    bot.clock.advance(timedelta(hours=1))
    await create_tickets(bot, 3)
    delivered = by_conversation(proactive(await deliver(bot)))
    assert sorted(delivered) == sorted([GENERAL.id, ALICE.personal_chat])
    assert tries[GROUP.id] == 1
    assert GROUP.id not in [
        r.conversation_id for r in await outbox_rows(any_db) if r.quota.threshold == 90
    ]

    # Added back to the group chat, the bot warns it again.
    bot.connector.responder = None
    await install(bot, ALICE, GROUP)
    assert await conversation_active(any_db, "tenant-a", GROUP.id)
    await create_tickets(bot, 2)
    delivered = by_conversation(proactive(await deliver(bot)))
    assert sorted(delivered) == sorted(AUDIENCE)
    assert_reached_warning(delivered[GROUP.id][0])


async def test_503_for_a_day_marks_the_message_failed_and_logs_it(
    bot: Bot, any_db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    await set_up_organizations(bot)
    attempts_at: list[datetime] = []
    responder, _ = rejecting(503, only={GENERAL.id})

    def respond(request: web.Request) -> web.Response | None:
        answer = responder(request)
        if answer is not None:
            attempts_at.append(bot.clock.now())
        return answer

    bot.connector.responder = respond
    await create_tickets(bot, 20)
    created = bot.clock.now()
    caplog.set_level(logging.INFO, logger="bot.teams.sender")

    delivered = by_conversation(proactive(await deliver(bot)))
    assert sorted(delivered) == sorted([GROUP.id, ALICE.personal_chat])

    for _ in range(500):
        [row] = [r for r in await outbox_rows(any_db) if r.conversation_id == GENERAL.id]
        if row.status != PENDING:
            break
        await advance_to_next_due(bot)
        await deliver(bot)
    else:
        pytest.fail("still retrying after 500 rounds")

    assert row.status == FAILED
    assert row.attempts == len(attempts_at) > 10
    assert row.last_error
    # It kept trying for most of a day and never past a day.
    assert created + timedelta(hours=23) <= attempts_at[-1] <= created + timedelta(hours=24)
    # Exponential backoff with jitter, capped: a few seconds first, then up to about half an
    # hour, never the same rhythm.
    gaps = [b - a for a, b in zip(attempts_at, attempts_at[1:], strict=False)]
    assert gaps[0] <= timedelta(seconds=10)
    assert max(gaps) <= timedelta(hours=1)
    assert gaps[len(gaps) // 2] >= timedelta(minutes=10)
    assert len(set(gaps[-5:])) > 1
    # 503 is not "gone": the channel stays active and is warned next time.
    assert await conversation_active(any_db, "tenant-a", GENERAL.id)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert any(str(row.id) in r.getMessage() and "503" in r.getMessage() for r in errors), [
        r.getMessage() for r in errors
    ]
    assert proactive(bot.connector.to(GENERAL.id)) == []


# -- a restart loses nothing -----------------------------------------------------------------------


async def test_warnings_queued_before_a_restart_are_delivered_once_after_it(
    bot: Bot, any_db: Database, connector: FakeConnector, clock: FixedClock
) -> None:
    await set_up_organizations(bot)
    await create_tickets(bot, 23)  # 80 % and 90 % queued, nothing delivered
    # The process even claimed two messages and died before sending them.
    claimed = await bot.sender.store.claim(clock.now(), 2, bot.sender.lease)
    assert len(claimed) == 2
    await bot.client.close()
    assert proactive(connector.posted) == []

    restarted = await start_bot(any_db, connector, clock)
    try:
        first = by_conversation(proactive(await deliver(restarted)))
        # Everything not claimed goes at once; the two claimed wait for their lease.
        assert sum(len(p) for p in first.values()) == 2 * len(AUDIENCE) - 2
        clock.advance(restarted.sender.lease + timedelta(seconds=1))
        await deliver(restarted)

        delivered = by_conversation(proactive(connector.posted))
        assert sorted(delivered) == sorted(AUDIENCE)
        for conversation in AUDIENCE:
            texts = sorted(card_text(p.cards[0]) for p in delivered[conversation])
            assert len(texts) == 2, texts
            assert "(80%)" in texts[0] and "(92%)" in texts[1]
        assert {r.status for r in await outbox_rows(any_db)} == {SENT}

        # The restarted bot carries on: 100 % is announced by it, once.
        await restarted.say(CAROL, "new ticket Twenty-four")
        await restarted.say(CAROL, "new ticket Twenty-five")
        reached = by_conversation(proactive(await deliver(restarted)))
        assert sorted(reached) == sorted(AUDIENCE)
        assert all(len(p) == 1 for p in reached.values())
    finally:
        await restarted.client.close()


# -- ticket notifications --------------------------------------------------------------------------


async def test_the_requester_and_the_assignee_are_told_in_their_personal_chats(bot: Bot) -> None:
    await set_up_organizations(bot)
    [created] = await create_tickets(bot, 1)  # Carol's ticket #1
    assert "Ticket #1 was created." in created.text
    detail = await bot.press(BOB, "ticket.show", {"number": 1})

    # Bob, an agent, comments: Carol hears of it in her chat with the bot.
    detail = await bot.press(
        BOB, "ticket.comment", submission(detail, "ticket.comment", comment="Toner ordered.")
    )
    [told] = proactive(await deliver(bot))
    assert told.conversation_id == CAROL.personal_chat
    assert "Bob commented on your ticket #1" in told.text
    assert "Toner ordered." in told.text
    assert "ticket.show" in verbs(told.cards[0])

    # Bob moves it on and resolves it.
    detail = await bot.press(
        BOB, "ticket.status", submission(detail, "ticket.status", status="in_progress")
    )
    [told] = proactive(await deliver(bot))
    assert told.conversation_id == CAROL.personal_chat
    assert "Bob changed your ticket #1 to In progress" in told.text
    detail = await bot.press(
        BOB, "ticket.status", submission(detail, "ticket.status", status="resolved")
    )
    [told] = proactive(await deliver(bot))
    assert told.conversation_id == CAROL.personal_chat
    assert "Bob resolved your ticket #1" in told.text

    # Alice assigns it to Bob: Bob is told, in his chat.
    detail = await bot.press(
        ALICE, "ticket.assign", submission(detail, "ticket.assign", assignee=BOB.user_id)
    )
    [told] = proactive(await deliver(bot))
    assert told.conversation_id == BOB.personal_chat
    assert "Alice Admin assigned ticket #1 to you" in told.text


async def test_nobody_is_told_of_their_own_doing(bot: Bot) -> None:
    await set_up_organizations(bot)
    await create_tickets(bot, 1)  # Carol's #1
    await bot.say(BOB, "new ticket Bob's own laptop")  # Bob's #2

    # Carol comments on and closes her own ticket; Bob takes his own ticket himself.
    await bot.press(CAROL, "ticket.comment", {"number": 1, "comment": "Still jammed."})
    await bot.press(CAROL, "ticket.close", {"number": 1})
    await bot.press(BOB, "ticket.assign_me", {"number": 2})
    await bot.press(BOB, "ticket.comment", {"number": 2, "comment": "Note to self."})
    assert proactive(await deliver(bot)) == []


async def test_a_requester_without_a_personal_chat_is_told_in_the_channel_thread(
    bot: Bot,
) -> None:
    await set_up_organizations(bot)
    erin = teams.TeamsUser("tenant-a", "29:erin", "Erin", "aad-erin")  # never chats with the bot
    started = teams.message(erin, GENERAL, bot.connector.url, "new ticket Beamer flickers")
    status, _ = await bot.post(started)
    assert status == 200
    thread = f"{GENERAL.id};messageid={started['id']}"

    detail = await bot.press(BOB, "ticket.show", {"number": 1})
    assert "Beamer flickers" in card_text(detail)
    await bot.press(
        BOB, "ticket.comment", submission(detail, "ticket.comment", comment="On my way.")
    )
    [told] = proactive(await deliver(bot))
    assert told.conversation_id == thread
    assert "Bob commented on your ticket #1" in told.text and "On my way." in told.text

    await bot.press(BOB, "ticket.status", {"number": 1, "status": "resolved"})
    [told] = proactive(await deliver(bot))
    assert told.conversation_id == thread
    assert "Bob resolved your ticket #1" in told.text
    # Nothing went to the channel itself, nor to anyone's personal chat.
    assert proactive(bot.connector.to(GENERAL.id)) == []


async def test_an_assignee_without_a_personal_chat_is_not_told_in_the_requesters_chat(
    bot: Bot,
) -> None:
    """The fallback is the conversation the ticket came from when others can read it there
    (a channel thread, a group chat); someone else's personal chat is not such a place."""
    await set_up_organizations(bot)
    frank = teams.TeamsUser("tenant-a", "29:frank", "Frank", "aad-frank")  # no chat with the bot
    await bot.post(teams.message(frank, GENERAL, bot.connector.url, "help"))  # known from a team
    made = await bot.say(ALICE, "role @Frank agent", mentions=[(frank.user_id, "Frank")])
    assert "Frank is now agent." in made.text
    await create_tickets(bot, 1)  # Carol's #1, from her personal chat

    await bot.press(ALICE, "ticket.assign", {"number": 1, "assignee": frank.user_id})

    told = proactive(await deliver(bot))
    assert [p.text for p in told if p.conversation_id == CAROL.personal_chat] == []


async def test_an_assignee_without_a_personal_chat_is_told_in_the_tickets_channel_thread(
    bot: Bot,
) -> None:
    await set_up_organizations(bot)
    frank = teams.TeamsUser("tenant-a", "29:frank", "Frank", "aad-frank")  # no chat with the bot
    await bot.post(teams.message(frank, GENERAL, bot.connector.url, "help"))  # known from a team
    await bot.say(ALICE, "role @Frank agent", mentions=[(frank.user_id, "Frank")])
    started = teams.message(CAROL, GENERAL, bot.connector.url, "new ticket Door badge broken")
    status, _ = await bot.post(started)
    assert status == 200

    await bot.press(ALICE, "ticket.assign", {"number": 1, "assignee": frank.user_id})

    [told] = proactive(await deliver(bot))
    assert told.conversation_id == f"{GENERAL.id};messageid={started['id']}"
    assert "Alice Admin assigned ticket #1 to you" in told.text
