"""Two bot processes on one PostgreSQL database deliver every proactive message exactly once.

Each "process" is a runtime built the way the app builds it (`build_runtime`: its own
CloudAdapter, OutboxStore with its own worker id, ProactiveSender) over its own engine. They drain
the same outbox concurrently and post to one fake Bot Connector, which must receive each message
once: no duplicate, no loss. The clock is fixed and moved between rounds, so the per-conversation
rate limits pass without anyone sleeping.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.apps import build_registry
from bot.domain.clock import FixedClock
from bot.domain.notices import TicketEvent, TicketNotice
from bot.domain.plans import load_catalog
from bot.domain.quota import QuotaPolicy
from bot.domain.tickets import Status
from bot.services.identity import Identity
from bot.settings import Settings
from bot.teams.adapter import BotRuntime, build_runtime
from bot.teams.sender import ProactiveSender
from storage.db import Database
from storage.models import OutboxRow
from storage.outbox import SENT, OutboxStore
from storage.uow import UnitOfWorkFactory
from tests.support.connector import FakeConnector, Posted
from tests.support.databases import database_url, migrated
from tests.support.outbox_db import install, outbox_rows

pytestmark = pytest.mark.postgres

TENANTS = [f"tenant-{name}" for name in ("north", "south", "east", "west", "centre")]
CONVERSATIONS_PER_TENANT = 10
MESSAGES_PER_CONVERSATION = 10
TOTAL = len(TENANTS) * CONVERSATIONS_PER_TENANT * MESSAGES_PER_CONVERSATION  # 500
NUMBER = re.compile(r"ticket #(\d+)")


@pytest.fixture
async def pg_db(tmp_path: Path) -> AsyncIterator[Database]:
    """A fresh PostgreSQL database (skipped without TEST_POSTGRES_URL)."""
    async with database_url("postgres", tmp_path) as url, migrated(url) as db:
        yield db


@pytest.fixture
async def second_engine(pg_db: Database) -> AsyncIterator[Database]:
    """The same database as seen by another process: its own engine and connection pool."""
    other = Database(pg_db.url)
    yield other
    await other.dispose()


def conversation_ids(tenant: str) -> list[tuple[str, str]]:
    """Ten conversations of a tenant: channels, group chats and personal chats."""
    kinds = ["channel", "groupChat", "personal"]
    ids = []
    for i in range(CONVERSATIONS_PER_TENANT):
        kind = kinds[i % len(kinds)]
        if kind == "personal":
            ids.append((f"a:personal-{tenant}-{i}", kind))
        elif kind == "channel":
            ids.append((f"19:{tenant}-channel-{i}@thread.tacv2", kind))
        else:
            ids.append((f"19:{tenant}-group-{i}@thread.v2", kind))
    return ids


async def fill_outbox(db: Database, connector: FakeConnector, clock: FixedClock) -> dict[int, str]:
    """500 due messages over 50 conversations of five tenants; each is a ticket notice with
    its own number. Returns number -> conversation it must reach."""
    factory = UnitOfWorkFactory(db)
    expected: dict[int, str] = {}
    number = 0
    for tenant in TENANTS:
        for i, (conversation_id, kind) in enumerate(conversation_ids(tenant)):
            who = Identity(tenant, f"29:{tenant}-user-{i}", f"User {i}", f"aad-{tenant}-{i}")
            await install(factory, clock, who, conversation_id, kind, connector.url)
            async with factory(tenant) as uow:
                ref = await uow.conversations.get(conversation_id)
                assert ref is not None and ref.id is not None
                for _ in range(MESSAGES_PER_CONVERSATION):
                    number += 1
                    notice = TicketNotice(
                        TicketEvent.COMMENTED, number, f"Issue {number}", "Bob", Status.OPEN, "ok"
                    )
                    await uow.outbox.enqueue(
                        OutboxRow(
                            tenant_id=tenant,
                            conversation_ref_id=ref.id,
                            kind=TicketNotice.KIND,
                            payload=notice.to_json(),
                            locale="en-US",
                            next_attempt_at=clock.now(),
                            created_at=clock.now(),
                        )
                    )
                    expected[number] = conversation_id
                await uow.commit()
    assert len(expected) == TOTAL
    return expected


def runtime(db: Database, clock: FixedClock) -> BotRuntime:
    settings = Settings(database_url=db.url)
    policy = QuotaPolicy(load_catalog(), settings.quota_thresholds)
    return build_runtime(settings, db, clock, policy, build_registry())


def delivered_numbers(posted: list[Posted]) -> Counter[tuple[str, int]]:
    found: Counter[tuple[str, int]] = Counter()
    for post in posted:
        match = NUMBER.search(post.text)
        assert match is not None, post.text
        found[(post.conversation_id, int(match.group(1)))] += 1
    return found


async def drain_together(
    senders: list[ProactiveSender], db: Database, clock: FixedClock, rounds: int = 30
) -> int:
    """Let the processes drain side by side; between rounds, time moves on by two seconds so
    that the per-conversation limits open again. Returns the rounds it took."""
    for n in range(1, rounds + 1):
        await asyncio.gather(*(sender.drain() for sender in senders))
        if (await OutboxStore(db).counts()) == {SENT: TOTAL}:
            return n
        clock.advance(timedelta(seconds=2))
    pytest.fail(f"not delivered after {rounds} rounds: {await OutboxStore(db).counts()}")


async def assert_each_delivered_once(
    db: Database, connector: FakeConnector, expected: dict[int, str]
) -> None:
    found = delivered_numbers(connector.posted)
    duplicates = {key: count for key, count in found.items() if count > 1}
    assert duplicates == {}, f"delivered more than once: {sorted(duplicates)[:10]}"
    assert set(found) == {(conversation, n) for n, conversation in expected.items()}
    assert len(connector.posted) == TOTAL
    rows = await outbox_rows(db)
    assert Counter(r.status for r in rows) == {SENT: TOTAL}
    assert all(r.attempts == 0 and r.sent_at is not None for r in rows)


async def test_two_processes_deliver_500_messages_exactly_once(
    pg_db: Database, second_engine: Database, connector: FakeConnector, clock: FixedClock
) -> None:
    expected = await fill_outbox(pg_db, connector, clock)
    first, second = runtime(pg_db, clock), runtime(second_engine, clock)
    assert first.sender.store.worker != second.sender.store.worker

    await drain_together([first.sender, second.sender], pg_db, clock)

    await assert_each_delivered_once(pg_db, connector, expected)
    # Both processes did part of the work.
    workers = Counter(r.claimed_by for r in await outbox_rows(pg_db))
    assert set(workers) == {first.sender.store.worker, second.sender.store.worker}


async def test_many_small_claims_from_two_processes_never_overlap(
    pg_db: Database, second_engine: Database, connector: FakeConnector, clock: FixedClock
) -> None:
    """Small batches make the two processes claim many times, interleaved."""
    expected = await fill_outbox(pg_db, connector, clock)
    senders = [
        ProactiveSender(
            runtime(db, clock).adapter,
            OutboxStore(db, worker=name),
            clock,
            "",
            build_registry(),
            batch=10,
        )
        for db, name in ((pg_db, "process-1"), (second_engine, "process-2"))
    ]

    await drain_together(senders, pg_db, clock)

    await assert_each_delivered_once(pg_db, connector, expected)
    workers = Counter(r.claimed_by for r in await outbox_rows(pg_db))
    assert set(workers) == {"process-1", "process-2"}


async def test_messages_claimed_by_a_process_that_died_are_delivered_once_by_the_other(
    pg_db: Database, second_engine: Database, connector: FakeConnector, clock: FixedClock
) -> None:
    expected = await fill_outbox(pg_db, connector, clock)
    clock_start = clock.now()
    dead = runtime(pg_db, clock)
    # The first process claims a batch and dies before sending any of it.
    lost = await dead.sender.store.claim(clock.now(), 100, dead.sender.lease)
    assert len(lost) == 100
    survivor = runtime(second_engine, clock)

    await drain_together([survivor.sender], pg_db, clock, rounds=200)

    await assert_each_delivered_once(pg_db, connector, expected)
    rows = {r.id: r for r in await outbox_rows(pg_db)}
    # The orphaned messages went out only once their lease ran out.
    sent_at = [rows[m.id].sent_at for m in lost]
    assert all(at is not None and at > clock_start + dead.sender.lease for at in sent_at)
    assert {r.claimed_by for r in rows.values()} == {survivor.sender.store.worker}
