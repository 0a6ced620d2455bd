"""The app registry: what the bot understands, declared once per app.

Every app (General, Ticketing, Billing, and the apps to come) declares its text commands, its
verbs and their handlers, which verbs create quota-counted items, and the renderers of its
proactive notices. The command parser, the help card, "did you mean", the banner refresh, the
proactive sender and the Teams manifest's command lists all read this one registry, so they
cannot disagree.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.domain.errors import DomainError
from bot.domain.people import Person
from bot.domain.plans import App
from bot.i18n import language

if TYPE_CHECKING:
    from bot.apps.dispatch import Turn
    from cards.common import Card, Element

AT_TAG = re.compile(r"<at>.*?</at>", re.IGNORECASE | re.DOTALL)
HTML_TAG = re.compile(r"<[^>]+>")

# Teams shows at most ten commands per scope in the app's command menu.
MANIFEST_COMMANDS_MAX = 10


@dataclass(frozen=True)
class Parsed:
    verb: str
    data: dict[str, Any] = field(default_factory=dict)


# Reads what follows a command's phrase (case kept, white space squeezed) and the people
# @mentioned; None when the words do not fit the command (the parser then suggests one).
ArgumentReader = Callable[[str, Sequence[Person]], "Parsed | None"]
Handler = Callable[["Turn", dict[str, Any]], Awaitable["Card"]]
# What a refused verb shows instead of the plain error card: the form with the input kept, or
# the item again with the reason.
Refusal = Callable[["Turn", dict[str, Any], DomainError], Awaitable["Card"]]
NoticeRenderer = Callable[[str | None, str], "Card"]
# A form that can come back filled in: (locale, the values typed, the error, a banner).
FormRenderer = Callable[
    [str | None, Mapping[str, Any] | None, DomainError | None, Sequence["Element"]], "Card"
]


def no_arguments(verb: str, **data: Any) -> ArgumentReader:
    """A command that takes nothing after its phrase."""

    def read(rest: str, mentions: Sequence[Person]) -> Parsed | None:
        return None if rest else Parsed(verb, dict(data))

    return read


@dataclass(frozen=True)
class Command:
    """A text command. `phrase` is what the user types first (lower case); `help` lists the
    lines of the help card as (syntax, message key); the first line's key also describes the
    command in the Teams manifest, where `featured` commands are listed."""

    phrase: str
    read: ArgumentReader
    help: tuple[tuple[str, str], ...]
    featured: bool = False
    aliases: tuple[str, ...] = ()
    # German: the phrase a German help card and manifest show (the first), other German
    # phrases, and the help lines' syntax in German (one per line of `help`).
    de: tuple[str, ...] = ()
    help_de: tuple[str, ...] = ()

    @property
    def phrases(self) -> tuple[str, ...]:
        """Every phrase in every language; a user may type either language."""
        return tuple(dict.fromkeys((self.phrase, *self.aliases, *self.de)))

    def phrase_in(self, lang: str) -> str:
        return self.de[0] if lang == "de" and self.de else self.phrase

    def help_in(self, lang: str) -> tuple[tuple[str, str], ...]:
        if lang == "de" and self.help_de:
            return tuple(
                (syntax, key) for syntax, (_, key) in zip(self.help_de, self.help, strict=True)
            )
        return self.help


@dataclass(frozen=True)
class Verb:
    """What a card action or a parsed command runs. `creates` names the app whose quota the
    verb consumes; `refreshes_quota` marks verbs after which the quota may have moved."""

    name: str
    handler: Handler
    creates: App | None = None
    refreshes_quota: bool = False
    refused: Refusal | None = None


@dataclass(frozen=True)
class Notice:
    """A kind of proactive message: its outbox `kind`, how its payload becomes a card, and
    whether the card carries the near-limit banner."""

    kind: str
    render: NoticeRenderer
    banner: bool = True


@dataclass(frozen=True)
class AppSpec:
    name: str
    commands: tuple[Command, ...] = ()
    verbs: tuple[Verb, ...] = ()
    notices: tuple[Notice, ...] = ()


def clean_text(text: str | None) -> str:
    """Drop mention tags and markup Teams leaves in the text, and squeeze the white space."""
    text = AT_TAG.sub(" ", text or "")
    text = HTML_TAG.sub(" ", text).replace("&nbsp;", " ")
    return " ".join(text.split())


class Registry:
    """Built once at start from the apps, in the order their commands are listed."""

    def __init__(self, apps: Sequence[AppSpec]) -> None:
        self.apps = tuple(apps)
        self.commands: tuple[Command, ...] = tuple(c for a in self.apps for c in a.commands)
        verbs: dict[str, Verb] = {}
        notices: dict[str, Notice] = {}
        phrases: dict[str, Command] = {}
        for app in self.apps:
            for verb in app.verbs:
                if verb.name in verbs:
                    raise ValueError(f"verb {verb.name!r} is declared twice")
                verbs[verb.name] = verb
            for notice in app.notices:
                if notice.kind in notices:
                    raise ValueError(f"notice kind {notice.kind!r} is declared twice")
                notices[notice.kind] = notice
            for command in app.commands:
                if command.help_de and len(command.help_de) != len(command.help):
                    raise ValueError(f"command {command.phrase!r}: one German line per help line")
                for phrase in command.phrases:
                    if phrase != phrase.lower().strip() or phrase in phrases:
                        raise ValueError(f"command phrase {phrase!r} is not unique lower case")
                    phrases[phrase] = command
        self.verbs: Mapping[str, Verb] = verbs
        self.notices: Mapping[str, Notice] = notices
        # Longest phrases first, so that "billing history" wins over "billing"; by first word,
        # which is all a message's first word can match.
        longest_first = sorted(
            ((tuple(p.split()), c) for p, c in phrases.items()), key=lambda pc: -len(pc[0])
        )
        self._by_first_word: dict[str, list[tuple[tuple[str, ...], Command]]] = {}
        for words, command in longest_first:
            self._by_first_word.setdefault(words[0], []).append((words, command))
        self.known = tuple(p for c in self.commands for p in dict.fromkeys((c.phrase, *c.de)))
        # Per language; the commands are fixed once the registry is built.
        self._help_lines: dict[str, tuple[tuple[str, str], ...]] = {}

    def verb(self, name: object) -> Verb | None:
        return self.verbs.get(name) if isinstance(name, str) else None

    def notice(self, kind: str) -> Notice:
        try:
            return self.notices[kind]
        except KeyError:
            raise ValueError(f"no app renders notices of kind {kind!r}") from None

    def help_lines(self, locale: str | None = None) -> tuple[tuple[str, str], ...]:
        """(syntax, message key) of every command, in registry order, in the language of
        `locale` (English unless German)."""
        lang = language(locale)
        lines = self._help_lines.get(lang)
        if lines is None:
            lines = tuple(line for command in self.commands for line in command.help_in(lang))
            self._help_lines[lang] = lines
        return lines

    def featured(self) -> tuple[Command, ...]:
        featured = tuple(c for c in self.commands if c.featured)
        if len(featured) > MANIFEST_COMMANDS_MAX:
            raise ValueError(f"at most {MANIFEST_COMMANDS_MAX} commands can be featured")
        return featured

    def parse(self, text: str | None, mentions: Sequence[Person] = ()) -> Parsed:
        """Understand one chat message. `mentions` are the people @mentioned, the bot
        excluded."""
        raw = clean_text(text)
        words = raw.split()
        lowered = [w.lower() for w in words]
        if not words:
            return Parsed("help")
        for phrase, command in self._by_first_word.get(lowered[0], ()):
            if tuple(lowered[: len(phrase)]) == phrase:
                parsed = command.read(" ".join(words[len(phrase) :]), mentions)
                if parsed is not None:
                    return parsed
                break
        whole = " ".join(lowered)
        suggestion = difflib.get_close_matches(whole, self.known, n=1, cutoff=0.5) or (
            difflib.get_close_matches(lowered[0], self.known, n=1, cutoff=0.6)
        )
        return Parsed("unknown", {"text": raw, "suggestion": suggestion[0] if suggestion else ""})
