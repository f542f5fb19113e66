"""The demo's URLs plus ``/test/slow/<n>``: a ``cache_result`` miss that takes
longer than the breaker's longest cooldown, so a probe falls due while it runs."""

from __future__ import annotations

import time

from django.http import HttpRequest, JsonResponse
from django.urls import path

from caching.conf import conf
from caching.decorators import cache_result
from perfsite.models import Post
from perfsite.urls import urlpatterns as site_patterns


@cache_result(300, depends_on=[Post])
def slow_count(n: int) -> int:
    time.sleep(conf.BREAKER_COOLDOWN_MAX + 0.3)  # seconds
    return Post.objects.count() + n


def slow(request: HttpRequest, n: int) -> JsonResponse:
    return JsonResponse({"value": slow_count(n)})


urlpatterns = [*site_patterns, path("test/slow/<int:n>", slow)]
