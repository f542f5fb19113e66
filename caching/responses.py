"""What a shared response cache may keep, and how a kept response is stored.

A response is *shareable* when it is the same for every client that sends
the same URL: a 200 that sets no cookie, holds no CSRF token or CSP nonce, is
not ``private``/``no-store``/``no-cache`` and varies on nothing but
``Accept-Encoding``. This is judged on the final response, after every
middleware below the response cache, since those add cookies (sessions, CSRF,
messages) and ``Vary`` headers (``LocaleMiddleware``).

A stored response keeps one body per content coding the compression
middleware chose (``br``, ``gzip``, ``identity``...), and which coding each
``Accept-Encoding`` header value got, so a hit sends bytes as they are: no
rendering and no compression.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from django.http import HttpRequest, HttpResponse, HttpResponseBase

ALLOWED_VARY = frozenset({"accept-encoding"})
PER_USER_VARY = frozenset({"accept-encoding", "cookie"})
NEVER_STORE = frozenset({"private", "no-store", "no-cache"})
# Headers a stored response keeps; the rest are per request (Date, cookies,
# Server-Timing...) or recomputed (ETag, Content-Length, Content-Encoding).
STORED_HEADERS = frozenset(
    {
        "content-type",
        "content-language",
        "content-disposition",
        "cache-control",
        "vary",
        "link",
        "x-frame-options",
        "x-content-type-options",
        "referrer-policy",
        "cross-origin-opener-policy",
        "content-security-policy",
        "content-security-policy-report-only",
    }
)
IDENTITY = "identity"
MAX_ACCEPT_VALUES = 16  # distinct Accept-Encoding values remembered per entry
MAX_ACCEPT_LENGTH = 200  # characters; longer values are served but not remembered


def nonce_used(request: HttpRequest) -> bool:
    # Django 6 (``_csp_nonce``) and django-csp (``csp_nonce``) keep lazy nonces
    # that are true only once generated, i.e. once the page embedded one; a
    # plain string nonce is always true, so such a page is never stored.
    return any(getattr(request, name, None) for name in ("_csp_nonce", "csp_nonce"))


def _tokens(header: str) -> set[str]:
    return {v.strip().lower() for v in header.split(",") if v.strip()}


def shareable(
    request: HttpRequest, response: HttpResponseBase, per_user: bool = False
) -> bool:
    """Whether ``response`` may get the versioned ETag and be stored."""
    if response.status_code != 200 or response.streaming or response.cookies:
        return False
    if request.META.get("CSRF_COOKIE_NEEDS_UPDATE") or nonce_used(request):
        return False  # the body holds a per-request token
    directives = {
        d.split("=")[0].strip().lower()
        for d in response.get("Cache-Control", "").split(",")
    }
    if per_user:
        directives.discard("private")  # keyed by user: private is the point
    if directives & NEVER_STORE:
        return False
    vary = _tokens(response.get("Vary", ""))
    return vary <= (PER_USER_VARY if per_user else ALLOWED_VARY)


def accept_token(request: HttpRequest) -> str:
    """What picks the coding: ``Accept-Encoding`` in a canonical form (order,
    case and spaces ignored) and any ``Available-Dictionary`` (RFC 9842), so a
    client that holds a dictionary never shares a variant with one that does
    not. (Dictionary-compressed responses vary on it and are not stored.)"""
    header = request.META.get("HTTP_ACCEPT_ENCODING", "")
    token = ",".join(sorted(_tokens(header.replace(" ", ""))))
    dictionary = request.META.get("HTTP_AVAILABLE_DICTIONARY")
    return token if dictionary is None else f"{token}|{dictionary.strip()}"


class Stored(NamedTuple):
    """A stored response, as kept inside an entry (a plain tuple on the wire)."""

    status: int
    headers: tuple[tuple[str, str], ...]
    codings: dict[str, str]  # accept_token -> content coding
    bodies: dict[str, bytes]  # content coding -> body

    @classmethod
    def from_value(cls, value: Any) -> Stored | None:
        if type(value) is tuple and len(value) == 4:
            status, headers, codings, bodies = value
            if (
                type(status) is int
                and type(headers) is tuple
                and type(codings) is dict
                and type(bodies) is dict
            ):
                return cls(status, headers, codings, bodies)
        return None

    def body_for(self, accept: str) -> tuple[str, bytes] | None:
        coding = self.codings.get(accept)
        if coding is None or coding not in self.bodies:
            return None
        return coding, self.bodies[coding]

    def response(self, coding: str, body: bytes) -> HttpResponse:
        response = HttpResponse(body, status=self.status)
        for name, value in self.headers:
            response[name] = value
        if coding != IDENTITY:
            response["Content-Encoding"] = coding
        response["Content-Length"] = str(len(body))
        return response


def add_variant(
    stored: Stored | None, accept: str, response: HttpResponse
) -> tuple[Any, ...]:
    """``stored`` (None: a new entry) with the variant this response is."""
    coding = response.get("Content-Encoding", IDENTITY).strip().lower()
    headers = tuple(
        (name, value)
        for name, value in response.items()
        if name.lower() in STORED_HEADERS
    )
    if stored is None or stored.headers != headers:
        codings: dict[str, str] = {}
        bodies: dict[str, bytes] = {}
    else:
        codings, bodies = dict(stored.codings), dict(stored.bodies)
    if len(accept) <= MAX_ACCEPT_LENGTH and (
        accept in codings or len(codings) < MAX_ACCEPT_VALUES
    ):
        codings[accept] = coding
    bodies[coding] = response.content
    return tuple(Stored(response.status_code, headers, codings, bodies))
