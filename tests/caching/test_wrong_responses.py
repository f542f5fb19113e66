"""The response cache never answers one view's page for another's, nor one
visitor's page to another visitor: each defect found in review, as a test."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.core.checks import run_checks
from django.test import Client

from caching import identity
from caching.decorators import cache_result
from tests.caching import views_site
from tests.perfsite.factories import make_post

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def site(backend: Any, settings: Any) -> Iterator[list[str]]:
    settings.ROOT_URLCONF = "tests.caching.views_site"
    views_site.renders.clear()
    yield views_site.renders
    views_site.renders.clear()


def twice(client: Client, url: str, **headers: Any) -> bytes:
    first = client.get(url, **headers)
    again = client.get(url, **headers)
    assert first.status_code == again.status_code == 200
    assert first.content == again.content
    return bytes(first.content)


def test_class_based_views_through_as_view_never_share_a_page(site: Any) -> None:
    client = Client()
    for name in ("about", "contact", "text-a", "text-b"):
        assert twice(client, f"/v/{name}/") == f"view={name}".encode()
    assert site == ["about", "contact", "text-a", "text-b"]  # each stored once


def test_one_view_on_two_routes_keeps_a_page_per_route(site: Any) -> None:
    client = Client()
    assert twice(client, "/v/twice-a/") == b"view=twice path=/v/twice-a/"
    assert twice(client, "/v/twice-b/") == b"view=twice path=/v/twice-b/"
    assert site == ["twice", "twice"]


def test_a_factory_s_views_bypass_the_cache_unless_named(site: Any) -> None:
    client = Client()
    assert twice(client, "/v/made-a/") == b"view=made-a"
    assert twice(client, "/v/made-b/") == b"view=made-b"
    assert site == ["made-a"] * 2 + ["made-b"] * 2  # ambiguous: always rendered
    site.clear()
    assert twice(client, "/v/named-a/") == b"view=named-a"
    assert twice(client, "/v/named-b/") == b"view=named-b"
    assert site == ["named-a", "named-b"]  # named: cached, apart


def test_manage_py_check_names_the_ambiguous_view(site: Any) -> None:
    errors = [e for e in run_checks() if e.id == "caching.E032"]
    names = [e.msg for e in errors]
    assert any("text_page.<locals>.made" in msg for msg in names), names
    assert "name=" in errors[0].hint


def test_a_factory_s_functions_never_return_each_other_s_results(backend: Any) -> None:
    def make(n: int) -> Any:
        @cache_result(60)
        def value() -> int:
            return n

        return value

    one, two = make(1), make(2)
    assert [one(), two(), one(), two()] == [1, 2, 1, 2]
    assert identity.is_ambiguous(one.namespace)  # both computed every time


def test_a_function_defined_again_takes_its_name_over(backend: Any) -> None:
    calls: list[int] = []

    def define() -> Any:
        @cache_result(60)
        def again() -> int:
            calls.append(1)
            return 7

        return again

    first = define()
    assert first() == 7
    del first
    gc.collect()
    second = define()  # the first is gone: its name is free
    assert second() == second() == 7
    assert not identity.is_ambiguous(second.namespace)


def test_anonymous_sessions_never_share_a_per_user_page(site: Any) -> None:
    shopper, other, cookieless = Client(), Client(), Client()
    assert b"items=book" in shopper.get("/v/cart/?add=book").content
    assert shopper.get("/v/cart/").content == b"view=cart user=anonymous items=book"
    assert other.get("/v/cart/?add=pen").content.endswith(b"items=pen")
    assert other.get("/v/cart/").content == b"view=cart user=anonymous items=pen"
    assert cookieless.get("/v/cart/").content == b"view=cart user=anonymous items="
    assert shopper.get("/v/cart/").content.endswith(b"items=book")


def test_a_per_user_page_follows_the_user_s_groups_and_permissions(site: Any) -> None:
    alice = User.objects.create_user("alice")
    client = Client()
    client.force_login(alice)
    first = client.get("/v/cart/")
    assert client.get("/v/cart/", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    editors = Group.objects.create(name="editors")
    alice.groups.add(editors)  # a change of the user's groups
    assert client.get("/v/cart/", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 200
    second = client.get("/v/cart/")
    editors.permissions.add(Permission.objects.first())  # of the group's permissions
    assert client.get("/v/cart/", HTTP_IF_NONE_MATCH=second["ETag"]).status_code == 200


def test_the_scheme_is_part_of_the_key(site: Any) -> None:
    client = Client(HTTP_HOST="testserver")  # one Host header for both
    secure = client.get("/v/where/", HTTP_X_FORWARDED_PROTO="https")
    assert secure.content == b"view=where url=https://testserver/v/where/"
    plain = client.get("/v/where/")
    assert plain.content == b"view=where url=http://testserver/v/where/"
    assert secure["ETag"] != plain["ETag"]


def test_if_none_match_star_on_a_page_that_does_not_exist_is_a_404(site: Any) -> None:
    from perfsite.views import post_views

    post = make_post()
    missing = f"/posts/{post.pk + 1000}/"
    response = Client().get(missing, HTTP_IF_NONE_MATCH="*")
    assert response.status_code == 404
    assert post_views.pending(post.pk + 1000) == 0
    # A page that exists: its current representation matches "*".
    page = f"/posts/{post.pk}/"
    assert Client().get(page).status_code == 200
    assert Client().get(page, HTTP_IF_NONE_MATCH="*").status_code == 304
