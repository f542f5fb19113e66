"""A URLconf for the profiling tests: the site's URLs plus views with known costs."""

from __future__ import annotations

import gzip
import time

from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.urls import path

from perfsite.models import Post
from perfsite.urls import urlpatterns as site_urlpatterns


class FakeClock:
    """Nanoseconds that move only when a test or a view says so."""

    def __init__(self) -> None:
        self.ns = 10**12

    def __call__(self) -> int:
        return self.ns

    def advance(self, ms: float) -> None:
        self.ns += int(ms * 1_000_000)


clock = FakeClock()


def work(request: HttpRequest, ms: int) -> HttpResponse:
    """Takes ``ms`` milliseconds of (fake) time."""
    clock.advance(ms)
    return HttpResponse("ok")


def spin(request: HttpRequest, samples: int) -> HttpResponse:
    """Runs Python until the sampler has taken ``samples`` samples (or 30 s)."""
    from perfsite_profiling.sampler import sampler

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        session = sampler._session
        if session is None or session.samples >= samples:
            break
        sum(range(100))
    return HttpResponse("ok")


def body(request: HttpRequest, size: int) -> HttpResponse:
    """A compressible body of exactly ``size`` bytes."""
    return HttpResponse(b"a" * size, content_type="text/plain")


def pre_encoded(request: HttpRequest, size: int) -> HttpResponse:
    response = HttpResponse(gzip.compress(b"b" * size), content_type="text/plain")
    response["Content-Encoding"] = "gzip"
    return response


def cached(request: HttpRequest) -> HttpResponse:
    """Cache lookups named in the query string: ``?get=a&get=b&many=a,c&gos=d``."""
    for key in request.GET.getlist("get"):
        cache.get(key)
    for keys in request.GET.getlist("many"):
        cache.get_many(keys.split(","))
    for key in request.GET.getlist("gos"):
        cache.get_or_set(key, "computed")
    return HttpResponse("ok")


def queries(request: HttpRequest, n: int) -> HttpResponse:
    with connection.cursor() as cursor:
        for i in range(n):
            cursor.execute("SELECT %s", [i])
    return HttpResponse("ok")


def authors(request: HttpRequest, mode: str) -> HttpResponse:
    posts = Post.objects.order_by("id")
    if mode == "select":
        posts = posts.select_related("author")
    elif mode == "prefetch":
        posts = posts.prefetch_related("author")
    names = [post.author.username for post in posts]
    return HttpResponse(",".join(names))


def slow(request: HttpRequest, ms: int) -> HttpResponse:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_sleep(%s)", [ms / 1000])
        else:
            cursor.execute("SELECT test_sleep(%s)", [ms / 1000])
    return HttpResponse("ok")


urlpatterns = [
    path("t/work/<int:ms>/", work),
    path("t/spin/<int:samples>/", spin),
    path("t/body/<int:size>/", body),
    path("t/encoded/<int:size>/", pre_encoded),
    path("t/cached/", cached),
    path("t/queries/<int:n>/", queries),
    path("t/authors/<str:mode>/", authors),
    path("t/slow/<int:ms>/", slow),
    *site_urlpatterns,
]
