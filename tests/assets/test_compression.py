"""CompressionMiddleware: negotiation, what it skips, streaming, BREACH, ETags."""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import zlib
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import brotli
import pytest
from django.http import HttpResponse, StreamingHttpResponse
from django.test import Client, RequestFactory, override_settings

from assets.codecs import GzipEncoder
from assets.compression import CompressionMiddleware, is_compressible
from tests.assets.conftest import NEGOTIATION_MATRIX
from tests.perfsite.factories import make_post

HTML = ("<p>" + "perfsite is fast. " * 200 + "</p>").encode()


def respond(
    response: HttpResponse | StreamingHttpResponse, accept: str | None = "gzip, br"
) -> Any:
    headers = {"HTTP_ACCEPT_ENCODING": accept} if accept is not None else {}
    request = RequestFactory().get("/", **headers)
    middleware = CompressionMiddleware(lambda _: response)
    return middleware(request)


def html(body: bytes = HTML, **headers: str) -> HttpResponse:
    response = HttpResponse(body, content_type="text/html; charset=utf-8")
    for key, value in headers.items():
        response[key.replace("_", "-")] = value
    return response


def decode(encoding: str | None, body: bytes) -> bytes:
    if encoding == "br":
        return bytes(brotli.decompress(body))
    if encoding == "gzip":
        return gzip.decompress(body)
    return body


@pytest.mark.parametrize(
    ("accept", "encoding"),
    [*NEGOTIATION_MATRIX, ("*;q=0", None)],
)
def test_negotiation_matrix(accept: str | None, encoding: str | None) -> None:
    response = respond(html(), accept)
    assert response.get("Content-Encoding") == encoding
    assert response["Vary"] == "Accept-Encoding"
    assert decode(encoding, response.content) == HTML
    if encoding:
        assert int(response["Content-Length"]) == len(response.content)
    assert response.assets_original_size == len(HTML)


def test_server_preference_is_configurable() -> None:
    with override_settings(ASSETS_COMPRESS_ENCODINGS=["gzip", "br"]):
        assert respond(html(), "br, gzip")["Content-Encoding"] == "gzip"
    with override_settings(ASSETS_COMPRESS_ENCODINGS=["gzip"]):
        assert respond(html(), "br").get("Content-Encoding") is None


def test_json_js_svg_and_xml_are_compressed_images_are_not() -> None:
    for kind in (
        "application/json",
        "text/javascript",
        "image/svg+xml",
        "application/xml",
        "application/ld+json",
    ):
        assert is_compressible(kind), kind
    for kind in ("image/png", "application/octet-stream", "", "video/mp4", "text"):
        assert not is_compressible(kind), kind
    png = HttpResponse(HTML, content_type="image/png")
    response = respond(png)
    assert not response.has_header("Content-Encoding")
    assert not response.has_header("Vary")


@pytest.mark.parametrize(
    "response",
    [
        html(Content_Encoding="gzip"),
        html(Cache_Control="no-transform"),
        HttpResponse(HTML, status=206, content_type="text/html"),
        html(Content_Range="bytes 0-10/20"),
    ],
    ids=["already-encoded", "no-transform", "206", "content-range"],
)
def test_responses_that_must_not_be_touched(response: HttpResponse) -> None:
    body = response.content
    out = respond(response)
    assert out.content == body
    assert out.get("Content-Encoding") in (None, "gzip")
    assert not out.has_header("Vary")


def test_small_and_incompressible_bodies_are_sent_as_they_are() -> None:
    small = respond(html(b"<p>hi</p>"))
    assert not small.has_header("Content-Encoding")
    assert small["Vary"] == "Accept-Encoding"
    assert small.assets_original_size == 9
    noise = b"".join(hashlib.sha256(bytes([i])).digest() for i in range(64))
    assert not respond(html(noise)).has_header("Content-Encoding")


