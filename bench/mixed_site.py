"""The peers' post page for bench/mixed.py, and the middleware that counts
which post pages were answered without a read of the database (cache hits)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import redis
from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, render
from django.urls import path
from django.views.decorators.http import require_safe

from perfsite.models import Post
from perfsite.urls import urlpatterns as site_urlpatterns
from perfsite.views import post_views

HITS_KEY = "mixed:reads"  # a Redis hash: hit, miss


class CountReads:
    """A post page served with no SELECT is a hit; any SELECT makes it a miss."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response
        self.redis = redis.Redis.from_url(os.environ["REDIS_URL"])
        if os.environ.get("MIXED_COUNT") == "0":  # the "uncounted" site
            post_views.add = lambda pk, amount=1: None  # type: ignore[method-assign]

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if not request.path.startswith("/posts/"):
            return self.get_response(request)
        selects = []

        def count(execute: Any, sql: str, *args: Any) -> Any:
            if sql.lstrip().upper().startswith("SELECT"):
                selects.append(1)
            return execute(sql, *args)

        with connection.execute_wrapper(count):
            response = self.get_response(request)
        self.redis.hincrby(HITS_KEY, "miss" if selects else "hit", 1)
        return response


@require_safe
def post_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The demo's post page without the response cache: the peer caches its query."""
    post = get_object_or_404(Post.objects.select_related("author"), pk=pk)
    if request.method == "GET":
        post_views.add(pk)  # the same write-behind counter as the demo
    return render(request, "post_detail.html", {"post": post})


urlpatterns = [path("posts/<int:pk>/", post_detail), *site_urlpatterns]
