"""`python -m bot.apps`: print the README's command table, generated from the app registry.

The README holds it between `<!-- commands:start -->` and `<!-- commands:end -->`; a test keeps
the two equal, so the README cannot drift from what the bot understands.
"""

from __future__ import annotations

import sys

from bot.apps import build_registry
from bot.i18n import t


def command_table(locale: str = "en") -> str:
    rows = [
        f"| `{syntax.replace('|', chr(92) + '|')}` | {t(locale, key)} |"
        for syntax, key in build_registry().help_lines()
    ]
    return "\n".join(["| command | what it does |", "|---|---|", *rows])


if __name__ == "__main__":
    sys.stdout.write(command_table() + "\n")
