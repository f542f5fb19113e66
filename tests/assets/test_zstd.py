"""zstd: live responses by q-value, and precompressed ``.zst`` static files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.http import StreamingHttpResponse
from django.test import Client, override_settings

from assets.zstdlib import zstd
from tests.assets.conftest import hashed
from tests.assets.test_compression import HTML, chunks, html, respond

CHROME = "gzip, deflate, br, zstd"


@pytest.mark.parametrize(
    ("accept", "encoding"),
    [
        ("zstd", "zstd"),
        (CHROME, "br"),  # a tie: the server's order, brotli first
        ("br;q=0.5, zstd", "zstd"),
        ("zstd;q=0, br", "br"),
        ("zstd;q=0, gzip;q=0.2", "gzip"),
    ],
)
def test_zstd_when_the_client_prefers_it(accept: str, encoding: str) -> None:
    response = respond(html(), accept)
    assert response["Content-Encoding"] == encoding
    assert response["Vary"] == "Accept-Encoding"
    if encoding == "zstd":
        assert zstd.decompress(response.content) == HTML


def test_live_zstd_uses_its_configured_level() -> None:
    assert respond(html(), "zstd").content == zstd.compress(HTML, level=6)
    with override_settings(ASSETS_ZSTD_LEVEL=1):
        assert respond(html(), "zstd").content == zstd.compress(HTML, level=1)
    with override_settings(ASSETS_COMPRESS_ENCODINGS=["zstd", "br", "gzip"]):
        assert respond(html(), CHROME)["Content-Encoding"] == "zstd"


def test_secret_responses_are_never_zstd() -> None:
    assert respond(html(Vary="Cookie"), "zstd, gzip")["Content-Encoding"] == "gzip"
    assert not respond(html(Cache_Control="private"), "zstd").has_header(
        "Content-Encoding"
    )


def test_streaming_zstd_flushes_each_chunk() -> None:
    source = chunks()
    response = respond(
        StreamingHttpResponse(iter(source), content_type="text/html"), "zstd"
    )
    assert response["Content-Encoding"] == "zstd"
    decoder = zstd.ZstdDecompressor()
    parts = list(response.streaming_content)
    assert decoder.decompress(parts[0]) == source[0]
    assert b"".join(decoder.decompress(p) for p in parts[1:]) == b"".join(source[1:])
    assert decoder.eof


# Static files ---------------------------------------------------------------


def get(url: str, **headers: Any) -> Any:
    return Client().get(url, **{f"HTTP_{k.upper()}": v for k, v in headers.items()})


def test_collectstatic_writes_zst_variants(built: Path) -> None:
    variants = list(built.rglob("*.zst"))
    assert len(variants) >= 10
    for variant in variants:
        assert (
            zstd.decompress(variant.read_bytes())
            == variant.with_suffix("").read_bytes()
        )
        frame = zstd.get_frame_info(variant.read_bytes())
        assert frame.decompressed_size == variant.with_suffix("").stat().st_size
    # Images that do not compress get none, as with .br and .gz.
    png = built / hashed(built, "perfsite/img/figure.png")
    assert not Path(f"{png}.zst").exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("accept", "encoding"),
    [
        ("zstd", "zstd"),
        ("zstd;q=0.9, br;q=0.1", "zstd"),
        ("br, zstd;q=0", "br"),
        ("gzip, zstd", "zstd"),  # equal q: the smaller file
    ],
)
def test_static_zstd_negotiation(prod: Path, accept: str, encoding: str) -> None:
    name = hashed(prod, "bundles/site.css")
    response = get("/static/" + name, accept_encoding=accept)
    assert response["Content-Encoding"] == encoding
    body = b"".join(response.streaming_content)
    suffix = {"zstd": ".zst", "br": ".br"}[encoding]
    assert body == Path(f"{prod / name}{suffix}").read_bytes()


@pytest.mark.django_db
def test_static_zstd_has_its_own_etag_and_304(prod: Path) -> None:
    url = "/static/" + hashed(prod, "bundles/site.js")
    response = get(url, accept_encoding="zstd")
    assert response["ETag"].endswith('-zstd"')
    assert response["Vary"] == "Accept-Encoding"
    again = get(url, accept_encoding="zstd", if_none_match=response["ETag"])
    assert again.status_code == 304
    assert again["ETag"] == response["ETag"]
    # A zstd ETag does not validate the brotli representation.
    other = get(url, accept_encoding="br", if_none_match=response["ETag"])
    assert other.status_code == 200
    assert other["Content-Encoding"] == "br"


@pytest.mark.django_db
def test_whitenoise_header_settings_still_apply(prod: Path) -> None:
    from whitenoise.base import MissingFileError

    from assets.middleware import StaticFilesMiddleware

    def add_headers(headers: Any, path: str, url: str) -> None:
        headers["X-Served-By"] = "assets"

    with override_settings(
        WHITENOISE_ALLOW_ALL_ORIGINS=False, WHITENOISE_ADD_HEADERS_FUNCTION=add_headers
    ):
        middleware = StaticFilesMiddleware(lambda request: None)
        name = hashed(prod, "bundles/site.css")
        served = middleware.get_static_file(str(prod / name), "/static/" + name)
        headers = dict(served.select({"HTTP_ACCEPT_ENCODING": "zstd"})[1])
        with pytest.raises(MissingFileError):
            middleware.get_static_file(str(prod / "gone.css"), "/static/gone.css")
    assert headers["X-Served-By"] == "assets"
    assert headers["Content-Encoding"] == "zstd"
    assert "Access-Control-Allow-Origin" not in headers
