"""One page to profile, the performance API and the profiling views."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import include, path

import perfsite_profiling.api


def page(request: HttpRequest) -> HttpResponse:
    return HttpResponse(str(sum(range(10_000))))


urlpatterns = [
    path("", page),
    path("api/performance", perfsite_profiling.api.performance),
    path("profiling/", include("perfsite_profiling.urls")),
]
