"""Input an attacker (or a broken client) sends, over real HTTP, on SQLite and PostgreSQL: markdown
that would forge links on a card, NUL bytes and lone surrogates, bodies nested past any reason,
activities missing their tenant or sender, and every card field fuzzed for type, size and
characters. Each gets a clear answer or a 4xx: no apology card, no 5xx, no partial write, and the
bot is healthy after it."""

from __future__ import annotations

import json
import logging
import random
from typing import Any

import pytest
from sqlmodel import func, select

from bot.logcontext import TurnContextFilter
from storage.db import Database
from storage.models import ItemCommentRow, Tenant, TicketRow, UserAccount
from tests.e2e.conftest import Bot
from tests.support import teams
from tests.support.cards import Card, card_text
from tests.support.markdown import live_markdown_in, markdown_texts, shown

PHISH = "**URGENT** [Click to reset password](https://evil.example/phish)"
JS_LINK = "Details: [here](javascript:alert(document.cookie)) _SHOUT_ <https://evil.example>"
FAKE_ADMIN = "[Helpdesk](https://evil.example) **ADMIN**"

ALICE = teams.TeamsUser("tenant-a", "29:alice", FAKE_ADMIN, "aad-alice")
BOB = teams.TeamsUser("tenant-a", "29:bob", "Bob", "aad-bob")
APOLOGY = "Sorry, something went wrong"
NO_SENDER = "did not say who sent it"


async def count(db: Database, model: type) -> int:
    async with db.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def titles(db: Database) -> list[str]:
    async with db.sessions() as session:
        return [r.title for r in (await session.execute(select(TicketRow))).scalars()]


async def post_raw(bot: Bot, body: bytes) -> tuple[int, Any]:
    response = await bot.client.post(
        "/api/messages", data=body, headers={"Content-Type": "application/json"}
    )
    payload = await response.json() if response.content_type == "application/json" else None
    return response.status, payload


async def healthy(bot: Bot) -> None:
    response = await bot.client.get("/healthz")
    assert response.status == 200
    assert "help" in (await bot.say(BOB, "help")).text.lower()


async def create(bot: Bot, user: teams.TeamsUser, **values: Any) -> Card:
    return await bot.press(user, "ticket.create", {"verb": "ticket.create", **values})


# -- user text is data -----------------------------------------------------------------------


async def test_hostile_markdown_shows_literally_on_every_card(bot: Bot, any_db: Database) -> None:
    await bot.say(ALICE, "help")  # Alice is the first user: admin
    await bot.say(BOB, "help")  # the bot knows Bob before he gets a role
    start = len(bot.connector.posted)  # the help card has the bot's own `<title>`
    created = await create(
        bot, ALICE, title=PHISH, description=JS_LINK, category="**Hardware**", priority="high"
    )
    await bot.say(ALICE, f"role @{BOB.name} agent", mentions=[(BOB.user_id, BOB.name)])
    await bot.press(
        BOB, "ticket.comment", {"verb": "ticket.comment", "number": 1, "comment": PHISH}
    )
    await bot.press(BOB, "ticket.assign_me", {"verb": "ticket.assign_me", "number": 1})
    seen = [
        created,
        await bot.press(BOB, "ticket.show", {"verb": "ticket.show", "number": 1}),
        await bot.press(BOB, "tickets.list", {"verb": "tickets.list", "filter": "all", "page": 0}),
        *(await bot.say(BOB, "roles")).cards,
        *(await bot.say(ALICE, f"tickets {PHISH}")).cards,
        *(await bot.say(ALICE, PHISH)).cards,
    ]
    await bot.sender.drain()
    seen += [card for posted in bot.connector.posted[start:] for card in posted.cards]

    assert live_markdown_in(seen) == []
    assert APOLOGY not in "\n".join(card_text(c) for c in seen)
    # Data stays data: stored as typed, and read back as typed.
    assert await titles(any_db) == [PHISH]
    detail = "\n".join(shown(t) for t in markdown_texts(seen[1]))
    assert PHISH in detail and FAKE_ADMIN in detail and JS_LINK in detail


