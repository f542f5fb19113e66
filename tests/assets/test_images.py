"""Responsive images: variants built at collectstatic, <picture> and preload tags."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.template import Context, Template
from PIL import Image

from tests.assets.conftest import build, hashed

pytestmark = pytest.mark.slow

FIGURE = "perfsite/img/figure.png"
VARIANTS = [
    f"perfsite/img/figure.{width}w.{fmt}"
    for width in (400, 800)
    for fmt in ("avif", "webp")
]


def render(source: str) -> str:
    return Template("{% load assets %}" + source).render(Context({}))


def test_variants_exist_at_each_width_and_format(built: Path) -> None:
    entry = json.loads((built / "assets.json").read_text())["images"][FIGURE]
    assert (entry["width"], entry["height"]) == (800, 400)
    assert entry["variants"] == {
        "avif": [[400, VARIANTS[0]], [800, VARIANTS[2]]],
        "webp": [[400, VARIANTS[1]], [800, VARIANTS[3]]],
    }
    png = (built / hashed(built, FIGURE)).stat().st_size
    for name in VARIANTS:
        data = (built / hashed(built, name)).read_bytes()
        with Image.open(io.BytesIO(data)) as image:
            assert image.format == name.rsplit(".", 1)[1].upper()
            width = int(name.split(".")[1].removesuffix("w"))
            assert image.size == (width, width // 2)
        assert len(data) < png / 2  # far smaller than the PNG


def test_variants_are_deterministic(built: Path, tmp_path: Path) -> None:
    again = build(tmp_path, ASSETS_CRITICAL_BROWSER="")
    for name in VARIANTS:
        assert hashed(again, name) == hashed(built, name)
        assert (again / hashed(again, name)).read_bytes() == (
            built / hashed(built, name)
        ).read_bytes()


def test_no_upscaling_and_configured_formats(tmp_path: Path) -> None:
    root = build(
        tmp_path,
        ASSETS_CRITICAL_BROWSER="",
        ASSETS_IMAGE_WIDTHS=[300, 2000],
        ASSETS_IMAGE_FORMATS=["webp"],
    )
    entry = json.loads((root / "assets.json").read_text())["images"][FIGURE]
    assert entry["variants"] == {
        "webp": [
            [300, "perfsite/img/figure.300w.webp"],
            [800, "perfsite/img/figure.800w.webp"],
        ]
    }


def test_hero_img_is_a_picture_and_its_preload_matches(prod: Path) -> None:
    url = {name: "/static/" + hashed(prod, name) for name in [FIGURE, *VARIANTS]}
    avif = f"{url[VARIANTS[0]]} 400w, {url[VARIANTS[2]]} 800w"
    webp = f"{url[VARIANTS[1]]} 400w, {url[VARIANTS[3]]} 800w"
    sizes = "(min-width: 800px) 800px, 100vw"
    assert render(f'{{% hero_img "{FIGURE}" "A chart" 800 400 class="f" %}}') == (
        f'<picture><source type="image/avif" srcset="{avif}" sizes="{sizes}">'
        f'<source type="image/webp" srcset="{webp}" sizes="{sizes}">'
        f'<img src="{url[FIGURE]}" alt="A chart" width="800" height="400" '
        'fetchpriority="high" class="f"></picture>'
    )
    assert render(f'{{% preload "{FIGURE}" as="image" fetchpriority="high" %}}') == (
        f'<link rel="preload" as="image" imagesrcset="{avif}" imagesizes="{sizes}" '
        'type="image/avif" fetchpriority="high">'
    )


def test_lazy_img_with_sizes(prod: Path) -> None:
    output = render(f'{{% lazy_img "{FIGURE}" "" 800 400 sizes="50vw" %}}')
    assert output.startswith('<picture><source type="image/avif" srcset="')
    assert output.count('sizes="50vw"') == 2
    assert output.endswith(
        f'<img src="/static/{hashed(prod, FIGURE)}" alt="" width="800" height="400" '
        'decoding="async" loading="lazy"></picture>'
    )


def test_svg_and_debug_images_stay_plain_img() -> None:
    # Without a build (DEBUG), the source file alone.
    assert render(f'{{% hero_img "{FIGURE}" "A" 800 400 %}}') == (
        f'<img src="/static/{FIGURE}" alt="A" width="800" height="400" fetchpriority="high">'
    )
