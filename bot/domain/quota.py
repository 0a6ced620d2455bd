"""Quota: how much of an app's allowance a tenant has used in its billing period."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from bot.domain.errors import DomainError
from bot.domain.plans import App, Plan, PlanCatalog

DEFAULT_THRESHOLDS: tuple[int, ...] = (80, 90)
FULL = 100


@dataclass(frozen=True)
class QuotaPolicy:
    """What the operator configured for quotas: the plan catalog and the warning thresholds.
    Built once from the settings and handed to every create; it has no defaults, so no path
    can fall back to thresholds the operator did not choose."""

    catalog: PlanCatalog
    thresholds: tuple[int, ...]


@dataclass(frozen=True)
class QuotaState:
    app: App
    used: int
    limit: int
    renews_on: date

    @property
    def percent(self) -> int:
        if self.limit <= 0:
            return 100
        return min(999, (self.used * 100) // self.limit)

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)


class QuotaExceeded(DomainError):
    """Creating is refused: the app's quota of this period is used up."""

    key = "quota.exceeded"

    def __init__(self, state: QuotaState, plan: Plan, upgrades: Sequence[Plan]) -> None:
        super().__init__(
            app=state.app,
            used=state.used,
            limit=state.limit,
            renews=state.renews_on,
            plan=plan.name,
        )
        self.state = state
        self.plan = plan
        self.upgrades = tuple(upgrades)


class SubscriptionSuspended(DomainError):
    """The marketplace suspended the subscription (unpaid): creating is refused."""

    key = "subscription.suspended"


def crossed_threshold(
    before: int, after: int, limit: int, thresholds: Sequence[int] = DEFAULT_THRESHOLDS
) -> int | None:
    """The highest threshold (percent, 100 = quota reached) that usage crossed going from
    `before` to `after`, or None. Only the highest is reported when one step jumps several."""
    if limit <= 0:
        return None
    crossed = [
        level
        for level in (*sorted(thresholds), FULL)
        if before * 100 < level * limit <= after * 100
    ]
    return crossed[-1] if crossed else None
