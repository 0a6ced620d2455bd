"""CRM rules: stages and their probabilities, closing and reopening, the pipeline's figures per
currency, and what a submitted field may contain."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.crm import (
    OPEN_STAGES,
    OpportunityNotice,
    PipelineEntry,
    Quarter,
    Stage,
    StageRefused,
    build_pipeline,
    currencies,
    move_to,
    name_key,
    next_stage,
    parse_contact_edit,
    parse_deal,
    parse_draft,
    parse_stage,
    probability,
    reopen,
    weighted,
)
from bot.domain.errors import InvalidInput

TODAY = date(2026, 11, 2)


def problems(error: InvalidInput) -> dict[str, str]:
    return {name: key for name, (key, _) in error.fields.items()}


def refused(parse: Any, data: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(InvalidInput) as caught:
        parse(data)
    return problems(caught.value)


# -- stages ----------------------------------------------------------------------------------


def test_stages_have_their_default_probabilities() -> None:
    assert {s: s.default_probability for s in Stage} == {
        Stage.LEAD: 10,
        Stage.QUALIFIED: 25,
        Stage.PROPOSAL: 50,
        Stage.NEGOTIATION: 75,
        Stage.WON: 100,
        Stage.LOST: 0,
    }


def test_the_next_stage_runs_through_the_open_stages_to_won() -> None:
    walked = [Stage.LEAD]
    while (following := next_stage(walked[-1])) is not None:
        walked.append(following)
    assert walked == [*OPEN_STAGES, Stage.WON]
    assert next_stage(Stage.LOST) is None


def test_a_probability_the_user_set_wins_until_the_opportunity_closes() -> None:
    assert probability(Stage.PROPOSAL, None) == 50
    assert probability(Stage.PROPOSAL, 40) == 40
    assert probability(Stage.WON, 40) == 100
    assert probability(Stage.LOST, 40) == 0


def test_won_and_lost_close_and_reopening_goes_back_to_the_last_open_stage() -> None:
    won = move_to(Stage.NEGOTIATION, Stage.NEGOTIATION, Stage.WON, TODAY)
    assert (won.stage, won.last_open_stage, won.closed_on, won.lost_reason) == (
        Stage.WON,
        Stage.NEGOTIATION,
        TODAY,
        None,
    )
    lost = move_to(Stage.WON, won.last_open_stage, Stage.LOST, TODAY, "  went with a rival ")
    assert (lost.last_open_stage, lost.lost_reason) == (Stage.NEGOTIATION, "went with a rival")
    back = reopen(lost.stage, lost.last_open_stage)
    assert (back.stage, back.closed_on, back.lost_reason) == (Stage.NEGOTIATION, None, None)
    to_proposal = move_to(Stage.LOST, Stage.NEGOTIATION, Stage.PROPOSAL, TODAY)
    assert (to_proposal.stage, to_proposal.last_open_stage) == (Stage.PROPOSAL, Stage.PROPOSAL)


def test_lost_needs_a_reason_and_a_move_must_move() -> None:
    with pytest.raises(InvalidInput) as caught:
        move_to(Stage.LEAD, Stage.LEAD, Stage.LOST, TODAY, "   ")
    assert problems(caught.value) == {"lost_reason": "crm.lost_reason_required"}
    with pytest.raises(StageRefused):
        move_to(Stage.LEAD, Stage.LEAD, Stage.LEAD, TODAY)
    with pytest.raises(StageRefused):
        reopen(Stage.PROPOSAL, Stage.PROPOSAL)


def test_a_stage_that_does_not_exist_is_refused() -> None:
    assert refused(parse_stage, {"stage": "closed-ish"}) == {"stage": "field.choose_one"}
    assert refused(parse_stage, {}) == {"stage": "field.required"}
    assert parse_stage({"stage": " Won "}).stage is Stage.WON


# -- the pipeline ----------------------------------------------------------------------------


def entry(stage: Stage, amount: str, currency: str = "EUR", **kw: Any) -> PipelineEntry:
    chance = kw.pop("probability", stage.default_probability)
    return PipelineEntry(stage, currency, Decimal(amount), chance, **kw)


def test_the_pipeline_keeps_currencies_apart_and_counts_this_quarters_wins() -> None:
    pipeline = build_pipeline(
        [
            entry(Stage.LEAD, "1000.00"),
            entry(Stage.LEAD, "500.00", "USD"),
            entry(Stage.PROPOSAL, "2000.00", probability=40),
            entry(Stage.WON, "300.00", closed_on=date(2026, 10, 1)),
            entry(Stage.WON, "999.00", closed_on=date(2026, 9, 30)),  # last quarter
            entry(Stage.LOST, "700.00", closed_on=TODAY),
        ],
        TODAY,
    )
    lead = pipeline.stages[0]
    assert lead.stage is Stage.LEAD and lead.count == 2
    assert [(t.currency, t.count, t.total, t.weighted) for t in lead.totals] == [
        ("EUR", 1, Decimal("1000.00"), Decimal("100")),
        ("USD", 1, Decimal("500.00"), Decimal("50")),
    ]
    assert pipeline.stages[2].totals[0].weighted == Decimal("800")
    assert [(t.currency, t.total) for t in pipeline.open] == [
        ("EUR", Decimal("3000.00")),
        ("USD", Decimal("500.00")),
    ]
    assert [(t.currency, t.count, t.total) for t in pipeline.won] == [("EUR", 1, Decimal("300"))]
    assert pipeline.quarter == Quarter(date(2026, 10, 1), date(2027, 1, 1))
    assert [s.stage for s in pipeline.stages] == list(OPEN_STAGES)


def test_quarters() -> None:
    assert Quarter.of(date(2026, 1, 1)) == Quarter(date(2026, 1, 1), date(2026, 4, 1))
    assert Quarter.of(date(2026, 6, 30)).number == 2
    assert date(2026, 12, 31) in Quarter.of(date(2026, 10, 1))


amounts = st.decimals(
    min_value=Decimal(0), max_value=Decimal("999999999999.99"), places=2, allow_nan=False
)
entries = st.builds(
    PipelineEntry,
    st.sampled_from(OPEN_STAGES),
    st.sampled_from(["EUR", "USD", "CHF", "JPY"]),
    amounts,
    st.integers(min_value=0, max_value=100),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(entries, max_size=40))
def test_a_stages_weighted_total_is_the_sum_of_its_opportunities_per_currency(
    opportunities: list[PipelineEntry],
) -> None:
    pipeline = build_pipeline(opportunities, TODAY)
    for stage_totals in pipeline.stages:
        for totals in stage_totals.totals:
            mine = [
                o
                for o in opportunities
                if o.stage is stage_totals.stage and o.currency == totals.currency
            ]
            assert totals.count == len(mine)
            assert totals.total == sum((o.amount for o in mine), Decimal(0))
            assert totals.weighted == sum(
                (o.amount * o.probability / 100 for o in mine), Decimal(0)
            )
            assert all(isinstance(v, Decimal) for v in (totals.total, totals.weighted))
    assert sum(t.count for t in pipeline.open) == len(opportunities)


def test_weighted_is_exact() -> None:
    assert weighted(Decimal("999999999999.99"), 75) == Decimal("749999999999.9925")


# -- fields ----------------------------------------------------------------------------------


def test_a_draft_with_everything() -> None:
    draft = parse_draft(
        {
            "name": " Fleet renewal ",
            "amount": "12500.5",
            "currency": "chf",
            "close_date": "2026-12-15",
            "account": "Acme",
            "contact": "Wile E.",
            "contact_email": "wile@acme.example",
        }
    )
    assert (draft.name, draft.amount, draft.currency) == (
        "Fleet renewal",
        Decimal("12500.50"),
        "CHF",
    )
    assert draft.close_date == date(2026, 12, 15)
    assert parse_draft({"name": "Quick one"}).currency == "EUR"


@pytest.mark.parametrize(
    ("amount", "key"),
    [
        ("-5", "field.below_minimum"),
        ("ten", "field.not_number"),
        ("1e6", "field.not_number"),
        ("1234567890123", "field.too_many_digits"),
        ("1.005", "field.too_many_places"),
        ("NaN", "field.not_number"),
        (12.5, "field.not_number"),  # a float never becomes money
    ],
)
def test_bad_amounts(amount: object, key: str) -> None:
    assert refused(parse_draft, {"name": "x", "amount": amount}) == {"amount": key}
    assert refused(parse_deal, {"amount": amount}) == {"amount": key}


def test_the_largest_amount_is_twelve_digits_and_two_places() -> None:
    assert parse_deal({"amount": "999999999999.99"}).amount == Decimal("999999999999.99")


@pytest.mark.parametrize("code", ["EUR", "usd", "JPY", "CHF", "GBP"])
def test_real_currencies(code: str) -> None:
    assert parse_deal({"currency": code}).currency == code.upper()


@pytest.mark.parametrize("code", ["XYZ", "DEM", "XXX", "XAU", "EURO", "€", "E U"])
def test_unknown_or_retired_currencies(code: str) -> None:
    assert refused(parse_draft, {"name": "x", "currency": code}) == {
        "currency": "crm.unknown_currency"
    }


def test_the_currency_list_is_iso_4217_in_use() -> None:
    assert {"EUR", "USD", "JPY", "CHF", "GBP", "SEK"} <= currencies()
    assert not {"DEM", "FRF", "XXX", "XTS"} & currencies()


def test_every_field_problem_at_once() -> None:
    assert refused(
        parse_draft,
        {
            "name": "",
            "amount": "-1",
            "currency": "ABC",
            "close_date": "next friday",
            "contact_email": "not an email",
        },
    ) == {
        "name": "field.required",
        "amount": "field.below_minimum",
        "currency": "crm.unknown_currency",
        "close_date": "field.bad_date",
        "contact_email": "crm.bad_email",
        "contact": "crm.contact_name_needed",
    }


@pytest.mark.parametrize(
    "email",
    ["a@b", "no-at.example", "two@@at.example", "sp ace@x.example", "ü@x.example", "a@-x.de"],
)
def test_bad_emails(email: str) -> None:
    assert refused(parse_contact_edit, {"email": email}) == {"email": "crm.bad_email"}


def test_good_contact_fields() -> None:
    edit = parse_contact_edit(
        {"email": "first.last+crm@sub.example.com", "phone": "+49 (30) 123-456", "job_role": "CFO"}
    )
    assert edit.email == "first.last+crm@sub.example.com"
    assert refused(parse_contact_edit, {"phone": "call me"}) == {"phone": "crm.bad_phone"}


def test_probability_is_a_percent() -> None:
    assert parse_deal({"probability": "40"}).probability == 40
    assert parse_deal({}).probability is None
    assert refused(parse_deal, {"probability": "140"}) == {"probability": "field.out_of_range"}


def test_names_compare_without_case_or_extra_space() -> None:
    assert name_key(" ACME   Corp ") == name_key("acme corp")


def test_the_notice_round_trips_through_json() -> None:
    notice = OpportunityNotice(7, "Fleet renewal", "Alice", Stage.PROPOSAL)
    assert OpportunityNotice.from_json(notice.to_json()) == notice
