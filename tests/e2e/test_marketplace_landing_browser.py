"""The landing page in a real browser: Debian's chromium, headless, driven over the DevTools
protocol by the driver of the card gallery (`cards.gallery.renderer.chromium_page`). The
visitor signs in at the fake Entra issuer (MSAL's authorization-code flow, over https with the
issuer's test certificate), sees the purchase and activates it. The screenshot of the page
after activation is kept under pytest's tmp path: `<tmp_path>/landing-activated.png` (the
path is printed; run with `-s` to see it, or `--basetemp=DIR` to choose where)."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest

from cards.gallery.renderer import DevTools, RendererMissing, chromium_page, chromium_path
from tests.support import teams
from tests.support.marketplace import TEAMS_APP_ID, MarketBot

CONTOSO = "tenant-landing-contoso"
ADA = teams.TeamsUser(CONTOSO, "29:ada", "Ada Lovelace", "aad-ada")
VISITOR = {
    "oid": "aad-ada",
    "tid": CONTOSO,
    "name": "Ada Lovelace",
    "preferred_username": "ada@contoso.example",
}


@pytest.fixture(autouse=True)
def _chromium() -> None:
    try:
        chromium_path()
    except RendererMissing as missing:
        pytest.skip(str(missing))


async def visit(page: DevTools, url: str, expect_path: str = "/marketplace/") -> str:
    """Go to `url`, follow the redirects, and return the text of the page it ends on."""
    await page.call("Page.navigate", url=url)
    return await settled(page, expect_path)


async def settled(page: DevTools, expect_path: str) -> str:
    for _ in range(400):
        state = await page.evaluate(
            "[document.readyState, location.pathname, document.querySelector('h1') ? "
            "document.body.innerText : '']"
        )
        if state[0] == "complete" and state[1].startswith(expect_path) and state[2]:
            return str(state[2])
        await asyncio.sleep(0.025)  # waiting for the browser, not for time to pass
    raise AssertionError(f"the page did not load: {state}")


async def screenshot(page: DevTools, path: Path) -> None:
    shot = await page.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
    path.write_bytes(base64.b64decode(shot["data"]))


def landing(bot: MarketBot, token: str) -> str:
    return str(bot.client.make_url("/marketplace/landing")) + f"?token={quote(token, safe='')}"


async def browser_language(page: DevTools, language: str) -> None:
    await page.call("Network.enable")
    await page.call("Network.setExtraHTTPHeaders", headers={"Accept-Language": language})


async def test_landing_sign_in_and_activate_in_a_real_browser(
    market_bot: MarketBot, tmp_path: Path
) -> None:
    market_bot.issuer.user = dict(VISITOR)
    sid, token = market_bot.market.add_subscription(
        CONTOSO, "premium-monthly", purchaser_oid="aad-ada"
    )
    async with chromium_page("--ignore-certificate-errors") as page:
        await browser_language(page, "en-US,en;q=0.9")
        text = await visit(page, landing(market_bot, token))
        assert "Activate your TeamsWork subscription" in text
        for shown in (
            "teamswork",
            "Premium (monthly)",
            f"buyer@{CONTOSO}.example",
            f"admin@{CONTOSO}.example",
            CONTOSO,
            "ada@contoso.example",
        ):
            assert shown in text, (shown, text)
        grants = [r.grant_type for r in market_bot.issuer.token_requests]
        assert "authorization_code" in grants  # MSAL redeemed the code at the fake issuer
        await page.evaluate("document.getElementById('activate').click()")
        await asyncio.sleep(0)  # let the click start the navigation
        text = await settled(page, "/marketplace/activate")
        assert "Your subscription is active" in text, text
        assert "add the TeamsWork app in Microsoft Teams" in text
        # The way into Teams: the app's install dialog, in the organization's tenant.
        assert "Open TeamsWork in Microsoft Teams" in text
        href = await page.evaluate("document.getElementById('open-teams').href")
        assert href == f"https://teams.microsoft.com/l/app/{TEAMS_APP_ID}?tenantId={CONTOSO}"
        shot = tmp_path / "landing-activated.png"
        await screenshot(page, shot)
        print(f"\nlanding page screenshot: {shot}")
        assert shot.stat().st_size > 1000

        # Coming back with the same link: already active.
        again = await visit(page, landing(market_bot, token))
        assert "already active" in again

    assert market_bot.market.subscriptions[sid]["saasSubscriptionStatus"] == "Subscribed"
    assert (await market_bot.subscription(CONTOSO)).plan_id == "premium"
    # The purchaser is the admin when they first talk to the bot.
    assert "Ada Lovelace" in (await market_bot.say(ADA, "roles")).text


async def test_the_landing_page_explains_what_went_wrong_in_the_visitors_language(
    market_bot: MarketBot, tmp_path: Path
) -> None:
    market_bot.issuer.user = dict(VISITOR)
    async with chromium_page("--ignore-certificate-errors") as page:
        await browser_language(page, "de-DE,de;q=0.9,en;q=0.5")
        text = await visit(page, landing(market_bot, "expired-or-made-up"))
        assert "Dieser Link ist ungültig" in text

        await page.call("Network.clearBrowserCookies")
        _, foreign = market_bot.market.add_subscription("tenant-somebody-else", "standard-monthly")
        text = await visit(page, landing(market_bot, foreign))
        assert "Kauf einer anderen Organisation" in text

        await browser_language(page, "en")
        await page.call("Network.clearBrowserCookies")
        _, token = market_bot.market.add_subscription(CONTOSO, "standard-monthly")
        market_bot.market.failures[:] = [(503, None)] * 5
        text = await visit(page, landing(market_bot, token))
        assert "marketplace did not answer" in text

        await page.call("Network.clearBrowserCookies")
        _, unmapped = market_bot.market.add_subscription(CONTOSO, "gold-enterprise")
        text = await visit(page, landing(market_bot, unmapped))
        assert "This plan is not available" in text
    assert (await market_bot.subscription(CONTOSO)).plan_id == "free"


async def test_activate_without_the_sessions_csrf_token_is_refused(market_bot: MarketBot) -> None:
    url = market_bot.client.make_url("/marketplace/activate")
    async with (
        aiohttp.ClientSession() as http,
        http.post(url, data={"csrf": "guess"}) as response,
    ):
        assert response.status == 403
        assert "Request refused" in await response.text()


async def test_without_marketplace_settings_the_routes_answer_404(bot: Any) -> None:
    for method, path in (
        ("GET", "/marketplace/landing?token=x"),
        ("POST", "/api/marketplace/webhook"),
    ):
        response = await bot.client.request(method, path)
        assert response.status == 404
