"""Two bot processes on one PostgreSQL database share one quota: 40 concurrent "new ticket"
messages for a tenant with 25 free tickets, split across both processes, create exactly 25 and
answer the other 15 with the "quota reached" card.

Real processes (`python -m bot`), real HTTP, the fake Bot Connector in this test's process.
The processes are started once for the module; each test uses its own tenant.
Runs only with TEST_POSTGRES_URL set.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from storage.db import Database
from tests.support import teams
from tests.support.billing_db import ticket_numbers, usage_rows
from tests.support.bot_process import BotProcess
from tests.support.connector import FakeConnector, Posted
from tests.support.databases import migrated, postgres_database, skip_without_postgres

pytestmark = [pytest.mark.postgres, pytest.mark.asyncio(loop_scope="module")]

FREE_TICKETS = 25
MESSAGES = 40


@dataclass
class Cluster:
    database_url: str
    bots: list[BotProcess]
    connector: FakeConnector
    session: aiohttp.ClientSession

    async def post(self, bot: BotProcess, activity: dict[str, Any]) -> int:
        async with self.session.post(f"{bot.url}/api/messages", json=activity) as response:
            await response.read()
            return response.status

    def logs(self) -> str:
        return "\n".join(bot.log()[-4000:] for bot in self.bots)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def cluster(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Cluster]:
    """A fresh, migrated PostgreSQL database and two bot processes serving it."""
    skip_without_postgres()
    logs = tmp_path_factory.mktemp("bot-logs")
    async with postgres_database() as url:
        async with migrated(url):
            pass
        connector = FakeConnector()
        await connector.start()
        bots = [BotProcess(url, logs / f"bot-{i}.log") for i in range(2)]
        try:
            for bot in bots:
                await bot.start()
            await asyncio.gather(*(bot.wait_ready() for bot in bots))
            async with aiohttp.ClientSession() as session:
                yield Cluster(url, bots, connector, session)
        finally:
            for bot in bots:
                await bot.stop()
            await connector.close()


def users_of(tenant: str) -> list[teams.TeamsUser]:
    return [teams.TeamsUser(tenant, f"29:{tenant}-{i}", f"User {i}", f"aad-{i}") for i in range(4)]


def message(cluster: Cluster, user: teams.TeamsUser, text: str) -> dict[str, Any]:
    return teams.message(user, teams.Conversation(user.personal_chat), cluster.connector.url, text)


async def rush(cluster: Cluster, users: list[teams.TeamsUser]) -> list[Posted]:
    """MESSAGES "new ticket" messages at once, alternating between the two processes; the
    replies, in the order of the messages."""
    activities = [
        (cluster.bots[i % 2], message(cluster, users[i % len(users)], f"new ticket Rush {i}"))
        for i in range(MESSAGES)
    ]
    statuses = await asyncio.gather(*(cluster.post(bot, a) for bot, a in activities))
    assert statuses == [200] * MESSAGES, cluster.logs()
    # A reply answers its message; proactive warnings carry no replyToId.
    replies = {p.reply_to: p for p in cluster.connector.posted if p.reply_to is not None}
    answered = [replies.get(activity["id"]) for _, activity in activities]
    assert all(reply is not None for reply in answered), cluster.logs()
    return [reply for reply in answered if reply is not None]


async def assert_exactly_the_quota(cluster: Cluster, tenant: str, replies: list[Posted]) -> None:
    texts = [reply.text for reply in replies]
    created = [t for t in texts if "was created." in t]
    refused = [t for t in texts if "used all 25 tickets" in t and "(25 of 25)" in t]
    other = [t for t in texts if t not in created and t not in refused]
    assert other == [], (other, cluster.logs())
    assert len(created) == FREE_TICKETS
    assert len(refused) == MESSAGES - FREE_TICKETS

    db = Database(cluster.database_url)
    try:
        assert await ticket_numbers(db, tenant) == list(range(1, FREE_TICKETS + 1))
        rows = [r for r in await usage_rows(db, tenant) if r.app == "tickets"]
        assert [(r.used, r.limit) for r in rows] == [(FREE_TICKETS, FREE_TICKETS)]
    finally:
        await db.dispose()


async def test_two_processes_never_create_more_than_the_quota(cluster: Cluster) -> None:
    tenant = "tenant-two-processes-known"
    users = users_of(tenant)
    # Everyone has talked to both processes before: the tenant, its users, its subscription
    # and the conversations exist, so only the quota is contended.
    for user in users:
        for bot in cluster.bots:
            assert await cluster.post(bot, message(cluster, user, "usage")) == 200

    replies = await rush(cluster, users)

    await assert_exactly_the_quota(cluster, tenant, replies)


async def test_a_new_tenants_first_burst_across_two_processes(cluster: Cluster) -> None:
    """Nobody of this tenant has written before: the first 40 messages arrive at once."""
    tenant = "tenant-two-processes-new"

    replies = await rush(cluster, users_of(tenant))

    await assert_exactly_the_quota(cluster, tenant, replies)
