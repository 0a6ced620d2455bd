"""Whole conversations at the product's own protocol: a line typed (or a button pressed) and the
card that comes back, through the app registry and the dispatcher, with no Bot Framework type
in sight. They read like the help text, and survive a change of Bot Framework SDK."""

from __future__ import annotations

from bot.services.identity import Identity
from tests.support.cards import card_text, verbs
from tests.support.dialogs import Dialog

ALICE = Identity("tenant-a", "29:alice", "Alice", locale="en-US")
BOB = Identity("tenant-a", "29:bob", "Bob", locale="en-US")
CAROL = Identity("tenant-a", "29:carol", "Carol", locale="en-US")
DAVE = Identity("tenant-b", "29:dave", "Dave", locale="en-US")


async def test_a_member_opens_a_ticket_and_reads_it_back(dialog: Dialog) -> None:
    await dialog.verify(
        ALICE,
        [("help", ["What I can do", "new ticket <title>", "usage", "billing history"])],
    )
    await dialog.verify(
        CAROL,
        [
            ("new ticket Printer on fire", ["Ticket #1 was created.", "#1 Printer on fire"]),
            ("tickets", ["#1", "Printer on fire", "Page 1 of 1, 1 tickets"]),
            ("ticket #1", ["#1 Printer on fire", "Carol"]),
            ("ticket ²", ["Which ticket? For example: **ticket 12**"]),
            ("tickts", ["Did you mean **tickets**?"]),
        ],
    )


async def test_an_agent_works_the_ticket_and_a_stale_number_is_not_found(dialog: Dialog) -> None:
    await dialog.say(ALICE, "tickets")  # Alice is the first user: admin
    await dialog.say(BOB, "tickets")
    made = card_text(await dialog.say(ALICE, "role @Bob agent", (BOB,)))
    assert "Bob is now agent." in made
    await dialog.say(CAROL, "new ticket VPN drops")
    assigned = card_text(await dialog.press(BOB, "ticket.assign_me", {"number": 1}))
    assert "Ticket #1 was updated." in assigned and "Bob assigned it to Bob" in assigned
    refused = card_text(await dialog.press(BOB, "ticket.status", {"number": 1, "status": "done"}))
    assert "Choose one of:" in refused and "#1 VPN drops" in refused
    assert "That was not found." in card_text(
        await dialog.press(DAVE, "ticket.show", {"number": 1})
    )


async def test_a_member_sees_only_what_they_may_use(dialog: Dialog) -> None:
    await dialog.say(ALICE, "tickets")
    card = await dialog.say(CAROL, "new ticket Scanner offline")
    assert "ticket.assign_me" not in verbs(card)
    assert "ticket.close" in verbs(card)
    refused = card_text(await dialog.say(CAROL, "role @Carol admin", (CAROL,)))
    assert "Only admins can do that." in refused


async def test_a_refused_create_comes_back_with_the_input_kept(dialog: Dialog) -> None:
    card = await dialog.press(
        CAROL, "ticket.create", {"title": "", "description": "Tray 2 jams", "due": "1999-01-01"}
    )
    assert "This field is required." in card_text(card)
    inputs = {e["id"]: e.get("value") for e in card["body"] if e.get("id")}
    assert inputs["description"] == "Tray 2 jams"
    assert "ticket.create" in verbs(card)


async def test_at_the_quota_the_form_comes_back_and_everything_else_works(
    dialog: Dialog,
) -> None:
    for i in range(25):  # the free plan's tickets
        await dialog.say(CAROL, f"new ticket Ticket {i + 1}")
    card = await dialog.say(CAROL, "new ticket One too many")
    text = card_text(card)
    assert "quota" in text.lower() and "One too many" in str(card)
    assert "Ticket #25" not in text
    await dialog.verify(CAROL, [("ticket 25", ["#25 Ticket 25"]), ("usage", ["25"])])


async def test_a_forged_verb_or_payload_is_refused_plainly(dialog: Dialog) -> None:
    turn = dialog.turn(CAROL)
    unreadable = "That button's data could not be read. Nothing was changed."
    for verb, data in (("ticket.delete_all", {}), ("help", "not a dict"), (None, {})):
        assert unreadable in card_text(await dialog.dispatcher.dispatch(turn, verb, data))
    huge = card_text(await dialog.dispatcher.dispatch(turn, "help", {"x": "y" * 20_000}))
    assert "That is more than I can take at once" in huge
