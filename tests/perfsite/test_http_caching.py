"""The demo's pages and API through the whole middleware stack, cached by caching.http."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.cache import caches
from django.test import Client

from perfsite.models import Post
from tests.perfsite.factories import make_post

pytestmark = pytest.mark.django_db(transaction=True)
URLS = ["/", "/api/stats", "/api/posts/popular?limit=3"]


@pytest.fixture(autouse=True)
def posts() -> list[Post]:
    """A few posts, and an empty cache."""
    caches["default"].clear()
    return [make_post(views=views, title=f"Post {views}") for views in (5, 50, 500)]


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize("encoding", ["br", "gzip"])
def test_revalidation_is_a_304_without_a_query(
    url: str, encoding: str, client: Client, django_assert_num_queries: Any
) -> None:
    first = client.get(url, HTTP_ACCEPT_ENCODING=encoding)
    assert first.status_code == 200
    assert first["ETag"].startswith('W/"')
    assert first["Cache-Control"] == "public, max-age=0"
    assert "Accept-Encoding" in first["Vary"]

    with django_assert_num_queries(0):
        again = client.get(
            url, HTTP_ACCEPT_ENCODING=encoding, HTTP_IF_NONE_MATCH=first["ETag"]
        )
        hit = client.get(url, HTTP_ACCEPT_ENCODING=encoding)

    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == first["ETag"]
    assert again["Cache-Control"] == first["Cache-Control"]
    assert "Accept-Encoding" in again["Vary"]
    assert hit.status_code == 200
    assert hit["ETag"] == first["ETag"]


def test_an_edit_changes_the_next_response_and_its_etag(
    client: Client, posts: list[Post]
) -> None:
    first = client.get("/api/posts/popular?limit=1")
    post = posts[-1]
    post.title = "Edited"
    post.save()
    again = client.get("/api/posts/popular?limit=1", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 200
    assert again.json()["posts"][0]["title"] == "Edited"
    assert again["ETag"] != first["ETag"]
    Post.objects.filter(pk=post.pk).update(
        title="Updated"
    )  # no signal: the queryset invalidates
    assert (
        client.get("/api/posts/popular?limit=1").json()["posts"][0]["title"]
        == "Updated"
    )


def test_logged_in_users_get_a_fresh_private_render(
    client: Client, django_assert_max_num_queries: Any
) -> None:
    client.get("/")  # stored for anonymous visitors
    client.force_login(User.objects.create_user("reader", password="pw"))
    response = client.get("/")
    assert response.status_code == 200
    assert "public" not in response.get("Cache-Control", "")


def test_junk_parameters_share_the_entry_and_bad_limits_are_400(client: Client) -> None:
    first = client.get("/api/posts/popular?limit=2")
    junk = client.get("/api/posts/popular?limit=2&utm=x&page=9")
    assert junk.content == first.content and junk["ETag"] == first["ETag"]
    entries = len(caches["default"]._cache)  # type: ignore[attr-defined]
    bad = client.get("/api/posts/popular?limit=1000")
    assert bad.status_code == 400
    assert "error" in bad.json()
    assert len(caches["default"]._cache) == entries  # type: ignore[attr-defined]  # not stored
