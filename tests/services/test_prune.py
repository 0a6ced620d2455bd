"""The sender's housekeeping forgets old activity ids and old outbox rows, nothing newer."""

from __future__ import annotations

from datetime import date, timedelta

from bot.domain.clock import FixedClock
from bot.domain.notices import QuotaNotice
from bot.domain.plans import App
from bot.services import conversations
from bot.services.identity import Identity
from storage.db import Database
from storage.outbox import OutboxStore
from storage.uow import UnitOfWorkFactory
from tests.support.outbox_db import enqueue, install, outbox_rows

ADMIN = Identity("tenant-a", "29:admin", "Ada Admin")
NOTICE = QuotaNotice(App.TICKETS, 20, 25, 80, date(2026, 12, 2))


async def test_prune_removes_only_what_is_old_enough(any_db: Database, clock: FixedClock) -> None:
    factory = UnitOfWorkFactory(any_db)
    store = OutboxStore(any_db, worker="w1")
    await install(factory, clock, ADMIN, "a:admin-chat")
    start = clock.now()

    old_sent = await enqueue(factory, ADMIN.tenant_id, "a:admin-chat", NOTICE, start)
    old_failed = await enqueue(factory, ADMIN.tenant_id, "a:admin-chat", NOTICE, start)
    await conversations.claim_activity(factory(ADMIN.tenant_id), clock, "old-activity")
    claimed = {m.id for m in await store.claim(start, 10, timedelta(minutes=2))}
    assert claimed == {old_sent, old_failed}
    await store.sent(old_sent, start)
    await store.failed(old_failed, 1, "400: bad request")

    clock.advance(timedelta(days=8))
    recent = await enqueue(factory, ADMIN.tenant_id, "a:admin-chat", NOTICE, clock.now())
    await conversations.claim_activity(factory(ADMIN.tenant_id), clock, "new-activity")

    await store.prune(clock.now())

    left = {row.id: row.status for row in await outbox_rows(any_db)}
    # Sent a week ago: gone. Failed: kept for a month. Pending: never pruned.
    assert left == {old_failed: "failed", recent: "pending"}
    # The old activity id may be handled again; the new one is still a duplicate.
    assert await conversations.claim_activity(factory(ADMIN.tenant_id), clock, "old-activity")
    assert not await conversations.claim_activity(factory(ADMIN.tenant_id), clock, "new-activity")

    clock.advance(timedelta(days=30))
    await store.prune(clock.now())
    assert {row.id for row in await outbox_rows(any_db)} == {recent}
