from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from tests.perfsite.factories import make_post, make_user

pytestmark = pytest.mark.django_db


def test_health_is_a_short_json_body(client: Client) -> None:
    response = client.get("/api/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_stats_counts_come_from_the_database(client: Client) -> None:
    now = timezone.now()
    old = make_user(
        date_joined=now - timedelta(days=400), last_login=now - timedelta(days=2)
    )
    make_user(date_joined=now - timedelta(days=90), last_login=now - timedelta(days=31))
    make_user(date_joined=now - timedelta(days=90), last_login=None)
    make_user(date_joined=now, last_login=now)
    make_post(old)
    make_post(old)
    # make_post() creates one more author for each post without one.
    make_post()

    response = client.get("/api/stats")

    assert response.status_code == 200
    assert response.json() == {
        "total_users": 5,
        "active_users_30d": 2,
        "joined_today": 2,
        "post_count": 3,
    }


def test_popular_orders_by_views_with_default_limit(client: Client) -> None:
    author = make_user(username="ada")
    posts = [
        make_post(author, views=v)
        for v in (5, 50, 500, 0, 7, 9, 11, 13, 17, 19, 23, 29)
    ]

    body = client.get("/api/posts/popular").json()

    assert body["limit"] == 10
    assert [p["views"] for p in body["posts"]] == [
        500,
        50,
        29,
        23,
        19,
        17,
        13,
        11,
        9,
        7,
    ]
    top = body["posts"][0]
    post = posts[2]
    assert top == {
        "id": post.pk,
        "title": post.title,
        "slug": post.slug,
        "views": 500,
        "published_at": post.published_at.isoformat(),
        "author": "ada",
    }


@pytest.mark.parametrize("limit", ["1", "3", "100"])
def test_popular_accepts_limits_in_range(client: Client, limit: str) -> None:
    author = make_user()
    for views in range(5):
        make_post(author, views=views)
    body = client.get("/api/posts/popular", {"limit": limit}).json()
    assert body["limit"] == int(limit)
    assert len(body["posts"]) == min(int(limit), 5)


@pytest.mark.parametrize(
    "query",
    [
        "limit=abc",
        "limit=0",
        "limit=-1",
        "limit=101",
        "limit=10**9",
        "limit=1000000000",
        "limit=99999999999999999999999999",
        "limit=",
        "limit=+5",
        "limit=%205",
        "limit=5.0",
        "limit=1e2",
        "limit=%EF%BC%95",  # a full-width digit five, which int() would accept
        "limit=5&limit=6",
    ],
)
def test_popular_rejects_bad_limits_with_json_400(client: Client, query: str) -> None:
    response = client.get(f"/api/posts/popular?{query}")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    body = json.loads(response.content)
    assert set(body) == {"error"}
    assert "limit" in body["error"]


@pytest.mark.parametrize("url", ["/api/stats", "/api/posts/popular", "/api/health"])
def test_api_refuses_writes(client: Client, url: str) -> None:
    assert client.post(url).status_code == 405
