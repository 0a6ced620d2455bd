"""Selling through the Microsoft commercial marketplace: the SaaS Fulfillment API v2 client,
the landing page and the webhook. Installed only when the marketplace settings are given."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from aiohttp import web

from bot.domain.clock import Clock
from bot.domain.plans import PlanCatalog
from bot.marketplace.api import FulfillmentClient
from bot.marketplace.auth import FulfillmentTokens, SignIn, WebhookVerifier
from bot.marketplace.routes import MarketplaceRoutes
from bot.marketplace.service import MarketplaceService
from bot.settings import Settings
from storage.db import Database

MARKETPLACE = web.AppKey("marketplace", MarketplaceService)
# How often the worker looks for plan changes asked in chat (one small query).
WORKER_INTERVAL = 2.0


def build_service(
    settings: Settings, db: Database, clock: Clock, catalog: PlanCatalog
) -> MarketplaceService:
    market = settings.marketplace
    client = FulfillmentClient(market.api_url, FulfillmentTokens(market))
    return MarketplaceService(db, client, clock, catalog)


def install(
    app: web.Application,
    settings: Settings,
    db: Database,
    clock: Clock,
    catalog: PlanCatalog,
    *,
    background: bool = True,
) -> MarketplaceService | None:
    """Add the marketplace routes (and the worker that sends chat plan changes) to the app;
    without the marketplace settings nothing is added and those routes answer 404."""
    market = settings.marketplace
    if not market.enabled:
        return None
    service = build_service(settings, db, clock, catalog)
    routes = MarketplaceRoutes(
        market, service, SignIn(market), WebhookVerifier(market), settings.install_app_id
    )
    routes.add_to(app)
    app[MARKETPLACE] = service

    async def life(app: web.Application) -> AsyncIterator[None]:
        worker = None
        if background:
            worker = asyncio.ensure_future(service.worker(asyncio.Event(), WORKER_INTERVAL))
        yield
        if worker is not None:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker
        await service.close()

    app.cleanup_ctx.append(life)
    return service
