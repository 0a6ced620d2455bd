"""Verb -> handler -> card: the product's own protocol, free of any Bot Framework type.

Text commands (parsed by the registry) and card actions both arrive here as (verb, data).
Every card submission is checked here (type, size) and by the app's handler (fields, enums)
before any service runs; the services check roles, ownership and the tenant. A domain error
becomes a card here and nowhere else.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.apps.banner import QuotaBanner
from bot.apps.registry import FormRenderer, Refusal, Registry, Verb
from bot.domain.clock import Clock
from bot.domain.errors import DomainError, NotFound
from bot.domain.fields import ascii_int
from bot.domain.quota import QuotaExceeded, QuotaPolicy
from bot.services import subscriptions
from bot.services.identity import Identity
from cards.billing import quota_reached_banner
from cards.common import Card
from cards.general import error_card
from storage.uow import UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)

MAX_PAYLOAD_CHARS = 16_000
MAX_ID_CHARS = 200
MAX_NUMBER = 2**31 - 1


class BadAction(DomainError):
    """The data of a card action is not what our cards send: a stale or forged payload."""

    key = "error.bad_action"


@dataclass(frozen=True)
class Turn:
    """One user's request, as every handler sees it."""

    who: Identity
    locale: str | None
    conversation_id: str
    units: UnitOfWorkFactory
    clock: Clock
    policy: QuotaPolicy
    registry: Registry
    # The answer is a message everyone in the conversation reads (not the answer to one
    # person's card action): it shows no one's actions.
    everyone: bool = False

    @property
    def shared(self) -> bool:
        """A channel or a group chat: cards there carry a Universal Actions refresh, so that
        each person involved sees the actions of their own role."""
        return self.who.shared

    def unit(self) -> UnitOfWork:
        return self.units(self.who.tenant_id)

    def reader(self) -> UnitOfWork:
        """A unit of work for a use-case that only reads."""
        return self.units.reader(self.who.tenant_id)

    @property
    def today(self) -> date:
        return self.clock.now().date()


def refusal_card(locale: str | None, error: DomainError) -> Card:
    """The one place a domain error becomes a card."""
    return error_card(locale, error)


class Dispatcher:
    def __init__(self, registry: Registry, banner: QuotaBanner) -> None:
        self.registry = registry
        self.banner = banner

    async def dispatch(self, turn: Turn, verb: object, data: object) -> Card:
        """Run one verb and return the card to show."""
        spec = self.registry.verb(verb)
        if spec is None or not isinstance(data, dict):
            return refusal_card(turn.locale, BadAction())
        size = len(json.dumps(data, default=str))
        if size > MAX_PAYLOAD_CHARS:
            return refusal_card(
                turn.locale, DomainError("error.too_large", size=size, max=MAX_PAYLOAD_CHARS)
            )
        token = subscriptions.last_consumed.set(None)
        try:
            result = await spec.handler(turn, data)
        except DomainError as error:
            result = await self._refused(turn, spec, data, error)
        consumed = subscriptions.last_consumed.get()
        subscriptions.last_consumed.reset(token)
        refresh = spec.creates is not None or spec.refreshes_quota
        return await self.banner.add_to(
            result,
            turn.who.tenant_id,
            turn.locale,
            refresh=refresh,
            # A plan change moves every quota: only a create's own count is enough.
            consumed=consumed if not spec.refreshes_quota else None,
        )

    async def _refused(
        self, turn: Turn, spec: Verb, data: dict[str, Any], error: DomainError
    ) -> Card:
        log.info("refused %s: %s", spec.name, error.key)
        # What the user may not see stays "not found", without the item around it.
        if spec.refused is not None and not isinstance(error, NotFound):
            try:
                return await spec.refused(turn, data, error)
            except DomainError as again:
                error = again
        return refusal_card(turn.locale, error)


def form_refusal(form: FormRenderer) -> Refusal:
    """A refused create shows its form again with everything the user typed: under the reason
    (a wrong field is marked), or under the quota-reached banner."""

    async def refused(turn: Turn, data: dict[str, Any], error: DomainError) -> Card:
        if isinstance(error, QuotaExceeded):
            return form(turn.locale, data, None, quota_reached_banner(turn.locale, error))
        return form(turn.locale, data, error, ())

    return refused


# -- what card data may hold -----------------------------------------------------------------


def number_of(data: Mapping[str, Any], usage_key: str, name: str = "number") -> int:
    """An item number (ASCII digits, '#' allowed); anything else is answered with the
    command's usage."""
    number = ascii_int(data.get(name))
    if number is None or not 1 <= number <= MAX_NUMBER:
        raise DomainError(usage_key)
    return number


def page_of(data: Mapping[str, Any]) -> int:
    raw = data.get("page")
    if raw in (None, ""):
        return 0
    page = ascii_int(raw)
    if page is None or not 0 <= page <= 1_000_000:
        raise BadAction()
    return page


def card_id(data: Mapping[str, Any], name: str) -> str:
    """An id our own card put into its data (a user id, a plan id)."""
    value = data.get(name)
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_ID_CHARS:
        raise BadAction()
    return value.strip()
