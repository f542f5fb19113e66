from __future__ import annotations

from datetime import datetime, timedelta
from itertools import count
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from perfsite.models import Post

_seq = count(1)


def make_user(**fields: Any) -> Any:
    n = next(_seq)
    fields.setdefault("username", f"user{n}")
    return get_user_model().objects.create(**fields)


def make_post(
    author: Any = None,
    *,
    views: int = 0,
    published_at: datetime | None = None,
    **fields: Any,
) -> Post:
    n = next(_seq)
    return Post.objects.create(
        title=fields.pop("title", f"Post {n}"),
        slug=fields.pop("slug", f"post-{n}"),
        body=fields.pop("body", "First paragraph.\n\nSecond paragraph."),
        views=views,
        published_at=published_at or timezone.now() - timedelta(days=1),
        author=author or make_user(),
        **fields,
    )
