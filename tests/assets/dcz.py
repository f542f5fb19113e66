"""Helpers of the dcz tests: a browser's request headers, a browser's decoder."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from django.http import HttpResponse
from django.test import RequestFactory

from assets import dictionary
from assets.compression import CompressionMiddleware
from assets.dictionary import Dictionary
from assets.zstdlib import zstd

CHROME = "gzip, deflate, br, zstd, dcb, dcz"


def sf_bytes(data: bytes) -> str:
    return ":" + base64.b64encode(data).decode() + ":"


def held(found: Dictionary) -> dict[str, str]:
    """Request headers of a browser that holds ``found``."""
    return {
        "HTTP_ACCEPT_ENCODING": CHROME,
        "HTTP_AVAILABLE_DICTIONARY": sf_bytes(hashlib.sha256(found.data).digest()),
    }


def undcz(body: bytes, found: Dictionary) -> bytes:
    """Decode a dcz body the way a browser does, checking its header."""
    assert body[:8] == bytes([0x5E, 0x2A, 0x4D, 0x18, 0x20, 0x00, 0x00, 0x00])
    assert body[8:40] == hashlib.sha256(found.data).digest()
    return zstd.decompress(body[40:], zstd_dict=zstd.ZstdDict(found.data, is_raw=True))


def current() -> Dictionary:
    """The dictionary of the collected files in ``STATIC_ROOT``, read afresh."""
    dictionary.clear()
    found = dictionary.current()
    assert found is not None
    return found


def respond(response: HttpResponse, **headers: str) -> Any:
    request = RequestFactory().get("/posts/1/", **headers)
    return CompressionMiddleware(lambda _: response)(request)


PAGE = (
    "<!DOCTYPE html><html><head><title>A post</title></head><body>"
    + "<p>Some words of a post that the dictionary does not hold.</p>" * 30
    + "</body></html>"
).encode()


def page(**headers: str) -> HttpResponse:
    response = HttpResponse(PAGE, content_type="text/html; charset=utf-8")
    for key, value in headers.items():
        response[key.replace("_", "-")] = value
    return response
