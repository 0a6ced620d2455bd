"""The product's apps as the app factory wires them, for tests below HTTP."""

from __future__ import annotations

from bot.apps import build_registry
from bot.apps.banner import QuotaBanner
from bot.apps.dispatch import Dispatcher
from bot.domain.clock import Clock
from bot.domain.plans import PlanCatalog, load_catalog
from bot.domain.quota import QuotaPolicy
from bot.settings import Settings
from bot.teams.handler import TeamsWorkBot
from storage.uow import UnitOfWorkFactory


def policy(catalog: PlanCatalog | None = None) -> QuotaPolicy:
    """The default catalog and the settings' default thresholds, unless a test says otherwise."""
    return QuotaPolicy(catalog or load_catalog(), Settings().quota_thresholds)


def dispatcher(units: UnitOfWorkFactory, clock: Clock, quota: QuotaPolicy) -> Dispatcher:
    return Dispatcher(build_registry(), QuotaBanner(units, clock, quota))


def teams_bot(
    units: UnitOfWorkFactory, clock: Clock, quota: QuotaPolicy | None = None
) -> TeamsWorkBot:
    quota = quota or policy()
    return TeamsWorkBot(units, clock, quota, dispatcher(units, clock, quota))
