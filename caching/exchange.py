"""One request's trip through the response cache: ``Exchange`` (``open``,
``begin``, ``end``) and ``handle``, the whole cache logic for a request whose
route is known. ``caching.middleware.ResponseCacheMiddleware`` drives it (and
``caching.onloop`` under ASGI); see that module for where it sits and what it
decides.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from typing import Any

from django.core.cache import caches
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseNotModified,
)
from django.utils.cache import patch_vary_headers

from caching import entries, identity, keys, stats, surrogate, versions
from caching import http as declared
from caching.bypass import bypassed
from caching.entries import HIT, MISS, STALE, Lookup, Plan
from caching.errors import REDIS_ERRORS
from caching.http import (
    SAFE_METHODS,
    Policy,
    cache_host,
    declared_query,
    etag_matches,
    has_credentials,
    make_etag,
    request_token,
    visitor,
    visitor_groups,
)
from caching.invalidation import dirty_groups
from caching.responses import Stored, accept_token, add_variant, shareable

GetResponse = Callable[[HttpRequest], HttpResponseBase]
_EXCHANGE = "_caching_exchange"  # the request attribute an open exchange sits on


class Undecided(enum.Enum):
    UNDECIDED = "undecided"


UNDECIDED = Undecided.UNDECIDED  # ``answer``: only ``refresh`` (I/O) can tell


class Exchange:
    """One request's trip through the response cache: ``begin``, then ``end``."""

    def __init__(
        self,
        request: HttpRequest,
        policy: Policy,
        host: str,
        args: Sequence[Any],
        kwargs: dict[str, Any],
        user: Any = None,
    ) -> None:
        """``user``: the authenticated user a ``per_user`` page is kept for."""
        self.request, self.policy = request, policy
        self.groups = policy.groups_for(kwargs) + visitor_groups(user)
        # The key's query; the view itself is shown the same reduced query by
        # its decorator, while the middleware below still sees the whole URL
        # (``?profile=1`` for the profiling middleware, say).
        query = declared_query(request, policy.query)
        token = request_token(
            policy,
            request,
            host,
            args,
            kwargs,
            query,
            declared.clock(),
            None if user is None else user.pk,
        )
        self.key = keys.entry_key(keys.HTTP_NAMESPACE, keys.digest(token))
        self.token = token
        self.backend = caches[policy.cache]
        self.accept = accept_token(request)
        self.etag = ""
        self.plan = Plan(MISS, None, ())
        self.fresh: Stored | None = None  # a fresh entry a new variant joins

    @classmethod
    def open(
        cls,
        request: HttpRequest,
        policy: Policy,
        args: Sequence[Any] = (),
        kwargs: dict[str, Any] | None = None,
    ) -> Exchange | None:
        """An exchange for this request, or None when the cache must stay out."""
        if (
            request.method not in SAFE_METHODS
            or identity.is_ambiguous(policy.name)  # two live views': caching.E032
            or bypassed()
        ):
            return None
        # Personal: only a per_user page of an authenticated user is kept,
        # keyed by the user; an anonymous session (a cart) never shares one.
        user = visitor(request) if policy.per_user else None
        if has_credentials(request) and user is None:
            return None
        # Inside a transaction that wrote these groups the view must see its own writes.
        kwargs = kwargs or {}
        if set(policy.groups_for(kwargs)) & dirty_groups():
            return None
        host = cache_host(request)
        if host is None:
            return None
        return cls(request, policy, host, args, kwargs, user)

    def begin(self) -> HttpResponseBase | None:
        """A response to send now (a 304 or a stored 200), or None to run the view."""
        try:
            found = entries.lookup(
                self.backend, self.key if self.policy.timeout else None, self.groups
            )
        except REDIS_ERRORS:  # a plain django-redis backend that raised
            stats.record(self.policy.name, "errors")
            return None
        early = self.answer(found)
        return self.refresh(found) if early is UNDECIDED else early

    def answer(self, found: Lookup) -> HttpResponseBase | None | Undecided:
        """What ``found`` alone decides, without I/O: a 304, a stored 200, None
        (run the view), or ``UNDECIDED``: missing or expired, see ``refresh``."""
        policy = self.policy
        self.etag = make_etag(self.token, found.versions)
        stored = Stored.from_value(found.entry.value) if found.entry else None
        if_none_match = self.request.META.get("HTTP_IF_NONE_MATCH")
        current = stored is not None and found.status == HIT
        if if_none_match and etag_matches(self.etag, if_none_match, current):
            stats.record(policy.name, "hits")
            return self._not_modified(stored)
        self.plan = Plan(MISS, None, found.versions, seeds=found.seeds)
        setattr(self.request, _EXCHANGE, self)
        if not policy.timeout:
            stats.record(policy.name, "misses")
            return None
        if found.status == HIT:
            self.fresh = stored
        elif stored is None or stored.body_for(self.accept) is not None:
            return UNDECIDED
        else:  # expired, and without this coding: render afresh
            stored = None
        return self._serve(stored)

    def refresh(self, found: Lookup) -> HttpResponseBase | None:
        """Missing or expired: one caller computes it, the others wait for it
        or, within stale_timeout, get the expired one (the lock: I/O)."""
        stored = Stored.from_value(found.entry.value) if found.entry else None
        self.plan = entries.plan(
            self.backend, self.key, self.groups, lock=True, found=found
        )
        if self.plan.status != MISS:
            stored = Stored.from_value(self.plan.value)
            self.etag = make_etag(self.token, self.plan.versions)
            if self.plan.status == HIT:
                self.fresh = stored
        return self._serve(stored)

    def _serve(self, stored: Stored | None) -> HttpResponseBase | None:
        variant = stored.body_for(self.accept) if stored else None
        if variant is None or self.plan.token is not None:
            stats.record(self.policy.name, "misses")
            return None
        status = "hits" if self.plan.status != STALE else "stale"
        stats.record(self.policy.name, status)
        self._close(stored=False)
        response = stored.response(*variant)  # type: ignore[union-attr]
        response["ETag"] = self.etag
        self._mark(response)
        return response

    def _not_modified(self, stored: Stored | None) -> HttpResponseNotModified:
        response = HttpResponseNotModified()
        response["ETag"] = self.etag
        headers = dict(stored.headers) if stored else {}
        response["Cache-Control"] = headers.get(
            "Cache-Control", self.policy.cache_control()
        )
        patch_vary_headers(response, ["Accept-Encoding"])
        if "Vary" in headers:
            patch_vary_headers(response, headers["Vary"].split(","))
        self._mark(response)
        return response

    def _mark(self, response: HttpResponseBase) -> None:
        """Surrogate keys and s-maxage, for what every user shares."""
        if not self.policy.per_user:
            policy = self.policy
            # The request's groups: a row dependency's page carries its row's tag.
            surrogate.mark(response, self.groups, policy.timeout, policy.refresh_every)

    def end(self, response: HttpResponseBase) -> HttpResponseBase:
        """Judge the final response: tag and store it when it is shareable."""
        if not shareable(self.request, response, self.policy.per_user):
            self._close(stored=False)
            return response
        response["ETag"] = self.etag
        if not response.has_header("Cache-Control"):
            response["Cache-Control"] = self.policy.cache_control()
        patch_vary_headers(response, ["Accept-Encoding"])
        self._mark(response)
        if not self.policy.timeout or not isinstance(response, HttpResponse):
            self._vouch(response)
            self._close(stored=False)
            return self._answer(response)
        value = add_variant(self.fresh, self.accept, response)
        try:
            entries.finish(
                self.backend,
                self.key,
                self.plan,
                value,
                timeout=self.policy.timeout,
                stale_timeout=self.policy.stale_timeout,
            )
        except REDIS_ERRORS:
            stats.record(self.policy.name, "errors")
        finally:
            self._close(stored=True)
        return self._answer(response)

    def _vouch(self, response: HttpResponseBase) -> None:
        """An ETag sent without a stored entry needs its groups' versions kept
        (the lookup did not write them); when that fails, send none."""
        try:
            kept = versions.persist(self.backend, self.plan.seeds)
        except REDIS_ERRORS:
            kept = False
        if not kept:
            del response["ETag"]

    def _answer(self, response: HttpResponseBase) -> HttpResponseBase:
        """The shareable 200, or a 304 for ``If-None-Match: *`` (the view just
        showed the page exists) or an ETag that turned current while it ran."""
        if_none_match = self.request.META.get("HTTP_IF_NONE_MATCH")
        if if_none_match and etag_matches(self.etag, if_none_match, exists=True):
            return self._not_modified(None)
        return response

    def _close(self, stored: bool) -> None:
        if not stored and self.plan.token is not None:
            entries.abandon(self.backend, self.key, self.plan)
        self.plan = Plan(MISS, self.plan.entry, self.plan.versions)
        if getattr(self.request, _EXCHANGE, None) is self:
            delattr(self.request, _EXCHANGE)


def handle(
    request: HttpRequest,
    policy: Policy | None,
    get_response: GetResponse,
    args: Sequence[Any] = (),
    kwargs: dict[str, Any] | None = None,
) -> HttpResponseBase:
    """The whole cache logic for one request whose route is known."""
    seeds: versions.Seeds = ()
    if policy is not None:
        exchange = Exchange.open(request, policy, args, kwargs)
        if exchange is not None:
            early = exchange.begin()
            if early is not None:
                return early
            seeds = exchange.plan.seeds
    # A per_user exchange opened in process_view adds its seeds (``enter``);
    # leaving this block drops them.
    with versions.computing(seeds):
        response = get_response(request)
    current = opened(request)
    return response if current is None else current.end(response)


def opened(request: HttpRequest) -> Exchange | None:
    """The exchange ``begin`` left open on ``request`` for ``end``, if any."""
    return getattr(request, _EXCHANGE, None)
