"""Plans and the plan catalog.

The catalog is data the operator can replace, so everything read from the file is validated
here, once, with a message that points at the plan and the field to fix.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Any

from bot.domain.errors import DomainError

DEFAULT_CATALOG_PATH = Path(__file__).with_name("default_plans.json")
DEFAULT_CURRENCY = "EUR"
FREE_TIER = "free"

_CENT = Decimal("0.01")
_PLAN_FIELDS = frozenset(
    {"id", "name", "tier", "rank", "term", "price", "currency", "quotas", "marketplace_plan"}
)
_REQUIRED_FIELDS = ("id", "name", "tier", "rank", "term", "price", "quotas")


class Term(StrEnum):
    MONTHLY = "monthly"
    ANNUAL = "annual"


class App(StrEnum):
    TICKETS = "tickets"
    CHECKLISTS = "checklists"
    OPPORTUNITIES = "opportunities"


class UnknownPlan(DomainError):
    key = "billing.unknown_plan"


class CatalogError(ValueError):
    """The catalog file is unusable; the message says which plan and field to fix."""


@dataclass(frozen=True)
class Plan:
    id: str
    name: str
    tier: str
    rank: int
    term: Term
    price: Decimal
    currency: str
    # Excluded from the hash because a mapping is not hashable; equality still compares it.
    quotas: Mapping[App, int] = field(hash=False)
    # The plan id of the marketplace's SaaS offer that sells this plan, if it is sold there.
    marketplace_plan: str | None = None

    def __post_init__(self) -> None:
        # A read-only copy, so a caller's dict cannot change a plan after the fact.
        object.__setattr__(self, "quotas", MappingProxyType(dict(self.quotas)))

    @property
    def is_free(self) -> bool:
        return self.price == 0 and self.tier == FREE_TIER


class PlanCatalog:
    def __init__(self, plans: Iterable[Plan]) -> None:
        self._plans: dict[str, Plan] = {}
        for plan in plans:
            if plan.id in self._plans:
                raise CatalogError(f"plan {plan.id!r}: field 'id' is used by more than one plan")
            self._plans[plan.id] = plan
        free = [plan for plan in self._plans.values() if plan.tier == FREE_TIER]
        if len(free) != 1:
            found = ", ".join(repr(plan.id) for plan in free) or "none"
            raise CatalogError(
                f"catalog: field 'tier' must be {FREE_TIER!r} for exactly one plan, found {found}"
            )
        if free[0].price != 0:
            raise CatalogError(
                f"plan {free[0].id!r}: field 'price' must be 0 for the free plan, "
                f"got {free[0].price}"
            )
        self._free = free[0]
        self._marketplace: dict[str, Plan] = {}
        for plan in self._plans.values():
            if plan.marketplace_plan is None:
                continue
            other = self._marketplace.get(plan.marketplace_plan)
            if other is not None:
                raise CatalogError(
                    f"plan {plan.id!r}: field 'marketplace_plan' {plan.marketplace_plan!r} is "
                    f"used by plan {other.id!r} too"
                )
            self._marketplace[plan.marketplace_plan] = plan

    def get(self, plan_id: str) -> Plan:
        try:
            return self._plans[plan_id]
        except KeyError:
            raise UnknownPlan(plan_id=plan_id, valid=", ".join(self._plans)) from None

    def by_marketplace_plan(self, marketplace_plan: str) -> Plan | None:
        """The catalog plan a marketplace plan id sells; None for a plan we do not map (the
        caller refuses it: a plan is never guessed)."""
        return self._marketplace.get(marketplace_plan)

    def all(self) -> list[Plan]:
        return list(self._plans.values())

    def for_term(self, term: Term) -> list[Plan]:
        return sorted((p for p in self._plans.values() if p.term == term), key=lambda p: p.rank)

    def above(self, plan: Plan) -> list[Plan]:
        """The plans an organization on `plan` can upgrade to without changing its term."""
        # The free plan has no term of its own to keep; it upgrades to the monthly offers.
        term = Term.MONTHLY if plan.tier == FREE_TIER else plan.term
        return [p for p in self.for_term(term) if p.rank > plan.rank]

    @property
    def free(self) -> Plan:
        return self._free

    def __contains__(self, plan_id: object) -> bool:
        return plan_id in self._plans

    def __len__(self) -> int:
        return len(self._plans)


def load_catalog(path: str | Path | None = None) -> PlanCatalog:
    source = Path(path) if path is not None else DEFAULT_CATALOG_PATH
    text = source.read_text(encoding="utf-8")
    try:
        # Decimal, not float, so that "19.00" in the file is exactly 19.00 in the plan.
        document = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise CatalogError(f"catalog {str(source)!r}: not valid JSON: {exc}") from None
    return parse_catalog(document)


def parse_catalog(document: Any) -> PlanCatalog:
    """Build a catalog from the decoded JSON document: {"currency": ..., "plans": [...]}."""
    if not isinstance(document, dict):
        raise CatalogError(f"catalog: must be a JSON object, got {type(document).__name__}")
    unknown = sorted(set(document) - {"currency", "plans"})
    if unknown:
        raise CatalogError(f"catalog: unknown field {unknown[0]!r}")
    currency = _currency(document.get("currency", DEFAULT_CURRENCY), "catalog")
    raw_plans = document.get("plans")
    if not isinstance(raw_plans, list) or not raw_plans:
        raise CatalogError(f"catalog: field 'plans' must be a non-empty list, got {raw_plans!r}")
    seen: dict[str, int] = {}
    plans: list[Plan] = []
    for index, raw in enumerate(raw_plans):
        plan = _parse_plan(raw, index, currency)
        if plan.id in seen:
            raise CatalogError(
                f"plan {plan.id!r}: field 'id' is used by more than one plan "
                f"(plans #{seen[plan.id]} and #{index})"
            )
        seen[plan.id] = index
        plans.append(plan)
    return PlanCatalog(plans)


def _parse_plan(raw: Any, index: int, default_currency: str) -> Plan:
    where = f"plan #{index}"
    if not isinstance(raw, dict):
        raise CatalogError(f"{where}: must be a JSON object, got {raw!r}")
    plan_id = raw.get("id")
    if not isinstance(plan_id, str) or not plan_id.strip():
        raise CatalogError(f"{where}: field 'id' must be a non-empty string, got {plan_id!r}")
    where = f"plan {plan_id!r}"
    unknown = sorted(set(raw) - _PLAN_FIELDS)
    if unknown:
        raise CatalogError(f"{where}: unknown field {unknown[0]!r}")
    for name in _REQUIRED_FIELDS:
        if name not in raw:
            raise CatalogError(f"{where}: field {name!r} is missing")
    return Plan(
        id=plan_id,
        name=_text(raw["name"], where, "name"),
        tier=_text(raw["tier"], where, "tier"),
        rank=_count(raw["rank"], where, "field 'rank'"),
        term=_term(raw["term"], where),
        price=_price(raw["price"], where),
        currency=_currency(raw.get("currency", default_currency), where),
        quotas=_quotas(raw["quotas"], where),
        marketplace_plan=_marketplace_plan(raw.get("marketplace_plan"), where),
    )


def _marketplace_plan(value: Any, where: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > 64 or value != value.strip():
        raise CatalogError(
            f"{where}: field 'marketplace_plan' must be a marketplace plan id "
            f"(a non-empty string of at most 64 characters), got {value!r}"
        )
    return value


def _text(value: Any, where: str, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise CatalogError(f"{where}: field {name!r} must be a non-empty string, got {value!r}")
    return value


def _count(value: Any, where: str, what: str) -> int:
    # bool is an int in Python, but `true` in a catalog is a mistake, not a 1.
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise CatalogError(f"{where}: {what} must be a non-negative integer, got {value!r}")
    return value


def _term(value: Any, where: str) -> Term:
    try:
        return Term(value)
    except ValueError:
        valid = ", ".join(term.value for term in Term)
        raise CatalogError(f"{where}: field 'term' must be one of {valid}, got {value!r}") from None


def _price(value: Any, where: str) -> Decimal:
    problem = f"{where}: field 'price' must be a non-negative decimal, got {value!r}"
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise CatalogError(problem)
    try:
        price = Decimal(value)
    except InvalidOperation:
        raise CatalogError(problem) from None
    if not price.is_finite() or price < 0:
        raise CatalogError(problem)
    try:
        cents = price.quantize(_CENT)
    except InvalidOperation:
        raise CatalogError(problem) from None
    if cents != price:
        raise CatalogError(
            f"{where}: field 'price' must have at most 2 decimal places, got {value!r}"
        )
    return cents


def _currency(value: Any, where: str) -> str:
    if not isinstance(value, str) or len(value) != 3 or not value.isascii() or not value.isupper():
        raise CatalogError(
            f"{where}: field 'currency' must be a 3-letter ISO 4217 code, got {value!r}"
        )
    return value


def _quotas(value: Any, where: str) -> dict[App, int]:
    if not isinstance(value, dict):
        raise CatalogError(f"{where}: field 'quotas' must be an object, got {value!r}")
    valid = {app.value for app in App}
    unknown = sorted(set(value) - valid)
    if unknown:
        raise CatalogError(
            f"{where}: field 'quotas' has unknown app {unknown[0]!r} "
            f"(apps are {', '.join(sorted(valid))})"
        )
    quotas: dict[App, int] = {}
    for app in App:
        if app.value not in value:
            raise CatalogError(f"{where}: field 'quotas.{app.value}' is missing")
        quotas[app] = _count(value[app.value], where, f"field 'quotas.{app.value}'")
    return quotas
