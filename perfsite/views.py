"""The demo's HTML pages."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe

from caching.deps import row
from caching.http import cache_response
from perfsite.api import DEMO_MODELS
from perfsite.models import Post
from perfsite.queries import STATS_SECONDS, popular_posts, site_stats

HOME_POSTS = 10
HOME_SECONDS = 60
# A page stored for HOME_SECONDS may show figures cached STATS_SECONDS before it
# was rendered; any change to a post or user refreshes both at once.
STATS_AGE_LIMIT = HOME_SECONDS + STATS_SECONDS


@require_safe
@cache_response(HOME_SECONDS, depends_on=DEMO_MODELS, refresh_every=HOME_SECONDS)
def home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "home.html",
        {
            "posts": popular_posts(HOME_POSTS),
            "stats": site_stats(),
            "stats_age_limit": STATS_AGE_LIMIT,
        },
    )


@require_safe
# Its row, not every post: a write to another post leaves the page cached.
@cache_response(300, depends_on=[row(Post, "pk"), settings.AUTH_USER_MODEL])
def post_detail(request: HttpRequest, pk: int) -> HttpResponse:
    post = get_object_or_404(Post.objects.select_related("author"), pk=pk)
    return render(request, "post_detail.html", {"post": post})
