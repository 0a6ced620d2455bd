"""Every card, as Teams draws it: the official renderer (npm `adaptivecards` 3.0.6, the Teams
light host config) in headless Chromium, in English and German, at 360 px (Teams mobile) and
540 px (a chat), through the gallery command itself. A card fails when the renderer reports an
error, or when an action title is cut (its text wider than its button, an ellipsis) or pushed
out of its row, on the card or inside any of its show-cards. Skips, saying so in the closing
summary, where Chromium or npm is missing (.ci/run installs both)."""

from __future__ import annotations

import asyncio
import importlib
import inspect
import pkgutil
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

import cards
from cards.gallery.__main__ import LOCALES, Row, build
from cards.gallery.renderer import WIDTHS, RendererMissing, chromium_path, install_renderer
from cards.gallery.samples import card_function, samples
from tests.support.schemas import not_run

CHECK = "Cards rendered by the Adaptive Cards renderer in Chromium"
NOT_CARD_MODULES = {"cards.common", "cards.gallery"}
PNG = b"\x89PNG\r\n\x1a\n"


def _returns_card(fn: Any) -> bool:
    returned = typing.get_type_hints(fn).get("return")
    if typing.get_origin(returned) is dict:
        return True
    if typing.get_origin(returned) in (list, Sequence):
        return typing.get_origin(typing.get_args(returned)[0]) is dict
    return False


def card_functions() -> set[str]:
    found = set()
    for info in pkgutil.iter_modules(cards.__path__):
        name = f"cards.{info.name}"
        if name in NOT_CARD_MODULES:
            continue
        module = importlib.import_module(name)
        for fn_name, fn in inspect.getmembers(module, inspect.isfunction):
            if fn.__module__ == name and not fn_name.startswith("_") and _returns_card(fn):
                found.add(f"{info.name}.{fn_name}")
    return found


def test_the_gallery_shows_every_card_of_the_product() -> None:
    shown = {card_function(name) for name in samples("en-US")}
    assert card_functions() - shown == set(), "add a sample to cards/gallery/samples.py"
    assert set(samples("en-US")) == set(samples("de-DE"))


@pytest.fixture(scope="module")
def gallery(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Row]]:
    try:
        chromium_path()
        install_renderer()
    except RendererMissing as missing:
        not_run(CHECK, str(missing))
    out = tmp_path_factory.mktemp("gallery")
    return out, asyncio.run(build(out))


def test_the_gallery_command_writes_every_card_and_an_index(
    gallery: tuple[Path, list[Row]],
) -> None:
    out, rows = gallery
    expected = len(samples("en-US")) * len(LOCALES) * len(WIDTHS)
    assert len(rows) == expected
    for _, _, _, file, _ in rows:
        assert (out / file).read_bytes().startswith(PNG), file
    index = (out / "index.html").read_text(encoding="utf-8")
    assert all(f"src='{row[3]}'" in index for row in rows)


@pytest.mark.parametrize("locale", LOCALES)
def test_no_action_title_is_cut_and_the_renderer_reports_no_error(
    gallery: tuple[Path, list[Row]], locale: str
) -> None:
    _, rows = gallery
    problems = [
        f"{name} at {width} px: {problem}"
        for name, row_locale, width, _, found in rows
        if row_locale == locale
        for problem in found
    ]
    assert not problems, "\n".join(problems)


def test_the_measure_finds_a_cut_title(gallery: tuple[Path, list[Row]]) -> None:
    """The check is only worth something if it sees what the issue saw: six buttons in a row."""
    from cards.common import card, execute, text
    from cards.gallery.renderer import Renderer

    crowded = card(
        [text("Six actions")],
        [execute(f"Switch to plan {n}", "plans") for n in range(6)],
    )

    async def render() -> tuple[str, ...]:
        async with Renderer.start() as renderer:
            return (await renderer.render(crowded, 360)).cut

    assert asyncio.run(render())
