"""Sample contexts for the critical-CSS extraction (``ASSETS_CRITICAL_PAGES``).

The demo's pages rendered with fixed, unsaved data shaped like what
``seed_demo`` writes: the build needs no database and two builds agree.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.contrib.auth import get_user_model

from perfsite.management.commands.seed_demo import _post
from perfsite.views import HOME_POSTS

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _sample_post(index: int) -> Any:
    post = _post(index, NOW, [index])
    post.id = index
    post.author = get_user_model()(id=index, username=f"demo{index}")
    return post


def home() -> dict[str, Any]:
    posts = [_sample_post(index) for index in range(1, HOME_POSTS + 1)]
    return {
        "posts": [
            {
                "id": post.id,
                "title": post.title,
                "views": post.views,
                "published_at": post.published_at.isoformat(),
                "author": post.author.username,
            }
            for post in posts
        ],
        "stats": {
            "total_users": 2000,
            "active_users_30d": 800,
            "joined_today": 20,
            "post_count": 20000,
        },
    }


def post_detail() -> dict[str, Any]:
    return {"post": _sample_post(1)}
