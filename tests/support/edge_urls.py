"""The site's URLs plus one cached page per model, and one that misdeclares itself.

``/t/posts/`` depends on posts only and ``/t/users/`` on users only, so a
test can see that an edit purges exactly the pages of the model it changed.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.sessions.backends.db import SessionStore
from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.http import require_safe

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


urlpatterns = [
    path("t/posts/", posts),
    path("t/users/", users),
    path("t/whoami/", whoami),
    *site_urlpatterns,
]
