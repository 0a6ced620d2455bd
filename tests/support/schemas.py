"""Schema checks that could not run: recorded here, and listed in pytest's closing summary
(tests/conftest.py), so that a green run without them does not pass for a checked one."""

from __future__ import annotations

from typing import NoReturn

import pytest

NOT_RUN: list[str] = []


def not_run(check: str, reason: str, *, module_level: bool = False) -> NoReturn:
    """Skip a schema check, and say so at the end of the run."""
    NOT_RUN.append(f"{check}: {reason}")
    pytest.skip(f"{check}: {reason}", allow_module_level=module_level)
