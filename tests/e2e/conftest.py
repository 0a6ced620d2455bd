from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import SENDER, create_app
from bot.domain.clock import FixedClock
from bot.settings import Settings
from bot.teams.sender import ProactiveSender
from storage.db import Database
from tests.support import teams
from tests.support.connector import FakeConnector, Posted
from tests.support.fake_issuer import FakeIssuer
from tests.support.fake_marketplace import FakeMarketplace

if TYPE_CHECKING:
    from tests.support.marketplace import MarketBot


@pytest.fixture
async def connector() -> AsyncIterator[FakeConnector]:
    fake = FakeConnector()
    await fake.start()
    yield fake
    await fake.close()


@dataclass
class Bot:
    """The real app over real HTTP, and the fake connector its replies go to."""

    client: TestClient[Any, Any]
    connector: FakeConnector
    clock: FixedClock
    sender: ProactiveSender

    async def post(self, activity: dict[str, Any]) -> tuple[int, Any]:
        response = await self.client.post("/api/messages", json=activity)
        body = await response.json() if response.content_type == "application/json" else None
        return response.status, body

    async def say(
        self,
        user: teams.TeamsUser,
        text: str,
        conversation: teams.Conversation | None = None,
        mentions: list[tuple[str, str]] = (),  # type: ignore[assignment]
    ) -> Posted:
        """Send a message; return the one reply the bot posted to that conversation."""
        conversation = conversation or teams.Conversation(user.personal_chat)
        before = len(self.connector.posted)
        status, _ = await self.post(
            teams.message(user, conversation, self.connector.url, text, mentions)
        )
        assert status == 200
        new = self.connector.posted[before:]
        assert len(new) == 1, [p.text for p in new]
        return new[0]

    async def press(
        self,
        user: teams.TeamsUser,
        verb: str,
        data: dict[str, Any] | None = None,
        conversation: teams.Conversation | None = None,
    ) -> dict[str, Any]:
        """Press an Action.Execute button; return the card that replaces the old one."""
        conversation = conversation or teams.Conversation(user.personal_chat)
        status, body = await self.post(
            teams.execute(user, conversation, self.connector.url, verb, data or {})
        )
        assert status == 200, body
        assert body["statusCode"] == 200
        assert body["type"] == "application/vnd.microsoft.card.adaptive"
        card: dict[str, Any] = body["value"]
        return card


async def start_bot(db: Database, connector: FakeConnector, clock: FixedClock) -> Bot:
    settings = Settings(database_url=db.url)
    # The tests deliver proactive messages themselves (`bot.sender.drain()`), on their clock.
    app = create_app(settings, clock=clock, database=db, start_sender=False)
    client: TestClient[Any, Any] = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    return Bot(client, connector, clock, app[SENDER])


@pytest.fixture
async def bot(any_db: Database, connector: FakeConnector, clock: FixedClock) -> AsyncIterator[Bot]:
    running = await start_bot(any_db, connector, clock)
    yield running
    await running.client.close()


@pytest.fixture
def issuer() -> Iterator[FakeIssuer]:
    from tests.support.marketplace import CLIENT_ID, SECRET

    with FakeIssuer(clients={CLIENT_ID: SECRET}) as fake:
        yield fake


@pytest.fixture
async def market(issuer: FakeIssuer) -> AsyncIterator[FakeMarketplace]:
    fake = FakeMarketplace(issuer)
    await fake.start()
    yield fake
    await fake.close()


@pytest.fixture
async def market_bot(
    any_db: Database,
    connector: FakeConnector,
    clock: FixedClock,
    issuer: FakeIssuer,
    market: FakeMarketplace,
) -> AsyncIterator[MarketBot]:
    from tests.support.marketplace import start_market_bot

    running = await start_market_bot(any_db, connector, clock, issuer, market)
    yield running
    await running.client.close()
