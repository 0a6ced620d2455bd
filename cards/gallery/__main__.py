"""`python -m cards.gallery --out DIR`: every card of the product, in English and German, at
360 px (Teams mobile) and 540 px (a chat), rendered by the official Adaptive Cards renderer with
the Teams light host config, to PNG files and an index page. `--readme` renders only the few
cards the README shows (docs/gallery)."""

from __future__ import annotations

import argparse
import asyncio
import html
import logging
import re
import sys
import time
from pathlib import Path

from cards.gallery.renderer import WIDTHS, Renderer, RendererMissing, install_renderer
from cards.gallery.samples import samples

log = logging.getLogger("cards.gallery")

LOCALES = ("en-US", "de-DE")
# The README's pictures: (sample, locale, width).
README_CARDS = (
    ("general.welcome_card: default", "en-US", 540),
    ("tickets.ticket_detail: agent", "en-US", 540),
    ("tickets.ticket_form: refused at quota", "en-US", 540),
    ("billing.usage_card: standard", "en-US", 540),
    ("billing.statement_card: current", "en-US", 540),
)


Row = tuple[str, str, int, str, tuple[str, ...]]  # name, locale, width, file, problems


def file_name(name: str, locale: str, width: int) -> str:
    slug = re.sub(r"[^a-z0-9_.]+", "-", name.lower()).strip("-")
    return f"{slug}-{locale[:2]}-{width}.png"


def _index(rows: list[Row]) -> str:
    cells = []
    for name, locale, width, file, problems in rows:
        note = "".join(f"<li>{html.escape(p)}</li>" for p in problems)
        cells.append(
            f"<figure><figcaption>{html.escape(name)} &middot; {locale} &middot; {width} px"
            f"</figcaption><img src='{file}' alt='{html.escape(name)}'>"
            + (f"<ul class='problems'>{note}</ul>" if note else "")
            + "</figure>"
        )
    return (
        "<!doctype html><meta charset='utf-8'><title>TeamsWork cards</title><style>"
        "body{font-family:sans-serif;background:#fafafa} figure{display:inline-block;"
        "vertical-align:top;margin:12px} figcaption{font-size:12px;color:#555}"
        ".problems{color:#b00}</style><h1>TeamsWork cards</h1>" + "".join(cells)
    )


async def build(out: Path, *, readme: bool = False) -> list[Row]:
    """Render the gallery into `out`: one row per PNG file, with what the renderer reported
    (errors, action titles cut)."""
    out.mkdir(parents=True, exist_ok=True)
    jobs = (
        [(name, locale, width) for name, locale, width in README_CARDS]
        if readme
        else [(n, loc, w) for loc in LOCALES for n in samples(loc) for w in WIDTHS]
    )
    cards = {locale: samples(locale) for locale in LOCALES}
    rows: list[Row] = []
    async with Renderer.start() as renderer:
        for name, locale, width in jobs:
            rendering = await renderer.render(cards[locale][name], width)
            file = file_name(name, locale, width)
            (out / file).write_bytes(rendering.png)
            rows.append((name, locale, width, file, rendering.problems))
            for problem in rendering.problems:
                log.warning("%s (%s, %d px): %s", name, locale, width, problem)
    if not readme:
        (out / "index.html").write_text(_index(rows), encoding="utf-8")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cards.gallery", description=__doc__)
    parser.add_argument("--out", type=Path, required=True, help="directory for the PNG files")
    parser.add_argument("--readme", action="store_true", help="only the README's pictures")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    started = time.monotonic()
    try:
        install_renderer()
        rows = asyncio.run(build(args.out, readme=args.readme))
    except RendererMissing as error:
        log.error("cannot render the gallery: %s", error)
        return 2
    failed = sum(1 for row in rows if row[4])
    log.info(
        "%d PNG files in %s (%.1f s)%s",
        len(rows),
        args.out,
        time.monotonic() - started,
        f"; {failed} renderings with problems" if failed else "",
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
