"""HTTP caching tied to invalidation: ETags from group versions, whole responses.

Both decorators read the versions of the view's groups (its ``depends_on``
models and named ``groups``) *before* the view runs, in the same single cache
round trip that fetches a stored response:

- ``conditional`` derives a weak ETag from those versions, the path and the
  declared query parameters. A matching ``If-None-Match`` gets a 304 with the
  same ETag, ``Cache-Control`` and ``Vary`` the 200 would carry, without running
  the view: no query, no rendering.
- ``cache_response`` also stores the 200 under the same inputs and serves it
  while the versions match, so an edit (a bump on commit) invalidates every
  page that depends on it at once, in every process.

Only the declared query parameters reach the view (``request.GET`` is
filtered), so junk parameters can neither change the response nor multiply
cache keys. Requests with credentials (a session cookie or an
``Authorization`` header) bypass both unless the view opts in with
``per_user=True``; responses that set cookies, are private, ``no-store``,
streaming, not 200, or vary on anything but ``Accept-Encoding`` are never
stored.

The ETag is weak because the compression middleware serves several byte
encodings of one representation; the 200 and the 304 carry the same form.
There is no ``Last-Modified``: versions are random counters, not times, and a
time would need clocks in sync across hosts.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from asgiref.sync import iscoroutinefunction
from django.conf import settings
from django.core.cache import caches
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseNotModified,
    QueryDict,
)
from django.utils.cache import patch_vary_headers
from django.utils.http import parse_etags

from caching import keys, stats
from caching.invalidation import (
    ModelRef,
    dirty_groups,
    model_group,
    read_with_versions,
    watch,
)

View = Callable[..., Any]  # a sync or async view
SAFE_METHODS = frozenset({"GET", "HEAD"})
ALLOWED_VARY = frozenset({"accept-encoding"})
NEVER_STORE = ("private", "no-store", "no-cache")
# Headers a stored response keeps; the rest are per-request (Date, cookies...).
STORED_HEADERS = frozenset(
    {"content-type", "content-language", "cache-control", "x-frame-options", "vary"}
)
RESPONSE_PREFIX = "cr:http:"
clock: Callable[[], float] = time.time  # injected by tests


@dataclass(frozen=True)
class Policy:
    name: str
    groups: tuple[str, ...]
    query: tuple[str, ...]
    refresh_every: int | None
    max_age: int
    per_user: bool
    cache: str
    timeout: int | None  # seconds an entry is kept; None: conditional GET only

    def cache_control(self) -> str:
        scope = "private" if self.per_user else "public"
        return f"{scope}, max-age={self.max_age}"


def has_credentials(request: HttpRequest) -> bool:
    return (
        settings.SESSION_COOKIE_NAME in request.COOKIES
        or "HTTP_AUTHORIZATION" in request.META
    )


def declared_query(request: HttpRequest, names: Sequence[str]) -> QueryDict:
    """``request.GET`` reduced to the parameters the view declared."""
    kept = QueryDict(mutable=True)
    for name in names:
        if name in request.GET:
            kept.setlist(name, request.GET.getlist(name))
    kept._mutable = False
    return kept


def request_token(
    request: HttpRequest, policy: Policy, query: QueryDict, now: float
) -> str:
    """What identifies the response apart from the versions."""
    parts = [
        policy.name,
        request.get_host(),
        request.path,
        keys.encode(sorted(query.lists())),
    ]
    if policy.refresh_every:
        # Data that goes stale with time alone ("joined today") changes tag per period.
        parts.append(str(int(now // policy.refresh_every)))
    if policy.per_user:
        parts.append(f"user={getattr(request.user, 'pk', None)}")
    return "|".join(parts)


def make_etag(token: str, versions: Iterable[int]) -> str:
    digest = keys.digest(token + "|" + ",".join(map(str, versions)))
    return f'W/"{digest}"'


def etag_matches(etag: str, if_none_match: str) -> bool:
    """Weak comparison of RFC 9110 section 13.1.2: lists, ``W/`` and ``*``."""
    candidates = parse_etags(if_none_match)
    if "*" in candidates:
        return True
    bare = etag.removeprefix("W/")
    return any(candidate.removeprefix("W/") == bare for candidate in candidates)


def not_modified(
    etag: str, cache_control: str, vary: Iterable[str]
) -> HttpResponseNotModified:
    response = HttpResponseNotModified()
    response["ETag"] = etag
    response["Cache-Control"] = cache_control
    patch_vary_headers(response, list(vary))
    return response


def storable(request: HttpRequest, response: HttpResponseBase) -> bool:
    if response.status_code != 200 or response.streaming or response.cookies:
        return False
    if request.META.get("CSRF_COOKIE_NEEDS_UPDATE") or _nonce_used(request):
        return False  # the body holds a per-request token
    directives = {
        d.split("=")[0].strip().lower()
        for d in response.get("Cache-Control", "").split(",")
    }
    if directives & set(NEVER_STORE):
        return False
    vary = {v.strip().lower() for v in response.get("Vary", "").split(",") if v.strip()}
    return vary <= ALLOWED_VARY


def _nonce_used(request: HttpRequest) -> bool:
    # Django 6 (``_csp_nonce``) and django-csp (``csp_nonce``) keep lazy nonces
    # that are true only once generated, i.e. once the page embedded one; a
    # plain string nonce is always true, so such a page is never stored.
    return any(getattr(request, name, None) for name in ("_csp_nonce", "csp_nonce"))


def _finish(response: HttpResponseBase, policy: Policy, etag: str) -> HttpResponseBase:
    if response.status_code == 200:
        response["ETag"] = etag
        if not response.has_header("Cache-Control"):
            response["Cache-Control"] = policy.cache_control()
        patch_vary_headers(response, ["Accept-Encoding"])
    return response


def _pack(response: HttpResponse, versions: tuple[int, ...]) -> tuple[Any, ...]:
    headers = [(k, v) for k, v in response.items() if k.lower() in STORED_HEADERS]
    return (versions, response.status_code, headers, response.content)


def _unpack(entry: tuple[Any, ...]) -> HttpResponse:
    _, status, headers, content = entry
    response = HttpResponse(content, status=status)
    for name, value in headers:
        response[name] = value
    return response


class Handler:
    """The per-request logic both decorators share."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy

    def before(
        self, request: HttpRequest
    ) -> tuple[HttpResponseBase | None, dict[str, Any]]:
        """A response to send now (304 or a stored 200), or state for ``after``."""
        policy = self.policy
        query = declared_query(request, policy.query)
        request.GET = query  # type: ignore[assignment]
        token = request_token(request, policy, query, clock())
        backend = caches[policy.cache]
        entry_key = RESPONSE_PREFIX + keys.digest(token)
        entry, versions = read_with_versions(
            backend, entry_key if policy.timeout else None, policy.groups
        )
        etag = make_etag(token, versions)
        state = {"etag": etag, "versions": versions, "entry_key": entry_key}
        if etag_matches(etag, request.META.get("HTTP_IF_NONE_MATCH", "")):
            stats.record(policy.name, "hits")
            return not_modified(
                etag, policy.cache_control(), ["Accept-Encoding"]
            ), state
        if entry is not None and entry[0] == versions:
            stats.record(policy.name, "hits")
            response = _unpack(entry)
            response.compressed_cache_key = etag  # type: ignore[attr-defined]
            return _finish(response, policy, etag), state
        stats.record(policy.name, "misses")
        return None, state

    def after(
        self, request: HttpRequest, response: HttpResponseBase, state: dict[str, Any]
    ) -> HttpResponseBase:
        policy = self.policy
        if (
            policy.timeout
            and isinstance(response, HttpResponse)
            and storable(request, response)
        ):
            caches[policy.cache].set(
                state["entry_key"], _pack(response, state["versions"]), policy.timeout
            )
            # The same bytes will be served until the versions change: the
            # compression middleware may reuse what it compresses now.
            response.compressed_cache_key = state["etag"]  # type: ignore[attr-defined]
        if _nonce_used(request):
            # A 304 would make the browser reuse a body whose nonce no longer
            # matches the new response's CSP header: no validator, no sharing.
            return response
        return _finish(response, policy, state["etag"])

    def applies(self, request: HttpRequest) -> bool:
        if request.method not in SAFE_METHODS:
            return False
        if has_credentials(request) and not self.policy.per_user:
            return False
        # Inside a transaction that wrote these groups the view must see its own writes.
        return not set(self.policy.groups) & dirty_groups()


