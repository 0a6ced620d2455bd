"""Text commands -> (verb, data), the same shape a card action has."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Any

from bot.domain.tickets import Person

AT_TAG = re.compile(r"<at>.*?</at>", re.IGNORECASE | re.DOTALL)
HTML_TAG = re.compile(r"<[^>]+>")


@dataclass(frozen=True)
class Parsed:
    verb: str
    data: dict[str, Any] = field(default_factory=dict)


# What the help card lists and what "did you mean" may suggest.
KNOWN = (
    "help",
    "new ticket",
    "tickets",
    "ticket",
    "roles",
    "role",
    "usage",
    "plans",
    "change plan",
    "cancel subscription",
    "do not renew",
    "call off change",
    "billing",
    "billing history",
)

# Commands without arguments.
SIMPLE = {
    "roles": Parsed("roles.list"),
    "usage": Parsed("usage"),
    "quota": Parsed("usage"),
    "plans": Parsed("plans"),
    "cancel subscription": Parsed("subscription.cancel_confirm"),
    "do not renew": Parsed("subscription.end_confirm"),
    "call off change": Parsed("plan.call_off"),
    "billing": Parsed("billing", {"history": False}),
    "billing history": Parsed("billing", {"history": True}),
    "statement": Parsed("billing", {"history": False}),
}


def clean_text(text: str | None) -> str:
    """Drop mention tags and markup Teams leaves in the text, and squeeze the white space."""
    text = AT_TAG.sub(" ", text or "")
    text = HTML_TAG.sub(" ", text).replace("&nbsp;", " ")
    return " ".join(text.split())


def parse(text: str | None, mentions: list[Person] | None = None) -> Parsed:
    """Understand one chat message. `mentions` are the people @mentioned, the bot excluded."""
    raw = clean_text(text)
    lowered = raw.lower()
    words = lowered.split()
    if not words:
        return Parsed("help")
    head = words[0]
    if lowered in ("help", "?", "hi", "hello", "start"):
        return Parsed("help")
    if words[:2] == ["new", "ticket"]:
        title = raw.split(None, 2)[2] if len(words) > 2 else ""
        return Parsed("ticket.create", {"title": title}) if title else Parsed("ticket.form")
    if head == "tickets":
        flt = words[1] if len(words) > 1 else "mine"
        return Parsed("tickets.list", {"filter": flt, "page": 0})
    if head == "ticket":
        number = words[1].lstrip("#") if len(words) > 1 else ""
        return Parsed("ticket.show", {"number": number})
    if lowered in SIMPLE:
        return SIMPLE[lowered]
    if words[:2] == ["change", "plan"]:
        plan = words[2] if len(words) > 2 else ""
        return Parsed("plan.confirm", {"plan": plan})
    if head == "role":
        role = words[-1] if len(words) > 1 else ""
        target = mentions[0] if mentions else None
        data = {"role": role, "user_id": "", "user_name": ""}
        if target is not None:
            data.update(user_id=target.id, user_name=target.name)
        return Parsed("roles.set", data)
    suggestion = difflib.get_close_matches(lowered, KNOWN, n=1, cutoff=0.5) or (
        difflib.get_close_matches(head, KNOWN, n=1, cutoff=0.6)
    )
    return Parsed("unknown", {"text": raw, "suggestion": suggestion[0] if suggestion else ""})
