"""The landing page over real HTTP, as a browser uses it (redirects, cookies, the form): the
sign-in at the fake Entra issuer, Activate, the link that adds the app in Teams, and the
purchaser who is an admin of the organization right after (already a user) or at their first
message. The clock starts on Mon 2026-11-02 09:00 UTC."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.domain.clock import FixedClock
from bot.settings import Settings
from storage.db import Database
from tests.support import teams
from tests.support.connector import FakeConnector
from tests.support.fake_issuer import FakeIssuer
from tests.support.fake_marketplace import FakeMarketplace
from tests.support.marketplace import (
    TEAMS_APP_ID,
    LandingVisitor,
    MarketBot,
    start_market_bot,
    teams_link,
)

CONTOSO = "tenant-landing-http-contoso"
ADA = teams.TeamsUser(CONTOSO, "29:ada", "Ada Lovelace", "aad-ada")  # the purchaser
BOB = teams.TeamsUser(CONTOSO, "29:bob", "Bob Builder", "aad-bob")
ONLY_ADMINS = "Only admins can do that"
BOT_APP_ID = "0b0b0b0b-1111-4222-8333-444455556666"


def sign_in_as(bot: MarketBot, user: teams.TeamsUser) -> None:
    bot.issuer.user = {
        "oid": user.aad_object_id,
        "tid": user.tenant_id,
        "name": user.name,
        "preferred_username": "ada@contoso.example",
    }


async def activate_on_the_page(bot: MarketBot, token: str, language: str = "en") -> str:
    async with LandingVisitor(bot, language) as visitor:
        status, page = await visitor.open(token)
        assert status == 200 and 'id="activate"' in page, page
        assert teams_link(page) is None  # nothing to add before it is active
        status, page = await visitor.activate()
        assert status == 200, page
        return page


async def test_after_activation_the_page_links_to_the_apps_install_dialog_in_teams(
    market_bot: MarketBot,
) -> None:
    sign_in_as(market_bot, ADA)
    _, token = market_bot.market.add_subscription(CONTOSO, "premium-monthly", purchaser_oid="x")
    page = await activate_on_the_page(market_bot, token)
    assert "Your subscription is active" in page
    expected = f"https://teams.microsoft.com/l/app/{TEAMS_APP_ID}?tenantId={CONTOSO}"
    assert teams_link(page) == expected
    assert "Open TeamsWork in Microsoft Teams" in page
    # Back with the same link: already active, and the same way into Teams.
    async with LandingVisitor(market_bot) as visitor:
        _, again = await visitor.open(token)
    assert "already active" in again and teams_link(again) == expected


async def test_the_link_in_german(market_bot: MarketBot) -> None:
    sign_in_as(market_bot, ADA)
    _, token = market_bot.market.add_subscription(CONTOSO, "standard-monthly")
    page = await activate_on_the_page(market_bot, token, "de-DE,de;q=0.9")
    assert "Ihr Abonnement ist aktiv" in page
    assert "TeamsWork in Microsoft Teams öffnen" in page
    assert (
        teams_link(page) == f"https://teams.microsoft.com/l/app/{TEAMS_APP_ID}?tenantId={CONTOSO}"
    )


@pytest.fixture
async def bot_with_app_ids(
    request: pytest.FixtureRequest,
    any_db: Database,
    connector: FakeConnector,
    clock: FixedClock,
    issuer: FakeIssuer,
    market: FakeMarketplace,
) -> AsyncIterator[MarketBot]:
    app_id, teams_app_id = request.param
    running = await start_market_bot(
        any_db,
        connector,
        clock,
        issuer,
        market,
        app_id=app_id,
        app_password="secret" if app_id else "",
        teams_app_id=teams_app_id,
    )
    yield running
    await running.client.close()


@pytest.mark.parametrize(
    ("bot_with_app_ids", "link"),
    [
        ((BOT_APP_ID, ""), f"https://teams.microsoft.com/l/app/{BOT_APP_ID}?tenantId={CONTOSO}"),
        (
            (BOT_APP_ID, TEAMS_APP_ID),
            f"https://teams.microsoft.com/l/app/{TEAMS_APP_ID}?tenantId={CONTOSO}",
        ),
        (("", ""), None),
    ],
    ids=["the manifest's id is the bot's", "the store's id", "no id known"],
    indirect=["bot_with_app_ids"],
)
async def test_the_links_app_id_is_teams_app_id_else_the_bots_app_id(
    bot_with_app_ids: MarketBot, link: str | None
) -> None:
    sign_in_as(bot_with_app_ids, ADA)
    _, token = bot_with_app_ids.market.add_subscription(CONTOSO, "standard-monthly")
    page = await activate_on_the_page(bot_with_app_ids, token)
    assert "Your subscription is active" in page
    assert teams_link(page) == link


def test_the_settings_read_teams_app_id_and_fall_back_to_microsoft_app_id() -> None:
    assert Settings.from_env({"TEAMS_APP_ID": f" {TEAMS_APP_ID} "}).install_app_id == TEAMS_APP_ID
    assert Settings.from_env({"MicrosoftAppId": BOT_APP_ID}).install_app_id == BOT_APP_ID
    both = Settings.from_env({"MicrosoftAppId": BOT_APP_ID, "TEAMS_APP_ID": TEAMS_APP_ID})
    assert both.install_app_id == TEAMS_APP_ID
    assert Settings.from_env({}).install_app_id == ""


async def test_a_purchaser_who_already_uses_the_bot_is_an_admin_right_after_activating(
    market_bot: MarketBot,
) -> None:
    await market_bot.say(BOB, "help")  # Bob is the organization's first user: its admin
    assert ONLY_ADMINS in (await market_bot.say(ADA, "billing")).text  # Ada is a member
    sign_in_as(market_bot, ADA)
    _, token = market_bot.market.add_subscription(
        CONTOSO, "standard-monthly", purchaser_oid=ADA.aad_object_id
    )
    await activate_on_the_page(market_bot, token)
    statement = await market_bot.say(ADA, "billing")
    assert ONLY_ADMINS not in statement.text
    assert "Standard" in statement.text, statement.text
    roles = (await market_bot.say(ADA, "roles")).text
    assert "Ada Lovelace" in roles.split("Agents")[0] and "Bob Builder" in roles.split("Agents")[0]


async def test_a_purchaser_new_to_the_bot_is_an_admin_from_their_first_message(
    market_bot: MarketBot,
) -> None:
    await market_bot.say(BOB, "help")
    sign_in_as(market_bot, ADA)
    _, token = market_bot.market.add_subscription(
        CONTOSO, "standard-monthly", purchaser_oid=ADA.aad_object_id
    )
    await activate_on_the_page(market_bot, token)
    statement = await market_bot.say(ADA, "billing")  # Ada's very first message
    assert ONLY_ADMINS not in statement.text and "Standard" in statement.text
    # Somebody else of the organization who was not the purchaser stays a member.
    carol = teams.TeamsUser(CONTOSO, "29:carol", "Carol Shaw", "aad-carol")
    assert ONLY_ADMINS in (await market_bot.say(carol, "billing")).text
