"""CRM conversations at the product's own protocol: a sales day typed and clicked, bad input
answered with the form (or the opportunity) and the input kept, the quota and the roles."""

from __future__ import annotations

from typing import Any

from bot.services.identity import Identity
from storage.models import OpportunityRow
from tests.support.cards import card_text, inputs, verbs
from tests.support.dialogs import Dialog

ALICE = Identity("tenant-a", "29:alice", "Alice", locale="en-US")  # the first user: admin
CAROL = Identity("tenant-a", "29:carol", "Carol", locale="en-US")  # a member
ERIN = Identity("tenant-a", "29:erin", "Erin", locale="de-DE")  # a member, in German
DAVE = Identity("tenant-b", "29:dave", "Dave", locale="en-US")  # another organization


def values(card: dict[str, Any]) -> dict[str, Any]:
    return {name: field.get("value") for name, field in inputs(card).items()}


async def test_a_sales_day(dialog: Dialog) -> None:
    await dialog.say(ALICE, "tickets")  # Alice is the first user: admin
    await dialog.verify(
        CAROL,
        [
            ("help", ["new opportunity <name>", "pipeline mine", "accounts [<name>]"]),
            ("new opportunity Fleet renewal", ["Opportunity #1 was created.", "#1 Fleet renewal"]),
            ("opportunities", ["#1", "Fleet renewal", "Lead", "€0.00", "Page 1 of 1"]),
            ("opportunity #1", ["Lead", "10%", "Carol", "Carol created the opportunity"]),
            ("opportunity x", ["Which opportunity? For example: **opportunity 12**"]),
            ("opportunites", ["Did you mean **opportunities**?"]),
        ],
    )
    form = await dialog.say(CAROL, "new opportunity")
    assert "opportunity.create" in verbs(form)
    created = await dialog.press(
        CAROL,
        "opportunity.create",
        {
            "name": "Laptops for Acme",
            "amount": "12500.50",
            "currency": "usd",
            "close_date": "2026-12-15",
            "account": "Acme Corp",
            "contact": "Wile E. Coyote",
            "contact_email": "wile@acme.example",
        },
    )
    text = card_text(created)
    for shown in ("#2 Laptops for Acme", "$12,500.50", "Acme Corp (#1)", "Wile E. Coyote (#1)"):
        assert shown in text, shown
    # Naming the same account again (any case) links it; nothing new is added.
    await dialog.press(CAROL, "opportunity.create", {"name": "Docks", "account": "ACME  corp"})
    await dialog.verify(
        CAROL,
        [
            ("accounts", ["Acme Corp", "Page 1 of 1, 1 accounts"]),
            ("accounts acm", ["Accounts with “acm”", "Acme Corp"]),
            ("accounts zzz", ["No accounts here."]),
            ("account 1", ["Acme Corp", "Wile E. Coyote", "#2", "Laptops for Acme", "#3", "Docks"]),
            ("contacts", ["Wile E. Coyote", "Acme Corp · wile@acme"]),
            ("contact 1", ["wile@acme", "Laptops for Acme"]),
        ],
    )
    # Through the pipeline: next stage, a chosen stage, won.
    moved = card_text(await dialog.press(CAROL, "opportunity.advance", {"number": 2}))
    assert "Carol moved it from Lead to Qualified" in moved and "25%" in moved
    moved = card_text(
        await dialog.press(CAROL, "opportunity.stage", {"number": 2, "stage": "negotiation"})
    )
    assert "Carol moved it from Qualified to Negotiation" in moved and "75%" in moved
    won = await dialog.press(CAROL, "opportunity.advance", {"number": 2})
    assert "Won" in card_text(won) and "100%" in card_text(won)
    assert "opportunity.reopen" in verbs(won)
    reopened = card_text(await dialog.press(CAROL, "opportunity.reopen", {"number": 2}))
    assert "Carol moved it from Won to Negotiation" in reopened
    # Lost needs a reason; with one it closes.
    refused = await dialog.press(CAROL, "opportunity.stage", {"number": 3, "stage": "lost"})
    assert "Say why the opportunity was lost." in card_text(refused)
    assert values(refused)["stage"] == "lost"
    lost = card_text(
        await dialog.press(
            CAROL, "opportunity.stage", {"number": 3, "stage": "lost", "lost_reason": "No budget"}
        )
    )
    assert "Lost because" in lost and "No budget" in lost
    await dialog.verify(
        CAROL,
        [
            ("opportunities lost", ["Docks", "Lost · €0.00 · Acme Corp"]),
            ("opportunities negotiation", ["Laptops for Acme"]),
            ("opportunities qualified", ["No opportunities here."]),
            ("opportunities someday", ["Unknown filter “someday”"]),
            ("pipeline", ["Negotiation (75%)", "$12,500.50", "weighted $9,375.38"]),
            ("pipeline mine", ["My pipeline"]),
        ],
    )


