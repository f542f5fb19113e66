"""A test-only strict Content-Security-Policy with a per-request nonce.

Django 6 ships its own CSP middleware and django-csp exists for older
versions; both set ``request.csp_nonce``. This stand-in does the same on any
supported Django so the browser tests can prove the tags need nothing more.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase


def policy(nonce: str) -> str:
    return (
        "default-src 'self'; "
        f"script-src 'nonce-{nonce}' 'strict-dynamic'; "
        f"style-src 'self' 'nonce-{nonce}'; "
        "img-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    )


class StrictCSPMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        nonce = secrets.token_urlsafe(16)
        request.csp_nonce = nonce  # type: ignore[attr-defined]
        response = self.get_response(request)
        response["Content-Security-Policy"] = policy(nonce)
        return response
