"""The General app: help, "did you mean", and who holds which role."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.apps.dispatch import MAX_ID_CHARS, Turn
from bot.apps.registry import AppSpec, Command, Parsed, Verb, no_arguments
from bot.domain.errors import DomainError
from bot.domain.people import Person
from bot.domain.roles import Role
from bot.services import organization
from bot.services import roles as roles_service
from cards.common import Card
from cards.general import help_card, notice_card, roles_card, unknown_command_card

# German role words (admin and agent are the same in both languages).
ROLE_WORDS = {"mitglied": "member"}


def _read_role(rest: str, mentions: Sequence[Person]) -> Parsed:
    words = rest.lower().split()
    role = ROLE_WORDS.get(words[-1], words[-1]) if words else ""
    data: dict[str, Any] = {"role": role, "user_id": ""}
    if mentions:
        data["user_id"] = mentions[0].id
    return Parsed("roles.set", data)


async def show_help(turn: Turn, data: dict[str, Any]) -> Card:
    return help_card(turn.locale, turn.registry.help_lines(turn.locale))


async def unknown(turn: Turn, data: dict[str, Any]) -> Card:
    typed = data.get("text") if isinstance(data.get("text"), str) else ""
    suggestion = data.get("suggestion") if isinstance(data.get("suggestion"), str) else None
    return unknown_command_card(turn.locale, str(typed), suggestion or None)


async def list_roles(turn: Turn, data: dict[str, Any]) -> Card:
    view = await roles_service.list_roles(turn.unit(), turn.clock, turn.who)
    return roles_card(turn.locale, view.admins, view.agents)


async def set_role(turn: Turn, data: dict[str, Any]) -> Card:
    user_id = data.get("user_id")
    try:
        role = Role(str(data.get("role", "")).lower())
    except ValueError:
        raise DomainError("roles.usage") from None
    if not isinstance(user_id, str) or not user_id or len(user_id) > MAX_ID_CHARS:
        raise DomainError("roles.usage")
    view = await roles_service.set_role(turn.unit(), turn.clock, turn.who, user_id, role)
    return roles_card(turn.locale, view.admins, view.agents, changed=view.changed)


def _read_language(rest: str, mentions: Sequence[Person]) -> Parsed:
    words = rest.lower().split()
    return Parsed("organization.language", {"language": words[0] if words else ""})


async def set_language(turn: Turn, data: dict[str, Any]) -> Card:
    raw = data.get("language")
    chosen = raw.strip().lower()[:8] if isinstance(raw, str) else ""
    language = await organization.set_language(turn.unit(), turn.clock, turn.who, chosen)
    return notice_card(turn.locale, "organization.language_set", language=language)


def general_app() -> AppSpec:
    return AppSpec(
        name="general",
        commands=(
            Command(
                "help",
                no_arguments("help"),
                (("help", "help.cmd.help"),),
                featured=True,
                aliases=("?", "hi", "hello", "start"),
                de=("hilfe", "hallo"),
                help_de=("hilfe",),
            ),
            Command(
                "roles",
                no_arguments("roles.list"),
                (("roles", "help.cmd.roles"),),
                featured=True,
                de=("rollen",),
                help_de=("rollen",),
            ),
            Command(
                "role",
                _read_role,
                (("role @user admin|agent|member", "help.cmd.role"),),
                de=("rolle",),
                help_de=("rolle @person admin|agent|mitglied",),
            ),
            Command(
                "language",
                _read_language,
                (("language de|en", "help.cmd.language"),),
                de=("sprache",),
                help_de=("sprache de|en",),
            ),
        ),
        verbs=(
            Verb("help", show_help),
            Verb("unknown", unknown),
            Verb("roles.list", list_roles),
            Verb("roles.set", set_role),
            Verb("organization.language", set_language),
        ),
    )