def _decorator(policy_for: Callable[[View], Policy]) -> Callable[[View], View]:
    def decorate(view: View) -> View:
        handler = Handler(policy_for(view))

        if iscoroutinefunction(view):

            @functools.wraps(view)
            async def async_wrapper(
                request: HttpRequest, *args: Any, **kwargs: Any
            ) -> HttpResponseBase:
                if not handler.applies(request):
                    response: HttpResponseBase = await view(request, *args, **kwargs)
                    return response
                early, state = handler.before(request)
                if early is not None:
                    return early
                return handler.after(
                    request, await view(request, *args, **kwargs), state
                )

            return async_wrapper

        @functools.wraps(view)
        def wrapper(
            request: HttpRequest, *args: Any, **kwargs: Any
        ) -> HttpResponseBase:
            if not handler.applies(request):
                response: HttpResponseBase = view(request, *args, **kwargs)
                return response
            early, state = handler.before(request)
            if early is not None:
                return early
            return handler.after(request, view(request, *args, **kwargs), state)

        return wrapper

    return decorate


def _policy(
    view: View,
    timeout: int | None,
    depends_on: Iterable[ModelRef],
    groups: Iterable[str],
    query: Iterable[str],
    refresh_every: int | None,
    max_age: int,
    per_user: bool,
    cache: str,
) -> Policy:
    depends_on = list(depends_on)
    names = (*groups, *map(model_group, depends_on))
    if not names:
        raise ValueError(
            "HTTP caching needs depends_on= models or groups= names to invalidate on."
        )
    if (
        refresh_every is not None
        and refresh_every <= 0
        or max_age < 0
        or (timeout is not None and timeout <= 0)
    ):
        raise ValueError("timeout and refresh_every must be > 0 and max_age >= 0.")
    watch(depends_on)
    return Policy(
        name=f"http:{view.__module__}.{getattr(view, '__qualname__', type(view).__qualname__)}",
        groups=tuple(names),
        query=tuple(query),
        refresh_every=refresh_every,
        max_age=max_age,
        per_user=per_user,
        cache=cache,
        timeout=timeout,
    )


def cache_response(
    timeout: int | None,
    *,
    depends_on: Iterable[ModelRef] = (),
    groups: Iterable[str] = (),
    query: Iterable[str] = (),
    refresh_every: int | None = None,
    max_age: int = 0,
    per_user: bool = False,
    cache: str = "default",
) -> Callable[[View], View]:
    """Store whole 200 responses until ``timeout`` or a bump of their groups.

    ``timeout=None`` stores nothing: conditional GET only (see ``conditional``).
    """
    return _decorator(
        lambda view: _policy(
            view,
            timeout,
            depends_on,
            groups,
            query,
            refresh_every,
            max_age,
            per_user,
            cache,
        )
    )


def conditional(**options: Any) -> Callable[[View], View]:
    """ETag from group versions; 304 before the view runs when it matches.

    Takes ``cache_response``'s keyword options; no response is stored.
    """
    return cache_response(None, **options)
