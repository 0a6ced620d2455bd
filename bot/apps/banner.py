"""The near-limit banner: while a quota is past the first warning threshold, the cards the bot
sends say so at their top."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.domain.clock import Clock
from bot.domain.quota import FULL, QuotaPolicy, QuotaState
from bot.services import subscriptions
from cards.billing import near_limit_banner
from cards.common import Card
from storage.uow import UnitOfWorkFactory


class QuotaBanner:
    """Remembers each tenant's quotas past the first threshold between turns: reading them is a
    transaction of its own, and they change only when items are created or the plan changes
    (callers then ask for a refresh), when the period renews, or in another process (the TTL)."""

    TTL = timedelta(seconds=60)
    MAX_TENANTS = 10_000

    def __init__(
        self,
        units: UnitOfWorkFactory,
        clock: Clock,
        policy: QuotaPolicy,
    ) -> None:
        self.units = units
        self.clock = clock
        self.catalog = policy.catalog
        self.first = min(policy.thresholds) if policy.thresholds else FULL
        self._entries: dict[str, tuple[datetime, tuple[QuotaState, ...]]] = {}

    def _cached(self, tenant_id: str, now: datetime) -> tuple[QuotaState, ...] | None:
        entry = self._entries.get(tenant_id)
        if entry is None:
            return None
        at, states = entry
        if now - at > self.TTL or any(now.date() >= s.renews_on for s in states):
            return None
        return states

    async def states(
        self, tenant_id: str, *, refresh: bool = False, consumed: QuotaState | None = None
    ) -> tuple[QuotaState, ...]:
        """`consumed`: what a create of this turn left of its app's quota; with the other apps
        cached, the banner is refreshed from it without reading the subscription again."""
        now = self.clock.now()
        states = None if refresh else self._cached(tenant_id, now)
        if refresh and consumed is not None:
            cached = self._cached(tenant_id, now)
            if cached is not None:
                near = consumed.used * 100 >= self.first * consumed.limit
                kept = [consumed if s.app == consumed.app else s for s in cached]
                if consumed not in kept:
                    kept.append(consumed)
                states = tuple(s for s in kept if near or s.app != consumed.app)
                self._entries[tenant_id] = (now, states)
                return states
        if states is None:
            states = await subscriptions.near_limits(
                self.units.reader(tenant_id), self.clock, self.catalog, self.first
            )
            if len(self._entries) >= self.MAX_TENANTS:
                self._entries.clear()
            self._entries[tenant_id] = (now, states)
        return states

    async def add_to(
        self,
        card: Card,
        tenant_id: str,
        locale: str | None,
        *,
        refresh: bool = False,
        consumed: QuotaState | None = None,
    ) -> Card:
        states = await self.states(tenant_id, refresh=refresh, consumed=consumed)
        if not states:
            return card
        return {**card, "body": [*near_limit_banner(locale, states), *card.get("body", [])]}
