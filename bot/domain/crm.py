"""CRM rules: accounts, contacts, opportunities, the pipeline's stages and its figures.

Money is a Decimal with at most 12 digits before the point and 2 after it, in an ISO 4217
currency that is legal tender somewhere today (Babel's copy of the CLDR data); figures are
kept per currency and never summed across currencies.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from functools import cache
from typing import Any, ClassVar

from babel.core import get_global

from bot.domain.errors import InvalidInput
from bot.domain.fields import FieldErrors
from bot.domain.items import Comment, HistoryEntry
from bot.domain.people import Person

NAME_MAX = 200
ACCOUNT_NAME_MAX = 200
CONTACT_NAME_MAX = 200
DOMAIN_MAX = 253
NOTES_MAX = 4000
NEXT_STEP_MAX = 400
LOST_REASON_MAX = 400
NOTE_MAX = 4000
EMAIL_MAX = 254
PHONE_MAX = 40
JOB_ROLE_MAX = 100
FILTER_MAX = 100

AMOUNT_DIGITS = 12  # before the decimal point
AMOUNT_PLACES = 2
DEFAULT_CURRENCY = "EUR"
CENT = Decimal("0.01")


class Stage(StrEnum):
    LEAD = "lead"
    QUALIFIED = "qualified"
    PROPOSAL = "proposal"
    NEGOTIATION = "negotiation"
    WON = "won"
    LOST = "lost"

    @property
    def is_closed(self) -> bool:
        return self in (Stage.WON, Stage.LOST)

    @property
    def default_probability(self) -> int:
        return DEFAULT_PROBABILITY[self]


OPEN_STAGES = (Stage.LEAD, Stage.QUALIFIED, Stage.PROPOSAL, Stage.NEGOTIATION)
DEFAULT_PROBABILITY: dict[Stage, int] = {
    Stage.LEAD: 10,
    Stage.QUALIFIED: 25,
    Stage.PROPOSAL: 50,
    Stage.NEGOTIATION: 75,
    Stage.WON: 100,
    Stage.LOST: 0,
}


def next_stage(stage: Stage) -> Stage | None:
    """The stage after this one: the open stages in order, then won; none once closed."""
    if stage.is_closed:
        return None
    index = OPEN_STAGES.index(stage)
    return OPEN_STAGES[index + 1] if index + 1 < len(OPEN_STAGES) else Stage.WON


def probability(stage: Stage, own: int | None) -> int:
    """A closed opportunity is certain either way; an open one has the probability its user
    set, or its stage's default."""
    if stage.is_closed or own is None:
        return stage.default_probability
    return own


def weighted(amount: Decimal, percent: int) -> Decimal:
    """Amount x probability, exact (at most 4 places); rounded only when shown."""
    return amount * percent / Decimal(100)


class OpportunityFilter(StrEnum):
    MINE = "mine"
    OPEN = "open"
    WON = "won"
    LOST = "lost"
    LEAD = "lead"
    QUALIFIED = "qualified"
    PROPOSAL = "proposal"
    NEGOTIATION = "negotiation"
    ALL = "all"

    @property
    def stage(self) -> Stage | None:
        try:
            return Stage(self.value)
        except ValueError:
            return None


# -- the stage moves ---------------------------------------------------------------------------


@dataclass(frozen=True)
class StageMove:
    """What a move changes on an opportunity: its stage, the last open stage it was in (where
    reopening goes back to), the day it closed and the lost reason."""

    stage: Stage
    last_open_stage: Stage
    closed_on: date | None
    lost_reason: str | None