# -- NUL bytes and lone surrogates -----------------------------------------------------------

DIRTY = {"NUL": "Printer\x00 broken", "lone surrogate": "Printer\ud800 broken"}
CLEAN = {"NUL": "Printer broken", "lone surrogate": "Printer\ufffd broken"}


@pytest.mark.parametrize("kind", list(DIRTY))
async def test_nul_bytes_and_lone_surrogates_are_cleaned_at_the_edge(
    bot: Bot, any_db: Database, kind: str
) -> None:
    dirty, clean = DIRTY[kind], CLEAN[kind]
    user = teams.TeamsUser("tenant-a", "29:dirty", f"Dirty {dirty}", "aad-dirty")
    answers = [
        await create(bot, user, title=dirty, description=dirty, category=dirty[:20]),
        await bot.press(
            user, "ticket.comment", {"verb": "ticket.comment", "number": 1, "comment": dirty}
        ),
        *(await bot.say(user, f"new ticket {dirty}")).cards,
        *(await bot.say(user, f"tickets {dirty}")).cards,
        *(await bot.say(user, dirty)).cards,
    ]
    assert APOLOGY not in "\n".join(card_text(c) for c in answers)
    assert await titles(any_db) == [clean, clean]
    async with any_db.sessions() as session:
        comments = [c.text for c in (await session.execute(select(ItemCommentRow))).scalars()]
        names = [u.name for u in (await session.execute(select(UserAccount))).scalars()]
    assert comments == [clean]
    assert names == [f"Dirty {clean}"]
    await healthy(bot)


async def test_nul_and_surrogates_in_ids_and_card_data_are_no_5xx(
    bot: Bot, any_db: Database
) -> None:
    activity = teams.execute(
        ALICE,
        teams.Conversation(ALICE.personal_chat),
        bot.connector.url,
        "ticket.create",
        {"verb": "ticket.create\x00", "title\ud800": "x", "title": "ok\x00", "priority": "\udfff"},
    )
    activity["id"] = "act-\x00\ud800"
    activity["from"]["id"] = "29:alice\x00"
    status, body = await bot.post(activity)
    assert status == 200
    assert APOLOGY not in card_text(body["value"])
    await healthy(bot)


# -- HTTP garbage ----------------------------------------------------------------------------

DEEP = {
    "100,000 brackets": b"[" * 100_000 + b"]" * 100_000,
    "100,000 open brackets": b"[" * 100_000,
    "40,000 nested objects": b'{"a":' * 40_000 + b"1" + b"}" * 40_000,
}


async def test_deeply_nested_bodies_are_a_bad_request(bot: Bot, any_db: Database) -> None:
    answers = {name: (await post_raw(bot, body))[0] for name, body in DEEP.items()}
    message = teams.message(BOB, teams.Conversation(BOB.personal_chat), bot.connector.url, "help")
    nested: Any = "deep"
    for _ in range(200):
        nested = {"n": nested}
    answers["an activity with a value nested 200 deep"] = (
        await post_raw(bot, json.dumps({**message, "value": nested}).encode())
    )[0]
    assert answers == dict.fromkeys(answers, 400)
    assert bot.connector.posted == []
    assert await count(any_db, Tenant) == 0
    await healthy(bot)


# -- identity --------------------------------------------------------------------------------


async def test_a_tenant_only_in_conversation_tenant_id_is_enough(
    bot: Bot, any_db: Database
) -> None:
    activity = teams.message(
        BOB, teams.Conversation(BOB.personal_chat), bot.connector.url, "new ticket From Bob"
    )
    activity["channelData"] = {}
    assert activity["conversation"]["tenantId"] == "tenant-a"

    status, _ = await bot.post(activity)

    assert status == 200
    [reply] = bot.connector.posted
    assert "Ticket #1 was created." in reply.text
    assert await titles(any_db) == ["From Bob"]


