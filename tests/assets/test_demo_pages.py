"""The demo pages in production mode: what the first round trip carries."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import brotli
import pytest
from django.test import Client

from tests.assets.conftest import hashed
from tests.perfsite.factories import make_post

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

# RFC 6928's initial congestion window: 10 segments of ~1460 bytes.
INITIAL_WINDOW = 14 * 1024  # bytes


def head_of(html: str) -> str:
    return html[: html.index("</head>")]


@pytest.fixture
def home(prod: Path) -> tuple[str, int]:
    for views in range(10):
        make_post(views=views, title=f"A rather long post title number {views}")
    response = Client().get("/")
    headers = sum(len(f"{k}: {v}\r\n") for k, v in response.items())
    return response.content.decode(), headers


def test_first_round_trip_fits_the_initial_window(home: tuple[str, int]) -> None:
    html, header_bytes = home
    end = html.index("</style>") + len("</style>")
    prefix = html[:end].encode()
    assert len(gzip.compress(prefix, 6)) + header_bytes < INITIAL_WINDOW
    assert len(brotli.compress(prefix, quality=4)) + header_bytes < INITIAL_WINDOW
    # The critical CSS is really inlined, and styles the page's first screen.
    assert ".hero{" in html[:end] and ".site-header{" in html[:end]


def test_nothing_blocks_the_first_render(home: tuple[str, int]) -> None:
    head = re.sub(r"<noscript>.*?</noscript>", "", head_of(home[0]), flags=re.S)
    links = re.findall(r'<link rel="stylesheet"[^>]*>', head)
    scripts = re.findall(r"<script[^>]*>", head)
    assert links and scripts  # the checks below must have something to check
    for link in links:
        assert 'media="print"' in link
    for script in scripts:
        # Speculation rules are JSON, not a script that runs.
        assert " defer" in script or " async" in script or "speculationrules" in script


def test_one_bundle_per_type_all_hashed(home: tuple[str, int], prod: Path) -> None:
    html = home[0]
    css = re.findall(r'<link rel="stylesheet" href="([^"]+)" media="print"', html)
    assert css == ["/static/" + hashed(prod, "bundles/site.css")]
    assert html.count("/static/" + hashed(prod, "bundles/site.js")) == 1
    assert "perfsite/css/" not in html and "perfsite/js/" not in html


def test_hero_is_prioritised_and_thumbnails_lazy(
    home: tuple[str, int], prod: Path
) -> None:
    html = home[0]
    hero = "/static/" + hashed(prod, "perfsite/img/hero.svg")
    assert (
        f'<link rel="preload" href="{hero}" as="image" fetchpriority="high">'
        in head_of(html)
    )
    (hero_tag,) = re.findall(rf'<img src="{re.escape(hero)}"[^>]*>', html)
    assert 'fetchpriority="high"' in hero_tag and "loading=" not in hero_tag
    thumbs = re.findall(r'<img src="[^"]*thumb-[^>]*>', html)
    assert len(thumbs) == 10
    assert all('loading="lazy"' in t and 'decoding="async"' in t for t in thumbs)


def test_post_page_uses_the_same_bundles(prod: Path) -> None:
    post = make_post(title="Figures")
    html = Client().get(f"/posts/{post.pk}/").content.decode()
    assert "/static/" + hashed(prod, "bundles/site.css") in html
    figure = "/static/" + hashed(prod, "perfsite/img/figure.png")
    assert re.search(rf'<img src="{re.escape(figure)}"[^>]*fetchpriority="high"', html)
