"""The message catalog: every user-visible string, by key, per locale.

English is the reference catalog; another language is another catalog with the same keys, and a
key it lacks falls back to English.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_time, get_time_format, tokenize_pattern
from babel.numbers import format_currency, format_decimal, format_percent

from bot.i18n import de, en

CATALOGS: dict[str, dict[str, str]] = {"en": en.MESSAGES, "de": de.MESSAGES}
DEFAULT_LOCALE = "en"


@lru_cache(maxsize=256)
def language(locale: str | None) -> str:
    """'de-DE' -> 'de'; anything we have no catalog for -> English. Cached: every message of a
    card asks, with the few locales Teams sends (the catalogs are fixed at import)."""
    lang = (locale or DEFAULT_LOCALE).replace("_", "-").split("-", 1)[0].lower()
    return lang if lang in CATALOGS else DEFAULT_LOCALE


def t(locale: str | None, key: str, **params: Any) -> str:
    lang = language(locale)
    template = CATALOGS[lang].get(key) or en.MESSAGES.get(key)
    if template is None:
        raise KeyError(f"no message {key!r}")
    return template.format(**params) if params else template


class Messages(dict[str, str]):
    """The messages (without parameters) of one locale, each looked up once however often a
    card asks: a list asks the same few for every row ("Open", a status, a priority), fifty
    times for a page of ten, at about 0.3 µs each through `t`."""

    def __init__(self, locale: str | None) -> None:
        super().__init__()
        self.locale = locale

    def __missing__(self, key: str) -> str:
        value = self[key] = t(self.locale, key)
        return value


@lru_cache(maxsize=64)
def babel_locale(locale: str | None) -> Locale:
    """The Babel locale for what Teams sends ("de-AT", "en-GB"); a language we have no catalog
    for, or a tag Babel does not know, formats as US English, like the catalog falls back."""
    lang = language(locale)
    try:
        parsed = Locale.parse((locale or "").replace("-", "_"))
    except (ValueError, TypeError, UnknownLocaleError):
        parsed = None
    if parsed is None or parsed.language != lang:
        return Locale.parse({"de": "de_DE", "en": "en_US"}.get(lang, "en_US"))
    return parsed


def fmt_date(locale: str | None, value: date | datetime) -> str:
    if isinstance(value, datetime):
        value = value.astimezone(UTC).date() if value.tzinfo is not None else value.date()
    return _fmt_day(locale, value)


@lru_cache(maxsize=1024)
def _fmt_day(locale: str | None, day: date) -> str:
    """Babel's medium date (about 7 us); cards show the same few days again and again."""
    return format_date(day, "medium", locale=babel_locale(locale))


def fmt_datetime(locale: str | None, value: datetime) -> str:
    """Date and time of an instant, always shown in UTC (the product's day is the UTC day).

    Babel takes 10-20 us for one; a card shows a few (created, updated, "as of", history), and
    the instants of one minute read the same: remembered per locale and minute, when the
    locale's short time shows no seconds (CLDR's English and German ones do not)."""
    value = value.astimezone(UTC) if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if _to_the_minute(locale):
        value = value.replace(second=0, microsecond=0)
    return _fmt_datetime(locale, value)


@lru_cache(maxsize=1024)
def _fmt_datetime(locale: str | None, value: datetime) -> str:
    at = format_time(value, "short", tzinfo=UTC, locale=babel_locale(locale))
    return f"{fmt_date(locale, value)} {at} UTC"


@lru_cache(maxsize=256)
def _to_the_minute(locale: str | None) -> bool:
    return not shows_seconds(get_time_format("short", locale=babel_locale(locale)).pattern)


def shows_seconds(pattern: str) -> bool:
    """Whether a Babel (CLDR) time pattern shows seconds (s), fractions of one (S) or
    milliseconds in the day (A)."""
    return any(kind == "field" and value[0] in "sSA" for kind, value in tokenize_pattern(pattern))


def fmt_number(locale: str | None, value: int | Decimal) -> str:
    return format_decimal(value, locale=babel_locale(locale))


def fmt_percent(locale: str | None, percent: int) -> str:
    """A whole percent (80 -> "80 %" in German, "80%" in English)."""
    return format_percent(Decimal(percent) / 100, locale=babel_locale(locale))


def fmt_decimal(locale: str | None, amount: Decimal) -> str:
    """An amount with cents and no currency: 12,500.50 (de: 12.500,50)."""
    whole, cents = f"{amount.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):,.2f}".split(".")
    return f"{whole.replace(',', '.')},{cents}" if language(locale) == "de" else f"{whole}.{cents}"


def fmt_money(locale: str | None, amount: Decimal, currency: str = "EUR") -> str:
    """An amount in its own currency, as the user's locale writes money; never converted."""
    amount = amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if amount == 0:
        amount = abs(amount)  # no "-0.00"
    return format_currency(amount, currency, locale=babel_locale(locale))
