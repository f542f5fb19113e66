"""The demo's URLs plus test-only pages, for tests that run the site under gunicorn.

- ``/t/posts/`` depends on posts only and ``/t/users/`` on users only, so a
  test can see that an edit purges exactly the pages of the model it changed;
  ``/t/whoami/`` is a personal page that misdeclares itself public (Varnish).
- ``/t/slow/<n>``: a ``cache_result`` miss that takes longer than the
  breaker's longest cooldown, so a probe falls due while it runs (chaos test).

``worker_pid``, the outermost middleware of ``tests.support.site_settings``,
names the gunicorn worker that answered each response (``X-Test-Worker``), so
a multi-worker test can tell that every worker answered, and its breaker state
and namespace epoch (``X-Test-Cache``), so a chaos test can tell when every
worker is back on Redis.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

from asgiref.sync import iscoroutinefunction
from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.sessions.backends.db import SessionStore
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path
from django.utils.decorators import sync_and_async_middleware
from django.views.decorators.http import require_safe

from caching.conf import conf
from caching.decorators import cache_result
from caching.http import cache_response
from perfsite.models import Post
from perfsite.urls import urlpatterns as site_urlpatterns


@require_safe
@cache_response(300, depends_on=[Post])
def posts(request: HttpRequest) -> HttpResponse:
    first = Post.objects.order_by("pk").first()
    return HttpResponse(f"first post: {first.title if first else '-'}")


@require_safe
@cache_response(300, depends_on=[User])
def users(request: HttpRequest) -> HttpResponse:
    first = User.objects.order_by("pk").first()
    return HttpResponse(f"first user: {first.first_name if first else '-'}")


@require_safe
def whoami(request: HttpRequest) -> HttpResponse:
    """A personal page that wrongly calls itself public, and reads the session
    behind Django's back (no ``Vary: Cookie``): Varnish alone must keep it apart."""
    store = SessionStore(session_key=request.COOKIES.get(settings.SESSION_COOKIE_NAME))
    user = User.objects.filter(pk=store.get("_auth_user_id")).first()
    response = HttpResponse(f"you are {user.username if user else 'anonymous'}")
    response["Cache-Control"] = "public, max-age=0, s-maxage=300"
    return response


@cache_result(300, depends_on=[Post])
def slow_count(n: int) -> int:
    time.sleep(conf.BREAKER_COOLDOWN_MAX + 0.3)  # seconds
    return Post.objects.count() + n


def slow(request: HttpRequest, n: int) -> JsonResponse:
    return JsonResponse({"value": slow_count(n)})


@sync_and_async_middleware
def worker_pid(get_response: Callable[[HttpRequest], Any]) -> Any:
    def mark(response: HttpResponse) -> HttpResponse:
        response["X-Test-Worker"] = str(os.getpid())
        health = caches["default"].health()  # type: ignore[attr-defined]
        response["X-Test-Cache"] = f"{health['state']} {health['epoch']}"
        return response

    if iscoroutinefunction(get_response):  # under ASGI: on the loop, adapted by nobody

        async def amiddleware(request: HttpRequest) -> HttpResponse:
            return mark(await get_response(request))

        return amiddleware

    def middleware(request: HttpRequest) -> HttpResponse:
        return mark(get_response(request))

    return middleware


urlpatterns = [
    path("t/posts/", posts),
    path("t/users/", users),
    path("t/whoami/", whoami),
    path("t/slow/<int:n>", slow),
    *site_urlpatterns,
]
