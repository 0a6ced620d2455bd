"""Generate the Teams app icons (``color.png`` and ``outline.png``) with Pillow.

Run ``python -m app_manifest.make_icons`` to regenerate the PNGs that live next to this
file; pass ``--out-dir`` to write them somewhere else.  The glyph is a ticket with a
checkmark:

* ``color.png``: 192x192 RGBA, a rounded square in the accent colour holding a white
  ticket with an accent checkmark.
* ``outline.png``: 32x32 RGBA, a white ticket with the checkmark knocked out.  Teams
  requires the outline icon to contain only white or fully transparent pixels, so the
  alpha channel is thresholded (no anti-aliased, half-transparent edge pixels).
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence
from pathlib import Path

from PIL import Image, ImageDraw

logger = logging.getLogger(__name__)

ACCENT_COLOR = "#3B5BDB"
COLOR_SIZE = 192
OUTLINE_SIZE = 32
COLOR_FILENAME = "color.png"
OUTLINE_FILENAME = "outline.png"

_WHITE = (255, 255, 255, 255)
_CLEAR = (255, 255, 255, 0)
_SUPERSAMPLE = 8

Point = tuple[float, float]


def _hex_to_rgba(value: str) -> tuple[int, int, int, int]:
    value = value.lstrip("#")
    return (int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16), 255)


def _draw_ticket(
    draw: ImageDraw.ImageDraw,
    box: tuple[float, float, float, float],
    radius: float,
    notch: float,
    fill: tuple[int, int, int, int],
    cut: tuple[int, int, int, int],
) -> None:
    """A rounded rectangle with a semicircular notch cut into each short side."""
    left, top, right, bottom = box
    draw.rounded_rectangle(box, radius=radius, fill=fill)
    mid = (top + bottom) / 2
    for cx in (left, right):
        draw.ellipse((cx - notch, mid - notch, cx + notch, mid + notch), fill=cut)


def _draw_check(
    draw: ImageDraw.ImageDraw,
    points: Sequence[Point],
    width: float,
    fill: tuple[int, int, int, int],
) -> None:
    """A polyline with round joints and round caps."""
    stroke = round(width)
    draw.line(list(points), fill=fill, width=stroke, joint="curve")
    r = width / 2
    for x, y in (points[0], points[-1]):
        draw.ellipse((x - r, y - r, x + r, y + r), fill=fill)


def make_color_icon(size: int = COLOR_SIZE, accent: str = ACCENT_COLOR) -> Image.Image:
    """Full-colour icon: accent rounded square, white ticket, accent checkmark."""
    s = size * _SUPERSAMPLE
    accent_rgba = _hex_to_rgba(accent)
    img = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)

    def u(v: float) -> float:  # design units are 1/192 of the icon
        return v * s / 192

    draw.rounded_rectangle((0, 0, s - 1, s - 1), radius=u(42), fill=accent_rgba)
    _draw_ticket(
        draw,
        (u(30), u(50), u(162), u(142)),
        radius=u(14),
        notch=u(15),
        fill=_WHITE,
        cut=accent_rgba,
    )
    _draw_check(
        draw,
        [(u(66), u(97)), (u(88), u(118)), (u(128), u(76))],
        width=u(15),
        fill=accent_rgba,
    )
    return img.resize((size, size), Image.Resampling.LANCZOS)


def make_outline_icon(size: int = OUTLINE_SIZE) -> Image.Image:
    """Outline icon: white ticket with the checkmark knocked out, binary alpha."""
    s = size * _SUPERSAMPLE
    img = Image.new("RGBA", (s, s), _CLEAR)
    draw = ImageDraw.Draw(img)

    def u(v: float) -> float:  # design units are 1/32 of the icon
        return v * s / 32

    _draw_ticket(
        draw,
        (u(2), u(7), u(30), u(25)),
        radius=u(3),
        notch=u(3),
        fill=_WHITE,
        cut=_CLEAR,
    )
    _draw_check(
        draw,
        [(u(10.5), u(16)), (u(14.5), u(20)), (u(21.5), u(12))],
        width=u(3),
        fill=_CLEAR,
    )
    alpha = img.getchannel("A").resize((size, size), Image.Resampling.BOX)
    alpha = alpha.point(lambda a: 255 if a >= 128 else 0)
    out = Image.new("RGBA", (size, size), _CLEAR)
    out.putalpha(alpha)
    # Normalise: every pixel is exactly opaque white or fully transparent white.
    return out


def write_icons(out_dir: Path) -> tuple[Path, Path]:
    """Write ``color.png`` and ``outline.png`` into ``out_dir``; return their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    color_path = out_dir / COLOR_FILENAME
    outline_path = out_dir / OUTLINE_FILENAME
    make_color_icon().save(color_path, format="PNG", optimize=True)
    make_outline_icon().save(outline_path, format="PNG", optimize=True)
    logger.info("wrote %s and %s", color_path, outline_path)
    return color_path, outline_path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m app_manifest.make_icons",
        description="Generate the Teams app icons color.png (192x192) and outline.png (32x32).",
    )
    parser.add_argument(
        "--out-dir",
        type=Path,
        default=Path(__file__).resolve().parent,
        help="directory to write the icons to (default: the app_manifest package)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    write_icons(args.out_dir)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
