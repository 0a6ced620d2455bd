"""What the bot sends on its own is in the recipient's language where the bot knows it."""

from __future__ import annotations

from tests.e2e.conftest import Bot
from tests.support import teams
from tests.support.teams import Conversation, TeamsUser

ANNA = TeamsUser("tenant-a", "29:anna", "Anna Admin", "aad-anna", locale="de-DE")
BOB = TeamsUser("tenant-a", "29:bob", "Bob Agent", "aad-bob", locale="en-US")
CHANNEL = Conversation("19:general@thread.tacv2", "channel", "team-1")


async def test_an_admin_reads_the_warning_in_her_language_whoever_crossed_the_line(
    bot: Bot,
) -> None:
    await bot.post(teams.installed(ANNA, Conversation(ANNA.personal_chat), bot.connector.url))
    await bot.post(teams.installed(ANNA, CHANNEL, bot.connector.url))
    for index in range(20):  # Bob, writing in English, takes the tenant to 80 %
        await bot.say(BOB, f"new ticket Printer {index}")
    bot.connector.clear()

    await bot.sender.drain()

    to_anna = bot.connector.to(ANNA.personal_chat)
    assert len(to_anna) == 1
    assert "20 von 25 Tickets genutzt (80 %)" in to_anna[0].text
    # The channel has no single reader: it gets the language of the turn that crossed the line.
    to_channel = bot.connector.to(CHANNEL.id)
    assert len(to_channel) == 1
    assert "used 20 of its 25 tickets" in to_channel[0].text


async def test_a_requester_is_told_in_his_language_not_the_agents(bot: Bot) -> None:
    english_admin = TeamsUser(ANNA.tenant_id, "29:alice", "Alice Admin", "aad-alice", "en-US")
    await bot.post(
        teams.installed(english_admin, Conversation(english_admin.personal_chat), bot.connector.url)
    )
    german_bob = TeamsUser(BOB.tenant_id, BOB.user_id, BOB.name, BOB.aad_object_id, "de-DE")
    await bot.say(german_bob, "new ticket Drucker klemmt")

    await bot.press(english_admin, "ticket.comment", {"number": 1, "comment": "Looking into it"})
    await bot.sender.drain()

    notice = bot.connector.to(BOB.personal_chat)[-1]
    assert "Alice Admin hat Ihr Ticket #1 kommentiert" in notice.text


async def test_a_channel_hears_the_organizations_language_once_an_admin_set_it(
    bot: Bot,
) -> None:
    await bot.post(teams.installed(ANNA, Conversation(ANNA.personal_chat), bot.connector.url))
    await bot.post(teams.installed(ANNA, CHANNEL, bot.connector.url))
    assert (
        "Ab jetzt schreibe ich in Kanälen und Gruppenchats auf: de."
        in (await bot.say(ANNA, "sprache de")).text
    )
    refused = await bot.say(BOB, "language en")
    assert "Only admins can do that." in refused.text
    for index in range(20):  # Bob, writing in English, takes the tenant to 80 %
        await bot.say(BOB, f"new ticket Printer {index}")
    bot.connector.clear()

    await bot.sender.drain()

    to_channel = bot.connector.to(CHANNEL.id)
    assert len(to_channel) == 1
    assert "20 von 25 Tickets genutzt (80\xa0%)" in to_channel[0].text
    # Bob keeps his own language.
    assert "Ticket #21 was created." in (await bot.say(BOB, "new ticket One more")).text


ERIK = TeamsUser("tenant-g", "29:erik", "Erik Eigner", "aad-erik", locale="de-DE")
EMMA = TeamsUser("tenant-g", "29:emma", "Emma Smith", "aad-emma", locale="en-US")


async def test_a_german_team_from_install_to_a_refused_create_at_the_quota(bot: Bot) -> None:
    status, _ = await bot.post(
        teams.installed(ERIK, Conversation(ERIK.personal_chat), bot.connector.url)
    )
    assert status == 200
    welcome = bot.connector.to(ERIK.personal_chat)[-1].text
    assert "Willkommen" in welcome

    hilfe = (await bot.say(ERIK, "hilfe")).text
    assert "neues ticket <titel>" in hilfe and "verbrauch" in hilfe and "abo kündigen" in hilfe
    created = (await bot.say(ERIK, "neues ticket Drucker klemmt")).text
    assert "Ticket #1 wurde erstellt." in created
    assert "02.11.2026" in created  # a German date
    assert "#1" in (await bot.say(ERIK, "tickets offen")).text

    for index in range(2, 26):
        await bot.say(ERIK, f"neues ticket Drucker {index}")
    verbrauch = (await bot.say(ERIK, "verbrauch")).text
    assert "Tickets: 25 von 25 (100\xa0%)" in verbrauch
    assert "Kontingent" in verbrauch and "Abrechnungszeitraum" in verbrauch
    tarife = (await bot.say(ERIK, "tarife")).text
    assert "19,00\xa0€" in tarife  # Standard, as German writes money

    refused = await bot.say(ERIK, "neues ticket Eins zu viel")
    assert "hat das Kontingent von 25 Tickets für diesen Abrechnungszeitraum" in refused.text
    assert "(25 von 25)" in refused.text and "am 02.12.2026 (UTC)" in refused.text
    assert "Eins zu viel" in str(refused.cards[0])  # what was typed comes back

    # An English colleague in the same organization reads English throughout.
    emma = (await bot.say(EMMA, "usage")).text
    assert "Tickets: 25 of 25 (100%)" in emma
    assert "€19.00" in (await bot.say(EMMA, "plans")).text
    refused_en = (await bot.say(EMMA, "new ticket One too many")).text
    assert "Your organization has used all 25 tickets of this period" in refused_en
    assert "renews on Dec 2, 2026 (UTC)" in refused_en
