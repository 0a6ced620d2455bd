"""The message catalogs and the locale-aware formatting in bot.i18n."""

from __future__ import annotations

import string
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from babel.dates import format_date, format_time
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import i18n
from bot.i18n import (
    Messages,
    de,
    en,
    fmt_date,
    fmt_datetime,
    fmt_money,
    fmt_number,
    fmt_percent,
    language,
    t,
)

KEYS = sorted(en.MESSAGES)


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def test_catalogs_have_the_same_keys() -> None:
    assert set(de.MESSAGES) - set(en.MESSAGES) == set(), "German keys missing in English"
    assert set(en.MESSAGES) - set(de.MESSAGES) == set(), "English keys not translated"


@pytest.mark.parametrize("key", KEYS)
def test_placeholders_match(key: str) -> None:
    assert placeholders(de.MESSAGES.get(key, en.MESSAGES[key])) == placeholders(en.MESSAGES[key])


@pytest.mark.parametrize("catalog", [en.MESSAGES, de.MESSAGES], ids=["en", "de"])
def test_every_message_formats(catalog: dict[str, str]) -> None:
    for key, template in catalog.items():
        params = {name: f"<{name}>" for name in placeholders(template)}
        result = template.format(**params)
        for value in params.values():
            assert value in result, key
        assert "{" not in result and "}" not in result, key


@pytest.mark.parametrize("key", KEYS)
def test_markdown_is_kept(key: str) -> None:
    assert de.MESSAGES.get(key, "").count("**") == en.MESSAGES[key].count("**")


@pytest.mark.parametrize("key", [k for k in KEYS if len(en.MESSAGES[k].split()) > 3])
def test_longer_messages_are_translated(key: str) -> None:
    assert de.MESSAGES.get(key) != en.MESSAGES[key]


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("de-DE", "de"),
        ("de", "de"),
        ("DE_at", "de"),
        ("en-US", "en"),
        ("fr-FR", "en"),
        ("", "en"),
        (None, "en"),
    ],
)
def test_language(locale: str | None, expected: str) -> None:
    assert language(locale) == expected


def test_t_uses_the_users_language() -> None:
    assert t("de-DE", "welcome.title") == "Willkommen bei TeamsWork"
    assert t("fr-FR", "welcome.title") == en.MESSAGES["welcome.title"]
    assert t("de-DE", "ticket.created", number=12) == "Ticket #12 wurde erstellt."
    assert t("en-US", "ticket.created", number=12) == "Ticket #12 was created."


def test_t_falls_back_to_english_for_a_missing_key(monkeypatch: pytest.MonkeyPatch) -> None:
    partial = {k: v for k, v in de.MESSAGES.items() if k != "ticket.created"}
    monkeypatch.setitem(i18n.CATALOGS, "de", partial)
    assert t("de-DE", "ticket.created", number=7) == "Ticket #7 was created."
    assert t("de-DE", "ticket.updated", number=7) == "Ticket #7 wurde aktualisiert."


def test_t_refuses_an_unknown_key() -> None:
    with pytest.raises(KeyError):
        t("de-DE", "no.such.key")


@pytest.mark.parametrize("locale", ["de-DE", "en-US", "fr-FR", None])
def test_messages_are_t_s_messages_looked_up_once(locale: str | None) -> None:
    messages = Messages(locale)
    keys = [k for k, v in en.MESSAGES.items() if "{" not in v]
    assert [messages[k] for k in keys] == [t(locale, k) for k in keys]
    assert len(messages) == len(keys)  # each remembered once
    with pytest.raises(KeyError):
        messages["no.such.key"]


@pytest.mark.parametrize(
    ("amount", "currency", "english", "german"),
    [
        # Babel's formats (CLDR): German keeps the symbol after a no-break space.
        (Decimal("1234.5"), "EUR", "€1,234.50", "1.234,50\xa0€"),
        (Decimal("1234567.891"), "EUR", "€1,234,567.89", "1.234.567,89\xa0€"),
        (Decimal("0"), "EUR", "€0.00", "0,00\xa0€"),
        (Decimal("-1234.5"), "EUR", "-€1,234.50", "-1.234,50\xa0€"),
        (Decimal("-0.001"), "EUR", "€0.00", "0,00\xa0€"),
        (Decimal("0.005"), "EUR", "€0.01", "0,01\xa0€"),
        (Decimal("2.675"), "EUR", "€2.68", "2,68\xa0€"),
        (Decimal("-0.005"), "EUR", "-€0.01", "-0,01\xa0€"),
        (Decimal("9.99"), "USD", "$9.99", "9,99\xa0$"),
        (Decimal("9.99"), "GBP", "£9.99", "9,99\xa0£"),
        (Decimal("9.99"), "CHF", "CHF9.99", "9,99\xa0CHF"),
    ],
)
def test_fmt_money(amount: Decimal, currency: str, english: str, german: str) -> None:
    assert fmt_money("en-US", amount, currency) == english
    assert fmt_money("de-DE", amount, currency) == german


def test_fmt_money_defaults_to_euro() -> None:
    assert fmt_money(None, Decimal("1234.50")) == "€1,234.50"


def test_fmt_date() -> None:
    assert fmt_date("en-US", date(2026, 12, 2)) == "Dec 2, 2026"
    assert fmt_date("de-DE", date(2026, 12, 2)) == "02.12.2026"
    moment = datetime(2026, 12, 2, 23, 30, tzinfo=UTC)
    assert fmt_date("en-US", moment) == "Dec 2, 2026"
    assert fmt_date("de-DE", moment) == "02.12.2026"


