"""Reading Adaptive Cards the way a user (and a Teams client) does: texts, inputs, buttons."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

Card = dict[str, Any]


def walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item)


def card_text(card: Card) -> str:
    """Every text a user can read on the card (text blocks, facts, button titles, input values)."""
    parts: list[str] = []
    for node in walk(card):
        for key in ("text", "title", "value", "errorMessage"):
            if isinstance(node.get(key), str):
                parts.append(node[key])
    return "\n".join(parts)


def inputs(card: Card) -> dict[str, dict[str, Any]]:
    """The input elements of the card (nested show-cards included), by id."""
    return {
        node["id"]: node
        for node in walk(card)
        if str(node.get("type", "")).startswith("Input.") and "id" in node
    }


def actions(card: Card) -> list[dict[str, Any]]:
    """Every Action.Execute of the card, also those inside show-cards and select actions."""
    return [node for node in walk(card) if node.get("type") == "Action.Execute"]


def verbs(card: Card) -> list[str]:
    return [a["verb"] for a in actions(card)]


def action(card: Card, verb: str) -> dict[str, Any]:
    found = [a for a in actions(card) if a["verb"] == verb]
    assert found, f"no {verb!r} button on the card; verbs: {verbs(card)}"
    return found[0]


def _scope(card: Card, verb: str) -> dict[str, dict[str, Any]]:
    """The inputs Teams sends with a button: the card's own, plus those of the show-card that
    holds the button (the inputs of other show-cards stay behind)."""
    scope = inputs({"body": card.get("body", [])})
    for element in card.get("actions", []):
        inner = element.get("card") if element.get("type") == "Action.ShowCard" else None
        if inner is not None and verb in verbs(inner):
            scope.update(inputs({"body": inner.get("body", [])}))
    return scope


def submission(card: Card, verb: str, **values: Any) -> dict[str, Any]:
    """What Teams sends when the user fills the card's inputs and presses the `verb` button:
    the action's data merged with the input values. Only inputs next to the button may be filled."""
    fields = _scope(card, verb)
    unknown = set(values) - set(fields)
    assert not unknown, f"no inputs {sorted(unknown)} next to {verb!r}; there are {sorted(fields)}"
    data = dict(action(card, verb)["data"])
    for name, field in fields.items():
        if name in values:
            data[name] = values[name]
        elif "value" in field:
            data[name] = field["value"]
    return data
