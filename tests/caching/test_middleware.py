"""ResponseCacheMiddleware in the real middleware stack, on the private Redis."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis as redis_py
from django.template.autoreload import reset_loaders
from django.test import Client

from caching.release import default_release
from tests.caching import site
from tests.support.services import RedisServer

LOCALE = "django.middleware.locale.LocaleMiddleware"
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def stack(failover: Any, settings: Any, redis: RedisServer) -> Iterator[Any]:
    """The site's settings and middleware, the test URLconf, a fresh Redis."""
    settings.ROOT_URLCONF = "tests.caching.site"
    settings.ALLOWED_HOSTS = ["testserver", "other.example"]
    site.renders.clear()
    raw = redis_py.Redis.from_url(redis.url)
    yield raw
    raw.close()


def entries(raw: Any) -> list[bytes]:
    """The stored responses in Redis (locks and their markers left out)."""
    return [k for k in raw.keys("*cr:http:*") if b":lock" not in k]


def test_a_session_written_for_an_anonymous_visitor_is_never_shared(
    stack: Any,
) -> None:
    alice, bob = Client(), Client()
    first = alice.get("/t/session/")
    second = bob.get("/t/session/")
    assert first.cookies["sessionid"].value in first.content.decode()
    assert second.cookies["sessionid"].value in second.content.decode()
    assert first.content != second.content
    assert site.renders == ["session", "session"]
    assert "public" not in second.get("Cache-Control", "")
    assert entries(stack) == []


def test_a_page_that_varies_on_the_language_is_never_served_across_languages(
    stack: Any, settings: Any
) -> None:
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, LOCALE]
    client = Client()
    french = client.get("/t/language/", HTTP_ACCEPT_LANGUAGE="fr")
    english = client.get("/t/language/", HTTP_ACCEPT_LANGUAGE="en")
    again = client.get("/t/language/", HTTP_ACCEPT_LANGUAGE="en")
    assert french.content == b"language=fr"
    assert english.content == again.content == b"language=en"
    assert "Accept-Language" in english["Vary"]
    assert "public" not in english.get("Cache-Control", "")
    # Revalidating with the French page's tag (Django's ConditionalGet, a hash
    # of the body) gets the English page, whole.
    revalidated = client.get(
        "/t/language/", HTTP_ACCEPT_LANGUAGE="en", HTTP_IF_NONE_MATCH=french["ETag"]
    )
    assert revalidated.content == b"language=en"
    assert site.renders == ["language"] * 4
    assert entries(stack) == []


def test_30_host_and_id_variants_make_one_entry(stack: Any) -> None:
    client = Client()
    variants = []
    for n in range(10):
        variants += [
            ("testserver", f"/t/host/{'0' * n}7/?junk{n}=1&page=2"),
            ("TestServer", f"/t/host/{'0' * (n % 3)}7/?page=2&utm={n}"),
            (f"testserver:{9000 + n}", "/t/host/7/?page=2"),  # not the arrival port
        ]
    bodies = set()
    for host, url in variants:
        response = client.get(url, HTTP_HOST=host)
        assert response.status_code == 200
        bodies.add(response.content.split(b" x")[0])
    assert len(entries(stack)) == 1
    # The made-up ports bypassed the cache: each was rendered, none stored.
    assert site.renders.count("host") == 1 + 10
    assert b"testserver 7 {'page': ['2']}" in bodies


def test_port_variants_never_share_an_entry(stack: Any) -> None:
    client = Client()
    plain = client.get("/t/host/1/", HTTP_HOST="testserver")
    default_port = client.get("/t/host/1/", HTTP_HOST="testserver:80")
    assert plain.content.startswith(b"testserver 1")
    assert default_port.content.startswith(b"testserver:80 1")
    assert plain["ETag"] != default_port["ETag"]
    assert len(entries(stack)) == 2


def test_head_gets_200_and_304(stack: Any) -> None:
    client = Client()
    for url in ["/t/host/3/", "/", "/api/stats"]:
        head = client.head(url)
        assert head.status_code == 200, url
        assert head.content == b""
        get = client.get(url)
        assert get["ETag"] == head["ETag"]
        assert client.head(url, HTTP_IF_NONE_MATCH=head["ETag"]).status_code == 304
        assert client.head(url).status_code == 200


def test_a_template_change_gives_a_new_etag_never_a_304_of_the_old_page(
    stack: Any, settings: Any, tmp_path: Path
) -> None:
    template = tmp_path / "t_page.html"
    template.write_text("<p>old page</p>")
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}
    ]
    client = Client()
    old = client.get("/t/page/")
    assert client.get("/t/page/", HTTP_IF_NONE_MATCH=old["ETag"]).status_code == 304

    template.write_text("<p>new page</p>")  # the deploy: new files, new processes
    default_release.cache_clear()
    reset_loaders()

    new = client.get("/t/page/", HTTP_IF_NONE_MATCH=old["ETag"])
    assert new.status_code == 200
    assert new.content == b"<p>new page</p>"
    assert new["ETag"] != old["ETag"]
    assert site.renders == ["page", "page"]


def test_hits_and_304s_do_no_compression_and_serve_each_coding(
    stack: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assets import compression

    made: list[str] = []
    original = compression.make_encoder

    def counting(coding: str, secret: bool) -> Any:
        made.append(coding)
        return original(coding, secret)

    monkeypatch.setattr(compression, "make_encoder", counting)
    client = Client()
    for coding in ["br", "gzip", "br", "gzip", "identity"]:
        response = client.get("/t/host/4/", HTTP_ACCEPT_ENCODING=coding)
        assert response.get("Content-Encoding", "identity") == coding
    assert made == ["br", "gzip"]
    assert site.renders == ["host", "host", "host"]  # one per coding, then hits
    assert len(entries(stack)) == 1


def test_undeclared_parameters_are_filtered_for_callers_with_credentials(
    stack: Any,
) -> None:
    client = Client()
    client.cookies["sessionid"] = "someone"
    response = client.get("/t/host/5/?page=1&junk=2")
    assert b"{'page': ['1']}" in response.content
    assert "public" not in response.get("Cache-Control", "")
    assert entries(stack) == []


def test_per_user_pages_are_kept_per_user_after_authentication(stack: Any) -> None:
    from django.contrib.auth.models import User

    alice, bob = Client(), Client()
    alice.force_login(User.objects.create_user("alice"))
    bob.force_login(User.objects.create_user("bob"))
    first = alice.get("/t/mine/")
    assert first.content == b"hello alice"
    assert alice.get("/t/mine/").content == b"hello alice"
    assert bob.get("/t/mine/").content == b"hello bob"
    assert first["Cache-Control"] == "private, max-age=0"
    assert alice.get("/t/mine/", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    assert site.renders == ["mine", "mine"]


def test_urls_without_a_policy_and_unknown_urls_pass_through(stack: Any) -> None:
    client = Client()
    assert client.get("/no/such/page/").status_code == 404
    assert client.get("/api/health").status_code == 200
    assert entries(stack) == []


def test_an_unreachable_plain_redis_serves_every_request_rendered(
    stack: Any, settings: Any, redis: RedisServer
) -> None:
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": redis.url,
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2},
        }
    }
    redis.stop()
    client = Client()
    for _ in range(2):
        response = client.get("/t/host/8/")
        assert response.status_code == 200
        assert response.content.startswith(b"testserver 8")
    assert site.renders == ["host", "host"]
