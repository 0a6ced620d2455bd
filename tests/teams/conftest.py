from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping

import pytest


def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item
) -> Mapping[str, Callable[[], asyncio.AbstractEventLoop]]:
    """The loops the tests here run on: asyncio's; and for a test marked
    `asyncio(loop_factories=["asyncio", "uvloop"])` uvloop's too, which the bot runs on
    (`python -m bot`) and which calls a protocol back in an order of its own."""
    factories: dict[str, Callable[[], asyncio.AbstractEventLoop]] = {
        "asyncio": asyncio.new_event_loop
    }
    marker = item.get_closest_marker("asyncio")
    if marker is None or "uvloop" not in marker.kwargs.get("loop_factories", ()):
        return factories
    try:
        import uvloop
    except ImportError:  # not on Windows
        return factories
    factories["uvloop"] = uvloop.new_event_loop
    return factories
