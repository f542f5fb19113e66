"""The demo's HTML pages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe

from assets.prefetch import is_prefetch
from caching.counters import Counter
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


VIEWS_TOLERANCE = 50  # views, per worker
# Each post page served counts a view. Counted in the response cache's hook,
# so stored responses and 304s count too, and written behind: a flush every
# CACHING_COUNTER_FLUSH_INTERVAL seconds, one UPDATE per post counted.
post_views = Counter(Post, "views", tolerance=VIEWS_TOLERANCE)
# What the post page shows of its row: a write to another post, or to other
# fields of this one, leaves the page cached. Flushed counts refresh it once
# they add up to more than VIEWS_TOLERANCE views in a worker (or when the
# page's 300 s run out): a post read often is rendered again about once per
# VIEWS_TOLERANCE views per worker, not on every flush.
POST_PAGE_FIELDS = ["title", "body", "views", "published_at", "author"]


def count_view(
    request: HttpRequest, response: HttpResponseBase, kwargs: Mapping[str, Any]
) -> None:
    # A browser's speculative prefetch is not a visit (nor is a HEAD or a 404).
    if (
        request.method == "GET"
        and response.status_code in {200, 304}
        and not is_prefetch(request)
    ):
        post_views.add(kwargs["pk"])


@require_safe
@cache_response(
    300,
    depends_on=[row(Post, "pk", fields=POST_PAGE_FIELDS), settings.AUTH_USER_MODEL],
    on_serve=count_view,
)
def post_detail(request: HttpRequest, pk: int) -> HttpResponse:
    post = get_object_or_404(Post.objects.select_related("author"), pk=pk)
    return render(request, "post_detail.html", {"post": post})
