"""Building blocks of Adaptive Cards (schema 1.5, the newest Teams renders)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from enum import StrEnum
from functools import lru_cache
from typing import Any

from bot.domain.errors import DomainError, InvalidInput
from bot.domain.items import Comment
from bot.domain.paging import Page
from bot.i18n import fmt_date, fmt_datetime, fmt_number, t

Card = dict[str, Any]
Element = dict[str, Any]

SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
ERROR_TEXT_MAX = 300
# Teams refreshes a card automatically for at most 60 users (`refresh.userIds`).
REFRESH_USERS_MAX = 60

# U+2060 WORD JOINER: invisible, and no markdown parser or linkifier reads through it.
JOINER = "\u2060"
# Every ASCII character that starts or ends inline markdown (emphasis, strike, code, links,
# images, autolinks, HTML, entities), and the backslash itself.
# An underscore inside a word (snake_case) can neither open nor close emphasis: left as is.
_INLINE = re.compile(r"([\\`*~\[\]<>&|]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9]))")
# What makes a line a heading, a list item, a quote or a setext underline.
# Teams breaks lines at \r as well as \n.
_LINE_START = re.compile(r"(?:^|(?<=[\r\n]))([ \t]*)([#+=-]|\d+[.)])")
# `scheme:` (https:, javascript:, mailto:) and `domain.tld`: what linkifiers turn into links.
_SCHEME = re.compile(r"(?<=[A-Za-z0-9])(?=:)")
_DOMAIN_DOT = re.compile(r"(?<=[A-Za-z0-9])\.(?=[A-Za-z])")
# Every character one of the patterns above (or a replacement in `literal`) needs: a text
# without any is left as it is. ("1." and "1)" start a list: "." and ")" are here.)
_MARKUP_CHAR = re.compile(r"[\\`*~\[\]<>&|_#+=\-.):{]")


def literal(value: object) -> str:
    """A string a user typed or Teams supplied (titles, descriptions, comments, display names,
    categories, echoed commands), made safe to place in a TextBlock or a FactSet value: Teams
    parses markdown there, and user text must show as typed, never as a link or emphasis.

    Markdown characters get CommonMark backslash escapes. Because some Teams clients honour
    escapes poorly, the constructs that make links are also broken with an invisible word
    joiner: `](`, `][`, `]:`, `<...>`, `{{`, `scheme:` and `domain.tld`, so that no parser and
    no linkifier finds them.
    The text a user sees is unchanged; the bot's own markdown around it keeps working."""
    text = str(value)
    # Most names and titles hold none of the characters any step below looks for.
    if not _MARKUP_CHAR.search(text):
        return text
    return _escaped(text) if len(text) <= REMEMBERED_MAX else _escape_markdown(text)


# The escaped texts remembered (a name or a title is shown again and again: every row of a
# list, every refresh), up to this length each: a few MiB at most.
REMEMBERED_MAX = 200
REMEMBERED = 4096


@lru_cache(maxsize=REMEMBERED)
def _escaped(text: str) -> str:
    return _escape_markdown(text)


def _escape_markdown(text: str) -> str:
    """What `literal` does to a text that holds a character `_MARKUP_CHAR` finds."""
    escaped = _INLINE.sub(r"\\\1", text)
    escaped = _LINE_START.sub(_escape_line_start, escaped)
    escaped = escaped.replace("\\]", "\\]" + JOINER)  # ](url), ][ref], ]: definition
    escaped = escaped.replace("\\<", "\\<" + JOINER).replace("{{", "{" + JOINER + "{")
    escaped = _SCHEME.sub(JOINER, escaped)
    return _DOMAIN_DOT.sub(JOINER + "." + JOINER, escaped)


def _escape_line_start(match: re.Match[str]) -> str:
    indent, marker = match.group(1), match.group(2)
    if marker[-1] in ".)":  # "1." or "1)" starts a numbered list
        return f"{indent}{marker[:-1]}\\{marker[-1]}"
    return f"{indent}\\{marker}"


def card(
    body: Sequence[Element],
    actions: Sequence[Element] = (),
    refresh: Mapping[str, Any] | None = None,
) -> Card:
    result: Card = {
        "type": "AdaptiveCard",
        "$schema": SCHEMA,
        "version": "1.5",
        "msteams": {"width": "Full"},
        "body": list(body),
    }
    if actions:
        result["actions"] = list(actions)
    if refresh:
        result["refresh"] = dict(refresh)
    return result


def refresh(action: Element, user_ids: Iterable[str]) -> dict[str, Any]:
    """Teams' Universal Actions refresh: each of `user_ids` (the first 60 distinct ones) sees the
    card the `action` returns for them; everybody else sees the card as it was sent."""
    ids = [u for u in dict.fromkeys(user_ids) if u][:REFRESH_USERS_MAX]
    return {"action": action, "userIds": ids}


def as_of_line(locale: str | None, at: datetime) -> Element:
    """When the card was made (or last refreshed): a card in a chat ages."""
    return text(t(locale, "card.as_of", at=fmt_datetime(locale, at)), size="Small", isSubtle=True)


# Teams renders Adaptive Cards without a progress bar; a two-column strip stands in for one.
BAR_STYLE = {"ok": "good", "near": "warning", "full": "attention"}