class StageRefused(InvalidInput):
    """A stage move that the rules refuse, reported on the stage field of the card."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__({"stage": (key, params)})


def move_to(
    current: Stage, last_open: Stage, target: Stage, today: date, lost_reason: str = ""
) -> StageMove:
    """Move to any other stage. Won and lost close the opportunity (lost needs a reason);
    leaving a closed stage for an open one reopens it there."""
    if target is current:
        raise StageRefused("crm.stage_unchanged", stage=target)
    if target is Stage.LOST and not lost_reason.strip():
        raise InvalidInput({"lost_reason": ("crm.lost_reason_required", {})})
    if target.is_closed:
        opened_from = last_open if current.is_closed else current
        reason = lost_reason.strip() if target is Stage.LOST else None
        return StageMove(target, opened_from, today, reason)
    return StageMove(target, target, None, None)


def reopen(current: Stage, last_open: Stage) -> StageMove:
    """A won or lost opportunity goes back to the last open stage it was in."""
    if not current.is_closed:
        raise StageRefused("crm.not_closed")
    return StageMove(last_open, last_open, None, None)


# -- values -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AccountRef:
    number: int
    name: str


@dataclass(frozen=True)
class ContactRef:
    number: int
    name: str


@dataclass(frozen=True)
class Account:
    number: int
    name: str
    domain: str
    notes: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Contact:
    number: int
    name: str
    email: str
    phone: str
    job_role: str
    account: AccountRef | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Opportunity:
    number: int
    name: str
    account: AccountRef | None
    contact: ContactRef | None
    amount: Decimal
    currency: str
    stage: Stage
    own_probability: int | None
    close_date: date | None
    owner: Person
    next_step: str
    lost_reason: str | None
    last_open_stage: Stage
    closed_on: date | None
    created_at: datetime
    updated_at: datetime
    comments: tuple[Comment, ...] = field(default=())
    history: tuple[HistoryEntry, ...] = field(default=())

    @property
    def probability(self) -> int:
        return probability(self.stage, self.own_probability)

    @property
    def weighted(self) -> Decimal:
        return weighted(self.amount, self.probability)


# -- the pipeline -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PipelineEntry:
    """What the pipeline needs of one opportunity."""

    stage: Stage
    currency: str
    amount: Decimal
    probability: int
    closed_on: date | None = None


@dataclass(frozen=True)
class Totals:
    """Figures of some opportunities in one currency."""

    currency: str
    count: int
    total: Decimal
    weighted: Decimal


@dataclass(frozen=True)
class StageTotals:
    stage: Stage
    totals: tuple[Totals, ...]  # one per currency, by currency code

    @property
    def count(self) -> int:
        return sum(t.count for t in self.totals)


@dataclass(frozen=True)
class Quarter:
    start: date
    end: date  # exclusive

    @classmethod
    def of(cls, day: date) -> Quarter:
        first_month = (day.month - 1) // 3 * 3 + 1
        start = date(day.year, first_month, 1)
        end = date(day.year + 1, 1, 1) if first_month == 10 else date(day.year, first_month + 3, 1)
        return cls(start, end)

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day < self.end

    @property
    def number(self) -> int:
        return (self.start.month - 1) // 3 + 1


@dataclass(frozen=True)
class Pipeline:
    stages: tuple[StageTotals, ...]  # every open stage, in order
    open: tuple[Totals, ...]  # all open opportunities, per currency
    won: tuple[Totals, ...]  # won this quarter, per currency
    quarter: Quarter


def _totals(entries: Iterable[PipelineEntry]) -> tuple[Totals, ...]:
    by_currency: dict[str, list[PipelineEntry]] = defaultdict(list)
    for entry in entries:
        by_currency[entry.currency].append(entry)
    return tuple(
        Totals(
            currency,
            len(group),
            sum((e.amount for e in group), Decimal(0)),
            sum((weighted(e.amount, e.probability) for e in group), Decimal(0)),
        )
        for currency, group in sorted(by_currency.items())
    )


def build_pipeline(entries: Iterable[PipelineEntry], today: date) -> Pipeline:
    """Per open stage the count, total and weighted total per currency; the open total; and
    what was won in the quarter of `today`."""
    entries = list(entries)
    quarter = Quarter.of(today)
    stages = tuple(
        StageTotals(stage, _totals(e for e in entries if e.stage is stage)) for stage in OPEN_STAGES
    )
    return Pipeline(
        stages,
        _totals(e for e in entries if not e.stage.is_closed),
        _totals(e for e in entries if e.stage is Stage.WON and e.closed_on in quarter),
        quarter,
    )


# -- what users type --------------------------------------------------------------------------


@cache
def currencies() -> frozenset[str]:
    """ISO 4217 codes that are legal tender in some territory today (no end date in CLDR):
    EUR, USD, CHF, ... but not DEM, XXX or the codes of precious metals."""
    territories: Mapping[str, list[tuple[str, Any, Any, bool]]] = get_global("territory_currencies")
    return frozenset(
        code
        for spans in territories.values()
        for code, _start, end, tender in spans
        if end is None and tender
    )


_EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)
_DOMAIN = re.compile(r"([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}")
_PHONE = re.compile(r"\+?[0-9 ()./-]{3,40}")


class CrmFields(FieldErrors):
    """The shared field parsers, and what is CRM's own: money, currencies, emails."""

    def amount(self, name: str, value: object) -> Decimal | None:
        if isinstance(value, float):  # money is never a float, not even on the way in
            self.add(name, "field.not_number")
            return None
        amount = self.decimal(
            name, value, places=AMOUNT_PLACES, max_digits=AMOUNT_DIGITS, minimum=Decimal(0)
        )
        return amount.quantize(CENT) if amount is not None else None

    def currency(self, name: str, value: object, default: str = DEFAULT_CURRENCY) -> str:
        if value in (None, ""):
            return default
        code = value.strip().upper() if isinstance(value, str) else ""
        if code not in currencies():
            self.add(name, "crm.unknown_currency")
            return default
        return code

    def email(self, name: str, value: object) -> str:
        text = self.text(name, value, required=False, maximum=EMAIL_MAX)
        if text and name not in self.fields and not (text.isascii() and _EMAIL.fullmatch(text)):
            self.add(name, "crm.bad_email")
        return text

    def domain(self, name: str, value: object) -> str:
        text = self.text(name, value, required=False, maximum=DOMAIN_MAX)
        text = text.lower().removeprefix("https://").removeprefix("http://").rstrip("/")
        if text and name not in self.fields and not (text.isascii() and _DOMAIN.fullmatch(text)):
            self.add(name, "crm.bad_domain")
        return text

    def phone(self, name: str, value: object) -> str:
        text = self.text(name, value, required=False, maximum=PHONE_MAX)
        if text and name not in self.fields and not (text.isascii() and _PHONE.fullmatch(text)):
            self.add(name, "crm.bad_phone")
        return text


