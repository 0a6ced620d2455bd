"""Whole conversations at the product's own protocol: a line typed (or a button pressed) and the
card that comes back, through the app registry and the dispatcher, with no Bot Framework type
in sight. They read like the help text, and survive a change of Bot Framework SDK."""

from __future__ import annotations

from datetime import timedelta

from bot.services.identity import Identity
from cards.common import Card
from tests.support.cards import action, card_text, inputs, submission, verbs
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


def primary_titles(card: Card) -> list[str]:
    return [a["title"] for a in card.get("actions", []) if a.get("mode") != "secondary"]


async def test_in_a_channel_each_person_sees_the_actions_of_their_role(dialog: Dialog) -> None:
    await dialog.say(ALICE, "tickets")  # Alice is the first user: admin
    await dialog.say(BOB, "tickets")
    await dialog.say(ALICE, "role @Bob agent", (BOB,))
    posted = await dialog.in_channel(CAROL, "new ticket Projector flickers")
    # What the channel reads: the ticket, no one's buttons, and one Refresh.
    assert "#1 Projector flickers" in card_text(posted)
    assert set(verbs(posted)) == {"ticket.refresh"} and len(posted["actions"]) == 1
    assert posted["refresh"]["action"]["verb"] == "ticket.refresh"
    assert {CAROL.user_id, ALICE.user_id, BOB.user_id} <= set(posted["refresh"]["userIds"])

    bobs, carols = await dialog.refresh(BOB, posted), await dialog.refresh(CAROL, posted)
    assert {"ticket.assign_me", "ticket.status", "ticket.assign"} <= set(verbs(bobs))
    assert "ticket.status" not in verbs(carols) and "ticket.assign" not in verbs(carols)
    assert {"ticket.comment", "ticket.close", "ticket.priority"} <= set(verbs(carols))
    assert primary_titles(bobs) == ["Comment", "Change", "Assign to me"]
    assert primary_titles(carols) == ["Comment", "Priority", "Close"]
    for own in (bobs, carols):  # still live for the next change
        assert own["refresh"]["action"]["verb"] == "ticket.refresh"
        assert "As of " in card_text(own)


async def test_a_user_of_another_tenant_gets_nothing_from_a_refresh(dialog: Dialog) -> None:
    posted = await dialog.in_channel(CAROL, "new ticket Badge reader broken")
    seen = await dialog.refresh(DAVE, posted)
    assert "That was not found." in card_text(seen)
    assert "Badge reader" not in str(seen) and not verbs(seen)


async def test_a_stale_card_shows_the_ticket_as_it_is_now(dialog: Dialog) -> None:
    await dialog.say(ALICE, "tickets")
    await dialog.say(BOB, "tickets")
    await dialog.say(ALICE, "role @Bob agent", (BOB,))
    await dialog.say(CAROL, "new ticket Wi-Fi slow")
    bobs, carols = await dialog.say(BOB, "ticket 1"), await dialog.say(CAROL, "ticket 1")
    dialog.clock.advance(timedelta(minutes=5))
    await dialog.press(CAROL, "ticket.close", action(carols, "ticket.close")["data"])
    dialog.clock.advance(timedelta(minutes=5))
    # Bob's card still offers the moves of an open ticket.
    pressed = await dialog.press(
        BOB, "ticket.status", submission(bobs, "ticket.status", status="in_progress")
    )
    shown = card_text(pressed)
    assert "Ticket #1 has changed since this card was sent: this is how it is now." in shown
    statuses = [c["value"] for c in inputs(pressed)["status"]["choices"]]
    assert "Closed" in shown and statuses == ["open"]  # what a closed ticket can become
    assert "Choose one of" not in shown and "cannot" not in shown.lower()


async def test_a_team_lead_runs_a_checklist_from_a_template(dialog: Dialog) -> None:
    await dialog.say(ALICE, "tickets")  # Alice is the first user: admin
    await dialog.say(CAROL, "tickets")
    made = card_text(
        await dialog.press(
            ALICE, "template.create", {"title": "Opening the shop", "items": "Lights\n* Till"}
        )
    )
    assert "Template T1 was created." in made
    await dialog.verify(
        ALICE,
        [
            ("templates", ["Opening the shop", "2 items"]),
            ("template 1", ["Till (required)"]),
            ("new checklist opening", ["Start a checklist", "Carol"]),
        ],
    )
    started = await dialog.press(
        ALICE, "checklist.start", {"title": "Monday", "template": "1", "assignee": CAROL.user_id}
    )
    assert "Checklist #1 was started." in card_text(started)
    checked = await dialog.press(
        CAROL, "checklist.check", {"number": 1, "position": 2, "checked": True}
    )
    assert "1/2 done" in card_text(checked)
    await dialog.verify(
        CAROL,
        [
            ("checklists", ["#1", "1/2"]),
            ("checklist 1", ["1/2 done", "checked by Carol"]),
            ("checklist ²", ["Which checklist?"]),
            ("checklists bogus", ["I do not know the filter"]),
        ],
    )
    done = await dialog.press(CAROL, "checklist.submit", {"number": 1})
    assert "Checklist #1 is submitted." in card_text(done)
    assert "That was not found." in card_text(await dialog.say(DAVE, "checklist 1"))
