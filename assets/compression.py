"""``CompressionMiddleware``: a drop-in replacement for Django's ``GZipMiddleware``.

List it where ``GZipMiddleware`` was: below WhiteNoise (static files are
precompressed and answered before this runs) and *above*
``ConditionalGetMiddleware``, so ConditionalGet hashes the uncompressed body
(a stable ETag) and this middleware only weakens it (system check ``assets.E009``).

Listed below ``caching.middleware.ResponseCacheMiddleware``, its output is
what the response cache stores (one body per coding), so a cache hit is
never compressed again.

BREACH: a response that can carry a secret (it sets a cookie, varies on
``Cookie``/``Authorization`` or is ``private``/``no-store``) is never sent as
brotli, whose size would follow its content byte for byte; it gets gzip with
random-length padding, as Django does, or no compression at all.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator

from django.http import HttpRequest, HttpResponseBase, StreamingHttpResponse
from django.utils.cache import patch_vary_headers
from django.utils.deprecation import MiddlewareMixin

from assets.codecs import BrotliEncoder, Encoder, GzipEncoder
from assets.conf import conf
from assets.negotiation import IDENTITY, choose_encoding

SUPPORTED = ("br", "gzip")
COMPRESSIBLE_RE = re.compile(
    r"^(text/[\w.+-]+|application/(json|javascript|ecmascript|xml|x-javascript|"
    r"[\w.-]+\+(json|xml))|image/svg\+xml)\s*(;|$)",
    re.IGNORECASE,
)


def is_compressible(content_type: str) -> bool:
    return bool(COMPRESSIBLE_RE.match(content_type.strip()))


def may_carry_secrets(response: HttpResponseBase) -> bool:
    """Whether the body could hold a per-user secret an attacker may probe (BREACH)."""
    vary = {v.strip().lower() for v in response.get("Vary", "").split(",")}
    cache_control = response.get("Cache-Control", "").lower()
    return bool(
        response.cookies
        or vary & {"cookie", "authorization", "*"}
        or "private" in cache_control
        or "no-store" in cache_control
    )


def make_encoder(coding: str, secret: bool) -> Encoder:
    if coding == "br":
        return BrotliEncoder(conf.BROTLI_QUALITY)
    return GzipEncoder(conf.GZIP_LEVEL, pad=secret)


def choose(accept_encoding: str | None, secret: bool) -> str:
    """The coding for one response: the client's q-values, then the server's order."""
    offered = [c for c in conf.COMPRESS_ENCODINGS if c in SUPPORTED]
    if secret:
        offered = [c for c in offered if c == "gzip"]
    # None (nothing acceptable) falls back to identity: a 406 for a page is worse.
    return choose_encoding(accept_encoding, offered) or IDENTITY


def skip(response: HttpResponseBase) -> bool:
    return bool(
        response.has_header("Content-Encoding")
        or response.status_code in (204, 206, 304)
        or response.has_header("Content-Range")
        or "no-transform" in response.get("Cache-Control", "").lower()
        or not is_compressible(response.get("Content-Type", ""))
    )


def weaken_etag(response: HttpResponseBase) -> None:
    etag = response.get("ETag")
    if etag and etag.startswith('"'):
        response["ETag"] = "W/" + etag


class CompressionMiddleware(MiddlewareMixin):
    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        if skip(response):
            return response
        # Compressed or not, the body depends on Accept-Encoding.
        patch_vary_headers(response, ("Accept-Encoding",))
        if not response.streaming:
            content: bytes = response.content  # type: ignore[attr-defined]
            response.assets_original_size = len(content)  # type: ignore[attr-defined]
            if len(content) < conf.COMPRESS_MIN_SIZE:
                return response
        secret = may_carry_secrets(response)
        coding = choose(request.headers.get("Accept-Encoding"), secret)
        if coding == IDENTITY:
            return response
        if isinstance(response, StreamingHttpResponse):
            stream(response, make_encoder(coding, secret))
        else:
            compressed = make_encoder(coding, secret).compress(content)
            if len(compressed) >= len(content):
                return response
            response.content = compressed  # type: ignore[attr-defined]
            response["Content-Length"] = str(len(compressed))
        weaken_etag(response)
        response["Content-Encoding"] = coding
        return response


def stream(response: StreamingHttpResponse, encoder: Encoder) -> None:
    """Compress a streaming body chunk by chunk, counting bytes in as they pass."""
    response.assets_original_size = 0  # type: ignore[attr-defined]
    if response.has_header("Content-Length"):
        del response["Content-Length"]

    def count(data: bytes) -> bytes:
        response.assets_original_size += len(data)  # type: ignore[attr-defined]
        return encoder.chunk(data)

    if response.is_async:
        original_async: AsyncIterator[bytes] = response.streaming_content  # type: ignore[assignment]

        async def compress_async() -> AsyncIterator[bytes]:
            async for data in original_async:
                yield count(data)
            yield encoder.finish()

        response.streaming_content = compress_async()
    else:
        original: Iterator[bytes] = response.streaming_content  # type: ignore[assignment]

        def compress_sync() -> Iterator[bytes]:
            for data in original:
                yield count(data)
            yield encoder.finish()

        response.streaming_content = compress_sync()
