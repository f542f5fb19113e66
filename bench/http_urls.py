"""URLs of the HTTP benchmark: the demo plus its peers' variants.

The same data and templates as the demo, served three more ways: uncached
(no response cache, no data cache), and under Django's ``cache_page``; and
the demo's async view with its upstream awaited on every request.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import include, path
from django.views.decorators.cache import cache_page

from perfsite.api import BadRequest, json_error, parse_limit
from perfsite.queries import popular_posts, site_stats
from perfsite.upstream import ask_upstream
from perfsite.views import HOME_POSTS


def popular_uncached(request: HttpRequest) -> HttpResponse:
    try:
        limit = parse_limit(request)
    except BadRequest as exc:
        return json_error(str(exc))
    return JsonResponse({"limit": limit, "posts": popular_posts.bypass(limit)})


def home_uncached(request: HttpRequest) -> HttpResponse:
    context = {"posts": popular_posts.bypass(HOME_POSTS), "stats": site_stats.bypass()}
    return render(request, "home.html", context)


async def upstream_uncached(request: HttpRequest) -> HttpResponse:
    """The demo's async view without its cache: every request waits 50 ms."""
    return JsonResponse(await ask_upstream("bench"))


urlpatterns = [
    path("bench/upstream", upstream_uncached),
    path("bench/uncached/popular", popular_uncached),
    path("bench/uncached/home", home_uncached),
    path("bench/cache_page/popular", cache_page(300)(popular_uncached)),
    path("bench/cache_page/home", cache_page(60)(home_uncached)),
    path("", include("perfsite.urls")),
]
