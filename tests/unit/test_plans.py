"""The plan catalog: default plans, lookups, and what a broken catalog file tells the operator."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bot.domain.errors import DomainError
from bot.domain.plans import (
    DEFAULT_CATALOG_PATH,
    App,
    CatalogError,
    Plan,
    PlanCatalog,
    Term,
    UnknownPlan,
    load_catalog,
)

WriteCatalog = Callable[[Any], Path]


@pytest.fixture
def catalog() -> PlanCatalog:
    return load_catalog()


@pytest.fixture
def default_document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(DEFAULT_CATALOG_PATH.read_text(encoding="utf-8"))
    return document


@pytest.fixture
def write_catalog(tmp_path: Path) -> WriteCatalog:
    def write(document: Any) -> Path:
        path = tmp_path / "plans.json"
        text = document if isinstance(document, str) else json.dumps(document)
        path.write_text(text, encoding="utf-8")
        return path

    return write


def _plan_in(document: dict[str, Any], plan_id: str) -> dict[str, Any]:
    plan: dict[str, Any] = next(p for p in document["plans"] if p["id"] == plan_id)
    return plan


# --- the default catalog -------------------------------------------------------------------


def test_default_catalog_has_the_free_plan_and_three_paid_tiers_on_both_terms(
    catalog: PlanCatalog,
) -> None:
    assert sorted(plan.id for plan in catalog.all()) == sorted(
        [
            "free",
            "standard",
            "premium",
            "professional",
            "standard-annual",
            "premium-annual",
            "professional-annual",
        ]
    )


@pytest.mark.parametrize(
    ("plan_id", "price", "tickets", "checklists", "opportunities"),
    [
        ("free", "0.00", 25, 10, 10),
        ("standard", "19.00", 250, 100, 100),
        ("premium", "49.00", 1000, 500, 500),
        ("professional", "99.00", 5000, 2500, 2500),
    ],
)
def test_default_monthly_plans_match_the_design_table(
    catalog: PlanCatalog,
    plan_id: str,
    price: str,
    tickets: int,
    checklists: int,
    opportunities: int,
) -> None:
    plan = catalog.get(plan_id)
    assert plan.term == Term.MONTHLY
    assert plan.price == Decimal(price)
    assert plan.currency == "EUR"
    assert dict(plan.quotas) == {
        App.TICKETS: tickets,
        App.CHECKLISTS: checklists,
        App.OPPORTUNITIES: opportunities,
    }


@pytest.mark.parametrize("tier", ["standard", "premium", "professional"])
def test_annual_plan_costs_ten_months_and_gives_twelve_months_of_quota(
    catalog: PlanCatalog, tier: str
) -> None:
    monthly = catalog.get(tier)
    annual = catalog.get(f"{tier}-annual")
    assert annual.term == Term.ANNUAL
    assert annual.tier == monthly.tier
    assert annual.rank == monthly.rank
    assert annual.name == monthly.name
    assert annual.price == monthly.price * 10
    assert {app: annual.quotas[app] for app in App} == {
        app: monthly.quotas[app] * 12 for app in App
    }


def test_prices_are_decimals_with_cents(catalog: PlanCatalog) -> None:
    for plan in catalog.all():
        assert isinstance(plan.price, Decimal)
        assert plan.price.as_tuple().exponent == -2


def test_only_the_free_plan_is_free(catalog: PlanCatalog) -> None:
    assert catalog.free.id == "free"
    assert [plan.id for plan in catalog.all() if plan.is_free] == ["free"]


def test_tiers_are_ranked_free_standard_premium_professional(catalog: PlanCatalog) -> None:
    ranks = [catalog.get(plan_id).rank for plan_id in ("free", "standard", "premium")]
    assert ranks + [catalog.get("professional").rank] == [0, 1, 2, 3]


def test_a_plan_cannot_be_changed_through_its_quota_mapping(catalog: PlanCatalog) -> None:
    plan = catalog.get("premium")
    with pytest.raises(TypeError):
        plan.quotas[App.TICKETS] = 1  # type: ignore[index]


def test_plans_are_hashable_and_compare_by_value(catalog: PlanCatalog) -> None:
    again = load_catalog()
    assert catalog.get("premium") == again.get("premium")
    assert len({catalog.get("premium"), again.get("premium")}) == 1


# --- lookups -------------------------------------------------------------------------------


def test_get_unknown_plan_names_the_valid_ids(catalog: PlanCatalog) -> None:
    with pytest.raises(UnknownPlan) as raised:
        catalog.get("platinum")
    assert isinstance(raised.value, DomainError)
    assert raised.value.key == "billing.unknown_plan"
    assert raised.value.params["plan_id"] == "platinum"
    assert "premium" in raised.value.params["valid"].split(", ")
    assert "free" in raised.value.params["valid"].split(", ")


def test_for_term_lists_the_plans_of_that_term_by_rank(catalog: PlanCatalog) -> None:
    assert [p.id for p in catalog.for_term(Term.MONTHLY)] == [
        "free",
        "standard",
        "premium",
        "professional",
    ]
    assert [p.id for p in catalog.for_term(Term.ANNUAL)] == [
        "standard-annual",
        "premium-annual",
        "professional-annual",
    ]


def test_above_the_free_plan_are_the_paid_monthly_plans(catalog: PlanCatalog) -> None:
    assert [p.id for p in catalog.above(catalog.free)] == ["standard", "premium", "professional"]


def test_above_a_paid_plan_are_the_higher_tiers_of_the_same_term(catalog: PlanCatalog) -> None:
    assert [p.id for p in catalog.above(catalog.get("standard"))] == ["premium", "professional"]
    assert [p.id for p in catalog.above(catalog.get("premium-annual"))] == ["professional-annual"]


def test_nothing_is_above_the_top_tier(catalog: PlanCatalog) -> None:
    assert catalog.above(catalog.get("professional")) == []
    assert catalog.above(catalog.get("professional-annual")) == []


def test_catalog_loads_from_a_path_given_as_text(
    write_catalog: WriteCatalog, default_document: dict[str, Any]
) -> None:
    path = write_catalog(default_document)
    assert len(load_catalog(str(path)).all()) == 7


def test_an_operator_catalog_may_set_its_own_currency_and_plans(
    write_catalog: WriteCatalog,
) -> None:
    document = {
        "currency": "USD",
        "plans": [
            {
                "id": "free",
                "name": "Free",
                "tier": "free",
                "rank": 0,
                "term": "monthly",
                "price": 0,
                "quotas": {"tickets": 5, "checklists": 5, "opportunities": 5},
            },
            {
                "id": "team",
                "name": "Team",
                "tier": "team",
                "rank": 1,
                "term": "monthly",
                "price": 12.5,
                "currency": "GBP",
                "quotas": {"tickets": 50, "checklists": 0, "opportunities": 20},
            },
        ],
    }
    loaded = load_catalog(write_catalog(document))
    assert loaded.free.currency == "USD"
    team = loaded.get("team")
    assert team.price == Decimal("12.50")
    assert team.currency == "GBP"
    assert team.quotas[App.CHECKLISTS] == 0


# --- broken catalog files ------------------------------------------------------------------

Mutation = Callable[[dict[str, Any]], None]


def _set(plan_id: str, field: str, value: Any) -> Mutation:
    def mutate(document: dict[str, Any]) -> None:
        _plan_in(document, plan_id)[field] = value

    return mutate


def _delete(plan_id: str, field: str) -> Mutation:
    def mutate(document: dict[str, Any]) -> None:
        del _plan_in(document, plan_id)[field]

    return mutate


def _set_quota(plan_id: str, app: str, value: Any) -> Mutation:
    def mutate(document: dict[str, Any]) -> None:
        _plan_in(document, plan_id)["quotas"][app] = value

    return mutate


def _delete_quota(plan_id: str, app: str) -> Mutation:
    def mutate(document: dict[str, Any]) -> None:
        del _plan_in(document, plan_id)["quotas"][app]

    return mutate


def _duplicate_id(document: dict[str, Any]) -> None:
    copied = copy.deepcopy(_plan_in(document, "premium"))
    copied["name"] = "Premium again"
    document["plans"].append(copied)


def _second_free_plan(document: dict[str, Any]) -> None:
    _plan_in(document, "standard")["tier"] = "free"
    _plan_in(document, "standard")["price"] = "0.00"


def _no_free_plan(document: dict[str, Any]) -> None:
    document["plans"] = [p for p in document["plans"] if p["tier"] != "free"]


@pytest.mark.parametrize(
    ("mutate", "plan", "field", "detail"),
    [
        (
            _set("premium", "price", "abc"),
            "'premium'",
            "'price'",
            "non-negative decimal, got 'abc'",
        ),
        (_set("premium", "price", "-1.00"), "'premium'", "'price'", "non-negative decimal"),
        (_set("premium", "price", "NaN"), "'premium'", "'price'", "non-negative decimal"),
        (_set("premium", "price", "Infinity"), "'premium'", "'price'", "non-negative decimal"),
        (_set("premium", "price", True), "'premium'", "'price'", "non-negative decimal"),
        (_set("premium", "price", None), "'premium'", "'price'", "non-negative decimal"),
        (_set("premium", "price", "49.005"), "'premium'", "'price'", "at most 2 decimal places"),
        (_delete("premium", "price"), "'premium'", "'price'", "missing"),
        (_set("standard", "term", "weekly"), "'standard'", "'term'", "monthly, annual"),
        (_set("standard", "term", None), "'standard'", "'term'", "got None"),
        (_set("standard", "rank", "1"), "'standard'", "'rank'", "non-negative integer"),
        (_set("standard", "rank", 1.5), "'standard'", "'rank'", "non-negative integer"),
        (_set("standard", "rank", -1), "'standard'", "'rank'", "non-negative integer"),
        (_set("standard", "rank", True), "'standard'", "'rank'", "non-negative integer"),
        (_set("standard", "name", ""), "'standard'", "'name'", "non-empty string"),
        (_set("standard", "tier", 3), "'standard'", "'tier'", "non-empty string"),
        (_set("standard", "currency", "euro"), "'standard'", "'currency'", "3-letter"),
        (_set("standard", "quotas", [250, 100, 100]), "'standard'", "'quotas'", "object"),
        (_set("standard", "prices", "19.00"), "'standard'", "'prices'", "unknown field"),
        (_delete_quota("professional", "checklists"), "'professional'", "'quotas.checklists'", ""),
        (_set_quota("professional", "tickets", -5), "'professional'", "'quotas.tickets'", ""),
        (_set_quota("professional", "tickets", 2.5), "'professional'", "'quotas.tickets'", ""),
        (_set_quota("professional", "tickets", "5000"), "'professional'", "'quotas.tickets'", ""),
        (_set_quota("free", "invoices", 3), "'free'", "'quotas'", "unknown app 'invoices'"),
        (_set("free", "price", "1.00"), "'free'", "'price'", "must be 0 for the free plan"),
        (_duplicate_id, "'premium'", "'id'", "more than one plan"),
    ],
)
def test_a_broken_plan_is_reported_with_its_id_and_field(
    write_catalog: WriteCatalog,
    default_document: dict[str, Any],
    mutate: Mutation,
    plan: str,
    field: str,
    detail: str,
) -> None:
    mutate(default_document)
    with pytest.raises(CatalogError) as raised:
        load_catalog(write_catalog(default_document))
    message = str(raised.value)
    assert message.startswith(f"plan {plan}:")
    assert f"field {field}" in message
    assert detail in message


def test_the_vendor_example_of_a_bad_price_reads_as_documented(
    write_catalog: WriteCatalog, default_document: dict[str, Any]
) -> None:
    _plan_in(default_document, "premium")["price"] = "abc"
    with pytest.raises(
        CatalogError,
        match=r"^plan 'premium': field 'price' must be a non-negative decimal, got 'abc'$",
    ):
        load_catalog(write_catalog(default_document))


@pytest.mark.parametrize("bad_id", [None, "", "  ", 7])
def test_a_plan_without_a_usable_id_is_reported_by_its_position(
    write_catalog: WriteCatalog, default_document: dict[str, Any], bad_id: Any
) -> None:
    default_document["plans"][2]["id"] = bad_id
    with pytest.raises(CatalogError, match=r"^plan #2: field 'id' must be a non-empty string"):
        load_catalog(write_catalog(default_document))


def test_a_plan_that_is_not_an_object_is_reported_by_its_position(
    write_catalog: WriteCatalog, default_document: dict[str, Any]
) -> None:
    default_document["plans"].insert(1, "standard")
    with pytest.raises(CatalogError, match=r"^plan #1: must be a JSON object"):
        load_catalog(write_catalog(default_document))


@pytest.mark.parametrize("mutate", [_second_free_plan, _no_free_plan])
def test_the_catalog_needs_exactly_one_free_plan(
    write_catalog: WriteCatalog, default_document: dict[str, Any], mutate: Mutation
) -> None:
    mutate(default_document)
    with pytest.raises(CatalogError, match=r"field 'tier' must be 'free' for exactly one plan"):
        load_catalog(write_catalog(default_document))


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("{not json", "not valid JSON"),
        ([], "must be a JSON object"),
        ({"plans": []}, "field 'plans' must be a non-empty list"),
        ({"currency": "EUR"}, "field 'plans' must be a non-empty list"),
        ({"plans": [], "extra": 1}, "unknown field 'extra'"),
    ],
)
def test_a_catalog_file_of_the_wrong_shape_is_refused(
    write_catalog: WriteCatalog, document: Any, message: str
) -> None:
    with pytest.raises(CatalogError, match=message):
        load_catalog(write_catalog(document))


def test_catalog_errors_are_value_errors() -> None:
    assert issubclass(CatalogError, ValueError)


def test_a_catalog_built_in_code_also_refuses_duplicate_ids(catalog: PlanCatalog) -> None:
    premium = catalog.get("premium")
    with pytest.raises(CatalogError, match=r"plan 'premium': field 'id'"):
        PlanCatalog([catalog.free, premium, premium])


def test_a_catalog_built_in_code_needs_a_free_plan(catalog: PlanCatalog) -> None:
    with pytest.raises(CatalogError, match="exactly one plan"):
        PlanCatalog([catalog.get("standard")])


def test_is_free_needs_both_the_free_tier_and_a_zero_price() -> None:
    quotas = {App.TICKETS: 1, App.CHECKLISTS: 1, App.OPPORTUNITIES: 1}
    trial = Plan("trial", "Trial", "trial", 0, Term.MONTHLY, Decimal("0.00"), "EUR", quotas)
    assert not trial.is_free
