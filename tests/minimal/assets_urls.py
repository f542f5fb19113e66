"""One page with the assets app's bundle tags."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.template import engines
from django.urls import path

PAGE = '{% load assets %}{% css_bundle "mini" %}{% js_bundle "mini" %}'


def page(request: HttpRequest) -> HttpResponse:
    return HttpResponse(engines["django"].from_string(PAGE).render({}, request))


urlpatterns = [path("", page)]
