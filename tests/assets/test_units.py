"""Edge cases of the plain functions behind the tags, the build and compression."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.http import StreamingHttpResponse
from django.test import RequestFactory, override_settings

from assets import manifest
from assets.bundles import css_references, rebase_css, relative_to
from assets.compression import CompressionMiddleware
from assets.html import is_cross_origin
from assets.storage import BundleStorage


def test_rebase_css_leaves_absolute_urls_alone() -> None:
    css = (
        "a{background:url(data:image/png;base64,AAA)}"
        "b{background:url('https://x.example/a.png')}"
        'c{background:url("/abs.png")}'
        "d{background:url()}"
        "e{background:url(../img/a.svg?v=1#frag)}"
    )
    out = rebase_css(css, "app/css/x.css", relative_to("bundles"))
    assert out == (
        "a{background:url(data:image/png;base64,AAA)}"
        "b{background:url('https://x.example/a.png')}"
        'c{background:url("/abs.png")}'
        "d{background:url()}"
        'e{background:url("../app/img/a.svg?v=1#frag")}'
    )
    assert list(css_references(css, "app/css/x.css")) == ["app/img/a.svg"]


@pytest.mark.parametrize(
    ("url", "page", "cross"),
    [
        ("/static/a.css", "http://site.example", False),
        ("http://site.example/static/a.css", "http://site.example", False),
        ("https://cdn.example/a.css", "http://site.example", True),
        ("//cdn.example/a.css", "https://site.example", True),
        ("//site.example/a.css", "https://site.example", False),
        ("https://cdn.example/a.css", None, True),
    ],
)
def test_cross_origin(url: str, page: str | None, cross: bool) -> None:
    assert is_cross_origin(url, page) is cross


def test_streaming_content_length_is_dropped() -> None:
    response = StreamingHttpResponse(iter([b"x" * 1000]), content_type="text/plain")
    response["Content-Length"] = "1000"
    request = RequestFactory().get("/", HTTP_ACCEPT_ENCODING="gzip")
    out = CompressionMiddleware(lambda _: response)(request)
    assert not out.has_header("Content-Length")
    assert gzip.decompress(b"".join(out.streaming_content)) == b"x" * 1000


def test_a_bundle_missing_from_the_build_says_so(prod: Path) -> None:
    with override_settings(
        ASSETS_BUNDLES={"other": {"css": ["perfsite/css/base.css"]}}
    ):
        manifest.clear()
        with pytest.raises(
            ImproperlyConfigured, match="Bundle 'other' is not in assets.json"
        ):
            manifest.assets("other", "css")


@override_settings(ASSETS_BUNDLES={"x": {"critical": ["nowhere.css"]}})
def test_debug_critical_css_of_a_missing_file() -> None:
    with pytest.raises(
        ImproperlyConfigured, match="lists 'nowhere.css', which no finder finds"
    ):
        manifest.critical_css("x")


def test_dry_run_builds_nothing(tmp_path: Path) -> None:
    storage = BundleStorage(location=str(tmp_path))
    assert list(storage.post_process({}, dry_run=True)) == []
    assert list(tmp_path.iterdir()) == []