def test_etags_are_weakened() -> None:
    assert respond(html(ETag='"abc"'))["ETag"] == 'W/"abc"'
    assert respond(html(ETag='W/"abc"'))["ETag"] == 'W/"abc"'


def test_live_brotli_uses_a_fast_quality() -> None:
    body = respond(html(), "br").content
    assert body == brotli.compress(HTML, quality=4)


def test_responses_that_can_carry_secrets_are_never_brotli() -> None:
    for secret in (
        html(Vary="Cookie"),
        html(Cache_Control="private"),
        html(Vary="Authorization"),
    ):
        response = respond(secret, "br, gzip")
        assert response["Content-Encoding"] == "gzip"
        assert gzip.decompress(response.content) == HTML
    with_cookie = html()
    with_cookie.set_cookie("session", "s3cret")
    assert respond(with_cookie, "br, gzip")["Content-Encoding"] == "gzip"
    # A client that only takes brotli gets the secret uncompressed.
    assert not respond(html(Vary="Cookie"), "br").has_header("Content-Encoding")


def test_gzip_of_secret_responses_is_padded_to_a_random_length() -> None:
    sizes = {len(respond(html(Vary="Cookie"), "gzip").content) for _ in range(30)}
    assert len(sizes) > 5
    # Public responses are not padded: the same bytes every time.
    assert len({respond(html(), "gzip").content for _ in range(5)}) == 1


def chunks() -> list[bytes]:
    return [b"<head>" + b"x" * 300 + b"</head>", b"<body>" + b"y" * 5000, b"</body>"]


@pytest.mark.parametrize("accept", ["br", "gzip"])
def test_streaming_flushes_each_chunk(accept: str) -> None:
    source = chunks()
    response = respond(
        StreamingHttpResponse(iter(source), content_type="text/html"), accept
    )
    assert response["Content-Encoding"] == accept
    assert not response.has_header("Content-Length")
    decoder: Callable[[bytes], bytes]
    if accept == "br":
        decoder = brotli.Decompressor().process
    else:
        decoder = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress
    parts = list(response.streaming_content)
    # The first chunk can be decoded on its own: the <head> is not held back.
    assert decoder(parts[0]) == source[0]
    assert b"".join(decoder(p) for p in parts[1:]) == b"".join(source[1:])
    assert response.assets_original_size == sum(map(len, source))


def test_async_streaming_is_compressed_too() -> None:
    async def body() -> AsyncIterator[bytes]:
        for chunk in chunks():
            yield chunk

    response = respond(StreamingHttpResponse(body(), content_type="text/html"), "gzip")

    async def collect() -> bytes:
        return b"".join([part async for part in response.streaming_content])

    # A thread of its own: the browser tests' Playwright loop may run in this one.
    with ThreadPoolExecutor(1) as pool:
        body_bytes = pool.submit(asyncio.run, collect()).result()
    assert gzip.decompress(body_bytes) == b"".join(chunks())


def test_gzip_encoder_without_data() -> None:
    assert gzip.decompress(GzipEncoder(6).finish()) == b""


@pytest.mark.django_db
def test_site_pages_and_api_end_to_end(client: Client) -> None:
    for views in range(20):
        make_post(views=views)
    page = client.get("/", HTTP_ACCEPT_ENCODING="br")
    assert page["Content-Encoding"] == "br"
    assert page.wsgi_request is not None
    assert page["ETag"].startswith('W/"')
    assert (
        client.get(
            "/", HTTP_ACCEPT_ENCODING="br", HTTP_IF_NONE_MATCH=page["ETag"]
        ).status_code
        == 304
    )
    api = client.get("/api/posts/popular?limit=20", HTTP_ACCEPT_ENCODING="br;q=0, gzip")
    assert api["Content-Encoding"] == "gzip"
    assert b"title" in gzip.decompress(api.content)


def test_secret_bodies_are_padded_anew() -> None:
    sizes = set()
    for _ in range(12):
        response = html(Cache_Control="private")
        sizes.add(len(respond(response, "gzip").content))
    assert len(sizes) > 1