def progress_bar(percent: int, *, warn_from: int = 80, calm: bool = False) -> Element:
    """A strip filled to `percent`. A quota turns to a warning colour from `warn_from`; a
    checklist (`calm`) stays green however far it is."""
    level = "full" if percent >= 100 else "near" if percent >= warn_from else "ok"
    if calm:
        level = "ok"
    filled = max(0, min(100, percent))
    columns: list[Element] = []
    if filled > 0:
        columns.append(
            {
                "type": "Column",
                "width": filled,
                "style": BAR_STYLE[level],
                "minHeight": "8px",
                "items": [],
            }
        )
    if filled < 100:
        columns.append(
            {
                "type": "Column",
                "width": 100 - filled,
                "style": "emphasis",
                "minHeight": "8px",
                "items": [],
            }
        )
    return {"type": "ColumnSet", "columns": columns, "spacing": "Small"}


def choice_row(choice: Element, button: Element) -> Element:
    """One choice and its one button, side by side: choices of many are a list, not buttons."""
    return {
        "type": "ColumnSet",
        "columns": [
            {"type": "Column", "width": "stretch", "items": [choice]},
            {
                "type": "Column",
                "width": "auto",
                "verticalContentAlignment": "Bottom",
                "items": [{"type": "ActionSet", "actions": [button]}],
            },
        ],
    }


def text(value: str, **style: Any) -> Element:
    return {"type": "TextBlock", "text": value, "wrap": True, **style}


def heading(value: str) -> Element:
    return text(value, size="Large", weight="Bolder")


def list_row(opens: Element, headline: str, line: str, **line_style: Any) -> Element:
    """A row of a list (every app's lists, the reminders' digest): the item's headline (its
    number and title, made safe by the caller), a small line about it under it, and the whole
    row opening the item (`opens`, an Action.Execute). The line is subtle unless styled."""
    style = line_style or _SUBTLE
    # `text`'s TextBlocks, written out: a list builds ten of these a page.
    return {
        "type": "Container",
        "separator": True,
        "selectAction": opens,
        "items": [
            {"type": "TextBlock", "text": headline, "wrap": True, "spacing": "None"},
            {
                "type": "TextBlock",
                "text": line,
                "wrap": True,
                "size": "Small",
                **style,
                "spacing": "None",
            },
        ],
    }


_SUBTLE = {"isSubtle": True}


def facts(pairs: Iterable[tuple[str, str]]) -> Element:
    return {"type": "FactSet", "facts": [{"title": k, "value": v} for k, v in pairs]}


def execute(title: str, verb: str, data: Mapping[str, Any] | None = None, **extra: Any) -> Element:
    """An Action.Execute; the verb is in data too so that Action.Submit clients route the same."""
    payload = {"verb": verb, **(data or {})}
    return {"type": "Action.Execute", "title": title, "verb": verb, "data": payload, **extra}


def show_card(title: str, body: Sequence[Element], actions: Sequence[Element]) -> Element:
    inner: Card = {"type": "AdaptiveCard", "body": list(body)}
    if actions:
        inner["actions"] = list(actions)
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
    """Turn domain values inside message params into the user's language; text shows
    literally (see `literal`)."""
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
    if isinstance(value, str):
        # Message params carry what the user typed (a filter, a value) and people's names.
        return literal(value)
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


def comment_section(
    locale: str | None,
    comments: Sequence[Comment],
    keys: tuple[str, str, str, str],
    *,
    shown: int,
    clip_at: int,
) -> list[Element]:
    """An item's comments (notes), newest `shown` of them, as every app's detail card shows
    them; `keys` are the app's (title, none yet, N more, "author, when") messages."""
    title, empty, more, line = keys
    body: list[Element] = [text(t(locale, title), weight="Bolder", separator=True)]
    recent = comments[-shown:]
    if not recent:
        body.append(text(t(locale, empty), isSubtle=True))
    elif len(comments) > len(recent):
        body.append(
            text(t(locale, more, count=len(comments) - len(recent)), isSubtle=True, size="Small")
        )
    for comment in recent:
        author, at = literal(comment.author.name), fmt_datetime(locale, comment.at)
        body.append(
            text(
                t(locale, line, author=author, at=at), size="Small", isSubtle=True, spacing="Small"
            )
        )
        body.append(text(literal(clip(comment.text, clip_at)), spacing="None"))
    return body


def history_section(locale: str | None, title: str, lines: Sequence[str]) -> list[Element]:
    """An item's last changes, one small line each (nothing when there are none)."""
    if not lines:
        return []
    return [
        text(t(locale, title), weight="Bolder", separator=True),
        *(text(line, size="Small", isSubtle=True, spacing="None") for line in lines),
    ]


def field_error_lines(
    locale: str | None, errors: Mapping[str, str], names: Sequence[str], label_prefix: str
) -> list[Element]:
    """Under a form, "Field: what is wrong" for each of `names` that has an error, labelled
    with the app's field names (`label_prefix` + name)."""
    return [
        text(f"{t(locale, label_prefix + name)}: {errors[name]}", color="Attention", size="Small")
        for name in names
        if name in errors
    ]


def clip(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"
