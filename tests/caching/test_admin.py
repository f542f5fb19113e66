from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from caching import stats
from caching.decorators import cache_result
from caching.invalidation import group_versions, model_group
from perfsite.models import Post

pytestmark = pytest.mark.django_db

URL = "/admin/caching/cachestatistics/"
INVALIDATE = URL + "invalidate/"


@cache_result(60, depends_on=[Post])
def admin_target(x: int) -> int:
    return x


def login(client: Client, **flags: Any) -> Client:
    from django.contrib.auth.models import User

    user = User.objects.create_user(
        "u" + str(len(flags)) + str(flags), password="pw", **flags
    )
    client.force_login(user)
    return client


def test_staff_sees_the_page(failover: Any, client: Client) -> None:
    admin_target(1), admin_target(1), admin_target(2)
    login(client, is_staff=True)
    response = client.get(URL + "?o=-misses")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Cache statistics" in body
    assert "tests.caching.test_admin.admin_target" in body
    assert "<svg" in body and "33.3%" in body
    assert "used_memory_human" in body and "closed" in body
    assert model_group(Post) in body
    index = client.get("/admin/")
    assert URL in index.content.decode()
    assert client.get(URL + "?o=bogus").status_code == 200


def test_anonymous_and_non_staff_are_refused(client: Client) -> None:
    response = client.get(URL)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert client.post(INVALIDATE, {"kind": "group", "name": "x"}).status_code == 302
    login(client)
    assert client.get(URL).status_code == 302
    assert URL not in client.get("/admin/").content.decode()


def test_invalidate_needs_post_and_confirmation(
    locmem: Any, client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    login(client, is_staff=True)
    group = model_group(Post)
    before = group_versions([group])
    assert client.get(INVALIDATE, {"kind": "group", "name": group}).status_code == 405
    asked = client.post(INVALIDATE, {"kind": "group", "name": group})
    assert asked.status_code == 200 and b"Yes, invalidate" in asked.content
    assert group_versions([group]) == before
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(
            INVALIDATE, {"kind": "group", "name": group, "confirm": "yes"}
        )
    assert done.status_code == 302
    assert group_versions([group]) != before


def test_invalidate_a_function(
    locmem: Any, client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    login(client, is_staff=True)
    before = group_versions([admin_target.function_group])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            INVALIDATE,
            {"kind": "function", "name": admin_target.name, "confirm": "yes"},
        )
    assert response.status_code == 302
    assert group_versions([admin_target.function_group]) != before


def test_unknown_names_get_a_400(client: Client) -> None:
    login(client, is_staff=True)
    response = client.post(INVALIDATE, {"kind": "group", "name": "nope"})
    assert response.status_code == 400
    assert client.post(INVALIDATE, {"kind": "other"}).status_code == 400


def test_csrf_is_enforced() -> None:
    from django.contrib.auth.models import User

    client = Client(enforce_csrf_checks=True)
    client.force_login(User.objects.create_user("staff", is_staff=True))
    response = client.post(INVALIDATE, {"kind": "group", "name": model_group(Post)})
    assert response.status_code == 403


def test_no_values_are_shown(locmem: Any, client: Client) -> None:
    stats.reset()

    @cache_result(60)
    def secret() -> str:
        return "personal-data-123"

    secret()
    login(client, is_staff=True)
    assert b"personal-data-123" not in client.get(URL).content


def test_the_page_shows_the_breaker_history_during_an_outage(
    failover: Any, redis: Any, client: Client
) -> None:
    login(client, is_staff=True)
    redis.stop()
    for _ in range(failover.breaker.threshold):
        failover.get("k")
    body = client.get(URL).content.decode()
    assert "consecutive errors" in body
    assert "used_memory_human" not in body  # no Redis figures without Redis
