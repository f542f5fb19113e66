"""whitenoise's ``StaticFile`` with RFC 9110 negotiation and validators.

whitenoise matches ``Accept-Encoding`` with a word regex (``br;q=0`` still gets
brotli), compares ``If-None-Match`` as one string (lists, ``W/`` and ``*``
never match) and gives every encoding the same strong ETag. Here each encoding
is a representation of its own with its own ETag, chosen by q-value.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from http import HTTPStatus
from typing import Any

from django.http import HttpRequest, HttpResponseBase
from whitenoise.middleware import WhiteNoiseFileResponse
from whitenoise.responders import NOT_MODIFIED_HEADERS, Response, StaticFile

from assets.negotiation import IDENTITY, choose_encoding, none_match

# bytes: a body up to this is read in one go on the event loop (a copy from
# the page cache costs less than a trip to a thread); longer ones are read in
# chunks of this size in the loop's executor.
CHUNK = 64 * 1024
NOT_ACCEPTABLE = Response(
    HTTPStatus.NOT_ACCEPTABLE, [("Vary", "Accept-Encoding")], None
)


def encoded_etag(etag: str, encoding: str | None) -> str:
    """``"abc"`` for identity, ``"abc-br"`` for brotli: one ETag per representation."""
    if not encoding or not etag.endswith('"'):
        return etag
    return f'{etag[:-1]}-{encoding}"'


class NegotiatingStaticFile:
    """Wraps one of whitenoise's ``StaticFile``s (its files, headers and ranges)."""

    def __init__(self, inner: StaticFile) -> None:
        self.inner = inner
        # encoding (None = identity) -> (path, headers), smallest first.
        self.representations: dict[str | None, tuple[str, list[tuple[str, str]]]] = {}
        for _, path, headers in inner.alternatives:
            header_map = dict(headers)
            encoding = header_map.get("Content-Encoding")
            header_map["ETag"] = encoded_etag(inner.etag, encoding)
            self.representations[encoding] = (path, list(header_map.items()))

    def select(
        self, request_headers: dict[str, str]
    ) -> tuple[str, list[tuple[str, str]]] | None:
        offered = [e for e in self.representations if e is not None]
        # Representations are by size: the server prefers the smallest.
        coding = choose_encoding(request_headers.get("HTTP_ACCEPT_ENCODING"), offered)
        if coding is None:
            return None
        return self.representations[None if coding == IDENTITY else coding]

    def get_response(self, method: str, request_headers: dict[str, str]) -> Any:
        if method not in ("GET", "HEAD"):
            return self.inner.get_response(method, request_headers)
        selected = self.select(request_headers)
        if selected is None:
            return NOT_ACCEPTABLE
        path, headers = selected
        if self.not_modified(request_headers, dict(headers)["ETag"]):
            kept = [(k, v) for k, v in headers if k in NOT_MODIFIED_HEADERS]
            return Response(HTTPStatus.NOT_MODIFIED, kept, None)
        handle = open(path, "rb") if method != "HEAD" else None  # noqa: SIM115 - the response closes it
        range_header = request_headers.get("HTTP_RANGE")
        if range_header:
            try:
                return self.inner.get_range_response(range_header, headers, handle)
            except ValueError:
                pass  # an unreadable Range is ignored, as RFC 9110 allows
        return Response(HTTPStatus.OK, headers, handle)

    def not_modified(self, request_headers: dict[str, str], etag: str) -> bool:
        if_none_match = request_headers.get("HTTP_IF_NONE_MATCH")
        if if_none_match is not None:
            # RFC 9110 13.2.2: If-None-Match wins; If-Modified-Since is ignored.
            return none_match(if_none_match, [etag])
        return bool(self.inner.is_not_modified(request_headers))


async def chunks(body: Any) -> AsyncIterator[bytes]:
    """A file's (or whitenoise's ``SlicedFile``'s) bytes, for an ASGI response."""
    if body is None:
        return
    try:
        data = body.read(CHUNK)
        loop = asyncio.get_running_loop()
        while data:
            yield data
            if len(data) < CHUNK:
                break
            data = await loop.run_in_executor(None, body.read, CHUNK)
    finally:
        body.close()


def aserve(static_file: Any, request: HttpRequest) -> HttpResponseBase:
    """whitenoise's ``serve`` with an async body: Django sends it from the loop."""
    found = static_file.get_response(request.method, request.META)
    body = chunks(found.file)
    response: HttpResponseBase = WhiteNoiseFileResponse(body, status=int(found.status))
    del response["Content-Type"]  # whitenoise's headers say it
    for key, value in found.headers:
        response[key] = value
    return response
