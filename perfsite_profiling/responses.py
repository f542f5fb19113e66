"""Pure helpers on responses: measured body sizes and the Server-Timing value."""

from __future__ import annotations

import gzip
import zlib

import brotli
from django.http import HttpResponseBase

from perfsite_profiling.recorder import Recorder


def _decoded_size(body: bytes, encoding: str) -> int | None:
    try:
        if encoding == "gzip":
            return len(gzip.decompress(body))
        if encoding == "br":
            return len(brotli.decompress(body))
    except (OSError, EOFError, zlib.error, brotli.error):
        return None
    return None


def body_sizes(response: HttpResponseBase) -> tuple[int, int] | None:
    """(uncompressed bytes, bytes sent), or None when they cannot be known.

    The assets compressor leaves ``assets_original_size`` on what it
    compressed. Without it (Django's GZipMiddleware, a view that encodes its
    own body) a gzip or brotli body is decoded and measured; another encoding
    or a streaming body is reported as unknown rather than guessed.
    """
    if response.streaming:
        return None
    # Content-Length (set by CommonMiddleware and GZipMiddleware) saves a copy.
    length = response.get("Content-Length", "")
    content_len = int(length) if length.isdigit() else None
    sent = content_len if content_len is not None else len(response.content)  # type: ignore[attr-defined]
    if not sent:
        return None
    original = getattr(response, "assets_original_size", None)
    if isinstance(original, int):
        return original, sent
    encoding = response.get("Content-Encoding", "").strip().lower()
    if not encoding or encoding == "identity":
        return sent, sent
    decoded = _decoded_size(response.content, encoding)  # type: ignore[attr-defined]
    return None if decoded is None else (decoded, sent)


def _ms(ns: int) -> str:
    return f"{ns / 1e6:.2f}"


def server_timing(rec: Recorder, total_ns: int) -> str:
    app_ns = max(0, total_ns - rec.db_ns - rec.cache_ns)
    hits, misses = rec.cache_hits, rec.cache_misses
    return ", ".join(
        [
            f'db;dur={_ms(rec.db_ns)};desc="Database ({rec.queries} queries)"',
            f'cache;dur={_ms(rec.cache_ns)};desc="Cache ({hits} hits, {misses} misses)"',
            f'app;dur={_ms(app_ns)};desc="Application"',
            f'total;dur={_ms(total_ns)};desc="Total"',
        ]
    )
