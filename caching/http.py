"""Declaring a view's HTTP caching: ``cache_response`` and ``conditional``.

The decorators do not cache by themselves: they register the view's
``Policy`` and filter its query. ``caching.middleware.ResponseCacheMiddleware``
does the caching, at the top of the middleware stack, and finds a policy with
``policy_of(view)``: the documented contract between the two. It looks at the
resolved view and then at each function it wraps (``__wrapped__``, as
``functools.wraps`` sets it), so ``require_safe`` and other decorators may sit
above ``cache_response``.

The ETag is a digest of the release, the view's name (``caching.identity``),
the scheme, the host, the URL pattern, its converted URL arguments, the
declared query parameters and the group versions read before the view runs
(plus the period with ``refresh_every``, the user with ``per_user``). It is
weak because the compression middleware serves several byte encodings of one
representation; the 200 and the 304 carry the same form. There is no ``Last-Modified``: versions are random numbers, not times.
"""

from __future__ import annotations

import functools
import inspect
import time
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from asgiref.sync import iscoroutinefunction
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase, QueryDict
from django.http.request import split_domain_port
from django.utils.http import parse_etags

from caching import identity, keys
from caching.conf import conf
from caching.deps import Dependency, Row, split
from caching.invalidation import watch
from caching.versions import model_group, row_group

View = Callable[..., Any]  # a sync or async view
SAFE_METHODS = frozenset({"GET", "HEAD"})
# Cookies that make a request personal: its session, and flash messages
# (django.contrib.messages' cookie storage) it has not seen yet.
MESSAGES_COOKIE = "messages"
clock: Callable[[], float] = time.time  # injected by tests
# Set on a request whose ``on_serve`` the middleware calls (the view then does not).
SERVED = "_caching_on_serve"
OnServe = Callable[[HttpRequest, HttpResponseBase, Mapping[str, Any]], None]


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
    stale_timeout: int = 0  # seconds an expired entry is served while refreshed
    rows: tuple[Row, ...] = ()  # row dependencies, named by URL keyword arguments
    on_serve: OnServe | None = None  # called for every response, stored or not

    def groups_for(self, kwargs: Mapping[str, Any]) -> tuple[str, ...]:
        """The request's groups: the static ones, plus its rows' (URL kwargs)."""
        if not self.rows:
            return self.groups
        names = list(self.groups)
        for dependency in self.rows:
            names.extend(dependency.groups(kwargs))
        return tuple(names)

    def cache_control(self) -> str:
        scope = "private" if self.per_user else "public"
        return f"{scope}, max-age={self.max_age}"


# Weak: a decorated view that is gone gives up its name (caching.identity).
_registered: weakref.WeakKeyDictionary[View, Policy] = weakref.WeakKeyDictionary()
# What ``policy_of`` found for each resolved view: a plain dict, read per request.
_found: dict[View, Policy | None] = {}


def policy_of(view: View) -> Policy | None:
    """The policy ``cache_response``/``conditional`` gave ``view`` or what it wraps."""
    try:
        return _found[view]
    except KeyError:
        pass
    except TypeError:  # an unhashable callable
        return None
    unwrapped = inspect.unwrap(view, stop=lambda f: f in _registered)
    policy = _registered.get(unwrapped)
    _found[view] = policy
    return policy


def registered_policies() -> list[Policy]:
    """Every policy declared so far (the views' modules have been imported)."""
    return list(_registered.values())


