"""Server-side SVG: a profile's flame graph and an endpoint's latency line.

Plain SVG built with ``format_html`` (no script, no chart library), so the
pages work under a strict Content-Security-Policy and the figures in the
markup are the figures computed here.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Any

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

FLAME_WIDTH = 1200  # viewBox units
ROW = 18
MAX_DEPTH = 120
MIN_WIDTH = 0.5  # narrower frames (and their callees) are not drawn
CHAR = 6.5  # approximate width of a label character


@dataclass
class Node:
    frame: int  # index in the frame table, -1 for the root
    ms: float = 0.0
    children: dict[int, Node] = field(default_factory=dict)


def tree(stacks: dict[str, Any]) -> Node:
    root = Node(-1)
    for path, ms, _n in stacks["stacks"]:
        root.ms += ms
        node = root
        for index in path[:MAX_DEPTH]:
            node = node.children.setdefault(index, Node(index))
            node.ms += ms
    return root


def _hue(file: str) -> int:
    if "site-packages" in file:
        return 200 + zlib.crc32(file.encode()) % 40  # libraries: blues
    if "/lib/python" in file or file.startswith("<"):
        return 90 + zlib.crc32(file.encode()) % 40  # standard library: greens
    return 10 + zlib.crc32(file.encode()) % 40  # the project: warm


def flame_graph(stacks: dict[str, Any]) -> SafeString:
    """An icicle chart: callers on top, width proportional to sampled time."""
    root = tree(stacks)
    frames = stacks["frames"]
    if root.ms <= 0:
        return SafeString("")
    scale = FLAME_WIDTH / root.ms
    cells: list[SafeString] = []
    depth_used = 0

    def draw(node: Node, x: float, depth: int) -> None:
        nonlocal depth_used
        width = node.ms * scale
        if width < MIN_WIDTH:
            return
        depth_used = max(depth_used, depth + 1)
        if node.frame < 0:
            name, file, line, hue = "all", "", 0, 0
        else:
            name, file, line = frames[node.frame]
            hue = _hue(file)
        share = 100 * node.ms / root.ms
        chars = int((width - 6) / CHAR)
        text = name if len(name) <= chars else name[: max(chars - 1, 0)] + "…"
        cells.append(
            format_html(
                "<g><title>{} ({}:{}) {} ms, {}%</title>"
                '<rect x="{}" y="{}" width="{}" height="{}" fill="hsl({},55%,{}%)" '
                'data-ms="{}"></rect>{}</g>',
                name,
                file,
                line,
                f"{node.ms:.2f}",
                f"{share:.1f}",
                f"{x:.2f}",
                depth * ROW,
                f"{max(width - 0.5, 0.1):.2f}",
                ROW - 1,
                hue,
                70 if node.frame >= 0 else 85,
                f"{node.ms:.4f}",
                format_html(
                    '<text x="{}" y="{}">{}</text>',
                    f"{x + 3:.2f}",
                    depth * ROW + 13,
                    text,
                )
                if chars >= 3
                else "",
            )
        )
        offset = x
        for child in sorted(node.children.values(), key=lambda c: -c.ms):
            draw(child, offset, depth + 1)
            offset += child.ms * scale

    draw(root, 0.0, 0)
    height = depth_used * ROW
    return format_html(
        '<svg class="flame" viewBox="0 0 {} {}" width="100%" '
        'preserveAspectRatio="none" role="img" aria-label="{}">{}</svg>',
        FLAME_WIDTH,
        height,
        f"Flame graph of {root.ms:.1f} ms sampled",
        mark_safe("".join(cells)),  # each cell built by format_html
    )


SPARK_WIDTH, SPARK_HEIGHT = 160, 36


def _points(values: list[float | None], peak: float) -> list[tuple[float, float]]:
    step = (SPARK_WIDTH - 6) / max(len(values) - 1, 1)
    return [
        (3 + i * step, SPARK_HEIGHT - 3 - v / peak * (SPARK_HEIGHT - 6))
        for i, v in enumerate(values)
        if v is not None
    ]


def _line(points: list[tuple[float, float]], colour: str) -> SafeString:
    """A polyline through the points, with a dot on each (one bucket shows)."""
    dots = format_html_join(
        "",
        '<circle cx="{}" cy="{}" r="1.8" fill="{}"></circle>',
        ((f"{x:.1f}", f"{y:.1f}", colour) for x, y in points),
    )
    return format_html(
        '<polyline points="{}" fill="none" stroke="{}" stroke-width="1.5"></polyline>{}',
        " ".join(f"{x:.1f},{y:.1f}" for x, y in points),
        colour,
        dots,
    )


def latency_chart(buckets: list[tuple[float, float] | None], span: str) -> SafeString:
    """p50 (blue) and p95 (orange) per time bucket, in ms. Empty buckets are
    left out of the lines and written "-" in ``data-p50``/``data-p95``."""
    p50 = [b[0] if b else None for b in buckets]
    p95 = [b[1] if b else None for b in buckets]
    shown = [v for v in p95 if v is not None]
    if not shown:
        return SafeString("")
    peak = max(shown) or 1.0
    label = f"p50 and p95 over {span}: highest p95 {max(shown):.2f} ms"
    return format_html(
        '<svg class="spark" width="{}" height="{}" viewBox="0 0 {} {}" role="img" '
        'aria-label="{}" data-p50="{}" data-p95="{}"><title>{}</title>'
        "{}{}</svg>",
        SPARK_WIDTH,
        SPARK_HEIGHT,
        SPARK_WIDTH,
        SPARK_HEIGHT,
        label,
        ",".join("-" if v is None else f"{v:.3f}" for v in p50),
        ",".join("-" if v is None else f"{v:.3f}" for v in p95),
        label,
        _line(_points(p95, peak), "#e36209"),
        _line(_points(p50, peak), "#0969da"),
    )
