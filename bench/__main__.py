"""Benchmarks of the running bot, over real HTTP on 127.0.0.1.

    python -m bench turns  [--messages 2000] [--concurrency 32] [--database sqlite|postgres]
    python -m bench fanout [--tenants 1000] [--concurrency 64] [--database sqlite|postgres]

`turns` measures how many user turns per second one bot process serves (help, lists, one-line
ticket creation, spread over 100 tenants). `fanout` seeds N tenants one ticket short of the 80 %
warning, then creates one ticket in each at once: every tenant then owes a warning to its
channel and to its admin's personal chat. It reports how long until the fake connector, which
enforces Teams' per-conversation limits with 429s, has every warning, and how many arrived twice.
The bot runs as its own process (`python -m bot`), as in production.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from bench.connector import LimitingConnector
from bot.domain.clock import SystemClock
from bot.domain.plans import App, load_catalog
from bot.services import subscriptions
from bot.services.identity import Identity, resolve_actor
from storage.db import Database
from storage.migrate import migrate
from storage.models import ConversationRef
from storage.uow import UnitOfWorkFactory

BOT_ID = "28:bench-bot"
ROOT = Path(__file__).resolve().parent.parent
POSTGRES_ADMIN = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def database(kind: str) -> AsyncIterator[str]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite+aiosqlite:///{folder}/bench.db"
        return
    import asyncpg

    name = f"tw_bench_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(POSTGRES_ADMIN)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    try:
        yield POSTGRES_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        conn = await asyncpg.connect(POSTGRES_ADMIN)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


@asynccontextmanager
async def connector() -> AsyncIterator[tuple[LimitingConnector, str]]:
    fake = LimitingConnector()
    runner = web.AppRunner(fake.app(), access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield fake, f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@asynccontextmanager
async def bot_process(database_url: str) -> AsyncIterator[str]:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
        "MicrosoftAppId": "",
    }
    process = subprocess.Popen([sys.executable, "-m", "bot"], cwd=ROOT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(200):
                try:
                    async with session.get(f"{url}/healthz") as response:
                        if response.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.05)
            else:
                raise RuntimeError("the bot did not start")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


def message(
    tenant: str, user: str, conversation: str, kind: str, text: str, service_url: str
) -> dict[str, Any]:
    return {
        "type": "message",
        "id": uuid.uuid4().hex,
        "channelId": "msteams",
        "serviceUrl": service_url,
        "locale": "en-US",
        "text": text,
        "from": {"id": user, "name": user, "aadObjectId": user},
        "recipient": {"id": BOT_ID, "name": "TeamsWork"},
        "conversation": {"id": conversation, "conversationType": kind, "tenantId": tenant},
        "channelData": {"tenant": {"id": tenant}},
    }


async def fire(
    bot_url: str, activities: list[dict[str, Any]], concurrency: int
) -> tuple[float, list[float], int]:
    """POST every activity with at most `concurrency` in flight; (seconds, latencies, errors)."""
    latencies: list[float] = []
    errors = 0
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    for activity in activities:
        queue.put_nowait(activity)

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal errors
        while not queue.empty():
            activity = queue.get_nowait()
            started = time.perf_counter()
            async with session.post(f"{bot_url}/api/messages", json=activity) as response:
                await response.read()
                if response.status != 200:
                    errors += 1
            latencies.append(time.perf_counter() - started)

    connector_limit = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector_limit) as session:
        started = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        return time.perf_counter() - started, latencies, errors


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


async def bench_turns(args: argparse.Namespace) -> dict[str, Any]:
    async with database(args.database) as url, connector() as (fake, service_url):
        db = Database(url)
        await migrate(db)
        await db.dispose()
        async with bot_process(url) as bot_url:
            texts = ["help", "tickets", "new ticket Printer jam"]
            activities = [
                message(
                    f"t{i % 100}",
                    f"29:u{i % 100}",
                    f"a:chat-{i % 100}",
                    "personal",
                    texts[i % 3],
                    service_url,
                )
                for i in range(args.messages)
            ]
            seconds, latencies, errors = await fire(bot_url, activities, args.concurrency)
    return {
        "case": "turns",
        "database": args.database,
        "messages": args.messages,
        "concurrency": args.concurrency,
        "seconds": round(seconds, 2),
        "turns_per_second": round(args.messages / seconds, 1),
        "latency_p50_ms": round(percentile(latencies, 0.5) * 1000, 1),
        "latency_p95_ms": round(percentile(latencies, 0.95) * 1000, 1),
        "errors": errors,
        "replies_received": fake.replies,
    }


async def seed_fanout(db: Database, tenants: int, service_url: str) -> None:
    """Each tenant: a team channel and the admin's personal chat, 19 of 25 tickets used."""
    clock = SystemClock()
    catalog = load_catalog()
    uow = UnitOfWorkFactory(db)
    for i in range(tenants):
        tenant, admin = f"bench-{i}", f"29:admin-{i}"
        async with uow(tenant) as unit:
            await resolve_actor(unit, clock, Identity(tenant, admin, f"Admin {i}"))
            now = clock.now()
            for conversation, kind, user in (
                (f"19:channel-{i}@thread.tacv2", "channel", None),
                (f"a:personal-{i}", "personal", admin),
            ):
                reference = {
                    "bot": {"id": BOT_ID, "name": "TeamsWork"},
                    "conversation": {
                        "id": conversation,
                        "conversationType": kind,
                        "tenantId": tenant,
                    },
                    "channelId": "msteams",
                    "serviceUrl": service_url,
                }
                await unit.conversations.save(
                    ConversationRef(
                        tenant_id=tenant,
                        conversation_id=conversation,
                        conversation_type=kind,
                        user_id=user,
                        service_url=service_url,
                        reference=json.dumps(reference),
                        created_at=now,
                        updated_at=now,
                    )
                )
            sub = await subscriptions.load(unit, clock, catalog)
            limit = sub.era.quota(sub.today, App.TICKETS)
            await unit.billing.ensure_usage(App.TICKETS.value, sub.period.start, limit)
            for _ in range(int(limit * 0.8) - 1):
                await unit.billing.consume(App.TICKETS.value, sub.period.start)
            await unit.commit()


