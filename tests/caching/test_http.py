"""caching.http policies, served by the response cache's core (caching.middleware.handle).

The views here are not in a URLconf: each request goes through ``handle``
with the view's policy, as ``ResponseCacheMiddleware`` runs it once it has
resolved the URL. The middleware itself, in the real stack, is tested in
tests/caching/test_middleware.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.core.cache import caches
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.middleware.csrf import get_token
from django.test import RequestFactory, override_settings

from caching import http
from caching.http import cache_response, conditional, etag_matches, policy_of
from caching.invalidation import invalidate_group
from caching.keys import DONE_SUFFIX
from caching.middleware import Exchange, handle
from perfsite.models import Post
from tests.caching.conftest import run_async
from tests.perfsite.factories import make_post

rf = RequestFactory()


class Counter:
    """A view that counts its calls and echoes the query it was given."""

    def __init__(
        self, make: Callable[[HttpRequest], HttpResponse] | None = None
    ) -> None:
        self.calls = 0
        self.make = make or (
            lambda request: JsonResponse({"q": dict(request.GET.lists())})
        )

    def __call__(self, request: HttpRequest) -> HttpResponse:
        self.calls += 1
        return self.make(request)


def serve(view: Any, request: HttpRequest) -> HttpResponse:
    response: HttpResponse = handle(request, policy_of(view), view)
    return response


def get(view: Any, path: str = "/x", **extra: Any) -> HttpResponse:
    request = rf.get(path, **extra)
    request.user = AnonymousUser()
    return serve(view, request)


@pytest.fixture(autouse=True)
def fresh_cache(locmem: Any) -> None:
    """Every test starts with an empty default cache."""


def test_conditional_etag_then_304_without_running_the_view() -> None:
    inner = Counter()
    view = conditional(groups=["g1"])(inner)

    first = get(view)
    again = get(view, HTTP_IF_NONE_MATCH=first["ETag"])

    assert first.status_code == 200
    assert first["ETag"].startswith('W/"')
    assert first["Cache-Control"] == "public, max-age=0"
    assert first["Vary"] == "Accept-Encoding"
    assert again.status_code == 304
    assert again.content == b""
    assert (again["ETag"], again["Cache-Control"], again["Vary"]) == (
        first["ETag"],
        first["Cache-Control"],
        first["Vary"],
    )
    assert inner.calls == 1


@pytest.mark.parametrize(
    ("header", "matches"),
    [
        ('W/"abc"', True),
        ('"abc"', True),  # If-None-Match uses the weak comparison
        ('"zzz", W/"abc"', True),
        ("*", True),
        ('"zzz"', False),
        ("W/abc", False),  # unquoted: not an entity tag
        ("", False),
        ('garbage,,,"', False),
    ],
)
def test_etag_matching_follows_rfc_9110(header: str, matches: bool) -> None:
    assert etag_matches('W/"abc"', header, exists=True) is matches
    # "*" matches only a current representation: for none, nothing matches.
    assert etag_matches('W/"abc"', header, exists=False) is (matches and header != "*")


def test_group_bump_changes_the_etag() -> None:
    view = conditional(groups=["g2"])(Counter())
    first = get(view)
    invalidate_group("g2")
    second = get(view, HTTP_IF_NONE_MATCH=first["ETag"])
    assert second.status_code == 200
    assert second["ETag"] != first["ETag"]


def test_refresh_every_changes_the_etag_each_period(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [1000.0]
    monkeypatch.setattr(http, "clock", lambda: now[0])
    view = conditional(groups=["g3"], refresh_every=60)(Counter())
    first = get(view)["ETag"]
    now[0] += 10  # same minute
    assert get(view)["ETag"] == first
    now[0] += 60
    assert get(view)["ETag"] != first


def test_only_declared_query_parameters_reach_the_view_and_the_key() -> None:
    inner = Counter()
    view = cache_response(60, groups=["g4"], query=["limit"])(inner)

    a = get(view, "/x?limit=5&junk=1")
    b = get(view, "/x?junk=2&limit=5&more=3")
    c = get(view, "/x?limit=6")

    assert json.loads(a.content) == {"q": {"limit": ["5"]}}
    assert b.content == a.content and b["ETag"] == a["ETag"]
    assert c["ETag"] != a["ETag"]
    assert inner.calls == 2


def test_cache_response_serves_stored_200_until_a_bump() -> None:
    inner = Counter(
        lambda request: HttpResponse(f"render {inner.calls}", content_type="text/plain")
    )
    view = cache_response(60, groups=["g5"])(inner)

    first = get(view)
    second = get(view)
    invalidate_group("g5")
    third = get(view)

    assert (first.content, second.content, third.content) == (
        b"render 1",
        b"render 1",
        b"render 2",
    )
    assert second["Content-Type"] == "text/plain"
    assert second["ETag"] == first["ETag"]
    assert inner.calls == 2


@pytest.mark.django_db(transaction=True)
def test_model_write_invalidates_on_commit_and_hit_costs_no_query(
    django_assert_num_queries: Any,
) -> None:
    make_post(title="one")
    inner = Counter(
        lambda request: JsonResponse(
            {"titles": sorted(Post.objects.values_list("title", flat=True))}
        )
    )
    view = cache_response(60, depends_on=[Post])(inner)
    first = get(view)

    with django_assert_num_queries(0):
        assert get(view).content == first.content
        assert get(view, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304

    make_post(title="two")  # autocommit: the bump happens at once
    assert json.loads(get(view).content) == {"titles": ["one", "two"]}


@pytest.mark.django_db(transaction=True)
def test_inside_a_writing_transaction_the_view_sees_its_own_writes() -> None:
    make_post(title="one")
    inner = Counter(lambda request: JsonResponse({"n": Post.objects.count()}))
    view = cache_response(60, depends_on=[Post])(inner)
    assert json.loads(get(view).content) == {"n": 1}
    with transaction.atomic():
        make_post(title="two")
        assert json.loads(get(view).content) == {"n": 2}
        assert "ETag" not in get(view)
    assert json.loads(get(view).content) == {"n": 2}


@pytest.mark.django_db(transaction=True)
def test_a_response_computed_across_a_commit_is_not_served_afterwards() -> None:
    """The versions are read before the view; a bump during it orphans the entry."""
    make_post(title="one")

    def racing(request: HttpRequest) -> HttpResponse:
        body = {"n": Post.objects.count()}
        if inner.calls == 1:
            make_post(title="two")  # a writer commits while the view renders
        return JsonResponse(body)

    inner = Counter(racing)
    view = cache_response(60, depends_on=[Post])(inner)
    assert json.loads(get(view).content) == {"n": 1}
    assert json.loads(get(view).content) == {"n": 2}


def test_requests_with_credentials_bypass_unless_per_user() -> None:
    inner = Counter()
    view = cache_response(60, groups=["g6"])(inner)
    get(view, HTTP_COOKIE="sessionid=abc")
    response = get(view, HTTP_COOKIE="sessionid=abc")
    get(view, HTTP_AUTHORIZATION="Bearer t")
    assert inner.calls == 3
    assert "ETag" not in response


@pytest.mark.django_db
def test_per_user_keys_by_user_and_is_private() -> None:
    alice, bob = (
        User.objects.create(username="alice"),
        User.objects.create(username="bob"),
    )
    inner = Counter(lambda request: HttpResponse(request.user.username))
    view = cache_response(60, groups=["g7"], per_user=True)(inner)

    def as_user(user: User) -> HttpResponse:
        request = rf.get("/x", HTTP_COOKIE="sessionid=s")
        request.user = user
        return serve(view, request)

    assert as_user(alice).content == b"alice"
    assert as_user(bob).content == b"bob"
    assert as_user(alice).content == b"alice"
    assert as_user(alice)["Cache-Control"] == "private, max-age=0"
    assert inner.calls == 2


def _cookie(request: HttpRequest) -> HttpResponse:
    response = HttpResponse("x")
    response.set_cookie("k", "v")
    return response


def _private(request: HttpRequest) -> HttpResponse:
    response = HttpResponse("x")
    response["Cache-Control"] = "private, max-age=60"
    return response


def _no_store(request: HttpRequest) -> HttpResponse:
    response = HttpResponse("x")
    response["Cache-Control"] = "no-store"
    return response


def _vary_cookie(request: HttpRequest) -> HttpResponse:
    response = HttpResponse("x")
    response["Vary"] = "Cookie"
    return response


def _csrf(request: HttpRequest) -> HttpResponse:
    return HttpResponse(get_token(request))


def _nonce(request: HttpRequest) -> HttpResponse:
    request._csp_nonce = "n0nce"  # type: ignore[attr-defined]  # Django 6's name
    return HttpResponse('<script nonce="n0nce"></script>')


def _django_csp_nonce(request: HttpRequest) -> HttpResponse:
    request.csp_nonce = "n0nce"  # type: ignore[attr-defined]  # django-csp's name
    return HttpResponse('<script nonce="n0nce"></script>')


@pytest.mark.parametrize(
    "make",
    [
        _cookie,
        _private,
        _no_store,
        _vary_cookie,
        _csrf,
        _nonce,
        _django_csp_nonce,
        lambda request: HttpResponse("bad", status=400),
        lambda request: StreamingHttpResponse(iter([b"a", b"b"])),
    ],
    ids=[
        "set-cookie",
        "private",
        "no-store",
        "vary-cookie",
        "csrf-token",
        "csp-nonce",
        "django-csp-nonce",
        "400",
        "streaming",
    ],
)
def test_unsafe_responses_are_never_stored(
    make: Callable[[HttpRequest], HttpResponse],
) -> None:
    inner = Counter(make)
    view = cache_response(60, groups=["g8"])(inner)
    get(view)
    get(view)
    assert inner.calls == 2


def test_post_is_not_touched() -> None:
    inner = Counter()
    view = cache_response(60, groups=["g9"])(inner)
    serve(view, rf.post("/x"))
    serve(view, rf.post("/x"))
    assert inner.calls == 2


def test_async_views() -> None:
    calls = []

    async def inner(request: HttpRequest) -> HttpResponse:
        calls.append(1)
        return HttpResponse("async")

    view = cache_response(60, groups=["g10"])(inner)

    seen: list[dict[str, list[str]]] = []

    async def direct() -> HttpResponse:
        request = rf.get("/x?junk=1")
        response: HttpResponse = await view(request)
        seen.append(dict(request.GET.lists()))
        return response

    assert run_async(direct()).content == b"async"
    assert seen == [{}]  # the async wrapper filters the query too
    # Under the middleware (sync), the handler runs the async view in a loop.
    first, second = (
        handle(rf.get("/x"), policy_of(view), lambda r: run_async(view(r)))
        for _ in range(2)
    )
    assert first.content == second.content == b"async"
    assert len(calls) == 2  # the direct call, then one render for both


def test_junk_urls_do_not_multiply_cache_entries() -> None:
    inner = Counter()
    view = cache_response(60, groups=["g11"], query=["limit"])(inner)
    backend = caches["default"]
    for n in range(3000):
        get(view, f"/x?junk{n}={'z' * (n % 50)}&limit=7&x={n}")
        get(view, "/x?limit=7", HTTP_IF_NONE_MATCH=f'W/"{n}", "junk{n}"')
    # One stored response and one group version; nothing per junk URL (the
    # lock holder's "just stored" marker lives a second).
    assert inner.calls == 1
    kept = [key for key in backend._cache if not key.endswith(DONE_SUFFIX)]
    assert len(kept) == 2, kept


def test_needs_something_to_invalidate_on() -> None:
    with pytest.raises(ValueError, match="depends_on"):
        conditional()(Counter())
    with pytest.raises(ValueError, match="must be > 0"):
        cache_response(0, groups=["g"])(Counter())


def test_a_page_with_a_csp_nonce_gets_no_validator() -> None:
    inner = Counter(_nonce)
    view = cache_response(60, groups=["g12"])(inner)
    first = get(view)
    assert "ETag" not in first
    assert "Cache-Control" not in first
    assert get(view).status_code == 200
    assert inner.calls == 2


@override_settings(ALLOWED_HOSTS=["a.example", "b.example"])
def test_hosts_and_the_views_own_cache_control_are_kept_apart() -> None:
    def make(request: HttpRequest) -> HttpResponse:
        response = HttpResponse(request.get_host())
        response["Cache-Control"] = "public, max-age=30"
        return response

    view = cache_response(60, groups=["g13"])(Counter(make))
    assert get(view, HTTP_HOST="a.example").content == b"a.example"
    hit = get(view, HTTP_HOST="b.example")
    assert hit.content == b"b.example"
    assert get(view, HTTP_HOST="b.example")["Cache-Control"] == "public, max-age=30"


def test_an_expired_response_is_served_while_one_request_renders_it(
    wall: Any,
) -> None:
    from caching.keys import lock_key

    inner = Counter(lambda request: HttpResponse(f"render {inner.calls}"))
    view = cache_response(10, groups=["g14"], stale_timeout=60)(inner)
    first = get(view)
    wall.now += 30  # past the fresh time, within the stale window
    exchange = Exchange.open(rf.get("/x"), policy_of(view))
    assert exchange is not None
    caches["default"].add(lock_key(exchange.key), "someone", 30)
    assert get(view).content == b"render 1"  # stale, someone else renders
    caches["default"].delete(lock_key(exchange.key))
    assert get(view).content == b"render 2"  # this request renders
    assert get(view).content == b"render 2"
    assert get(view)["ETag"] == first["ETag"]  # same versions, same tag
    assert inner.calls == 2