async def test_bad_input_comes_back_with_the_error_and_the_input_kept(dialog: Dialog) -> None:
    typed = {
        "name": "Big one",
        "amount": "1234567890123",
        "currency": "XYZ",
        "close_date": "next friday",
        "contact_email": "not-an-email",
        "contact": "Road Runner",
    }
    card = await dialog.press(CAROL, "opportunity.create", typed)
    text = card_text(card)
    for shown in (
        "At most 12 digits before the decimal point.",
        "Enter an ISO 4217 currency code in use",
        "Enter a date such as 2026-12-31.",
        "Enter an email address",
    ):
        assert shown in text, shown
    assert {k: values(card)[k] for k in typed} == typed
    for amount, message in (
        ("-5", "Enter 0 or more."),
        ("ten", "Enter a number in digits"),
        ("1.005", "At most 2 digits after the decimal point."),
    ):
        again = await dialog.press(CAROL, "opportunity.create", {"name": "x", "amount": amount})
        assert message in card_text(again) and values(again)["amount"] == amount
    # Nothing was created by any of them.
    assert "No opportunities here." in card_text(await dialog.say(CAROL, "opportunities all"))

    await dialog.say(CAROL, "new opportunity Kept")
    refused = await dialog.press(
        CAROL, "opportunity.edit", {"number": 1, "amount": "12.345", "currency": "EURO"}
    )
    assert "At most 2 digits after the decimal point." in card_text(refused)
    assert values(refused)["amount"] == "12.345" and values(refused)["currency"] == "EURO"
    unknown_stage = await dialog.press(CAROL, "opportunity.stage", {"number": 1, "stage": "done"})
    assert "Choose one of:" in card_text(unknown_stage)
    contact = await dialog.press(CAROL, "contact.edit", {"number": 1, "email": "x"})
    assert "That was not found." in card_text(contact)


async def test_editing_the_deal_and_handing_it_on(dialog: Dialog) -> None:
    await dialog.say(ALICE, "tickets")  # Alice is the first user: admin
    await dialog.say(ERIN, "tickets")  # Erin has used the bot
    await dialog.say(CAROL, "new opportunity Renewal")
    edited = card_text(
        await dialog.press(
            CAROL,
            "opportunity.edit",
            {
                "number": 1,
                "amount": "2000",
                "currency": "CHF",
                "close_date": "2027-01-31",
                "probability": "40",
                "next_step": "Call back",
                "owner": CAROL.user_id,
            },
        )
    )
    assert "CHF2,000.00" in edited and "40%" in edited and "CHF800.00" in edited
    assert "Carol changed the amount from 0.00 to 2,000.00" in edited
    moved = card_text(await dialog.press(CAROL, "opportunity.advance", {"number": 1}))
    assert "40%" in moved  # the probability Carol set stays over a stage move
    noted = card_text(
        await dialog.press(CAROL, "opportunity.note", {"number": 1, "note": "Budget in Q1"})
    )
    assert "Budget in Q1" in noted
    handed = card_text(
        await dialog.press(
            CAROL,
            "opportunity.edit",
            {
                "number": 1,
                "amount": "2000",
                "currency": "CHF",
                "close_date": "2027-01-31",
                "probability": "40",
                "next_step": "Call back",
                "owner": ERIN.user_id,
            },
        )
    )
    assert "Carol handed it from Carol to Erin" in handed
    # Carol, a member, no longer sees it; Erin does, in German; Alice, the admin, sees all.
    assert "That was not found." in card_text(await dialog.say(CAROL, "opportunity 1"))
    assert "Chance" in card_text(await dialog.say(ERIN, "opportunities"))
    assert "Renewal" in card_text(await dialog.say(ALICE, "opportunities all"))


async def test_members_see_their_own_and_other_tenants_nothing(dialog: Dialog) -> None:
    await dialog.say(ALICE, "new opportunity Alices deal")
    await dialog.say(CAROL, "new opportunity Carols deal")
    assert "Alices deal" not in card_text(await dialog.say(CAROL, "opportunities all"))
    assert "That was not found." in card_text(await dialog.say(CAROL, "opportunity 1"))
    both = card_text(await dialog.say(ALICE, "opportunities all"))
    assert "Alices deal" in both and "Carols deal" in both
    pipeline = card_text(await dialog.say(CAROL, "pipeline"))
    assert "1 · €0.00" in pipeline
    assert "That was not found." in card_text(await dialog.say(DAVE, "opportunity 2"))
    assert "No opportunities here." in card_text(await dialog.say(DAVE, "opportunities all"))


async def test_at_the_quota_the_form_comes_back_and_everything_else_works(
    dialog: Dialog,
) -> None:
    for i in range(10):  # the free plan's opportunities
        await dialog.say(CAROL, f"new opportunity Deal {i + 1}")
    card = await dialog.press(
        CAROL, "opportunity.create", {"name": "One too many", "amount": "99.99", "account": "New"}
    )
    assert "quota" in card_text(card).lower()
    assert values(card)["name"] == "One too many" and values(card)["amount"] == "99.99"
    assert "No accounts here." in card_text(await dialog.say(CAROL, "accounts"))
    moved = card_text(await dialog.press(CAROL, "opportunity.advance", {"number": 10}))
    assert "Opportunity #10 was updated." in moved
    await dialog.verify(
        CAROL,
        [("opportunity 10", ["Qualified"]), ("pipeline", ["Qualified (25%)"]), ("usage", ["10"])],
    )


def test_money_is_stored_as_numeric() -> None:
    column = OpportunityRow.__table__.c.amount  # type: ignore[attr-defined]
    assert (column.type.precision, column.type.scale) == (14, 2)
