"""The subscription as an organization meets it in Teams, over real HTTP: the free quota runs
out, the "quota reached" card keeps what was typed, an admin upgrades with a prorated
confirmation, the statement shows the days on each plan, and the 72-hour cancellation.

The clock starts on Mon 2026-11-02 09:00 UTC, the first activity of each tenant, so the first
monthly period runs Nov 2 .. Dec 2 (30 days).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from storage.db import Database
from tests.e2e.conftest import Bot
from tests.support import teams
from tests.support.billing_db import refund_amounts, ticket_numbers
from tests.support.cards import action, card_text, inputs, verbs
from tests.support.connector import Posted

CONTOSO = "tenant-e2e-contoso"
FABRIKAM = "tenant-e2e-fabrikam"
ADA = teams.TeamsUser(CONTOSO, "29:ada", "Ada Lovelace", "aad-ada")  # first user: admin
BOB = teams.TeamsUser(CONTOSO, "29:bob", "Bob Member", "aad-bob")
CY = teams.TeamsUser(FABRIKAM, "29:cy", "Cy Fabrikam", "aad-cy")

PERIOD_START = date(2026, 11, 2)
PERIOD_END = date(2026, 12, 2)
PERIOD_DAYS = (PERIOD_END - PERIOD_START).days  # 30
ALL_PLANS = (
    "free, standard, premium, professional, standard-annual, premium-annual, professional-annual"
)


def prorated(price: str, days: int) -> Decimal:
    return (Decimal(price) * days / PERIOD_DAYS).quantize(Decimal("0.01"), ROUND_HALF_UP)


def euros(amount: Decimal) -> str:
    return f"€{amount:.2f}"


def facts(card: dict[str, Any]) -> list[tuple[str, str]]:
    """The (title, value) rows of every FactSet of the card, in order."""
    found: list[tuple[str, str]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "FactSet":
                found.extend((f["title"], f["value"]) for f in node["facts"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card)
    return found


def only_card(reply: Posted) -> dict[str, Any]:
    assert len(reply.cards) == 1, reply.activity
    return reply.cards[0]


async def create(bot: Bot, user: teams.TeamsUser, title: str) -> Posted:
    return await bot.say(user, f"new ticket {title}")


async def switch_plan(bot: Bot, plan: str) -> dict[str, Any]:
    """What an admin does: ask for the change, read the card, press its confirm button."""
    confirmation = only_card(await bot.say(ADA, f"change plan {plan}"))
    return await bot.press(ADA, "plan.change", action(confirmation, "plan.change")["data"])


async def test_free_quota_runs_out_then_an_admin_upgrades_and_creating_works_again(
    bot: Bot, any_db: Database
) -> None:
    # The other organization shows up the same day; it is watched throughout.
    cy_usage = await bot.say(CY, "usage")
    assert "Tickets: 0 of 25 (0%)" in cy_usage.text

    for n in range(1, 26):
        reply = await create(bot, ADA, f"Laptop {n} will not boot")
        assert f"Ticket #{n} was created." in reply.text

    typed = "Projector in room 4 is dead"
    refused = await create(bot, ADA, typed)

    card = only_card(refused)
    text = refused.text
    assert "used all 25 tickets" in text
    assert "(25 of 25)" in text
    assert "renews on Dec 2, 2026" in text
    assert "Free plan" in text
    # The plans above, with their ticket quotas.
    assert "**Standard**: 250 tickets, €19.00 per month" in text
    assert "**Premium**: 1,000 tickets" in text
    assert "**Professional**: 5,000 tickets" in text
    assert "plans" in verbs(card)
    # Nothing typed is lost: the form comes back with the title, ready to send again.
    assert inputs(card)["title"]["value"] == typed
    assert "ticket.create" in verbs(card)
    assert "Ticket #26" not in text
    assert await ticket_numbers(any_db, CONTOSO) == list(range(1, 26))

    # Everything but creating keeps working at the limit.
    shown = await bot.say(ADA, "ticket 1")
    assert "#1 Laptop 1 will not boot" in shown.text
    commented = await bot.press(
        ADA, "ticket.comment", {"number": 1, "comment": "Tried another charger"}
    )
    assert "Ticket #1 was updated." in card_text(commented)
    assert "Tried another charger" in card_text(commented)
    closed = await bot.press(ADA, "ticket.close", {"number": 2})
    assert "Ticket #2 was updated." in card_text(closed)
    listed = await bot.say(ADA, "tickets all")
    assert "Laptop 25 will not boot" in listed.text
    usage = await bot.say(ADA, "usage")
    assert "Tickets: 25 of 25 (100%)" in usage.text

    # The other organization is untouched by Contoso's exhausted quota.
    cy_created = await create(bot, CY, "Fabrikam printer jam")
    assert "Ticket #1 was created." in cy_created.text

    # Ten days later the admin buys Standard: the subscription starts that day.
    bot.clock.advance(timedelta(days=10))
    confirmation = only_card(await bot.say(ADA, "change plan standard"))
    confirm_text = card_text(confirmation)
    assert "Change from Free to Standard?" in confirm_text
    assert "A new monthly billing period starts on Nov 12, 2026" in confirm_text
    assert facts(confirmation) == [("Standard (30 days)", "€19.00")]
    assert "Tickets: 250 (used so far: 0)" in confirm_text
    assert action(confirmation, "plan.change")["data"]["plan"] == "standard"
    # Nothing changes before the button is pressed.
    assert "Tickets: 25 of 25" in (await bot.say(ADA, "usage")).text

    done = await bot.press(ADA, "plan.change", action(confirmation, "plan.change")["data"])
    assert "Your organization is now on Standard" in card_text(done)

    again = await create(bot, ADA, typed)
    assert "Ticket #26 was created." in again.text
    assert "Tickets: 1 of 250" in (await bot.say(ADA, "usage")).text

    statement = only_card(await bot.say(ADA, "billing"))
    statement_text = card_text(statement)
    assert "Current period: Nov 12, 2026 to Dec 11, 2026" in statement_text
    assert facts(statement) == [("Standard, monthly (30 days)", "€19.00")]
    # The projection for the whole period and what one day of it (today) has cost so far.
    assert "Projected total for the whole period: €19.00" in statement_text
    assert "Accrued so far (through today, UTC): €0.63" in statement_text

    # Fabrikam: still on Free, its own usage, its own period.
    cy_after = await bot.say(CY, "usage")
    assert "Plan: **Free**" in cy_after.text
    assert "Tickets: 1 of 25 (4%)" in cy_after.text
    assert await ticket_numbers(any_db, FABRIKAM) == [1]


async def test_members_are_told_to_ask_an_admin(bot: Bot) -> None:
    await bot.say(ADA, "usage")  # Ada is the organization's first user: admin
    only_admins = "Only admins can do that. Admins of your organization: Ada Lovelace."

    for command in ("change plan premium", "cancel subscription", "billing", "billing history"):
        reply = await bot.say(BOB, command)
        assert only_admins in reply.text, command
    pressed = await bot.press(BOB, "plan.change", {"plan": "premium"})
    assert only_admins in card_text(pressed)

    assert "Plan: **Free**" in (await bot.say(BOB, "usage")).text
    plans = only_card(await bot.say(BOB, "plans"))
    assert "plan.confirm" not in verbs(plans)
    assert "Ask an admin of your organization to change the plan." in card_text(plans)


async def test_an_unknown_plan_lists_the_valid_ones(bot: Bot) -> None:
    reply = await bot.say(ADA, "change plan gold")

    assert f"There is no plan “gold”. Plans: {ALL_PLANS}." in reply.text
    assert "Plan: **Free**" in (await bot.say(ADA, "usage")).text


async def test_the_same_plan_and_a_change_of_term_are_refused(bot: Bot) -> None:
    assert "Your organization is already on Free." in (await bot.say(ADA, "change plan free")).text
    await switch_plan(bot, "standard")

    annual = await bot.say(ADA, "change plan standard-annual")
    assert (
        "Plans change within their billing term: your organization is on the monthly term and "
        "that plan is annual. Choose a monthly plan."
    ) in annual.text
    pressed = await bot.press(ADA, "plan.change", {"plan": "premium-annual"})
    assert "Choose a monthly plan." in card_text(pressed)
    assert (
        "Your organization is already on Standard."
        in (await bot.say(ADA, "change plan standard")).text
    )
    assert "Plan: **Standard** (monthly)" in (await bot.say(ADA, "usage")).text


async def test_cancelling_within_72_hours_refunds_in_full(bot: Bot, any_db: Database) -> None:
    done = await switch_plan(bot, "standard")  # bought Nov 2, 09:00
    assert "Your organization is now on Standard" in card_text(done)
    for n in range(1, 4):
        await create(bot, ADA, f"Request {n}")
    bot.clock.advance(timedelta(days=2))  # Nov 4, 09:00: inside the window
    standard_2 = prorated("19.00", 3)  # Nov 2, 3 and 4: in force on each of them

    confirmation = only_card(await bot.say(ADA, "cancel subscription"))
    text = card_text(confirmation)
    assert "Cancel Standard?" in text
    assert f"cancelling refunds {euros(standard_2)} in full" in text
    assert "The window closes Nov 5, 2026 9:00 AM UTC." in text
    assert "subscription.cancel" in verbs(confirmation)

    cancelled = await bot.press(ADA, "subscription.cancel")

    assert (
        f"Standard was cancelled and {euros(standard_2)} refunded. Your organization is on Free"
    ) in card_text(cancelled)
    assert "Plan: **Free**" in (await bot.say(ADA, "usage")).text
    assert await refund_amounts(any_db, CONTOSO) == [standard_2]
    assert await ticket_numbers(any_db, CONTOSO) == [1, 2, 3]  # data kept
    statement = only_card(await bot.say(ADA, "billing"))
    rows = facts(statement)
    assert rows[:2] == [
        ("Standard, monthly (3 days, cancelled within 72 hours)", euros(standard_2)),
        ("Free, monthly (27 days)", "€0.00"),
    ]
    assert len(rows) == 3
    assert rows[2][0].startswith("Refund") and rows[2][1] == f"-{euros(standard_2)}"
    assert "Projected total for the whole period: €0.00" in card_text(statement)
    assert "there is no purchase to cancel" in (await bot.say(ADA, "cancel subscription")).text


async def test_cancelling_after_72_hours_is_refused_with_the_date_the_window_closed(
    bot: Bot, any_db: Database
) -> None:
    await switch_plan(bot, "premium")  # bought Nov 2, 09:00
    bot.clock.set(datetime(2026, 11, 5, 9, 1, tzinfo=UTC))

    refused = await bot.say(ADA, "cancel subscription")
    closed = (
        "A purchase can be cancelled within 72 hours; that window closed Nov 5, 2026 9:00 AM UTC."
    )
    assert closed in refused.text
    pressed = await bot.press(ADA, "subscription.cancel")
    assert closed in card_text(pressed)

    assert "Plan: **Premium**" in (await bot.say(ADA, "usage")).text
    assert await refund_amounts(any_db, CONTOSO) == []


async def test_billing_history_shows_each_period(bot: Bot) -> None:
    await bot.say(ADA, "usage")
    bot.clock.advance(timedelta(days=10))
    await switch_plan(bot, "standard")  # Nov 12: the subscription starts
    bot.clock.set(datetime(2026, 12, 20, 9, 0, tzinfo=UTC))

    statement = only_card(await bot.say(ADA, "billing"))
    assert "billing" in verbs(statement)  # the history button
    history = await bot.press(ADA, "billing", action(statement, "billing")["data"])

    text = card_text(history)
    current = text.index("Current period: Dec 12, 2026 to Jan 11, 2027")
    past = text.index("Period Nov 12, 2026 to Dec 11, 2026")
    free = text.index("Period Nov 2, 2026 to Dec 1, 2026")
    assert current < past < free
    assert facts(history) == [
        ("Standard, monthly (31 days)", "€19.00"),
        ("Standard, monthly (30 days)", "€19.00"),
        ("Free, monthly (11 days)", "€0.00"),
    ]


async def test_a_same_day_detour_through_premium_is_charged_for_that_day(bot: Bot) -> None:
    # Defect 1: free -> premium -> free on one day showed only "Free, 0.00".
    for n in range(1, 26):
        await create(bot, ADA, f"Request {n}")
    await switch_plan(bot, "premium")
    for n in range(26, 31):
        assert f"Ticket #{n} was created." in (await create(bot, ADA, f"Request {n}")).text
    back = await switch_plan(bot, "free")
    assert "Your organization is now on Free" in card_text(back)

    # One premium day in the quota too: floor((1,000 x 1 + 25 x 29) / 30) = 57.
    assert "Tickets: 30 of 57" in (await bot.say(ADA, "usage")).text
    statement = only_card(await bot.say(ADA, "billing"))
    assert facts(statement) == [
        ("Premium, monthly (1 day)", euros(prorated("49.00", 1))),
        ("Free, monthly (29 days)", "€0.00"),
    ]
    assert "Projected total for the whole period: €1.63" in card_text(statement)


async def test_bought_and_cancelled_the_same_day_refunds_the_charge_and_nets_to_zero(
    bot: Bot, any_db: Database
) -> None:
    # Defect 4: "refunds €0.00 in full", and no charge or refund line afterwards.
    await switch_plan(bot, "premium")  # Nov 2, 09:00
    before = only_card(await bot.say(ADA, "billing"))
    assert facts(before) == [("Premium, monthly (30 days)", "€49.00")]
    assert "Accrued so far (through today, UTC): €1.63" in card_text(before)
    bot.clock.advance(timedelta(hours=6))

    confirmation = only_card(await bot.say(ADA, "cancel subscription"))
    assert "cancelling refunds €1.63 in full" in card_text(confirmation)
    assert "The window closes Nov 5, 2026 9:00 AM UTC." in card_text(confirmation)
    cancelled = await bot.press(ADA, "subscription.cancel")
    assert "Premium was cancelled and €1.63 refunded." in card_text(cancelled)

    assert await refund_amounts(any_db, CONTOSO) == [Decimal("1.63")]
    after = only_card(await bot.say(ADA, "billing"))
    rows = facts(after)
    assert rows == [
        ("Premium, monthly (1 day, cancelled within 72 hours)", "€1.63"),
        ("Free, monthly (29 days)", "€0.00"),
        ("Refund", "-€1.63"),
    ]
    assert "Projected total for the whole period: €0.00" in card_text(after)
    # The refund appears once across all statements.
    history = await bot.press(ADA, "billing", {"history": True})
    assert [row for row in facts(history) if row[0] == "Refund"] == [("Refund", "-€1.63")]


async def test_a_downgrade_that_usage_does_not_fit_is_scheduled_and_can_be_called_off(
    bot: Bot,
) -> None:
    await switch_plan(bot, "standard")  # Nov 2
    for n in range(1, 61):
        await create(bot, ADA, f"Request {n}")
    bot.clock.advance(timedelta(days=3))  # Nov 5: standard in force Nov 2..5

    confirmation = only_card(await bot.say(ADA, "change plan free"))
    text = card_text(confirmation)
    assert "scheduled for the renewal on Dec 2, 2026 (00:00 UTC)" in text
    # floor((250 x 4 + 25 x 26) / 30) = 55
    assert "Tickets: used 60; Free would allow 55 this period" in text
    assert "Projected for the whole period: €19.00" in text
    done = await bot.press(ADA, "plan.change", action(confirmation, "plan.change")["data"])
    assert "Free is scheduled from Dec 2, 2026 (UTC)" in card_text(done)

    usage = await bot.say(ADA, "usage")
    assert "Plan: **Standard**" in usage.text
    assert "Scheduled: **Free** from Dec 2, 2026 (00:00 UTC)" in usage.text
    assert "plan.call_off" in verbs(only_card(usage))
    assert "Scheduled: **Free** from Dec 2, 2026" in (await bot.say(ADA, "billing")).text
    assert "Only admins can do that." in card_text(await bot.press(BOB, "plan.call_off"))

    called_off = await bot.press(ADA, "plan.call_off")
    assert "Change called off" in card_text(called_off)
    assert "Scheduled:" not in (await bot.say(ADA, "usage")).text
    bot.clock.set(datetime(2026, 12, 2, 9, 0, tzinfo=UTC))
    assert "Plan: **Standard**" in (await bot.say(ADA, "usage")).text


async def test_an_annual_plan_cannot_fall_to_free_mid_term_but_can_end_with_its_term(
    bot: Bot,
) -> None:
    await switch_plan(bot, "premium-annual")  # Nov 2, 2026
    bot.clock.advance(timedelta(days=4))  # past the cancellation window

    refused = await bot.say(ADA, "change plan free")
    assert "An annual term ends only at its end" in refused.text
    assert "do not renew" in refused.text
    assert "Plan: **Premium** (annual)" in (await bot.say(ADA, "usage")).text

    confirmation = only_card(await bot.say(ADA, "do not renew"))
    assert "from Nov 2, 2027 (00:00 UTC) your organization is on Free" in card_text(confirmation)
    done = await bot.press(ADA, "subscription.end")
    assert "Premium will not renew" in card_text(done)
    assert "Scheduled: **Free** from Nov 2, 2027 (00:00 UTC)" in (await bot.say(ADA, "usage")).text

    bot.clock.set(datetime(2027, 11, 2, 0, 0, tzinfo=UTC))
    assert "Plan: **Free** (monthly)" in (await bot.say(ADA, "usage")).text
