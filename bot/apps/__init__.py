"""The apps of the product and the registry built from them.

Adding an app: a domain module (bot/domain/), a service module on the shared item machinery
(bot/services/items.py), a card module (cards/), its tables and migration (storage/), its
catalog keys (bot/i18n/), and its registration here: a module with an `AppSpec`, listed in
`build_registry`.
"""

from __future__ import annotations

from bot.apps.billing import billing_app
from bot.apps.checklists import checklists_app
from bot.apps.crm import crm_app
from bot.apps.general import general_app
from bot.apps.registry import Registry
from bot.apps.ticketing import ticketing_app


def build_registry() -> Registry:
    """The registry of every app, in the order the help card lists their commands."""
    return Registry([general_app(), ticketing_app(), checklists_app(), billing_app(), crm_app()])
