"""A turn's objects, a user's or a proactive one's, are freed by reference counting as it ends,
over real HTTP on both databases: none of them waits for the garbage collector. botbuilder's
`TurnContext._emit` chains the on-send handlers through a function that refers to itself, a
reference cycle holding the turn's context (with its activity, turn state, unit of work and
replies): every turn left about 100 objects to the collector, which then ran every few turns
(`FastTurnContext._emit`)."""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from tests.e2e.conftest import Bot
from tests.support import teams
from tests.support.cards import submission

ALICE = teams.TeamsUser("tenant-a", "29:alice", "Alice Admin", "aad-alice")
BOB = teams.TeamsUser("tenant-a", "29:bob", "Bob", "aad-bob")
# The packages whose objects a turn makes; the test client's and pytest's are not asked about.
TURN_PACKAGES = ("bot.", "storage.", "cards.", "botbuilder.", "botframework.")


@contextmanager
def unreachable() -> Iterator[list[object]]:
    """What became unreachable inside the block (the collector off, then one full pass that
    keeps what it finds)."""
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    found: list[object] = []
    try:
        yield found
    finally:
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        found.extend(gc.garbage)
        gc.garbage.clear()
        gc.set_debug(0)
        if enabled:
            gc.enable()


def _turn_objects(garbage: list[object]) -> Counter[str]:
    kinds = (type(o) for o in garbage)
    return Counter(
        f"{kind.__module__}.{kind.__qualname__}"
        for kind in kinds
        if kind.__module__.startswith(TURN_PACKAGES)
    )


async def test_no_turn_leaves_its_objects_to_the_garbage_collector(bot: Bot) -> None:
    await bot.say(ALICE, "help")  # the tenant, its subscription and the bot's caches exist
    with unreachable() as garbage:
        await bot.say(ALICE, "new ticket Printer on fire")
        await bot.say(ALICE, "tickets")
        await bot.press(ALICE, "tickets.list", {"filter": "all"})
        await bot.say(BOB, "help")  # a first contact: the user and the conversation recorded
        await bot.say(BOB, "new ticket Toner")
        # Alice comments on Bob's ticket: the proactive turn that tells him, from the outbox.
        detail = await bot.press(ALICE, "ticket.show", {"number": 2})
        await bot.press(
            ALICE, "ticket.comment", submission(detail, "ticket.comment", comment="On it.")
        )
        await bot.sender.drain()
    assert _turn_objects(garbage) == Counter()
    # The warm-up's reply, four messages' replies, and the one proactive message.
    assert [p.conversation_id for p in bot.connector.posted[5:]] == [BOB.personal_chat]
    assert "Alice Admin commented on your ticket #2" in bot.connector.posted[5].text
