"""Who may see what: staff for the pages, staff or a bearer token for the API."""

from __future__ import annotations

import functools
import hmac
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlencode

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import NoReverseMatch, reverse

from perfsite_profiling.conf import conf

View = TypeVar("View", bound=Callable[..., HttpResponse])


def is_staff(request: HttpRequest) -> bool:
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_active and user.is_staff)


def has_token(request: HttpRequest) -> bool:
    token = conf.API_TOKEN
    header = request.headers.get("Authorization", "")
    if not token or not header.startswith("Bearer "):
        return False
    return hmac.compare_digest(header[7:].encode(), token.encode())


def login_url() -> str:
    try:
        return reverse("admin:login")
    except NoReverseMatch:
        return str(settings.LOGIN_URL)


def exempt(view: View) -> View:
    """Not measured or profiled by ProfilingMiddleware."""
    view.profiling_exempt = True  # type: ignore[attr-defined]
    return view


def staff_member_required(view: View) -> View:
    """Anonymous: redirect to the admin login. Logged in but not staff: 404."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            query = urlencode({"next": request.get_full_path()})
            return HttpResponseRedirect(f"{login_url()}?{query}")
        if not is_staff(request):
            raise Http404("No such page.")
        return view(request, *args, **kwargs)

    return exempt(wrapper)  # type: ignore[return-value]
