"""The app registry is the one list of what the bot understands: the parser, the help card and
the Teams manifest are all derived from it, so they cannot disagree."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app_manifest.package import render_manifest
from bot.apps import build_registry
from bot.apps.__main__ import command_table
from bot.apps.registry import AppSpec, Command, Registry, Verb, no_arguments
from bot.domain.plans import App
from cards.general import help_card
from tests.support.cards import card_text

REGISTRY = build_registry()
APP_ID = "00000000-0000-0000-0000-000000000001"
# A value for each placeholder of the help lines' syntax.
EXAMPLES = {
    "<title>": "Printer jam",
    "<number>": "7",
    "<plan>": "premium",
    "[mine|assigned|unassigned|open|closed|all]": "open",
    "@user admin|agent|member": "agent",
    "<template>": "Onboarding",
    "de|en": "de",
    "<titel>": "Drucker",
    "<nummer>": "7",
    "<tarif>": "premium",
    "<vorlage>": "Einarbeitung",
    "[meine|zugewiesen|unzugewiesen|offen|geschlossen|alle]": "offen",
    "[meine|zugewiesen|prüfen|offen|überfällig|alle]": "überfällig",
    "@person admin|agent|mitglied": "mitglied",
    "[mine|assigned|review|open|overdue|all]": "overdue",
    "[mine|open|won|lost|<stage>|all]": "won",
    "[<name>]": "acme",
    "[meine|offen|gewonnen|verloren|<phase>|alle]": "gewonnen",
    "<name>": "Acme",
}


def example(syntax: str) -> str:
    for placeholder, value in EXAMPLES.items():
        syntax = syntax.replace(placeholder, value)
    assert not re.search(r"[<>\[\]|@]", syntax), f"no example for a placeholder of {syntax!r}"
    return syntax


@pytest.mark.parametrize(
    "syntax", [s for locale in ("en-US", "de-DE") for s, _ in REGISTRY.help_lines(locale)]
)
def test_every_help_line_parses_to_a_verb_that_has_a_handler(syntax: str) -> None:
    parsed = REGISTRY.parse(example(syntax))
    assert parsed.verb != "unknown", syntax
    assert REGISTRY.verb(parsed.verb) is not None, parsed


def test_every_command_has_a_german_phrase_and_german_help_that_mean_the_same() -> None:
    for command in REGISTRY.commands:
        assert command.de and len(command.help_de) == len(command.help), command.phrase
        for (english, _), german in zip(command.help, command.help_de, strict=True):
            assert REGISTRY.parse(example(english)).verb == REGISTRY.parse(example(german)).verb


@pytest.mark.parametrize(
    ("german", "english"),
    [
        ("neues ticket Drucker", "new ticket Drucker"),
        ("tickets geschlossen", "tickets closed"),
        ("rolle mitglied", "role member"),
        ("checklisten prüfen", "checklists review"),
        ("abrechnung verlauf", "billing history"),
        ("Hilfe", "help"),
        ("tarif wechseln standard", "change plan standard"),
    ],
)
def test_german_commands_and_their_words_mean_what_the_english_ones_do(
    german: str, english: str
) -> None:
    assert REGISTRY.parse(german) == REGISTRY.parse(english)


def test_a_german_typo_is_answered_with_the_nearest_german_command() -> None:
    assert REGISTRY.parse("nueues ticket").data["suggestion"] == "neues ticket"


def test_every_manifest_command_parses_to_a_verb_that_has_a_handler() -> None:
    manifest = render_manifest(APP_ID)
    for command_list in manifest["bots"][0]["commandLists"]:
        assert len(command_list["commands"]) <= 10
        for command in command_list["commands"]:
            parsed = REGISTRY.parse(command["title"])
            assert REGISTRY.verb(parsed.verb) is not None, command
            assert parsed.verb != "unknown", command


def test_the_manifest_lists_the_featured_commands_in_the_registrys_order() -> None:
    manifest = render_manifest(APP_ID)
    featured = [c.phrase for c in REGISTRY.featured()]
    for command_list in manifest["bots"][0]["commandLists"]:
        assert [c["title"] for c in command_list["commands"]] == featured


@pytest.mark.parametrize("locale", ["en-US", "de-DE"])
def test_the_help_card_lists_every_command_in_the_registrys_order(locale: str) -> None:
    text = card_text(help_card(locale, REGISTRY.help_lines(locale)))
    positions = [text.index(f"**{syntax}**") for syntax, _ in REGISTRY.help_lines(locale)]
    assert positions == sorted(positions)
    lang = locale[:2]
    phrases = {c.phrase_in(lang) for c in REGISTRY.commands}
    if lang == "en":
        assert {"usage", "plans", "change plan", "cancel subscription", "billing"} <= phrases
    else:
        assert {"hilfe", "neues ticket", "verbrauch", "tarife", "abo kündigen"} <= phrases
    for phrase in phrases:
        assert f"**{phrase}" in text


def test_the_help_card_follows_its_lines_and_their_language() -> None:
    """The command list is remembered per language and lines: other lines, another language,
    another list; the same language under another region, the same list."""
    one = (("go", "help.cmd.help"),)
    two = (("go", "help.cmd.help"), ("roles", "help.cmd.roles"))
    english = card_text(help_card("en-US", one))
    assert card_text(help_card("en-US", one)) == english
    assert "**roles**" not in english
    assert "**roles**" in card_text(help_card("en-US", two))
    german = card_text(help_card("de-DE", one))
    assert german != english and "**go**" in german
    assert card_text(help_card("de-AT", one)) == german
    assert card_text(help_card("en-GB", one)) == english


def test_a_help_card_handed_out_cannot_change_the_next_one() -> None:
    lines = REGISTRY.help_lines("en-US")
    first = help_card("en-US", lines)
    expected = card_text(first)
    first["body"][2]["text"] = "changed"
    first["body"].clear()
    assert card_text(help_card("en-US", lines)) == expected


def test_help_lines_are_those_of_the_users_language() -> None:
    assert REGISTRY.help_lines("de-AT") == REGISTRY.help_lines("de-DE")
    assert REGISTRY.help_lines("fr-FR") == REGISTRY.help_lines("en-US") == REGISTRY.help_lines()
    assert REGISTRY.help_lines("de-DE") != REGISTRY.help_lines("en-US")
    assert [key for _, key in REGISTRY.help_lines("de-DE")] == [
        key for _, key in REGISTRY.help_lines("en-US")
    ]
    assert REGISTRY.help_lines("de-DE")[0][0] == "hilfe"


def test_only_creating_verbs_count_against_a_quota() -> None:
    creating = {v.name: v.creates for v in REGISTRY.verbs.values() if v.creates}
    assert creating == {
        "ticket.create": App.TICKETS,
        "checklist.start": App.CHECKLISTS,
        "opportunity.create": App.OPPORTUNITIES,
    }


def test_aliases_reach_the_same_verb() -> None:
    assert REGISTRY.parse("quota") == REGISTRY.parse("usage")
    assert REGISTRY.parse("statement") == REGISTRY.parse("billing")
    assert REGISTRY.parse("hello").verb == "help"


async def _nothing(turn: object, data: object) -> dict[str, object]:
    return {}


def test_two_apps_cannot_declare_the_same_verb_or_phrase() -> None:
    one = AppSpec("one", (Command("go", no_arguments("go"), ()),), (Verb("go", _nothing),))
    with pytest.raises(ValueError, match="verb 'go'"):
        Registry([one, AppSpec("two", verbs=(Verb("go", _nothing),))])
    with pytest.raises(ValueError, match="phrase 'go'"):
        Registry([one, AppSpec("two", commands=(Command("go", no_arguments("x"), ()),))])


def test_at_most_ten_commands_are_featured() -> None:
    many = tuple(
        Command(f"c{i}", no_arguments(f"v{i}"), ((f"c{i}", "help.cmd.help"),), featured=True)
        for i in range(11)
    )
    with pytest.raises(ValueError, match="at most 10"):
        Registry([AppSpec("big", many)]).featured()


def test_the_longest_phrase_wins() -> None:
    assert REGISTRY.parse("billing history").data == {"history": True}
    assert REGISTRY.parse("billing").data == {"history": False}
    assert REGISTRY.parse("new ticket").verb == "ticket.form"
    assert REGISTRY.parse("tickets").verb == "tickets.list"
    assert REGISTRY.parse("ticket 4").verb == "ticket.show"


def test_phrases_that_share_their_first_word_each_reach_their_own_command() -> None:
    assert REGISTRY.parse("new ticket").verb == "ticket.form"
    assert REGISTRY.parse("new ticket Printer").data == {"title": "Printer"}
    assert REGISTRY.parse("New Checklist").verb == "checklist.form"
    assert REGISTRY.parse("new template").verb == "template.form"
    assert REGISTRY.parse("new opportunity Acme").data == {"name": "Acme"}
    assert REGISTRY.parse("neues ticket Drucker").data == {"title": "Drucker"}
    assert REGISTRY.parse("new").verb == "unknown"
    assert REGISTRY.parse("new thing").data == {"text": "new thing", "suggestion": "new ticket"}


@pytest.mark.parametrize("command", REGISTRY.commands, ids=lambda c: c.phrase)
def test_every_phrase_of_a_command_is_read_by_that_command(command: Command) -> None:
    """Typed with the example arguments of its first help line, in either language."""
    syntax = command.help[0][0]
    rest = example(syntax)[len(command.phrase) :]
    expected = REGISTRY.parse(command.phrase + rest)
    assert expected.verb != "unknown"
    for phrase in command.phrases:
        assert REGISTRY.parse(phrase + rest) == expected, phrase


def test_the_readme_lists_the_commands_of_the_registry() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    start = readme.index("<!-- commands:start")
    block = readme[readme.index("\n", start) + 1 : readme.index("<!-- commands:end -->")]
    assert block.strip() == command_table(), "regenerate it with: python -m bot.apps"
