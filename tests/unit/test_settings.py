"""Settings read from the environment: the database's connections."""

from __future__ import annotations

import pytest

from bot.settings import Settings


@pytest.mark.parametrize(("text", "expected"), [(None, 8), ("3", 3), (" 12 ", 12), ("100", 100)])
def test_the_database_connections_are_eight_unless_set(text: str | None, expected: int) -> None:
    env = {} if text is None else {"DATABASE_CONNECTIONS": text}
    assert Settings.from_env(env).database_connections == expected


@pytest.mark.parametrize("text", ["0", "101", "eight", "٨", "-2", "2.5"])
def test_a_number_of_connections_out_of_range_is_refused_by_name(text: str) -> None:
    with pytest.raises(ValueError, match="DATABASE_CONNECTIONS"):
        Settings.from_env({"DATABASE_CONNECTIONS": text})
