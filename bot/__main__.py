"""python -m bot: serve the bot (default), or `python -m bot migrate`."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import signal
import sys

from aiohttp import web

from bot.app import create_app
from bot.domain.plans import CatalogError
from bot.logcontext import configure_logging
from bot.settings import Settings
from storage.db import Database
from storage.migrate import migrate

# A turn's objects are freed by reference counting as it ends: it makes no reference cycles
# (tests/e2e/test_turn_garbage_e2e.py). The collector's young passes, every 700 allocations
# more than deallocations by default, found nothing, and each walked the live objects of every
# turn in flight (at 32 in flight, about 50 µs a turn).
YOUNG_THRESHOLD = 10_000


def settle_collector() -> None:
    """Once start-up is done. What it made (modules, the registry, the catalogs, compiled
    statements) lives as long as the process: frozen out of the collector's way, so that its
    full passes, which would otherwise walk it all, do not stall turns. Its young passes come
    every `YOUNG_THRESHOLD` allocations; the older generations' thresholds stay."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)


async def serve(
    app: web.Application, host: str, port: int, log: logging.Logger, *, access_log: bool = False
) -> None:
    """Start the app (its startup migrates the database), open the port, and only then say
    that the bot is serving; run until SIGINT or SIGTERM."""
    # aiohttp's access log formats a line per request even when nothing prints it.
    runner = web.AppRunner(
        app,
        handle_signals=False,
        access_log=logging.getLogger("aiohttp.access") if access_log else None,
    )
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
        settle_collector()
        log.info("serving on http://%s:%d/api/messages", host, port)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
    finally:
        await runner.cleanup()


def marketplace_sync(settings: Settings, log: logging.Logger) -> int:
    """python -m bot marketplace sync: the marketplace's state wins; print what changed."""
    from bot.domain.clock import SystemClock
    from bot.domain.plans import load_catalog
    from bot.marketplace import build_service
    from bot.marketplace.api import FulfillmentError

    if not settings.marketplace.enabled:
        sys.stderr.write(
            "configuration error: set MARKETPLACE_CLIENT_ID, MARKETPLACE_CLIENT_SECRET and "
            "MARKETPLACE_TENANT_ID\n"
        )
        return 2

    async def run() -> int:
        db = Database(settings.database_url, connections=settings.database_connections)
        service = build_service(settings, db, SystemClock(), load_catalog(settings.plans_file))
        try:
            await migrate(db)
            changes = await service.sync(lambda line: print(line, flush=True))
        except (FulfillmentError, PermissionError) as error:
            log.error("marketplace sync failed: %s", error)
            return 1
        finally:
            await service.close()
            await db.dispose()
        print(f"{len(changes)} subscription(s) corrected", flush=True)
        return 0

    return asyncio.run(run())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description="TeamsWork bot")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("serve", help="serve the bot (the default)")
    sub.add_parser("migrate", help="apply database migrations and exit")
    market = sub.add_parser("marketplace", help="the commercial marketplace")
    market_sub = market.add_subparsers(dest="marketplace_command", required=True)
    market_sub.add_parser(
        "sync", help="fetch every SaaS subscription and correct drift, printing each change"
    )
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
    except ValueError as error:
        sys.stderr.write(f"configuration error: {error}\n")
        return 2
    configure_logging(settings.log_level)
    log = logging.getLogger("bot")
    if args.command == "migrate":

        async def run() -> None:
            db = Database(settings.database_url, connections=settings.database_connections)
            try:
                await migrate(db)
            finally:
                await db.dispose()

        asyncio.run(run())
        log.info("database is at the latest migration")
        return 0
    if args.command == "marketplace":
        return marketplace_sync(settings, log)
    try:
        app = create_app(settings)
    except CatalogError as error:
        log.error("the plan catalog %s is invalid: %s", settings.plans_file or "(default)", error)
        return 2
    serving = serve(app, settings.host, settings.port, log, access_log=settings.access_log)
    try:
        import uvloop  # a faster event loop where it is installed (Linux, macOS)
    except ImportError:
        asyncio.run(serving)
    else:
        uvloop.run(serving)
    return 0


if __name__ == "__main__":
    sys.exit(main())