@pytest.mark.parametrize(
    ("value", "english", "german"),
    [
        (0, "0", "0"),
        (999, "999", "999"),
        (1234, "1,234", "1.234"),
        (1234567, "1,234,567", "1.234.567"),
        (-4321, "-4,321", "-4.321"),
    ],
)
def test_fmt_number(value: int, english: str, german: str) -> None:
    assert fmt_number("en-US", value) == english
    assert fmt_number("de-DE", value) == german


@pytest.mark.parametrize(
    ("locale", "money", "day", "number"),
    [
        ("en-US", "€12,500.00", "Nov 27, 2026", "12,500"),
        ("en-GB", "€12,500.00", "27 Nov 2026", "12,500"),
        ("de-DE", "12.500,00\xa0€", "27.11.2026", "12.500"),
        ("de-AT", "€\xa012.500,00", "27.11.2026", "12.500"),
        ("de-CH", "EUR\xa012’500.00", "27.11.2026", "12’500"),
        ("fr-FR", "€12,500.00", "Nov 27, 2026", "12,500"),  # no French catalog: US English
        ("not a locale", "€12,500.00", "Nov 27, 2026", "12,500"),
    ],
)
def test_formats_come_from_babel_for_the_users_locale(
    locale: str, money: str, day: str, number: str
) -> None:
    assert fmt_money(locale, Decimal("12500"), "EUR") == money
    assert fmt_date(locale, date(2026, 11, 27)) == day
    assert fmt_number(locale, 12500) == number


def test_percentages_and_times_follow_the_locale_and_say_utc() -> None:
    assert (fmt_percent("en-US", 80), fmt_percent("de-DE", 80)) == ("80%", "80\xa0%")
    moment = datetime(2026, 11, 2, 21, 5, tzinfo=UTC)
    assert fmt_datetime("en-US", moment) == "Nov 2, 2026 9:05\u202fPM UTC"
    assert fmt_datetime("de-DE", moment) == "02.11.2026 21:05 UTC"


LOCALES = ["en-US", "en-GB", "en-IN", "de-DE", "de-AT", "de-CH", "fr-FR", None, "not a locale"]


@settings(max_examples=300)
@given(
    st.sampled_from(LOCALES),
    st.datetimes(
        min_value=datetime(1971, 1, 1),
        max_value=datetime(2100, 1, 1),
        timezones=st.none() | st.just(UTC) | st.timezones(),
    ),
)
def test_fmt_datetime_is_babels_date_and_short_time_in_utc(
    locale: str | None, value: datetime
) -> None:
    """Remembered per minute or not, the text is Babel's for that instant."""
    moment = value.astimezone(UTC) if value.tzinfo is not None else value.replace(tzinfo=UTC)
    babel = i18n.babel_locale(locale)
    day = format_date(moment.date(), "medium", locale=babel)
    at = format_time(moment, "short", tzinfo=UTC, locale=babel)
    assert fmt_datetime(locale, value) == f"{day} {at} UTC"


@given(st.sampled_from(LOCALES), st.dates(min_value=date(1900, 1, 1)))
def test_fmt_date_is_babels_medium_date(locale: str | None, day: date) -> None:
    assert fmt_date(locale, day) == format_date(day, "medium", locale=i18n.babel_locale(locale))
    assert fmt_date(locale, day + timedelta(days=1)) != fmt_date(locale, day)


def test_instants_read_the_same_within_a_minute_and_not_across_one() -> None:
    moment = datetime(2026, 11, 2, 21, 5, 0, tzinfo=UTC)
    same_minute = moment + timedelta(seconds=59, microseconds=999_999)
    assert fmt_datetime("de-DE", moment) == fmt_datetime("de-DE", same_minute)
    assert fmt_datetime("de-DE", moment + timedelta(minutes=1)) == "02.11.2026 21:06 UTC"
    assert fmt_datetime("en-US", moment) == "Nov 2, 2026 9:05\u202fPM UTC"
    assert fmt_datetime("en-GB", moment) == "2 Nov 2026 21:05 UTC"


@pytest.mark.parametrize(
    ("pattern", "seconds"),
    [
        ("h:mm a", False),
        ("HH:mm", False),
        ("HH 'Uhr' mm", False),  # quoted letters are text
        ("HH:mm:ss", True),
        ("h:mm:ss.SSS a", True),
        ("A", True),
    ],
)
def test_a_time_pattern_with_seconds_is_not_remembered_per_minute(
    pattern: str, seconds: bool
) -> None:
    assert i18n.shows_seconds(pattern) is seconds


@pytest.mark.parametrize(
    ("key", "word"),
    [
        ("usage.title", "Kontingent"),
        ("plans.title", "Tarif"),
        ("change.prorated", "Abrechnungszeitraum"),
        ("change.prorated", "Anteilige Abrechnung"),
        ("help.cmd.new_ticket", "Ticket"),
        ("help.cmd.new_checklist", "Checkliste"),
        ("help.cmd.new_opportunity", "Chance"),
    ],
)
def test_german_uses_the_vendors_own_words(key: str, word: str) -> None:
    assert word.lower() in de.MESSAGES[key].lower()
