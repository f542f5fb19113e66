"""dcz (RFC 9842): negotiation, framing, 304s and the cache contract."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.http import HttpResponse, HttpResponseNotModified
from django.test import Client, RequestFactory

from assets.compression import CompressionMiddleware, make_encoder, negotiate
from assets.dictionary import DCZ_MAGIC, Dictionary
from assets.zstdlib import zstd
from tests.assets.dcz import CHROME, PAGE, current, held, page, respond, sf_bytes, undcz
from tests.perfsite.factories import make_post


@pytest.fixture
def found(prod: Path) -> Dictionary:
    return current()


# Negotiation and framing ------------------------------------------------------


def test_a_client_holding_the_dictionary_gets_dcz(found: Dictionary) -> None:
    response = respond(page(ETag='"v1"'), **held(found))
    assert response["Content-Encoding"] == "dcz"
    assert response["Vary"] == "Accept-Encoding, Available-Dictionary"
    assert response["ETag"] == 'W/"v1-dcz"'
    assert undcz(response.content, found) == PAGE
    assert int(response["Content-Length"]) == len(response.content)
    assert response.assets_variant == "dcz:" + found.digest.hex()


def test_dcz_frames_are_zstd_at_the_live_level_against_raw_content(
    found: Dictionary,
) -> None:
    body = respond(page(), **held(found)).content
    expected = zstd.compress(
        PAGE, level=6, zstd_dict=zstd.ZstdDict(found.data, is_raw=True)
    )
    assert body == DCZ_MAGIC + found.digest + expected


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_AVAILABLE_DICTIONARY": sf_bytes(b"\x00" * 32)},  # another dictionary
        {"HTTP_AVAILABLE_DICTIONARY": "not a byte sequence"},
        {"HTTP_AVAILABLE_DICTIONARY": ""},
        {"HTTP_ACCEPT_ENCODING": "gzip, br, zstd"},  # dcz not accepted
        {"HTTP_ACCEPT_ENCODING": "gzip, br, dcz;q=0"},
    ],
)
def test_no_dcz_without_a_match_or_acceptance(
    found: Dictionary, headers: dict[str, str]
) -> None:
    response = respond(page(ETag='"v1"'), **{**held(found), **headers})
    assert response["Content-Encoding"] == "br"
    assert response["Vary"] == "Accept-Encoding"
    assert response["ETag"] == 'W/"v1"'


def test_a_client_that_prefers_another_coding_gets_it(found: Dictionary) -> None:
    headers = {**held(found), "HTTP_ACCEPT_ENCODING": "dcz;q=0.5, zstd"}
    assert respond(page(), **headers)["Content-Encoding"] == "zstd"


def test_no_dcz_for_responses_that_can_carry_secrets(found: Dictionary) -> None:
    with_cookie = page()
    with_cookie.set_cookie("csrftoken", "s3cret")
    for secret in (page(Vary="Cookie"), page(Cache_Control="private"), with_cookie):
        assert respond(secret, **held(found))["Content-Encoding"] == "gzip"


def test_no_dcz_for_what_is_not_html(found: Dictionary) -> None:
    data = HttpResponse(PAGE, content_type="application/json")
    assert respond(data, **held(found))["Content-Encoding"] == "br"


def test_negotiate_names_the_variant_a_cache_may_replay(found: Dictionary) -> None:
    factory = RequestFactory()
    dcz = factory.get("/", **held(found))
    plain = factory.get("/", HTTP_ACCEPT_ENCODING="gzip, zstd")
    assert negotiate(dcz, page()) == "dcz:" + found.digest.hex()
    assert negotiate(plain, page()) == "zstd"
    assert negotiate(dcz, page(Vary="Cookie")) == "gzip"
    assert negotiate(factory.get("/"), page()) == "identity"


# Conditional requests -----------------------------------------------------------


def test_a_dcz_etag_gets_a_304_with_the_dcz_etag(found: Dictionary) -> None:
    seen: list[str | None] = []

    def view(request: Any) -> HttpResponseNotModified:
        # The views below see the plain tag they issued.
        seen.append(request.META.get("HTTP_IF_NONE_MATCH"))
        response = HttpResponseNotModified()
        response["ETag"] = 'W/"v1"'
        return response

    request = RequestFactory().get("/", HTTP_IF_NONE_MATCH='W/"v1-dcz"', **held(found))
    response = CompressionMiddleware(view)(request)
    assert seen == ['W/"v1"']
    assert response.status_code == 304
    assert response["ETag"] == 'W/"v1-dcz"'
    assert response["Vary"] == "Accept-Encoding, Available-Dictionary"


def test_only_the_tag_that_was_dcz_gets_the_dcz_form_back(found: Dictionary) -> None:
    def view(request: Any) -> HttpResponseNotModified:
        response = HttpResponseNotModified()
        response["ETag"] = 'W/"br-copy"'  # matched the other tag
        return response

    request = RequestFactory().get(
        "/", HTTP_IF_NONE_MATCH='W/"v1-dcz", W/"br-copy"', **held(found)
    )
    response = CompressionMiddleware(view)(request)
    assert response["ETag"] == 'W/"br-copy"'
    assert request.META["HTTP_IF_NONE_MATCH"] == 'W/"v1", W/"br-copy"'


def test_a_dcz_etag_without_the_dictionary_is_left_alone(found: Dictionary) -> None:
    seen: list[str | None] = []

    def view(request: Any) -> HttpResponse:
        seen.append(request.META.get("HTTP_IF_NONE_MATCH"))
        return page(ETag='"v1"')

    request = RequestFactory().get(
        "/", HTTP_IF_NONE_MATCH='W/"v1-dcz"', HTTP_ACCEPT_ENCODING=CHROME
    )
    response = CompressionMiddleware(view)(request)
    assert seen == ['W/"v1-dcz"']
    assert response["Content-Encoding"] == "br"


@pytest.mark.django_db(transaction=True)  # committed posts: the response cache serves
def test_post_pages_end_to_end(found: Dictionary) -> None:
    first, second = make_post(title="First"), make_post(title="Second post")
    client = Client()
    client.get(f"/posts/{first.pk}/", HTTP_ACCEPT_ENCODING=CHROME)
    # The response cache keeps this br body; it is never the dcz client's.
    without = client.get(f"/posts/{second.pk}/", HTTP_ACCEPT_ENCODING=CHROME)
    assert without["Content-Encoding"] == "br"
    response = client.get(f"/posts/{second.pk}/", **held(found))
    assert response["Content-Encoding"] == "dcz"
    html = undcz(response.content, found)
    assert b"Second post" in html
    plain = client.get(f"/posts/{second.pk}/", HTTP_ACCEPT_ENCODING="identity")
    assert html == plain.content
    # caching.http's 304 works through the dcz ETag.
    again = client.get(
        f"/posts/{second.pk}/", HTTP_IF_NONE_MATCH=response["ETag"], **held(found)
    )
    assert again.status_code == 304
    assert again["ETag"] == response["ETag"]
    # Nor is a dcz body ever replayed to a client without the dictionary.
    assert (
        client.get(f"/posts/{second.pk}/", HTTP_ACCEPT_ENCODING=CHROME).content
        == without.content
    )
    # A form page (CSRF token, cookie) is never dcz.
    login = client.get("/admin/login/", **held(found))
    assert login.get("Content-Encoding") != "dcz"


def test_an_encoder_for_another_dictionary_is_refused(found: Dictionary) -> None:
    with pytest.raises(ValueError, match="not the current dictionary"):
        make_encoder("dcz:" + "00" * 32, secret=False)
