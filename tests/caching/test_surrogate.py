"""Surrogate keys and s-maxage on shareable responses, never on the others."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from caching.keys import release_tag, surrogate_tag
from caching.surrogate import tags
from tests.caching import site

LOCALE = "django.middleware.locale.LocaleMiddleware"
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def stack(failover: Any, settings: Any) -> Iterator[Any]:
    settings.ROOT_URLCONF = "tests.caching.site"
    settings.CACHING_SURROGATE_KEYS = "xkey"
    settings.CACHING_SHARED_MAX_AGE = 30
    site.renders.clear()
    yield settings


def directives(response: Any) -> set[str]:
    return {d.strip() for d in response.get("Cache-Control", "").split(",")}


def test_tags_are_short_header_safe_and_one_per_group() -> None:
    names = ["model:perfsite.post", "row:perfsite.post:i5", "free name, with; junk"]
    found = tags(names)
    assert found == [*(surrogate_tag(n) for n in names), release_tag()]
    assert len(set(found)) == 4
    assert all(re.fullmatch(r"[gr][0-9a-f]{12}", t) for t in found)


def test_the_release_tag_follows_the_release(settings: Any) -> None:
    settings.CACHING_RELEASE = "one"
    first = release_tag()
    first_groups = tags(["g", "model:perfsite.post"])
    settings.CACHING_RELEASE = "two"
    assert release_tag() != first
    # A group's tag is the same in every release: one purge for a rolling deploy.
    assert tags(["g", "model:perfsite.post"]) == [*first_groups[:2], release_tag()]


def test_a_stored_page_carries_its_tags_and_s_maxage_on_miss_hit_and_304(
    stack: Any,
) -> None:
    client = Client()
    miss = client.get("/t/host/7/")
    hit = client.get("/t/host/7/")
    revalidated = client.get("/t/host/7/", HTTP_IF_NONE_MATCH=miss["ETag"])
    assert site.renders == ["host"]
    expected = " ".join(tags(["t-host"]))
    for response in (miss, hit, revalidated):
        assert response["xkey"] == expected
        assert {"public", "max-age=0", "s-maxage=30"} <= directives(response)
    assert revalidated.status_code == 304


@pytest.mark.parametrize(
    ("preset", "header", "separator"),
    [("fastly", "Surrogate-Key", " "), ("cloudflare", "Cache-Tag", ",")],
)
def test_each_preset_uses_its_cdn_header(
    stack: Any, preset: str, header: str, separator: str
) -> None:
    stack.CACHING_SURROGATE_KEYS = preset
    response = Client().get("/t/host/7/")
    assert response[header] == separator.join(tags(["t-host"]))
    assert not response.has_header("xkey")
    if preset == "fastly":  # Fastly reads (and strips) Surrogate-Control
        assert response["Surrogate-Control"] == "max-age=30"
        assert "s-maxage=30" not in directives(response)
    else:
        assert "s-maxage=30" in directives(response)


def test_nothing_is_added_by_default(failover: Any, settings: Any) -> None:
    settings.ROOT_URLCONF = "tests.caching.site"
    response = Client().get("/t/host/7/")
    assert not response.has_header("xkey")
    assert not any(d.startswith("s-maxage") for d in directives(response))


def test_the_lifetime_alone_needs_no_preset(stack: Any) -> None:
    stack.CACHING_SURROGATE_KEYS = ""
    response = Client().get("/t/host/7/")
    assert "s-maxage=30" in directives(response)
    assert not response.has_header("xkey")


def assert_unmarked(response: Any) -> None:
    assert not response.has_header("xkey")
    assert not any(d.startswith("s-maxage") for d in directives(response))


def test_a_response_setting_a_cookie_gets_no_tags(stack: Any) -> None:
    response = Client().get("/t/session/")
    assert response.cookies
    assert_unmarked(response)


def test_a_response_varying_on_the_language_gets_no_tags(stack: Any) -> None:
    stack.MIDDLEWARE = [*stack.MIDDLEWARE, LOCALE]
    assert_unmarked(Client().get("/t/language/", HTTP_ACCEPT_LANGUAGE="fr"))


def test_requests_with_credentials_get_no_tags(stack: Any) -> None:
    assert_unmarked(Client().get("/t/host/7/", HTTP_AUTHORIZATION="Basic eDp5"))
    client = Client()
    client.force_login(User.objects.create_user("alice"))
    assert_unmarked(client.get("/t/host/7/"))


def test_a_per_user_page_is_never_tagged(stack: Any) -> None:
    client = Client()
    client.force_login(User.objects.create_user("bob"))
    first = client.get("/t/mine/")
    again = client.get("/t/mine/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert "private" in directives(first)
    assert again.status_code == 304
    for response in (first, again):
        assert_unmarked(response)


def test_the_shared_lifetime_never_exceeds_the_policys(stack: Any) -> None:
    stack.CACHING_SHARED_MAX_AGE = 3600
    stored = Client().get("/t/host/7/")  # cache_response(60, ...)
    assert "s-maxage=60" in directives(stored)
    home = Client().get("/")  # cache_response(60, refresh_every=60)
    assert "s-maxage=60" in directives(home)
