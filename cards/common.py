"""Building blocks of Adaptive Cards (schema 1.5, the newest Teams renders)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from bot.domain.errors import DomainError, InvalidInput
from bot.domain.paging import Page
from bot.i18n import fmt_date, fmt_datetime, fmt_number, t

Card = dict[str, Any]
Element = dict[str, Any]

SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
ERROR_TEXT_MAX = 300


def card(body: Sequence[Element], actions: Sequence[Element] = ()) -> Card:
    result: Card = {
        "type": "AdaptiveCard",
        "$schema": SCHEMA,
        "version": "1.5",
        "msteams": {"width": "Full"},
        "body": list(body),
    }
    if actions:
        result["actions"] = list(actions)
    return result


def text(value: str, **style: Any) -> Element:
    return {"type": "TextBlock", "text": value, "wrap": True, **style}


def heading(value: str) -> Element:
    return text(value, size="Large", weight="Bolder")


def facts(pairs: Iterable[tuple[str, str]]) -> Element:
    return {"type": "FactSet", "facts": [{"title": k, "value": v} for k, v in pairs]}


def execute(title: str, verb: str, data: Mapping[str, Any] | None = None, **extra: Any) -> Element:
    """An Action.Execute; the verb is in data too so that Action.Submit clients route the same."""
    payload = {"verb": verb, **(data or {})}
    return {"type": "Action.Execute", "title": title, "verb": verb, "data": payload, **extra}


def show_card(title: str, body: Sequence[Element], actions: Sequence[Element]) -> Element:
    inner: Card = {"type": "AdaptiveCard", "body": list(body), "actions": list(actions)}
    return {"type": "Action.ShowCard", "title": title, "card": inner}


def choice_set(
    input_id: str,
    label: str,
    choices: Iterable[tuple[str, str]],
    value: str | None = None,
    **extra: Any,
) -> Element:
    element: Element = {
        "type": "Input.ChoiceSet",
        "id": input_id,
        "label": label,
        "style": "compact",
        "choices": [{"title": title, "value": v} for v, title in choices],
        **extra,
    }
    if value is not None:
        element["value"] = value
    return element


def text_input(
    input_id: str,
    label: str,
    *,
    value: str | None = None,
    placeholder: str | None = None,
    multiline: bool = False,
    max_length: int | None = None,
    required: bool = False,
    error: str | None = None,
) -> Element:
    element: Element = {"type": "Input.Text", "id": input_id, "label": label}
    if placeholder:
        element["placeholder"] = placeholder
    if value:
        element["value"] = value
    if multiline:
        element["isMultiline"] = True
    if max_length:
        element["maxLength"] = max_length
    if required:
        element["isRequired"] = True
    if error:
        element["errorMessage"] = error
    return element


def attention(value: str) -> Element:
    return {
        "type": "Container",
        "style": "attention",
        "items": [text(value, weight="Bolder")],
    }


def localize_param(locale: str | None, value: Any) -> Any:
    """Turn domain values inside message params into the user's language."""
    if isinstance(value, StrEnum):
        prefix = type(value).__name__.lower()
        key = f"{prefix}.{value.value}"
        try:
            return t(locale, key)
        except KeyError:
            return value.value
    if isinstance(value, datetime):
        return fmt_datetime(locale, value)
    if isinstance(value, date):
        return fmt_date(locale, value)
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return fmt_number(locale, value)
    if isinstance(value, (list, tuple)):
        return ", ".join(str(localize_param(locale, v)) for v in value)
    return value


def message(locale: str | None, key: str, params: Mapping[str, Any] | None = None) -> str:
    return t(locale, key, **{k: localize_param(locale, v) for k, v in (params or {}).items()})


def error_text(locale: str | None, error: DomainError) -> str:
    return message(locale, error.key, error.params)


def field_errors(locale: str | None, error: InvalidInput | None) -> dict[str, str]:
    if error is None:
        return {}
    return {name: message(locale, key, params) for name, (key, params) in error.fields.items()}


def pager(
    locale: str | None, page: Page[Any], verb: str, data: Mapping[str, Any], line_key: str
) -> tuple[Element, list[Element]]:
    """The "page 2 of 5" line of a list (`line_key` names the app's items) and its
    Previous/Next actions; `data` is what the list verb needs besides the page (its filter)."""
    line = text(
        t(locale, line_key, page=page.page + 1, pages=page.pages, total=page.total),
        size="Small",
        isSubtle=True,
        separator=True,
    )
    actions: list[Element] = []
    if page.has_previous:
        actions.append(execute(t(locale, "button.previous"), verb, {**data, "page": page.page - 1}))
    if page.has_next:
        actions.append(execute(t(locale, "button.next"), verb, {**data, "page": page.page + 1}))
    return line, actions


def clip(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"
