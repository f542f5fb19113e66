"""The demo's read queries, shared by the pages and the JSON API."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from caching.decorators import cache_result
from caching.deps import fields
from perfsite.models import Post

ACTIVE_DAYS = 30
STATS_SECONDS = 60  # the longest site_stats() serves figures without a change


# Cached: any save/delete of a Post or a user (in any worker) invalidates on
# commit; the short timeout covers the "today"/"last 30 days" windows moving.
@cache_result(STATS_SECONDS, depends_on=[Post, settings.AUTH_USER_MODEL])
def site_stats() -> dict[str, int]:
    """User and post counts, each from a real query."""
    User = get_user_model()
    now = timezone.now()
    start_of_today = timezone.localtime(now).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    return {
        "total_users": User.objects.count(),
        "active_users_30d": User.objects.filter(
            last_login__gte=now - timedelta(days=ACTIVE_DAYS)
        ).count(),
        "joined_today": User.objects.filter(date_joined__gte=start_of_today).count(),
        "post_count": Post.objects.count(),
    }


# The fields it reads: a flush of the view counts (perfsite.views.post_views)
# refreshes it; a write to a post's body does not.
@cache_result(
    300,
    depends_on=[
        fields(Post, "title", "slug", "views", "published_at", "author"),
        settings.AUTH_USER_MODEL,
    ],
)
def popular_posts(limit: int) -> list[dict[str, Any]]:
    """The ``limit`` most viewed posts, as plain data (cheap to cache and serialise)."""
    rows = Post.objects.order_by("-views", "id").values(
        "id", "title", "slug", "views", "published_at", "author__username"
    )[:limit]
    return [
        {
            "id": row["id"],
            "title": row["title"],
            "slug": row["slug"],
            "views": row["views"],
            "published_at": row["published_at"].isoformat(),
            "author": row["author__username"],
        }
        for row in rows
    ]
