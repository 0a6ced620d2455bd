"""What a typed chat message means: the app registry's parse()."""

from __future__ import annotations

import pytest

from bot.apps import build_registry
from bot.apps.registry import Parsed, clean_text
from bot.domain.people import Person

BOB = Person("29:bob", "Bob Builder")
parse = build_registry().parse


@pytest.mark.parametrize("text", ["help", "HELP", " Help ", "?", "hi", "Hello", "start", "", None])
def test_help_and_greetings_show_help(text: str | None) -> None:
    assert parse(text) == Parsed("help")


@pytest.mark.parametrize(
    "text",
    [
        "<at>TeamsWork</at> help",
        "<at>TeamsWork</at>&nbsp;help",
        " <at>TeamsWork</at>   help ",
        "<AT>TeamsWork</AT> help",
        "<at>TeamsWork</at>",
    ],
)
def test_the_bots_mention_is_not_part_of_the_command(text: str) -> None:
    assert parse(text) == Parsed("help")


def test_clean_text_drops_mentions_markup_and_extra_white_space() -> None:
    assert clean_text("<at>Team Works</at>  new <b>ticket</b>\n\tprinter&nbsp;jam ") == (
        "new ticket printer jam"
    )


@pytest.mark.parametrize(
    "text", ["new ticket", "New Ticket", "NEW TICKET ", "<at>Bot</at> new ticket"]
)
def test_new_ticket_alone_opens_the_form(text: str) -> None:
    assert parse(text) == Parsed("ticket.form")


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("new ticket Printer on 3rd floor is BROKEN", "Printer on 3rd floor is BROKEN"),
        ("NEW TICKET VPN down", "VPN down"),
        ("New ticket   SAP  login fails ", "SAP login fails"),
        ("<at>TeamsWork</at> new ticket Projector in room B", "Projector in room B"),
        ("new ticket new ticket", "new ticket"),
    ],
)
def test_new_ticket_with_a_title_creates_at_once_and_keeps_the_titles_case(
    text: str, title: str
) -> None:
    assert parse(text) == Parsed("ticket.create", {"title": title})


def test_tickets_alone_lists_my_tickets_from_the_first_page() -> None:
    assert parse("tickets") == Parsed("tickets.list", {"filter": "mine", "page": 0})


@pytest.mark.parametrize("flt", ["mine", "assigned", "unassigned", "open", "closed", "all"])
def test_tickets_with_a_filter(flt: str) -> None:
    assert parse(f"tickets {flt}") == Parsed("tickets.list", {"filter": flt, "page": 0})
    assert parse(f"Tickets {flt.upper()}") == Parsed("tickets.list", {"filter": flt, "page": 0})


def test_an_unknown_filter_is_passed_on_for_the_route_to_refuse() -> None:
    assert parse("tickets bogus") == Parsed("tickets.list", {"filter": "bogus", "page": 0})


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("ticket 12", "12"),
        ("ticket #12", "12"),
        ("Ticket #7", "7"),
        ("<at>TeamsWork</at> ticket 3", "3"),
        ("ticket", ""),
        ("ticket twelve", "twelve"),
    ],
)
def test_ticket_with_a_number_shows_it(text: str, number: str) -> None:
    assert parse(text) == Parsed("ticket.show", {"number": number})


@pytest.mark.parametrize("text", ["roles", "ROLES", "<at>TeamsWork</at> Roles"])
def test_roles_lists_the_roles(text: str) -> None:
    assert parse(text) == Parsed("roles.list")


@pytest.mark.parametrize("role", ["admin", "agent", "member"])
def test_role_with_a_mention_names_the_person_and_the_role(role: str) -> None:
    parsed = parse(f"role <at>Bob Builder</at> {role.upper()}", [BOB])
    assert parsed == Parsed("roles.set", {"role": role, "user_id": "29:bob"})


def test_role_in_a_channel_ignores_the_bots_own_mention() -> None:
    parsed = parse("<at>TeamsWork</at> role <at>Bob Builder</at> agent", [BOB])
    assert parsed == Parsed("roles.set", {"role": "agent", "user_id": "29:bob"})


def test_role_without_a_mention_names_nobody() -> None:
    assert parse("role agent") == Parsed("roles.set", {"role": "agent", "user_id": ""})


@pytest.mark.parametrize(
    ("text", "suggestion"),
    [
        ("tickts", "tickets"),
        ("tikets mine", "tickets"),
        ("hepl", "help"),
        ("new tiket", "new ticket"),
        ("rols", "roles"),
        ("tcket 5", "ticket"),
    ],
)
def test_a_typo_is_answered_with_the_nearest_command(text: str, suggestion: str) -> None:
    assert parse(text) == Parsed("unknown", {"text": text, "suggestion": suggestion})


def test_unknown_text_keeps_what_the_user_typed_without_the_mention() -> None:
    assert parse("<at>TeamsWork</at> Tickts   please") == Parsed(
        "unknown", {"text": "Tickts please", "suggestion": "tickets"}
    )


@pytest.mark.parametrize("text", ["what is the weather", "xyzzy", "12345"])
def test_text_like_no_command_gets_no_suggestion(text: str) -> None:
    assert parse(text) == Parsed("unknown", {"text": text, "suggestion": ""})
