"""CPU per turn, in one process: the bot's app, an aiohttp client and the fake Bot Connector on
one loop, turns sent one after another (or `--in-flight N` at a time, as the bench's 32
conversations do). What it measures is the CPU a turn costs, client and connector included (the
same for every case), without the scheduling noise of a loaded machine;
`--profile` prints cProfile's view of the same turns, `--statements` the SQL that goes through
SQLAlchemy during one turn (statements of storage/statements.py run on the driver and are not
listed).

    python -m bench.inprocess "new ticket" [--turns 400] [--in-flight 1] [--statements]
                              [--profile [--sort cumulative] [--only "(bot|storage)/"]]
    cases: help, "new ticket", tickets, "card action", first (a create by a new user),
           "tickets of 20" (the list of a user who has 20 tickets: a page of ten shown)
    DATABASE_URL=postgresql://... runs it on PostgreSQL (an empty database)
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import os
import pstats
import random
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy import event
from sqlalchemy.engine import Engine

from bench.connector import LimitingConnector
from bench.sidebyside import activity, users
from bot.__main__ import settle_collector
from bot.app import create_app
from bot.settings import Settings
from storage.db import Database


class _CollectorTime:
    """The passes of the garbage collector and the time they took (a `gc.callbacks` entry)."""

    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0
        self._started = 0.0

    def __call__(self, phase: str, _info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.count += 1
            self.seconds += time.perf_counter() - self._started


CASES = ("help", "new ticket", "tickets", "card action", "first", "tickets of 20")
# The activities' and newcomers' ids from one seeded generator: as random as uuid4's, and the
# same in every run, so that two runs under callgrind insert into the same places of the same
# b-trees (`bench.instructions` differs by less so).
_ids = random.Random(0)


def _hex(digits: int) -> str:
    return f"{_ids.getrandbits(4 * digits):0{digits}x}"


def make(case: str, service_url: str, tenant: str, user: str, i: int) -> dict[str, Any]:
    if case == "first":
        body = activity(service_url, tenant, f"29:new-{_hex(8)}", text=f"new ticket Printer {i}")
    elif case == "new ticket":
        body = activity(service_url, tenant, user, text=f"new ticket Printer {i}")
    elif case == "tickets of 20":
        # Its warm-up turns (numbered -20 to -1) create the tickets; the measured ones list them.
        body = activity(
            service_url, tenant, user, text=f"new ticket Printer {i}" if i < 0 else "tickets"
        )
    elif case == "card action":
        data = {"verb": "tickets.list", "filter": "all"}
        body = activity(service_url, tenant, user, invoke={"verb": "tickets.list", "data": data})
    else:
        body = activity(service_url, tenant, user, text=case)
    body["id"] = _hex(32)
    return body


async def start(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}"


async def post_all(
    post: Callable[[dict[str, Any]], Awaitable[None]], bodies: list[dict[str, Any]], in_flight: int
) -> None:
    """Post the bodies in order, `in_flight` of them at a time: the next goes out as soon as
    one is answered."""
    if in_flight == 1:
        for body in bodies:
            await post(body)
        return
    gate = asyncio.Semaphore(in_flight)

    async def one(body: dict[str, Any]) -> None:
        async with gate:
            await post(body)

    await asyncio.gather(*(one(body) for body in bodies))


async def run(args: argparse.Namespace) -> None:
    fake = LimitingConnector(limits=False)
    connector, service_url = await start(fake.app())
    folder = tempfile.mkdtemp()
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{folder}/inprocess.db")
    os.environ.update({"MicrosoftAppId": "", "LOG_LEVEL": "WARNING"})
    settings = Settings.from_env()
    db = Database(settings.database_url)
    bot, bot_url = await start(create_app(settings, database=db))
    statements: list[str] = []

    # Every engine's: on SQLite an ORM session runs on an engine of its unit's connection.
    @event.listens_for(Engine, "before_cursor_execute")
    def _seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement.split("\n")[0][:120])

    # A new tenant each run (a database given in DATABASE_URL may be used again: the seeded
    # activity ids are the same every run, and a tenant's claims would refuse them).
    tenant = f"t-{uuid.uuid4().hex[:6]}"
    user = users(tenant)[0]
    try:
        async with aiohttp.ClientSession() as session:

            async def post(body: dict[str, Any]) -> None:
                async with session.post(f"{bot_url}/api/messages", json=body) as response:
                    await response.read()
                    if response.status >= 300:
                        raise RuntimeError(f"the bot answered {response.status}")

            plan = {"verb": "plan.change", "plan": "professional"}
            for first in (
                activity(service_url, tenant, user, text="help"),
                activity(service_url, tenant, user, value=plan),
            ):
                first["id"] = _hex(32)
                await post(first)
            for i in range(-20, 0):  # warm: caches, compiled statements, the tenant's rows
                await post(make(args.case, service_url, tenant, user, i))
            if args.statements:
                statements.clear()
                await post(make(args.case, service_url, tenant, user, 999))
                print(f"{len(statements)} statements through SQLAlchemy:")
                print("\n".join(statements))
                return
            bodies = [make(args.case, service_url, tenant, user, i) for i in range(args.turns)]
            profile = cProfile.Profile() if args.profile else None
            settle_collector()  # as `python -m bot` does once it has started
            collected = _CollectorTime()
            gc.callbacks.append(collected)
            cpu, wall = time.process_time(), time.perf_counter()
            if profile is not None:
                profile.enable()
            await post_all(post, bodies, args.in_flight)
            if profile is not None:
                profile.disable()
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            gc.callbacks.remove(collected)
            print(
                f"{args.case}: {1000 * cpu / args.turns:.2f} ms of CPU a turn "
                f"(client and connector included), {args.turns / wall:.0f} turns/s "
                f"{'one' if args.in_flight == 1 else args.in_flight} at a time; "
                f"the garbage collector: {collected.count / args.turns:.2f} passes and "
                f"{1000 * collected.seconds / args.turns:.3f} ms a turn"
            )
            if profile is not None:
                stats = pstats.Stats(profile).sort_stats(args.sort)
                stats.print_stats(*([args.only] if args.only else []), 40)
    finally:
        await bot.cleanup()
        await connector.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.inprocess")
    parser.add_argument("case", choices=CASES)
    parser.add_argument("--turns", type=int, default=400)
    parser.add_argument(
        "--in-flight", type=int, default=1, help="measured turns posted at a time (default 1)"
    )
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--statements", action="store_true")
    parser.add_argument("--sort", default="tottime", help="cProfile's order: tottime, cumulative")
    parser.add_argument("--only", default="", help="only functions whose path matches (regex)")
    args = parser.parse_args()
    if args.in_flight < 1:
        parser.error("--in-flight takes a count of at least 1")
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
