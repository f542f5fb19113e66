"""The demo reads through cache_result; an admin edit shows in the next response."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.perfsite.factories import make_post

pytestmark = pytest.mark.django_db(transaction=True)


def test_admin_edit_shows_in_the_next_api_response(
    failover: Any, client: Client
) -> None:
    from django.contrib.auth.models import User

    post = make_post(title="Before", views=10**6)
    assert (
        client.get("/api/posts/popular?limit=1").json()["posts"][0]["title"] == "Before"
    )
    stats_before = client.get("/api/stats").json()
    admin = User.objects.create_superuser("boss", password="pw")
    client.force_login(admin)
    response = client.post(
        f"/admin/perfsite/post/{post.pk}/change/",
        {
            "title": "After",
            "slug": post.slug,
            "body": post.body,
            "views": post.views,
            "published_at_0": post.published_at.strftime("%Y-%m-%d"),
            "published_at_1": post.published_at.strftime("%H:%M:%S"),
            "author": post.author_id,
        },
    )
    assert response.status_code == 302, response.content
    assert (
        client.get("/api/posts/popular?limit=1").json()["posts"][0]["title"] == "After"
    )
    assert (
        client.get("/api/stats").json()["total_users"]
        == stats_before["total_users"] + 1
    )


def test_redis_url_selects_failover_cache() -> None:
    from perfsite.settings import _caches

    assert _caches(None)["default"]["BACKEND"] == "caching.embedded.SQLiteCache"
    config = _caches("redis://a:6379/0,redis://b:6379/0")["default"]
    assert config["BACKEND"] == "caching.backends.FailoverCache"
    assert config["LOCATION"] == ["redis://a:6379/0", "redis://b:6379/0"]
