"""Cards that belong to no single app: welcome, help, errors, roles."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from bot.domain.errors import DomainError
from bot.domain.people import Person
from bot.domain.roles import Role
from bot.i18n import language, t
from cards.common import (
    Card,
    Element,
    attention,
    card,
    error_text,
    execute,
    heading,
    literal,
    message,
    text,
)


def _start_actions(locale: str | None) -> list[Element]:
    return [
        execute(t(locale, "button.new_ticket"), "ticket.form"),
        execute(t(locale, "button.my_tickets"), "tickets.list", {"filter": "mine", "page": 0}),
        execute(t(locale, "button.help"), "help"),
    ]


def welcome_card(locale: str | None) -> Card:
    return card(
        [
            heading(t(locale, "welcome.title")),
            text(t(locale, "welcome.body")),
            text(t(locale, "welcome.next")),
        ],
        _start_actions(locale),
    )


def help_card(locale: str | None, lines: Sequence[tuple[str, str]]) -> Card:
    """`lines` are (syntax, message key) of every command, in the order of the app registry."""
    listed = _help_list(language(locale), tuple(lines))
    return card(
        [heading(t(locale, "help.title")), text(t(locale, "help.intro")), text(listed)],
        _start_actions(locale)[:2],
    )


@lru_cache(maxsize=32)
def _help_list(lang: str, lines: tuple[tuple[str, str], ...]) -> str:
    """The command list of the help card: the same for every help card in one language with
    the same commands (a message depends on the locale only through its language). Only
    messages and the registry's syntax, no user text; a str, so no caller can change it."""
    return "\n".join(f"- **{command}**: {t(lang, key)}" for command, key in lines)


def unknown_command_card(locale: str | None, typed: str, suggestion: str | None) -> Card:
    body: list[Element] = [text(t(locale, "unknown.text", text=literal(typed[:100])))]
    if suggestion:
        body.append(text(t(locale, "unknown.suggest", suggestion=suggestion)))
    body.append(text(t(locale, "unknown.hint"), isSubtle=True))
    actions = [execute(t(locale, "button.help"), "help")]
    return card(body, actions)


def error_card(locale: str | None, error: DomainError, actions: Sequence[Element] = ()) -> Card:
    return card([attention(error_text(locale, error))], actions)


def notice_card(locale: str | None, key: str, **params: object) -> Card:
    return card([text(message(locale, key, params))])


def apology_card(locale: str | None, reference: str) -> Card:
    return card([attention(t(locale, "error.generic", ref=reference))])


def roles_card(
    locale: str | None,
    admins: Sequence[Person],
    agents: Sequence[Person],
    changed: tuple[Person, Role] | None = None,
) -> Card:
    body: list[Element] = []
    if changed is not None:
        person, role = changed
        body.append(
            text(
                t(
                    locale,
                    "roles.changed",
                    name=literal(person.name),
                    role=t(locale, f"role.{role.value}"),
                ),
                color="Good",
                weight="Bolder",
            )
        )
    nobody = t(locale, "roles.nobody")
    body += [
        heading(t(locale, "roles.title")),
        {
            "type": "FactSet",
            "facts": [
                {
                    "title": t(locale, "roles.admins"),
                    "value": ", ".join(literal(p.name) for p in admins) or nobody,
                },
                {
                    "title": t(locale, "roles.agents"),
                    "value": ", ".join(literal(p.name) for p in agents) or nobody,
                },
            ],
        },
        text(t(locale, "roles.members_note"), isSubtle=True, size="Small"),
    ]
    return card(body)