def has_credentials(request: HttpRequest) -> bool:
    cookies = request.COOKIES
    return (
        settings.SESSION_COOKIE_NAME in cookies
        or MESSAGES_COOKIE in cookies
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


def filter_query(request: HttpRequest, policy: Policy) -> QueryDict:
    """Show the view only its declared parameters, whoever asks (idempotent)."""
    query = declared_query(request, policy.query)
    request.GET = query  # type: ignore[assignment]
    # get_full_path() and templates that echo the URL see the same reduced query.
    request.META["QUERY_STRING"] = query.urlencode()
    return query


def cache_host(request: HttpRequest) -> str | None:
    """The lower-cased host to key by, or None when its port must bypass the cache.

    A port that is neither absent, the scheme's default nor the port the
    request arrived on can only come from a client making up hosts.
    """
    host = request.get_host()  # DisallowedHost: Django answers 400
    port = split_domain_port(host)[1]
    if port and port not in {
        "443" if request.is_secure() else "80",
        str(request.get_port()),
    }:
        return None
    return host.lower()


def request_token(
    policy: Policy,
    request: HttpRequest,
    host: str,
    args: Sequence[Any],
    kwargs: Mapping[str, Any],
    query: QueryDict,
    now: float,
    user: Any = None,
) -> str:
    """What identifies the response apart from the versions.

    The scheme is ``request.scheme``: a forwarded one only as
    ``SECURE_PROXY_SSL_HEADER`` trusts it. The route tells apart two URL
    patterns that lead to one view.
    """
    match = getattr(request, "resolver_match", None)
    route: str = match.route if match is not None else ""
    parts = [
        policy.name,
        conf.RELEASE,
        request.scheme or "",
        host,
        route,
        keys.encode(tuple(args)),
        keys.encode(dict(kwargs)),
        keys.encode(sorted(query.lists())),
    ]
    if policy.refresh_every:
        # Data that goes stale with time alone ("joined today") changes tag per period.
        parts.append(str(int(now // policy.refresh_every)))
    if policy.per_user:
        parts.append(f"user={keys.encode(user)}")
    return "|".join(parts)


def visitor(request: HttpRequest) -> Any | None:
    """The authenticated user a ``per_user`` response is for, else None."""
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


def visitor_groups(user: Any | None) -> tuple[str, ...]:
    """What a ``per_user`` response of ``user`` also depends on: the user's row
    (a save, a change of its groups or permissions) and every group's
    permissions."""
    if user is None:
        return ()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    return (row_group(get_user_model(), user.pk), model_group(Group))


def make_etag(token: str, versions: Iterable[int]) -> str:
    digest = keys.digest(token + "|" + ",".join(map(str, versions)))
    return f'W/"{digest}"'


def etag_matches(etag: str, if_none_match: str, exists: bool) -> bool:
    """Weak comparison of RFC 9110 section 13.1.2: lists, ``W/`` and ``*``.

    ``*`` matches only a current representation (``exists``): a page that
    does not exist, or is not known yet to exist, is no match.
    """
    candidates = parse_etags(if_none_match)
    if "*" in candidates:
        return exists
    bare = etag.removeprefix("W/")
    return any(candidate.removeprefix("W/") == bare for candidate in candidates)


def served(
    request: HttpRequest,
    policy: Policy,
    response: HttpResponseBase,
    kwargs: Mapping[str, Any],
) -> None:
    """Call the policy's ``on_serve`` once per request, whoever answered it."""
    if policy.on_serve is not None and not getattr(request, SERVED, False):
        setattr(request, SERVED, True)
        policy.on_serve(request, response, kwargs)


def _decorator(policy_for: Callable[[View], Policy]) -> Callable[[View], View]:
    def decorate(view: View) -> View:
        policy = policy_for(view)

        if iscoroutinefunction(view):

            @functools.wraps(view)
            async def async_wrapper(
                request: HttpRequest, *args: Any, **kwargs: Any
            ) -> HttpResponseBase:
                filter_query(request, policy)
                response: HttpResponseBase = await view(request, *args, **kwargs)
                served(request, policy, response, kwargs)
                return response

            _registered[async_wrapper] = policy
            return async_wrapper

        @functools.wraps(view)
        def wrapper(
            request: HttpRequest, *args: Any, **kwargs: Any
        ) -> HttpResponseBase:
            filter_query(request, policy)
            response: HttpResponseBase = view(request, *args, **kwargs)
            served(request, policy, response, kwargs)
            return response

        _registered[wrapper] = policy
        return wrapper

    return decorate


def _policy(view: View, timeout: int | None, options: dict[str, Any]) -> Policy:
    static, rows, models = split(options.pop("depends_on", ()))
    names = (*options.pop("groups", ()), *static)
    if not names and not rows:
        raise ValueError(
            "HTTP caching needs depends_on= models or groups= names to invalidate on."
        )
    refresh_every = options.get("refresh_every")
    if (
        refresh_every is not None
        and refresh_every <= 0
        or options.get("max_age", 0) < 0
        or options.get("stale_timeout", 0) < 0
        or (timeout is not None and timeout <= 0)
    ):
        raise ValueError(
            "timeout and refresh_every must be > 0 and max_age, stale_timeout >= 0."
        )
    watch(models)
    if options.get("per_user"):
        watch([settings.AUTH_USER_MODEL, "auth.Group"])
    name = options.pop("name", None) or identity.derived_name(view)
    policy = Policy(
        name=f"http:{name}",
        groups=tuple(names),
        rows=rows,
        query=tuple(options.pop("query", ())),
        timeout=timeout,
        **options,
    )
    # Another live view of this name makes both bypass the cache
    # (caching.E032) rather than share pages.
    identity.claim(policy.name, policy)
    return policy


def cache_response(
    timeout: int | None,
    *,
    depends_on: Iterable[Dependency] = (),
    groups: Iterable[str] = (),
    query: Iterable[str] = (),
    refresh_every: int | None = None,
    max_age: int = 0,
    per_user: bool = False,
    cache: str = "default",
    stale_timeout: int = 0,
    on_serve: OnServe | None = None,
    name: str | None = None,
) -> Callable[[View], View]:
    """Store whole 200 responses until ``timeout`` or a bump of their groups.

    ``name`` names the view in keys and statistics, for views whose derived
    name (``module.qualname``, a class-based view's class and arguments) two
    views share: a factory's, a lambda (see ``caching.identity``).

    ``timeout=None`` stores nothing: conditional GET only (see ``conditional``).
    Served by ``caching.middleware.ResponseCacheMiddleware``. ``on_serve(request,
    response, url_kwargs)`` runs for every response of the view, a stored one
    or a 304 included (a view counter, say); it must be cheap and not raise.
    """
    options = {
        "depends_on": depends_on,
        "groups": groups,
        "query": query,
        "refresh_every": refresh_every,
        "max_age": max_age,
        "per_user": per_user,
        "cache": cache,
        "stale_timeout": stale_timeout,
        "on_serve": on_serve,
        "name": name,
    }
    return _decorator(lambda view: _policy(view, timeout, dict(options)))


def conditional(**options: Any) -> Callable[[View], View]:
    """ETag from group versions; 304 before the view runs when it matches.

    Takes ``cache_response``'s keyword options; no response is stored.
    """
    return cache_response(None, **options)
