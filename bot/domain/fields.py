"""Field parsers for what users type into cards and commands: every app's forms use these.

A parser collects every problem of a form at once (`FieldErrors`), so the form comes back with
each wrong field marked, and raises `InvalidInput` only at the end.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, TypeVar

from bot.domain.errors import InvalidInput

E = TypeVar("E", bound=StrEnum)

# Numbers in commands and card data are ASCII digits: str.isdigit() also accepts "²" and "١".
_ASCII_INT = re.compile(r"[0-9]{1,18}")
_ASCII_DECIMAL = re.compile(r"[0-9]{1,18}(\.[0-9]{1,18})?")

# Dates a person could mean: a due date in 1900 or 2200 is a typo.
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2199, 12, 31)


def ascii_int(value: object) -> int | None:
    """An integer given as an int or as ASCII digits (a leading '#' allowed); else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        text = value.strip().removeprefix("#")
        if _ASCII_INT.fullmatch(text):
            return int(text)
    return None


class FieldErrors:
    """The problems of one form, by field name: (message key, params)."""

    def __init__(self) -> None:
        self.fields: dict[str, tuple[str, dict[str, Any]]] = {}

    def add(self, name: str, key: str, **params: Any) -> None:
        self.fields.setdefault(name, (key, params))

    def raise_if_any(self) -> None:
        if self.fields:
            raise InvalidInput(dict(self.fields))

    def text(self, name: str, value: object, *, required: bool, maximum: int) -> str:
        if value is None:
            value = ""
        if not isinstance(value, str):
            self.add(name, "field.not_text")
            return ""
        value = value.strip()
        if required and not value:
            self.add(name, "field.required")
        elif len(value) > maximum:
            self.add(name, "field.too_long", max=maximum, length=len(value))
        return value

    def enum(self, name: str, value: object, enum: type[E], default: E) -> E:
        if value in (None, ""):
            return default
        return self.required_enum(name, value, enum, default)

    def required_enum(self, name: str, value: object, enum: type[E], fallback: E) -> E:
        """`fallback` is returned only together with an error."""
        if value in (None, ""):
            self.add(name, "field.required")
            return fallback
        try:
            return enum(value.strip().lower() if isinstance(value, str) else str(value))
        except ValueError:
            self.add(name, "field.choose_one", allowed=", ".join(e.value for e in enum))
            return fallback

    def date(
        self,
        name: str,
        value: object,
        *,
        not_before: date | None = None,
    ) -> date | None:
        """An ISO date (what Input.Date sends); `not_before` refuses days in the past."""
        if value in (None, ""):
            return None
        parsed: date | None = None
        if isinstance(value, str) and value.strip().isascii():
            try:
                parsed = date.fromisoformat(value.strip())
            except ValueError:
                parsed = None
        if parsed is None or not EARLIEST_DATE <= parsed <= LATEST_DATE:
            self.add(name, "field.bad_date")
            return None
        if not_before is not None and parsed < not_before:
            self.add(name, "field.date_in_past", earliest=not_before)
            return None
        return parsed

    def integer(self, name: str, value: object, *, minimum: int, maximum: int) -> int | None:
        if value in (None, ""):
            return None
        number = ascii_int(value)
        if number is None:
            self.add(name, "field.not_number")
            return None
        if not minimum <= number <= maximum:
            self.add(name, "field.out_of_range", min=minimum, max=maximum)
            return None
        return number

    def decimal(
        self, name: str, value: object, *, places: int, max_digits: int, minimum: Decimal
    ) -> Decimal | None:
        """A decimal number as ASCII digits with a '.' (never a float): at most `max_digits`
        before the point and `places` after it."""
        if value in (None, ""):
            return None
        text = value.strip().replace(",", ".") if isinstance(value, str) else None
        if text is None or not _ASCII_DECIMAL.fullmatch(text.lstrip("-")):
            self.add(name, "field.not_number")
            return None
        try:
            number = Decimal(text)
        except InvalidOperation:
            self.add(name, "field.not_number")
            return None
        whole, _, fraction = text.lstrip("-").partition(".")
        if len(whole.lstrip("0")) > max_digits:
            self.add(name, "field.too_many_digits", max=max_digits)
            return None
        if len(fraction) > places:
            self.add(name, "field.too_many_places", max=places)
            return None
        if number < minimum:
            self.add(name, "field.below_minimum", min=minimum)
            return None
        return number
