"""One cached JSON view: the caching app's main feature, in a project without templates."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.urls import path

from caching.http import cache_response

renders: list[int] = []


@cache_response(60, groups=["minimal"])
def numbers(request: HttpRequest) -> JsonResponse:
    renders.append(1)
    return JsonResponse({"renders": len(renders)})


urlpatterns = [path("numbers/", numbers, name="numbers")]