@dataclass(frozen=True)
class OpportunityDraft:
    """A new opportunity, validated; account and contact are names, found or created."""

    name: str
    amount: Decimal = Decimal("0.00")
    currency: str = DEFAULT_CURRENCY
    close_date: date | None = None
    account: str = ""
    contact: str = ""
    contact_email: str = ""
    next_step: str = ""


def parse_draft(data: Mapping[str, Any]) -> OpportunityDraft:
    """Validate the fields of a new opportunity; every problem is reported at once."""
    errors = CrmFields()
    name = errors.text("name", data.get("name"), required=True, maximum=NAME_MAX)
    amount = errors.amount("amount", data.get("amount"))
    currency = errors.currency("currency", data.get("currency"))
    close_date = errors.date("close_date", data.get("close_date"))
    account = errors.text("account", data.get("account"), required=False, maximum=ACCOUNT_NAME_MAX)
    contact = errors.text("contact", data.get("contact"), required=False, maximum=CONTACT_NAME_MAX)
    email = errors.email("contact_email", data.get("contact_email"))
    if email and not contact:
        errors.add("contact", "crm.contact_name_needed")
    next_step = errors.text(
        "next_step", data.get("next_step"), required=False, maximum=NEXT_STEP_MAX
    )
    errors.raise_if_any()
    return OpportunityDraft(
        name,
        amount if amount is not None else Decimal("0.00"),
        currency,
        close_date,
        account,
        contact,
        email,
        next_step,
    )


@dataclass(frozen=True)
class DealEdit:
    """The new deal figures of an opportunity; `probability` None means the stage's default."""

    amount: Decimal
    currency: str
    close_date: date | None
    probability: int | None
    next_step: str


def parse_deal(data: Mapping[str, Any]) -> DealEdit:
    errors = CrmFields()
    amount = errors.amount("amount", data.get("amount"))
    currency = errors.currency("currency", data.get("currency"))
    close_date = errors.date("close_date", data.get("close_date"))
    chance = errors.integer("probability", data.get("probability"), minimum=0, maximum=100)
    next_step = errors.text(
        "next_step", data.get("next_step"), required=False, maximum=NEXT_STEP_MAX
    )
    errors.raise_if_any()
    return DealEdit(
        amount if amount is not None else Decimal("0.00"), currency, close_date, chance, next_step
    )


@dataclass(frozen=True)
class StageChoice:
    stage: Stage
    lost_reason: str


def parse_stage(data: Mapping[str, Any]) -> StageChoice:
    errors = CrmFields()
    stage = errors.required_enum("stage", data.get("stage"), Stage, Stage.LEAD)
    reason = errors.text(
        "lost_reason", data.get("lost_reason"), required=False, maximum=LOST_REASON_MAX
    )
    errors.raise_if_any()
    return StageChoice(stage, reason)


def parse_note(value: object) -> str:
    errors = FieldErrors()
    text = errors.text("note", value, required=True, maximum=NOTE_MAX)
    errors.raise_if_any()
    return text


@dataclass(frozen=True)
class AccountEdit:
    domain: str
    notes: str


def parse_account_edit(data: Mapping[str, Any]) -> AccountEdit:
    errors = CrmFields()
    domain = errors.domain("domain", data.get("domain"))
    notes = errors.text("notes", data.get("notes"), required=False, maximum=NOTES_MAX)
    errors.raise_if_any()
    return AccountEdit(domain, notes)


@dataclass(frozen=True)
class ContactEdit:
    email: str
    phone: str
    job_role: str


def parse_contact_edit(data: Mapping[str, Any]) -> ContactEdit:
    errors = CrmFields()
    email = errors.email("email", data.get("email"))
    phone = errors.phone("phone", data.get("phone"))
    job_role = errors.text("job_role", data.get("job_role"), required=False, maximum=JOB_ROLE_MAX)
    errors.raise_if_any()
    return ContactEdit(email, phone, job_role)


def parse_name_filter(value: object) -> str:
    """What `accounts acme` looks for: part of a name, any case."""
    errors = FieldErrors()
    text = errors.text("filter", value, required=False, maximum=FILTER_MAX)
    errors.raise_if_any()
    return text


def name_key(name: str) -> str:
    """How names are compared: 'ACME Corp' and 'acme  corp' name the same account."""
    return " ".join(name.split()).casefold()


# -- notices ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class OpportunityNotice:
    """Told to the new owner of an opportunity."""

    KIND: ClassVar[str] = "opportunity"

    number: int
    name: str
    actor: str
    stage: Stage

    def to_json(self) -> str:
        return json.dumps(
            {"number": self.number, "name": self.name, "actor": self.actor, "stage": self.stage}
        )

    @classmethod
    def from_json(cls, text: str) -> OpportunityNotice:
        data: dict[str, Any] = json.loads(text)
        return cls(int(data["number"]), str(data["name"]), str(data["actor"]), Stage(data["stage"]))