async def bench_fanout(args: argparse.Namespace) -> dict[str, Any]:
    async with database(args.database) as url, connector() as (fake, service_url):
        db = Database(url)
        await migrate(db)
        seed_started = time.perf_counter()
        await seed_fanout(db, args.tenants, service_url)
        seed_seconds = time.perf_counter() - seed_started
        await db.dispose()
        expected = args.tenants * 2
        async with bot_process(url) as bot_url:
            activities = [
                message(
                    f"bench-{i}",
                    f"29:admin-{i}",
                    f"a:personal-{i}",
                    "personal",
                    "new ticket Crosses 80 %",
                    service_url,
                )
                for i in range(args.tenants)
            ]
            started = time.monotonic()
            send_seconds, latencies, errors = await fire(bot_url, activities, args.concurrency)
            deadline = started + args.timeout
            while fake.proactive < expected and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            delivered_at = (fake.last_at or time.monotonic()) - started
            await asyncio.sleep(1.0)  # anything that arrives late would be a duplicate
    return {
        "case": "fanout",
        "database": args.database,
        "tenants": args.tenants,
        "warnings_expected": expected,
        "warnings_delivered": fake.proactive,
        "duplicates": fake.duplicates,
        "seconds_until_all_delivered": round(delivered_at, 2),
        "seconds_sending_the_creates": round(send_seconds, 2),
        "create_latency_p50_ms": round(statistics.median(latencies) * 1000, 1),
        "throttled_by_connector": fake.throttled,
        "create_errors": errors,
        "seed_seconds": round(seed_seconds, 1),
    }


def main() -> int:
    from bench import sidebyside

    parser = argparse.ArgumentParser(prog="python -m bench")
    sidebyside.add_arguments(parser)
    sub = parser.add_subparsers(dest="case")
    turns = sub.add_parser("turns")
    turns.add_argument("--messages", type=int, default=2000)
    turns.add_argument("--concurrency", type=int, default=32)
    turns.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    fanout = sub.add_parser("fanout")
    fanout.add_argument("--tenants", type=int, default=1000)
    fanout.add_argument("--concurrency", type=int, default=64)
    fanout.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    fanout.add_argument("--timeout", type=float, default=600.0)
    args = parser.parse_args()
    if args.case is None:
        return sidebyside.main(args)
    runner = bench_turns if args.case == "turns" else bench_fanout
    result = asyncio.run(runner(args))
    sys.stdout.write(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
