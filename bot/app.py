"""The application factory: create_app(settings, ...) -> aiohttp Application."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from aiohttp import web

from bot.apps import build_registry
from bot.domain.clock import Clock, SystemClock
from bot.domain.plans import load_catalog
from bot.domain.quota import QuotaPolicy
from bot.marketplace import install as install_marketplace
from bot.settings import Settings
from bot.teams.adapter import build_runtime, messages_handler
from bot.teams.sender import ProactiveSender
from storage.db import Database
from storage.migrate import migrate

log = logging.getLogger(__name__)

DATABASE = web.AppKey("database", Database)
SETTINGS = web.AppKey("settings", Settings)
SENDER = web.AppKey("sender", ProactiveSender)


def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    database: Database | None = None,
    start_sender: bool = True,
) -> web.Application:
    """Build the app. The plan catalog is loaded and checked here (a bad PLANS_FILE stops the
    bot at start); the database is migrated when the app starts, in its cleanup context."""
    clock = clock or SystemClock()
    db = database or Database(settings.database_url, connections=settings.database_connections)
    policy = QuotaPolicy(load_catalog(settings.plans_file), settings.quota_thresholds)
    runtime = build_runtime(settings, db, clock, policy, build_registry())

    app = web.Application(client_max_size=256 * 1024)
    app[SETTINGS] = settings
    app[DATABASE] = db
    app[SENDER] = runtime.sender

    async def database_life(app: web.Application) -> AsyncIterator[None]:
        await migrate(db)
        if settings.auth_enabled:
            log.info("Bot Framework authentication is on for app id %s", settings.app_id)
        else:
            log.warning(
                "MicrosoftAppId is not set: the bot accepts UNAUTHENTICATED requests. "
                "Fine for local runs; set MicrosoftAppId and MicrosoftAppPassword in production."
            )
        if start_sender:
            await runtime.sender.start()
        yield
        await runtime.sender.stop()
        await runtime.adapter.close()
        if database is None:
            await db.dispose()

    async def healthz(request: web.Request) -> web.Response:
        if await db.ping():
            return web.json_response({"status": "ok"})
        return web.json_response({"status": "database unreachable"}, status=503)

    app.cleanup_ctx.append(database_life)
    app.router.add_post("/api/messages", messages_handler(runtime))
    app.router.add_get("/healthz", healthz)
    install_marketplace(app, settings, db, clock, policy.catalog, background=start_sender)
    return app
