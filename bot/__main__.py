"""python -m bot: serve the bot (default), or `python -m bot migrate`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from aiohttp import web

from bot.app import create_app
from bot.domain.plans import CatalogError
from bot.logcontext import configure_logging
from bot.settings import Settings
from storage.db import Database
from storage.migrate import migrate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description="TeamsWork bot")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("serve", help="serve the bot (the default)")
    sub.add_parser("migrate", help="apply database migrations and exit")
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
            db = Database(settings.database_url)
            try:
                await migrate(db)
            finally:
                await db.dispose()

        asyncio.run(run())
        log.info("database is at the latest migration")
        return 0
    try:
        app = create_app(settings)
    except CatalogError as error:
        log.error("the plan catalog %s is invalid: %s", settings.plans_file or "(default)", error)
        return 2
    log.info("serving on http://%s:%d/api/messages", settings.host, settings.port)
    web.run_app(app, host=settings.host, port=settings.port, print=None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
