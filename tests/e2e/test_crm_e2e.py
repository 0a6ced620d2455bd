"""CRM over real HTTP, on SQLite and on PostgreSQL: opportunities in two currencies through the
pipeline, won and lost, the pipeline card's figures, the new owner told, bad input, the quota
on free, and what is stored (NUMERIC, never a float)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlmodel import select

from bot.domain.clock import FixedClock
from storage.db import Database
from storage.models import AccountRow, OpportunityRow
from tests.e2e.conftest import Bot
from tests.support import teams
from tests.support.cards import card_text, inputs, submission, verbs

ALICE = teams.TeamsUser("tenant-a", "29:alice", "Alice Admin", "aad-alice")
BOB = teams.TeamsUser("tenant-a", "29:bob", "Bob", "aad-bob")
CAROL = teams.TeamsUser("tenant-a", "29:carol", "Carol", "aad-carol")
DAVE = teams.TeamsUser("tenant-b", "29:dave", "Dave", "aad-dave")

NOT_FOUND = "That was not found."


async def text_of(bot: Bot, user: teams.TeamsUser, text: str) -> str:
    return (await bot.say(user, text)).text  # type: ignore[arg-type]


async def install(bot: Bot, user: teams.TeamsUser) -> None:
    status, _ = await bot.post(
        teams.installed(user, teams.Conversation(user.personal_chat), bot.connector.url)
    )
    assert status == 200


async def test_a_quarter_of_sales(bot: Bot, clock: FixedClock, any_db: Database) -> None:
    await install(bot, ALICE)  # the admin
    await install(bot, CAROL)
    await install(bot, BOB)

    # Carol fills in the form: euros, with a new account and contact.
    form = await bot.press(CAROL, "opportunity.form")
    assert {"name", "amount", "currency", "close_date", "account", "contact"} <= set(inputs(form))
    first = await bot.press(
        CAROL,
        "opportunity.create",
        submission(
            form,
            "opportunity.create",
            name="Fleet renewal",
            amount="40000.00",
            currency="EUR",
            close_date="2026-12-20",
            account="Acme GmbH",
            contact="Wile E. Coyote",
            contact_email="wile@acme.example",
        ),
    )
    assert "Opportunity #1 was created." in card_text(first)
    # ...and another in dollars, for the same account.
    second = await bot.press(
        CAROL,
        "opportunity.create",
        submission(
            form,
            "opportunity.create",
            name="US rollout",
            amount="25000.50",
            currency="usd",
            account="acme gmbh",
        ),
    )
    assert "$25,000.50" in card_text(second)
    clock.advance(timedelta(minutes=5))
    third = await text_of(bot, CAROL, "new opportunity Side deal")
    assert "Opportunity #3 was created." in third

    # Through the pipeline: #1 to negotiation and won; #2 to proposal; #3 lost with a reason.
    detail = first
    for stage in ("Qualified", "Proposal", "Negotiation"):
        detail = await bot.press(CAROL, "opportunity.advance", {"number": 1})
        assert f"to {stage}" in card_text(detail)
    won = await bot.press(CAROL, "opportunity.advance", {"number": 1})
    assert "Won" in card_text(won) and "100%" in card_text(won)
    await bot.press(
        CAROL, "opportunity.stage", submission(second, "opportunity.stage", stage="proposal")
    )
    refused = await bot.press(CAROL, "opportunity.stage", {"number": 3, "stage": "lost"})
    assert "Say why the opportunity was lost." in card_text(refused)
    lost = await bot.press(
        CAROL,
        "opportunity.stage",
        submission(refused, "opportunity.stage", stage="lost", lost_reason="Went with a rival"),
    )
    assert "Went with a rival" in card_text(lost)
    assert "opportunity.reopen" in verbs(lost)

    # The pipeline: per stage and currency, never summed across currencies.
    pipeline = await text_of(bot, ALICE, "pipeline")
    assert "Proposal (50%)" in pipeline
    assert "1 · $25,000.50 · weighted $12,500.25" in pipeline
    assert "Won in Q4 2026" in pipeline and "1 · €40,000.00" in pipeline
    assert "Open in total" in pipeline
    assert "65,000" not in pipeline  # euros and dollars are never added up

    # Alice hands #2 to Bob: Bob is told in his personal chat.
    detail = await bot.press(ALICE, "opportunity.show", {"number": 2})
    handed = await bot.press(
        ALICE, "opportunity.edit", submission(detail, "opportunity.edit", owner=BOB.user_id)
    )
    assert "Alice Admin handed it from Carol to Bob" in card_text(handed)
    before = len(bot.connector.posted)
    await bot.sender.drain()
    told = [p for p in bot.connector.posted[before:] if p.conversation_id == BOB.personal_chat]
    assert len(told) == 1 and "Alice Admin handed opportunity #2 to you" in told[0].text  # type: ignore[operator]
    assert "#2" in await text_of(bot, BOB, "opportunities mine")
    assert NOT_FOUND in await text_of(bot, CAROL, "opportunity 2")

    # Accounts are everybody's, and list their opportunities.
    account = await text_of(bot, BOB, "account 1")
    assert "Acme GmbH" in account and "Wile E. Coyote" in account and "US rollout" in account
    # Another organization sees none of it.
    assert NOT_FOUND in await text_of(bot, DAVE, "opportunity 1")
    assert "No accounts here." in await text_of(bot, DAVE, "accounts")

    # Stored as NUMERIC: Decimals back, exactly.
    async with any_db.sessions() as session:
        rows = (await session.execute(select(OpportunityRow))).scalars().all()
        accounts = (await session.execute(select(AccountRow))).scalars().all()
    amounts = {r.number: r.amount for r in rows}
    assert amounts == {1: Decimal("40000.00"), 2: Decimal("25000.50"), 3: Decimal("0.00")}
    assert all(isinstance(a, Decimal) for a in amounts.values())
    assert [a.name for a in accounts] == ["Acme GmbH"]


async def test_bad_input_and_the_largest_amount(bot: Bot, any_db: Database) -> None:
    await install(bot, CAROL)
    form = await bot.press(CAROL, "opportunity.form")
    typed = {
        "name": "Too big",
        "amount": "1234567890123.00",
        "currency": "ZZZ",
        "close_date": "soon",
        "contact": "Road Runner",
        "contact_email": "beep beep",
    }
    card = await bot.press(
        CAROL, "opportunity.create", submission(form, "opportunity.create", **typed)
    )
    assert {k: inputs(card)[k].get("value") for k in typed} == typed
    assert "At most 12 digits before the decimal point." in card_text(card)
    largest = await bot.press(
        CAROL,
        "opportunity.create",
        submission(form, "opportunity.create", name="Largest", amount="999999999999.99"),
    )
    assert "€999,999,999,999.99" in card_text(largest)
    async with any_db.sessions() as session:
        row = (await session.execute(select(OpportunityRow))).scalars().one()
    assert row.amount == Decimal("999999999999.99")


async def test_at_the_quota_on_free_everything_else_keeps_working(bot: Bot) -> None:
    await install(bot, CAROL)
    for i in range(10):
        assert f"Opportunity #{i + 1} was created." in await text_of(
            bot, CAROL, f"new opportunity Deal {i + 1}"
        )
    refused = await bot.say(CAROL, "new opportunity Deal eleven")
    assert "quota" in refused.text.lower()  # type: ignore[union-attr]
    assert "Deal eleven" in str(refused.cards)
    moved = await bot.press(CAROL, "opportunity.advance", {"number": 10})
    assert "Opportunity #10 was updated." in card_text(moved)
    noted = await bot.press(CAROL, "opportunity.note", {"number": 10, "note": "Still going"})
    assert "Still going" in card_text(noted)
    assert "Deal 10" in await text_of(bot, CAROL, "opportunities")
    assert "Qualified (25%)" in await text_of(bot, CAROL, "pipeline")
    usage = await text_of(bot, CAROL, "usage")
    assert "10" in usage
