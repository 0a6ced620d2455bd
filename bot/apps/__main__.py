"""`python -m bot.apps`: print the README's command table, generated from the app registry.

The README holds it between `<!-- commands:start -->` and `<!-- commands:end -->`; a test keeps
the two equal, so the README cannot drift from what the bot understands.
"""

from __future__ import annotations

import sys

from bot.apps import build_registry
from bot.i18n import t


def _cell(syntax: str) -> str:
    return "`" + syntax.replace("|", "\\|") + "`"


def command_table() -> str:
    """English and German syntax side by side, with the English help line."""
    registry = build_registry()
    rows = [
        f"| {_cell(english)} | {_cell(german)} | {t('en', key)} |"
        for (english, key), (german, _) in zip(
            registry.help_lines("en"), registry.help_lines("de"), strict=True
        )
    ]
    return "\n".join(["| command | auf Deutsch | what it does |", "|---|---|---|", *rows])


if __name__ == "__main__":
    sys.stdout.write(command_table() + "\n")
