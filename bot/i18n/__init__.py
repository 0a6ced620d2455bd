"""The message catalog: every user-visible string, by key, per locale.

English is the reference catalog; another language is another catalog with the same keys, and a
key it lacks falls back to English.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from bot.i18n import de, en

CATALOGS: dict[str, dict[str, str]] = {"en": en.MESSAGES, "de": de.MESSAGES}
DEFAULT_LOCALE = "en"


def language(locale: str | None) -> str:
    """'de-DE' -> 'de'; anything we have no catalog for -> English."""
    lang = (locale or DEFAULT_LOCALE).replace("_", "-").split("-", 1)[0].lower()
    return lang if lang in CATALOGS else DEFAULT_LOCALE


def t(locale: str | None, key: str, **params: Any) -> str:
    lang = language(locale)
    template = CATALOGS[lang].get(key) or en.MESSAGES.get(key)
    if template is None:
        raise KeyError(f"no message {key!r}")
    return template.format(**params) if params else template


def fmt_date(locale: str | None, value: date | datetime) -> str:
    if isinstance(value, datetime):
        value = value.date()
    if language(locale) == "de":
        return f"{value.day}.{value.month}.{value.year}"
    return f"{value:%b} {value.day}, {value.year}"


def fmt_datetime(locale: str | None, value: datetime) -> str:
    # Shown as UTC, whatever zone the instant came in.
    value = value.astimezone(UTC) if value.tzinfo is not None else value
    if language(locale) == "de":
        return f"{fmt_date(locale, value)} {value:%H:%M} UTC"
    return f"{fmt_date(locale, value)} {value:%H:%M} UTC"


def fmt_number(locale: str | None, value: int) -> str:
    text = f"{value:,}"
    return text.replace(",", ".") if language(locale) == "de" else text


def fmt_decimal(locale: str | None, amount: Decimal) -> str:
    """An amount with cents and no currency: 12,500.50 (de: 12.500,50)."""
    whole, cents = f"{amount.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):,.2f}".split(".")
    return f"{whole.replace(',', '.')},{cents}" if language(locale) == "de" else f"{whole}.{cents}"


def fmt_money(locale: str | None, amount: Decimal, currency: str = "EUR") -> str:
    amount = amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    sign = "-" if amount < 0 else ""
    whole, cents = f"{abs(amount):,.2f}".split(".")
    symbol = {"EUR": "€", "USD": "$", "GBP": "£"}.get(currency, currency + " ")
    if language(locale) == "de":
        return f"{sign}{whole.replace(',', '.')},{cents} {symbol}".strip()
    return f"{sign}{symbol}{whole}.{cents}"
