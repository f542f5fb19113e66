"""Draw the demo's raster figure, ``perfsite/static/perfsite/img/figure.png``.

The article page shows one PNG so that the site serves at least one binary,
already-compressed static file (WhiteNoise must not gzip it and must honour
Range requests). It is drawn here with the standard library only: a soft
vertical gradient, a grid, twelve bars with a lighter cap and a smooth falling
trend line. It is an illustration, not a chart of data: the bars are fixed
shares of the plot height, and the page captions it as such. No randomness and a fixed zlib level, so a re-run writes the same
bytes and the committed file never changes by accident.

Usage: ``python3 scripts/make_images.py [output.png]``
"""

from __future__ import annotations

import math
import struct
import sys
import zlib
from collections.abc import Sequence
from pathlib import Path

WIDTH, HEIGHT = 800, 400
DEFAULT_OUTPUT = (
    Path(__file__).resolve().parent.parent
    / "perfsite"
    / "static"
    / "perfsite"
    / "img"
    / "figure.png"
)

Color = tuple[int, int, int]

BG_TOP: Color = (246, 246, 255)
BG_BOTTOM: Color = (226, 228, 250)
GRID: Color = (205, 208, 235)
AXIS: Color = (120, 124, 160)
BAR: Color = (96, 86, 230)
BAR_CAP: Color = (150, 142, 255)
LINE: Color = (20, 170, 150)

PLOT_LEFT, PLOT_RIGHT = 60, 760
PLOT_TOP, PLOT_BOTTOM = 40, 350
# Bar heights as a share of the plot height (made up: an illustration).
BARS: Sequence[float] = (
    0.92,
    0.88,
    0.9,
    0.78,
    0.74,
    0.66,
    0.6,
    0.52,
    0.47,
    0.42,
    0.36,
    0.33,
)


def mix(a: Color, b: Color, t: float) -> Color:
    """Linear blend from ``a`` (t=0) to ``b`` (t=1)."""
    t = min(1.0, max(0.0, t))
    return (
        round(a[0] + (b[0] - a[0]) * t),
        round(a[1] + (b[1] - a[1]) * t),
        round(a[2] + (b[2] - a[2]) * t),
    )


def trend(x: float) -> float:
    """The median line's y (pixels) at column ``x``: a gentle decay with a ripple."""
    u = (x - PLOT_LEFT) / (PLOT_RIGHT - PLOT_LEFT)
    share = 0.22 + 0.5 * math.exp(-2.2 * u) + 0.025 * math.sin(u * 14.0)
    return PLOT_BOTTOM - share * (PLOT_BOTTOM - PLOT_TOP)


def bar_at(x: int) -> tuple[int, float] | None:
    """The index and height share of the bar covering column ``x``, if any."""
    slot = (PLOT_RIGHT - PLOT_LEFT) / len(BARS)
    if not PLOT_LEFT <= x < PLOT_RIGHT:
        return None
    index = int((x - PLOT_LEFT) // slot)
    offset = (x - PLOT_LEFT) - index * slot
    gap = slot * 0.18
    if gap <= offset < slot - gap:
        return index, BARS[index]
    return None


def pixel(x: int, y: int, line_y: float) -> Color:
    """The colour of one pixel, painted back to front."""
    color = mix(BG_TOP, BG_BOTTOM, y / (HEIGHT - 1))

    inside = PLOT_LEFT <= x <= PLOT_RIGHT and PLOT_TOP <= y <= PLOT_BOTTOM
    if inside and ((y - PLOT_TOP) % 62 == 0 or (x - PLOT_LEFT) % 70 == 0):
        color = GRID

    bar = bar_at(x)
    if bar is not None:
        top = PLOT_BOTTOM - bar[1] * (PLOT_BOTTOM - PLOT_TOP)
        if top <= y < PLOT_BOTTOM:
            depth = (y - top) / (PLOT_BOTTOM - top)
            color = BAR_CAP if y - top < 6 else mix(BAR, BG_BOTTOM, depth * 0.55)

    if y in (PLOT_BOTTOM, PLOT_BOTTOM + 1) and PLOT_LEFT - 10 <= x <= PLOT_RIGHT + 10:
        color = AXIS

    # Anti-aliased line, 5px thick: coverage falls off with vertical distance.
    if PLOT_LEFT <= x <= PLOT_RIGHT:
        distance = abs(y - line_y)
        if distance < 3.5:
            color = mix(color, LINE, min(1.0, 3.5 - distance))
    return color


def render() -> bytes:
    """The raw scanlines: a filter byte (0, none) then RGB triples per row."""
    line = [trend(x) for x in range(WIDTH)]
    rows = bytearray()
    for y in range(HEIGHT):
        rows.append(0)
        for x in range(WIDTH):
            rows.extend(pixel(x, y, line[x]))
    return bytes(rows)


def chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return (
        struct.pack(">I", len(data))
        + body
        + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)
    )


def encode_png(width: int, height: int, raw: bytes) -> bytes:
    """A minimal PNG: 8-bit RGB, no interlacing, one IDAT."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def main(argv: Sequence[str]) -> int:
    output = Path(argv[0]) if argv else DEFAULT_OUTPUT
    output.parent.mkdir(parents=True, exist_ok=True)
    data = encode_png(WIDTH, HEIGHT, render())
    output.write_bytes(data)
    print(f"wrote {output} ({len(data)} bytes, {WIDTH}x{HEIGHT})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
