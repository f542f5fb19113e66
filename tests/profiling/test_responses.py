"""Body sizes and the Server-Timing value, without a request."""

from __future__ import annotations

import gzip

import brotli
from django.http import HttpResponse, StreamingHttpResponse

from perfsite_profiling.recorder import Recorder
from perfsite_profiling.responses import body_sizes, server_timing


def encoded(body: bytes, encoding: str) -> HttpResponse:
    response = HttpResponse(body)
    response["Content-Encoding"] = encoding
    return response


def test_sizes_of_plain_and_encoded_bodies() -> None:
    assert body_sizes(HttpResponse(b"x" * 10)) == (10, 10)
    assert body_sizes(encoded(b"y" * 7, "identity")) == (7, 7)
    zipped = gzip.compress(b"z" * 900)
    assert body_sizes(encoded(zipped, "gzip")) == (900, len(zipped))
    squeezed = brotli.compress(b"w" * 800)
    assert body_sizes(encoded(squeezed, "br")) == (800, len(squeezed))


def test_unknown_sizes_are_not_guessed() -> None:
    assert body_sizes(HttpResponse(b"")) is None
    assert body_sizes(StreamingHttpResponse(iter([b"a"]))) is None
    assert body_sizes(encoded(b"not gzip", "gzip")) is None
    assert body_sizes(encoded(b"not br", "br")) is None
    assert body_sizes(encoded(b"zstd bytes", "zstd")) is None


def test_server_timing_splits_the_total() -> None:
    rec = Recorder(db_ns=2_500_000, cache_ns=500_000, queries=3, cache_hits=1)
    assert server_timing(rec, 10_000_000) == (
        'db;dur=2.50;desc="Database (3 queries)", '
        'cache;dur=0.50;desc="Cache (1 hits, 0 misses)", '
        'app;dur=7.00;desc="Application", total;dur=10.00;desc="Total"'
    )


def test_content_length_is_trusted_when_set() -> None:
    response = HttpResponse(b"x" * 10)
    response["Content-Length"] = "10"
    assert body_sizes(response) == (10, 10)
    response = HttpResponse(b"")
    response["Content-Length"] = "0"
    assert body_sizes(response) is None
