"""Speculation rules, prefetch detection and prefetches without sessions."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.http import HttpRequest, HttpResponse
from django.template import Context, Template
from django.test import Client, RequestFactory, override_settings

from assets.prefetch import PrefetchSessionMiddleware, is_prefetch, rules_json


def render(nonce: str | None = None) -> str:
    request = RequestFactory().get("/")
    if nonce:
        request.csp_nonce = nonce  # type: ignore[attr-defined]
    return Template("{% load assets %}{% speculation_rules %}").render(
        Context({"request": request})
    )


def test_speculation_rules_tag() -> None:
    output = render(nonce="n0nce")
    assert output == (
        '<script type="speculationrules" nonce="n0nce">'
        '{"prefetch":[{"eagerness":"moderate","source":"document","where":{"and":['
        '{"href_matches":"/*"},'
        '{"not":{"href_matches":"/admin/*"}},'
        '{"not":{"href_matches":"/*logout*"}},'
        '{"not":{"href_matches":"/*login*"}},'
        '{"not":{"href_matches":"/profiling/*"}},'
        '{"not":{"selector_matches":"[rel~=nofollow], [data-no-prefetch]"}}]}}]}'
        "</script>"
    )


@override_settings(
    ASSETS_SPECULATION_EXCLUDE=["/cart/</script><script>alert(1)</script>&"],
    ASSETS_SPECULATION_EAGERNESS="conservative",
)
def test_rules_cannot_close_their_script() -> None:
    text = rules_json()
    assert "<" not in text and ">" not in text and "&" not in text
    parsed = json.loads(text)["prefetch"][0]
    assert parsed["eagerness"] == "conservative"
    assert {"not": {"href_matches": "/cart/</script><script>alert(1)</script>&"}} in (
        parsed["where"]["and"]
    )
    assert render().count("</script>") == 1


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"HTTP_SEC_PURPOSE": "prefetch"}, True),
        ({"HTTP_SEC_PURPOSE": "prefetch;prerender"}, True),
        ({"HTTP_PURPOSE": "prefetch"}, True),
        ({"HTTP_SEC_PURPOSE": "other"}, False),
        ({}, False),
    ],
)
def test_is_prefetch(headers: dict[str, str], expected: bool) -> None:
    assert is_prefetch(RequestFactory().get("/", **headers)) is expected


def touching_view(request: HttpRequest) -> HttpResponse:
    request.session["seen"] = True  # type: ignore[attr-defined]
    return HttpResponse("ok")


def through_sessions(**headers: Any) -> tuple[HttpResponse, HttpRequest]:
    from django.contrib.sessions.middleware import SessionMiddleware

    request = RequestFactory().get("/", **headers)
    chain = SessionMiddleware(PrefetchSessionMiddleware(touching_view))  # type: ignore[arg-type]
    return chain(request), request  # type: ignore[return-value]


@pytest.mark.django_db
def test_a_prefetch_creates_no_session() -> None:
    response, _ = through_sessions(HTTP_SEC_PURPOSE="prefetch")
    assert "sessionid" not in response.cookies
    assert SessionStore.get_model_class().objects.count() == 0
    # A real navigation of the same view does create one.
    response, _ = through_sessions()
    assert "sessionid" in response.cookies
    assert SessionStore.get_model_class().objects.count() == 1


@pytest.mark.django_db
def test_a_prefetch_keeps_an_existing_session() -> None:
    response, _ = through_sessions()
    key = response.cookies["sessionid"].value
    request = RequestFactory().get("/", HTTP_SEC_PURPOSE="prefetch")
    request.COOKIES["sessionid"] = key
    from django.contrib.sessions.middleware import SessionMiddleware

    SessionMiddleware(PrefetchSessionMiddleware(touching_view))(request)  # type: ignore[arg-type]
    assert SessionStore(key).get("seen") is True


@pytest.mark.django_db
def test_demo_prefetch_of_a_page_sets_no_cookie() -> None:
    response = Client().get("/", HTTP_SEC_PURPOSE="prefetch")
    assert response.status_code == 200
    assert "sessionid" not in response.cookies


@pytest.mark.django_db(transaction=True)
def test_under_asgi_a_prefetch_sets_no_cookie_either() -> None:
    from asgiref.sync import async_to_sync
    from django.test import AsyncClient

    response = async_to_sync(AsyncClient().get)(
        "/", headers={"Sec-Purpose": "prefetch"}
    )
    assert response.status_code == 200
    assert "sessionid" not in response.cookies
