"""What a Teams client would make of a card's text: live markdown that user text must never
produce (links, autolinks, emphasis, block markup, template functions)."""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Iterator

from tests.support.cards import Card, walk

JOINER = "\u2060"
# Words the hostile strings put inside emphasis, so that the bot's own bold (around a ticket
# number, say) is not mistaken for the user's.
EMPHASIZED = ("URGENT", "ADMIN", "SHOUT", "LOUD", "GONE", "BOTH")
_SCHEMES = ("https", "http", "javascript", "mailto", "ftp", "data", "vbscript", "file")
_LINKIFIED = re.compile(
    r"(?i)(?:\b(?:" + "|".join(_SCHEMES) + r"):|\bwww\.|[a-z0-9]\.(?:example|com|net|org)\b)"
)
# Headings, quotes, list items and setext underlines, as CommonMark starts them.
_BLOCK = re.compile(
    r"^[ \t]*(?:#{1,6}(?:[ \t]|$)|>|[-+*](?:[ \t]|$)|\d+[.)](?:[ \t]|$)|[=-]+[ \t]*$)"
)
_PUNCTUATION = set(string.punctuation)


def escaped_at(text: str, index: int) -> bool:
    """Whether the character at `index` is escaped: preceded by an odd number of backslashes."""
    count = 0
    while index - count - 1 >= 0 and text[index - count - 1] == "\\":
        count += 1
    return count % 2 == 1


def intraword_underscore(text: str, index: int) -> bool:
    """An underscore between two letters or digits (snake_case): CommonMark lets it neither
    open nor close emphasis, so the cards leave it unescaped."""
    return (
        text[index] == "_"
        and 0 < index < len(text) - 1
        and text[index - 1].isalnum()
        and text[index + 1].isalnum()
    )


def live_markdown(text: str) -> list[str]:
    """Every piece of `text` a CommonMark reader or linkifier would turn into markup."""
    found: list[str] = []
    # Clients that ignore backslash escapes still see these: the bot makes no markdown links,
    # so `](` (or a reference `][`, `]:`) never belongs on a card, escaped or not.
    for match in re.finditer(r"\]\(|\]\[|\]:", text):
        found.append(f"link syntax {match.group()!r} at {match.start()}")
    for match in re.finditer(r"<[A-Za-z/]", text):
        found.append(f"autolink or HTML {match.group()!r} at {match.start()}")
    for match in _LINKIFIED.finditer(text):
        found.append(f"linkifiable {match.group()!r}")
    if "{{" in text:
        found.append("template function {{")
    for word in EMPHASIZED:
        for match in re.finditer(word, text):
            before, after = match.start() - 1, match.end()
            if (
                before >= 0
                and text[before] in "*_~"
                and not escaped_at(text, before)
                and not intraword_underscore(text, before)
            ):
                found.append(f"emphasis before {word}")
            if (
                after < len(text)
                and text[after] in "*_~"
                and not escaped_at(text, after)
                and not intraword_underscore(text, after)
            ):
                found.append(f"emphasis after {word}")
    for line in re.split(r"[\r\n]", text):
        marker = _BLOCK.match(line)
        if marker and any(w in line for w in EMPHASIZED + ("evil",)):
            found.append(f"block markup at the start of {line[:30]!r}")
    return found


def markdown_texts(card: Card) -> Iterator[str]:
    """The strings Teams reads as markdown: TextBlock texts and FactSet titles and values."""
    for node in walk(card):
        if node.get("type") == "TextBlock" and isinstance(node.get("text"), str):
            yield node["text"]
        if node.get("type") == "FactSet":
            for fact in node.get("facts", []):
                yield from (fact[k] for k in ("title", "value") if isinstance(fact.get(k), str))


def live_markdown_in(cards: Iterable[Card]) -> list[str]:
    return [
        f"{problem} in {text!r}"
        for c in cards
        for text in markdown_texts(c)
        for problem in live_markdown(text)
    ]


def shown(text: str) -> str:
    """The text a CommonMark reader shows for an escaped string: escapes and joiners removed."""
    out: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text) and text[index + 1] in _PUNCTUATION:
            out.append(text[index + 1])
            index += 2
            continue
        if char != JOINER:
            out.append(char)
        index += 1
    return "".join(out)
