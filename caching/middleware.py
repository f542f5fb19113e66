"""``ResponseCacheMiddleware``: the edge response cache.

List it right under ``SecurityMiddleware`` and the static files middleware
(system check ``caching.E016`` enforces this). For a GET or HEAD without
credentials (no session or messages cookie, no ``Authorization``) to a view
that declared a policy with ``cache_response``/``conditional``, it answers a
stored response or a 304 *before* sessions, authentication, CSRF, messages,
URL resolution and the view run: it resolves the URL itself, once, to build
the key (the view, its URL arguments as converted, so ``/posts/05/`` and
``/posts/5/`` are one entry; the declared query parameters; the host,
lower-cased).

On a miss the request goes down the stack, and what to store is decided on
the *final* response, after every middleware below has had its say (a
session cookie, a ``Vary: Accept-Language``, a CSRF token): see
``caching.responses.shareable``. Only a shareable response gets the
versioned ETag, ``Cache-Control: public`` and, for shared caches, its
surrogate keys and ``s-maxage`` (``caching.surrogate``); the body is stored as the
compression middleware below encoded it, one variant per coding.

``per_user`` views need the user, so they are handled in ``process_view``,
after authentication, with the same engine.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponseBase
from django.urls import Resolver404, ResolverMatch, resolve

from caching import versions
from caching.exchange import _EXCHANGE, Exchange, GetResponse, handle, opened
from caching.http import Policy, policy_of, served
from caching.onloop import AsyncGetResponse, ahandle, aprocess_view

__all__ = ["Exchange", "ResponseCacheMiddleware", "handle", "opened"]


class ResponseCacheMiddleware:
    """Sync and async: under ASGI a hit and a 304 are answered on the loop
    (``caching.onloop``); Django adapts nothing."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            markcoroutinefunction(self)
            # Django calls an async process_view from its async handler as is.
            self.process_view = self._aprocess_view  # type: ignore[method-assign,assignment]

    def _route(
        self, request: HttpRequest
    ) -> tuple[ResolverMatch, Policy | None, Policy | None] | None:
        """The match, its declared policy, and the one to use before the view."""
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return None
        # Django sets the same again when the request goes down; a stored
        # response answered here is then still named by its route (metrics).
        request.resolver_match = match
        declared_policy = policy = policy_of(match.func)
        if policy is not None and policy.per_user:
            policy = None  # needs request.user: see process_view
        return match, declared_policy, policy

    def __call__(self, request: HttpRequest) -> Any:
        if self.async_mode:
            return self.__acall__(request)
        routed = self._route(request)
        if routed is None:
            return self.get_response(request)
        match, declared_policy, policy = routed
        response = handle(request, policy, self.get_response, match.args, match.kwargs)
        if declared_policy is not None:
            served(request, declared_policy, response, match.kwargs)
        return response

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        get_response: AsyncGetResponse = self.get_response  # type: ignore[assignment]
        routed = self._route(request)
        if routed is None:
            return await get_response(request)
        match, declared_policy, policy = routed
        exchange = None
        if policy is not None:
            exchange = Exchange.open(request, policy, match.args, match.kwargs)
        response = await ahandle(request, exchange, get_response, opened)
        if declared_policy is not None:
            served(request, declared_policy, response, match.kwargs)
        return response

    def process_view(
        self,
        request: HttpRequest,
        view: Callable[..., Any],
        args: Sequence[Any],
        kwargs: dict[str, Any],
    ) -> HttpResponseBase | None:
        exchange: Exchange | None = self._open_per_user(request, view, args, kwargs)
        if exchange is None:
            return None
        early = exchange.begin()
        if early is None:  # the view runs inside handle's ``computing`` block
            versions.enter(exchange.plan.seeds)
        return early

    def _open_per_user(self, request: HttpRequest, view: Any, *route: Any) -> Any:
        """The exchange of a ``per_user`` page once the user is known, or None."""
        if not self._per_user(request, view):
            return None
        return Exchange.open(request, policy_of(view), *route)  # type: ignore[arg-type]

    def _per_user(self, request: HttpRequest, view: Any) -> bool:
        policy = policy_of(view)
        return (
            policy is not None and policy.per_user and not hasattr(request, _EXCHANGE)
        )

    async def _aprocess_view(
        self, request: HttpRequest, view: Any, *route: Any
    ) -> HttpResponseBase | None:
        if not self._per_user(request, view):  # decided on the loop: most pages
            return None
        return await aprocess_view(
            request, lambda: self._open_per_user(request, view, *route)
        )
