"""A URLconf of views that are easy to confuse: class-based views through
``as_view()``, factory-made functions, a per-user page that shows the
session's cart, a page that shows its own absolute URL. Plus the demo's URLs.
Each body carries a marker naming the view and whom it was rendered for."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views import View

from caching.http import cache_response
from perfsite.urls import urlpatterns as site_urlpatterns

renders: list[str] = []  # one name per view run, so tests see hits


class TextView(View):
    text = "text"

    def get(self, request: HttpRequest) -> HttpResponse:
        renders.append(self.text)
        return HttpResponse(f"view={self.text}")


class AboutView(TextView):
    text = "about"


class ContactView(TextView):
    text = "contact"


def text_page(text: str, **options: Any) -> Callable[..., HttpResponse]:
    """A factory: every view it makes has one qualname."""

    @cache_response(60, groups=["t-made"], **options)
    def made(request: HttpRequest) -> HttpResponse:
        renders.append(text)
        return HttpResponse(f"view={text}")

    return made


def cart(request: HttpRequest) -> HttpResponse:
    """The session's cart, for whoever the session is (anonymous too)."""
    renders.append("cart")
    if "add" in request.GET:
        request.session["cart"] = [*request.session.get("cart", []), request.GET["add"]]
    items = request.session.get("cart", [])
    who = request.user.username if request.user.is_authenticated else "anonymous"
    return HttpResponse(f"view=cart user={who} items={','.join(items)}")


def perms(request: HttpRequest) -> HttpResponse:
    """What the user may do: changes with their groups and permissions."""
    renders.append("perms")
    user = request.user
    shown = sorted(user.get_all_permissions()) if user.is_authenticated else []
    return HttpResponse(f"view=perms user={user.get_username()} perms={shown}")


def where(request: HttpRequest) -> HttpResponse:
    renders.append("where")
    return HttpResponse(f"view=where url={request.build_absolute_uri()}")


def made_twice(request: HttpRequest) -> HttpResponse:
    renders.append("twice")
    return HttpResponse(f"view=twice path={request.path}")


twice = cache_response(60, groups=["t-twice"])(made_twice)

urlpatterns = [
    *site_urlpatterns,
    path("v/about/", cache_response(60, groups=["t-cbv"])(AboutView.as_view())),
    path("v/contact/", cache_response(60, groups=["t-cbv"])(ContactView.as_view())),
    path(
        "v/text-a/",
        cache_response(60, groups=["t-cbv"])(TextView.as_view(text="text-a")),
    ),
    path(
        "v/text-b/",
        cache_response(60, groups=["t-cbv"])(TextView.as_view(text="text-b")),
    ),
    path("v/made-a/", text_page("made-a")),
    path("v/made-b/", text_page("made-b")),
    path("v/named-a/", text_page("named-a", name="tests.named-a")),
    path("v/named-b/", text_page("named-b", name="tests.named-b")),
    path(
        "v/cart/",
        cache_response(60, groups=["t-cart"], per_user=True, query=["add"])(cart),
    ),
    path("v/perms/", cache_response(60, groups=["t-perms"], per_user=True)(perms)),
    path("v/where/", cache_response(60, groups=["t-where"])(where)),
    path("v/twice-a/", twice),
    path("v/twice-b/", twice),
]
