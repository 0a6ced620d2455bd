"""The bot with the marketplace on: the real app over real HTTP, the fake Entra issuer (https,
which MSAL really talks to) and the fake Fulfillment API."""

from __future__ import annotations

import html
import re
import ssl
from dataclasses import dataclass, replace
from datetime import date
from types import TracebackType
from typing import Any
from urllib.parse import quote

import aiohttp
from aiohttp.test_utils import TestClient, TestServer

from bot.app import SENDER, create_app
from bot.domain.clock import FixedClock
from bot.marketplace import MARKETPLACE
from bot.marketplace.service import MarketplaceService
from bot.services import subscriptions
from bot.settings import MarketplaceSettings, Settings
from storage.db import Database
from storage.uow import UnitOfWorkFactory
from tests.e2e.conftest import Bot
from tests.support.connector import FakeConnector
from tests.support.fake_issuer import FakeIssuer
from tests.support.fake_marketplace import FakeMarketplace

CLIENT_ID = "6a2b0f5e-1111-4c1e-9d6b-5d0f0e0a1b2c"
SECRET = "landing-secret"
PUBLISHER_TENANT = "publisher-tenant"
TEAMS_APP_ID = "00000000-0000-4000-8000-000000000014"


def marketplace_settings(issuer: FakeIssuer, market: FakeMarketplace) -> MarketplaceSettings:
    return MarketplaceSettings(
        client_id=CLIENT_ID,
        client_secret=SECRET,
        tenant_id=PUBLISHER_TENANT,
        api_url=market.url,
        login_url=issuer.base_url,
        ca_file=issuer.ca_file,
    )


@dataclass(frozen=True)
class Snapshot:
    plan_id: str
    status: str
    source: str
    period_start: date
    segments: int


@dataclass
class MarketBot(Bot):
    service: MarketplaceService
    market: FakeMarketplace
    issuer: FakeIssuer
    db: Database

    def token(self, **overrides: Any) -> str:
        return self.issuer.webhook_token(CLIENT_ID, PUBLISHER_TENANT, **overrides)

    async def webhook(
        self, op: dict[str, Any], token: str | None = None
    ) -> tuple[int, dict[str, Any] | None]:
        url = str(self.client.make_url("/api/marketplace/webhook"))
        answer = await self.market.fire(url, op, token if token is not None else self.token())
        await self.service.idle()
        return answer

    async def subscription(self, tenant: str) -> Snapshot:
        async with UnitOfWorkFactory(self.db)(tenant) as uow:
            sub = await subscriptions.load(uow, self.clock, self.service.catalog)
            snapshot = Snapshot(
                sub.plan.id, sub.row.status, sub.row.source, sub.period.start, len(sub.history)
            )
            await uow.commit()
            return snapshot

    async def activate(self, sid: str) -> None:
        """What the landing page's Activate does (the browser test goes through the page)."""
        token = next(t for t, s in self.market.tokens.items() if s == sid)
        await self.service.activate(await self.service.client.resolve(token))


async def start_market_bot(
    db: Database,
    connector: FakeConnector,
    clock: FixedClock,
    issuer: FakeIssuer,
    market: FakeMarketplace,
    **overrides: Any,
) -> MarketBot:
    """The bot with Bot Framework auth off and the Teams app id `TEAMS_APP_ID` (`overrides`
    change any other setting)."""
    settings = Settings(
        database_url=db.url,
        app_id="",
        teams_app_id=TEAMS_APP_ID,
        marketplace=marketplace_settings(issuer, market),
    )
    settings = replace(settings, **overrides)
    app = create_app(settings, clock=clock, database=db, start_sender=False)
    client: TestClient[Any, Any] = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    service = app[MARKETPLACE]
    # No real sleeps: the retries' backoff is recorded, not waited for.
    service.client._sleep = _no_sleep
    service.sleep = _no_sleep  # and so are the waits between the GETs following an operation
    return MarketBot(client, connector, clock, app[SENDER], service, market, issuer, db)


SLEPT: list[float] = []


async def _no_sleep(seconds: float) -> None:
    SLEPT.append(seconds)


class LandingVisitor:
    """A browser without the browser, over real HTTP: it follows the landing page's redirects
    through the fake issuer's sign-in (https, trusting its test certificate) with a cookie jar,
    and presses Activate with the form's CSRF token."""

    def __init__(self, bot: MarketBot, language: str = "en") -> None:
        self.bot = bot
        context = ssl.create_default_context(cafile=bot.issuer.ca_file)
        self.http = aiohttp.ClientSession(
            cookie_jar=aiohttp.CookieJar(unsafe=True),  # cookies of 127.0.0.1
            connector=aiohttp.TCPConnector(ssl=context),
            headers={"Accept-Language": language},
        )
        self.page = ""

    async def __aenter__(self) -> LandingVisitor:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.http.close()

    async def open(self, token: str) -> tuple[int, str]:
        """The landing page of `token`, signed in: (status, HTML)."""
        url = str(self.bot.client.make_url("/marketplace/landing"))
        async with self.http.get(f"{url}?token={quote(token, safe='')}") as response:
            self.page = await response.text()
            return response.status, self.page

    async def activate(self) -> tuple[int, str]:
        """Press Activate on the page last opened: (status, HTML)."""
        found = re.search(r'name="csrf" value="([^"]*)"', self.page)
        assert found is not None, self.page
        url = self.bot.client.make_url("/marketplace/activate")
        async with self.http.post(url, data={"csrf": html.unescape(found[1])}) as response:
            self.page = await response.text()
            return response.status, self.page


def teams_link(page: str) -> str | None:
    """The href of the landing page's "open in Teams" link, if it has one."""
    found = re.search(r'<a id="open-teams" href="([^"]*)"', page)
    return html.unescape(found[1]) if found else None
