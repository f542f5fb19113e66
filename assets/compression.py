"""``CompressionMiddleware``: a drop-in replacement for Django's ``GZipMiddleware``.

List it where ``GZipMiddleware`` was: below WhiteNoise (static files are
precompressed and answered before this runs) and *above*
``ConditionalGetMiddleware``, so ConditionalGet hashes the uncompressed body
(a stable ETag) and this middleware only weakens it (system check ``assets.E012``).

Listed below ``caching.middleware.ResponseCacheMiddleware``, its output is
what the response cache stores (one body per coding), so a cache hit is
never compressed again.

BREACH: a response that can carry a secret (it sets a cookie, varies on
``Cookie``/``Authorization`` or is ``private``/``no-store``) is never sent as
brotli, zstd or ``dcz``, whose sizes follow the content byte for byte; it
gets gzip with random-length padding, as Django does, or no compression.

``dcz`` (RFC 9842): a public HTML response to a request whose
``Available-Dictionary`` is the SHA-256 of the site's dictionary
(``assets.dictionary``) and whose ``Accept-Encoding`` allows ``dcz`` is sent
as zstd against that dictionary, with ``Vary: Accept-Encoding,
Available-Dictionary`` and its own ETag (``W/"...-dcz"``). A conditional
request naming that ETag is passed down with the plain ETag, so the views'
own 304s (``caching.http``, ConditionalGet) keep working, and the 304 goes
back up with the ``-dcz`` form.

Contract with a response cache above this middleware (documented in
docs/assets.md): ``negotiate(request, response)`` names the variant a request gets
(``identity``, ``gzip``, ``br``, ``zstd`` or ``dcz:<sha-256 hex>``), the same
name this middleware leaves on ``response.assets_variant``; a stored
response's bytes under that name can be replayed to any request ``negotiate``
gives the same name.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator

from django.http import HttpRequest, HttpResponseBase, StreamingHttpResponse
from django.utils.cache import patch_vary_headers
from django.utils.deprecation import MiddlewareMixin

from assets import dictionary
from assets.codecs import BrotliEncoder, Encoder, GzipEncoder, ZstdEncoder
from assets.conf import conf
from assets.dictionary import DCZ, Dictionary, dcz_header
from assets.negotiation import (
    IDENTITY,
    choose_encoding,
    opaque,
    parse_byte_sequence,
    parse_etags,
)
from perfsite_conf.onloop import OnLoopMixin

SUPPORTED = ("br", "zstd", "gzip")
DCZ_VARY = ("Accept-Encoding", "Available-Dictionary")
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


def is_html(response: HttpResponseBase) -> bool:
    return response.get("Content-Type", "").split(";")[0].strip().lower() == "text/html"


def request_dictionary(request: HttpRequest) -> Dictionary | None:
    """The site's dictionary, if the request says the client holds it."""
    found = dictionary.current()
    if found is None:
        return None
    held = parse_byte_sequence(request.headers.get("Available-Dictionary"))
    return found if held == found.digest else None


def negotiate(request: HttpRequest, response: HttpResponseBase) -> str:
    """The variant of ``response`` that ``request`` gets: a coding, or ``dcz:<hex>``.

    The client's q-values decide, then the server's order (``dcz`` first when
    it applies, then ``ASSETS_COMPRESS_ENCODINGS``). Only padded gzip for a
    response that can carry a secret; ``dcz`` only for public HTML.
    """
    secret = may_carry_secrets(response)
    offered = [c for c in conf.COMPRESS_ENCODINGS if c in SUPPORTED]
    if secret:
        offered = [c for c in offered if c == "gzip"]
    found = None if secret or not is_html(response) else request_dictionary(request)
    if found is not None:
        offered.insert(0, DCZ)
    # None (nothing acceptable) falls back to identity: a 406 for a page is worse.
    coding = choose_encoding(request.headers.get("Accept-Encoding"), offered)
    if coding == DCZ and found is not None:
        return f"{DCZ}:{found.digest.hex()}"
    return coding or IDENTITY


def make_encoder(variant: str, secret: bool) -> Encoder:
    coding = variant.partition(":")[0]
    if coding == "br":
        return BrotliEncoder(conf.BROTLI_QUALITY)
    if coding == "zstd":
        return ZstdEncoder(conf.ZSTD_LEVEL)
    if coding == DCZ:
        found = dictionary.current()
        if found is None or variant != f"{DCZ}:{found.digest.hex()}":
            raise ValueError(f"{variant!r} is not the current dictionary")
        return ZstdEncoder(conf.ZSTD_LEVEL, found.zstd_dict, dcz_header(found.digest))
    return GzipEncoder(conf.GZIP_LEVEL, pad=secret)


def dcz_etag(etag: str) -> str:
    """The ETag of the ``dcz`` variant: weak, and distinct from the others."""
    opaque = etag[2:] if etag.startswith("W/") else etag
    return f'W/{opaque[:-1]}-dcz"' if opaque.endswith('"') else etag


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


class CompressionMiddleware(OnLoopMixin, MiddlewareMixin):
    """Under ASGI its hooks run on the loop: they do no I/O (``OnLoopMixin``)."""

    def process_request(self, request: HttpRequest) -> None:
        validators = request.META.get("HTTP_IF_NONE_MATCH", "")
        if '-dcz"' in validators and request_dictionary(request) is not None:
            # The views know the plain ETag; the 304 gets the -dcz form back.
            plain = validators.replace('-dcz"', '"')
            request.META["HTTP_IF_NONE_MATCH"] = plain
            request.assets_dcz_validators = {  # type: ignore[attr-defined]
                opaque(tag[:-5] + '"')
                for tag in parse_etags(validators) or []
                if tag.endswith('-dcz"')
            }

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        if response.status_code == 304 and opaque(response.get("ETag", "")) in getattr(
            request, "assets_dcz_validators", ()
        ):
            # It validates the client's dcz copy: the same ETag and Vary as its 200.
            response["ETag"] = dcz_etag(response["ETag"])
            patch_vary_headers(response, DCZ_VARY)
            return response
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
        variant = negotiate(request, response)
        if variant == IDENTITY:
            return response
        if isinstance(response, StreamingHttpResponse):
            stream(response, make_encoder(variant, secret))
        else:
            compressed = make_encoder(variant, secret).compress(content)
            if len(compressed) >= len(content):
                return response
            response.content = compressed  # type: ignore[attr-defined]
            response["Content-Length"] = str(len(compressed))
        response.assets_variant = variant  # type: ignore[attr-defined]
        coding = variant.partition(":")[0]
        if coding == DCZ:
            patch_vary_headers(response, DCZ_VARY)
            if response.has_header("ETag"):
                response["ETag"] = dcz_etag(response["ETag"])
        else:
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
