"""Conversations at the product's own protocol (verb -> handler -> card), for tests."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from bot.apps.dispatch import Dispatcher, Turn
from bot.domain.clock import FixedClock
from bot.domain.people import Person
from bot.domain.quota import QuotaPolicy
from bot.services.identity import Identity
from cards.common import Card
from storage.uow import UnitOfWorkFactory
from tests.support.cards import card_text


@dataclass
class Dialog:
    dispatcher: Dispatcher
    units: UnitOfWorkFactory
    clock: FixedClock
    quota: QuotaPolicy

    def turn(self, who: Identity, *, channel: bool = False, everyone: bool = False) -> Turn:
        return Turn(
            replace(who, shared=channel),
            who.locale,
            "19:general@thread.tacv2" if channel else f"a:personal-{who.user_id}",
            self.units,
            self.clock,
            self.quota,
            self.dispatcher.registry,
            everyone=everyone,
        )

    async def in_channel(self, who: Identity, line: str) -> Card:
        """A line typed in a channel: the answer is a message everyone there reads."""
        parsed = self.dispatcher.registry.parse(line)
        turn = self.turn(who, channel=True, everyone=True)
        return await self.dispatcher.dispatch(turn, parsed.verb, parsed.data)

    async def refresh(self, who: Identity, card: Card) -> Card:
        """What Teams asks for `who` when it shows the channel's card (trigger: automatic)."""
        action = card["refresh"]["action"]
        return await self.dispatcher.dispatch(
            self.turn(who, channel=True), action["verb"], action["data"]
        )

    async def say(self, who: Identity, line: str, mentions: tuple[Identity, ...] = ()) -> Card:
        people = [Person(m.user_id, m.name) for m in mentions]
        parsed = self.dispatcher.registry.parse(line, people)
        return await self.dispatcher.dispatch(self.turn(who), parsed.verb, parsed.data)

    async def press(self, who: Identity, verb: str, data: dict[str, Any]) -> Card:
        return await self.dispatcher.dispatch(self.turn(who), verb, {"verb": verb, **data})

    async def verify(self, who: Identity, steps: list[tuple[str, list[str]]]) -> None:
        """Each step: a line and the texts its card must show."""
        for line, expected in steps:
            shown = card_text(await self.say(who, line))
            for text in expected:
                assert text in shown, (line, text, shown)