async def test_a_message_without_from_says_the_sender_is_missing(
    bot: Bot, any_db: Database
) -> None:
    text_message = teams.message(
        BOB, teams.Conversation(BOB.personal_chat), bot.connector.url, "new ticket X"
    )
    press = teams.execute(
        BOB,
        teams.Conversation(BOB.personal_chat),
        bot.connector.url,
        "ticket.create",
        {"title": "X"},
    )
    del text_message["from"], press["from"]

    status, _ = await bot.post(text_message)
    invoke_status, body = await bot.post(press)

    assert (status, invoke_status) == (200, 200)
    [reply] = bot.connector.posted
    assert NO_SENDER in reply.text and "organization" not in reply.text
    assert NO_SENDER in card_text(body["value"])
    assert await count(any_db, TicketRow) == 0
    await healthy(bot)


# -- fuzzed card fields ----------------------------------------------------------------------

CHARACTERS = (
    "aZ09 _*[]()<>#-+.!~`\\\"'\n\r\t\x00\x01\x7f\u00e9\u200b\u2060\ufeff\U0001f600\ud800\udfff"
)


def fuzz_value(rng: random.Random) -> Any:
    kind = rng.choice(["text", "long", "number", "float", "bool", "none", "list", "object"])
    if kind in ("text", "long"):
        size = rng.choice([0, 1, 5, 80]) if kind == "text" else rng.choice([201, 5000, 30000])
        return "".join(rng.choice(CHARACTERS) for _ in range(size))
    return {
        "number": rng.choice([0, -1, 2**63, 10**30]),
        "float": rng.choice([0.5, -1e308, 1e308]),
        "bool": rng.choice([True, False]),
        "none": None,
        "list": ["a", 1, None],
        "object": {"title": "x", "nested": {"a": [1]}},
    }[kind]


FIELDS = {
    "ticket.create": ("title", "description", "priority", "category", "due"),
    "ticket.comment": ("number", "comment"),
    "ticket.priority": ("number", "priority"),
    "tickets.list": ("filter", "page"),
}


async def test_fuzzed_card_fields_get_a_clear_answer(bot: Bot, any_db: Database) -> None:
    rng = random.Random(9)
    await create(bot, BOB, title="A ticket to work on")
    created = 1
    failures: list[str] = []
    for round_ in range(60):
        verb = rng.choice(list(FIELDS))
        data = {name: fuzz_value(rng) for name in FIELDS[verb] if rng.random() < 0.8}
        if verb != "ticket.create" and rng.random() < 0.5:
            data["number"] = 1
        status, body = await bot.post(
            teams.execute(
                BOB,
                teams.Conversation(BOB.personal_chat),
                bot.connector.url,
                verb,
                {"verb": verb, **data},
            )
        )
        shown_text = card_text(body["value"]) if status == 200 and body else ""
        if status >= 500 or APOLOGY in shown_text or (status == 200 and body["statusCode"] != 200):
            failures.append(f"round {round_}: {verb} {data!r:.200} -> {status}")
        if "was created" in shown_text:
            created += 1
        assert live_markdown_in([body["value"]]) == [] if status == 200 else True
    assert failures == []
    assert await count(any_db, TicketRow) == created  # nothing half-written
    await healthy(bot)


# -- operability -----------------------------------------------------------------------------


async def test_every_record_of_a_failed_turn_names_tenant_and_activity(
    bot: Bot, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: Any) -> Card:
        logging.getLogger("bot.apps.dispatch").warning("about to fail")
        raise RuntimeError("boom")

    monkeypatch.setattr("bot.apps.dispatch.Dispatcher.dispatch", broken)
    caplog.handler.addFilter(TurnContextFilter())
    activity = teams.message(BOB, teams.Conversation(BOB.personal_chat), bot.connector.url, "help")
    with caplog.at_level(logging.INFO):
        status, _ = await bot.post(activity)

    assert status == 200
    records = [r for r in caplog.records if r.name.startswith("bot")]
    assert any(r.levelno == logging.ERROR and "turn failed" in r.getMessage() for r in records)
    assert {(r.tenant, r.activity) for r in records} == {("tenant-a", activity["id"])}  # type: ignore[attr-defined]


async def test_a_card_click_logs_no_warning(bot: Bot, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        await bot.press(BOB, "ticket.form")
        await create(bot, BOB, title="Clicked")
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
