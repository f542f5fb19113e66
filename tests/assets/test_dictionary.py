"""dcz (RFC 9842): the dictionary build, its serving, negotiation and framing."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from django.http import HttpResponse, HttpResponseNotModified
from django.template import engines
from django.test import Client, RequestFactory, override_settings

from assets import dictionary
from assets.compression import CompressionMiddleware, negotiate
from assets.dictionary import DCZ_MAGIC, Dictionary
from assets.negotiation import parse_byte_sequence
from assets.storage import BundleStorage
from assets.zstdlib import zstd
from tests.perfsite.factories import make_post

CHROME = "gzip, deflate, br, zstd, dcb, dcz"
IMMUTABLE = "public, max-age=31536000, immutable"


def sf_bytes(data: bytes) -> str:
    return ":" + base64.b64encode(data).decode() + ":"


def held(found: Dictionary) -> dict[str, str]:
    """Request headers of a browser that holds ``found``."""
    return {
        "HTTP_ACCEPT_ENCODING": CHROME,
        "HTTP_AVAILABLE_DICTIONARY": sf_bytes(hashlib.sha256(found.data).digest()),
    }


def undcz(body: bytes, found: Dictionary) -> bytes:
    """Decode a dcz body the way a browser does, checking its header."""
    assert body[:8] == bytes([0x5E, 0x2A, 0x4D, 0x18, 0x20, 0x00, 0x00, 0x00])
    assert body[8:40] == hashlib.sha256(found.data).digest()
    return zstd.decompress(body[40:], zstd_dict=zstd.ZstdDict(found.data, is_raw=True))


@pytest.fixture
def found(prod: Path) -> Dictionary:
    dictionary.clear()
    current = dictionary.current()
    assert current is not None
    return current


def respond(response: HttpResponse, **headers: str) -> Any:
    request = RequestFactory().get("/posts/1/", **headers)
    return CompressionMiddleware(lambda _: response)(request)


PAGE = (
    "<!DOCTYPE html><html><head><title>A post</title></head><body>"
    + "<p>Some words of a post that the dictionary does not hold.</p>" * 30
    + "</body></html>"
).encode()


def page(**headers: str) -> HttpResponse:
    response = HttpResponse(PAGE, content_type="text/html; charset=utf-8")
    for key, value in headers.items():
        response[key.replace("_", "-")] = value
    return response


# Structured-field byte sequences ---------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (":AQID:", b"\x01\x02\x03"),
        (" :AQID: ", b"\x01\x02\x03"),
        ("::", b""),
        ("AQID", None),
        (":AQID", None),
        (":A?ID:", None),
        (":AQI:", None),  # bad padding
        (":", None),
        (None, None),
    ],
)
def test_parse_byte_sequence(header: str | None, expected: bytes | None) -> None:
    assert parse_byte_sequence(header) == expected


# The build --------------------------------------------------------------------


def test_the_dictionary_is_the_templates_rendered_without_a_context(
    found: Dictionary, prod: Path
) -> None:
    index = json.loads((prod / "dictionary.json").read_text())
    assert index["name"] == found.name
    assert index["sha256"] == hashlib.sha256(found.data).hexdigest()
    assert (prod / found.name).read_bytes() == found.data
    expected = "\n".join(
        engines["django"].get_template(name).render({})
        for name in ("post_detail.html", "home.html")
    )
    # As the pages are, but for the link to the dictionary itself.
    link = f'<link rel="compression-dictionary" href="{found.url}">'
    assert link in expected
    assert found.data == expected.replace(link, "").encode()
    # Built against the manifest: the inlined critical CSS and hashed URLs.
    assert b"<style" in found.data and b"/static/bundles/site." in found.data
    # Nothing of anyone's: no CSRF token, no user, no link to itself.
    assert b"csrfmiddlewaretoken" not in found.data
    assert b"compression-dictionary" not in found.data
    for suffix in (".br", ".gz", ".zst"):
        assert Path(f"{prod / found.name}{suffix}").exists()


def write(root: Path, **settings: Any) -> dict[str, Any] | None:
    """The dictionary step alone, into an empty ``root``; its index."""
    with override_settings(STATIC_ROOT=root, **settings):
        dictionary.write(BundleStorage(location=root))
    dictionary.clear()
    index = root / "dictionary.json"
    return json.loads(index.read_text()) if index.exists() else None


def test_a_template_that_needs_a_context_falls_back_to_its_source(
    tmp_path: Path,
) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "needs.html").write_text("<main>{% url 'post' %}</main>")
    engine = {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [templates],
    }
    index = write(
        tmp_path / "site",
        TEMPLATES=[engine],
        ASSETS_DICTIONARY_TEMPLATES=["needs.html"],
        ASSETS_DICTIONARY_MATCH="/posts/*",
    )
    assert index is not None
    stored = tmp_path / "site" / index["name"]
    assert stored.read_text() == "<main>{% url 'post' %}</main>"
    assert index["match"] == "/posts/*"
    # No templates: no dictionary, and the old index is retired.
    assert write(tmp_path / "site", ASSETS_DICTIONARY_TEMPLATES=[]) is None


def test_a_changed_match_pattern_changes_the_file_name(tmp_path: Path) -> None:
    a = write(tmp_path / "a", ASSETS_DICTIONARY_MATCH="/posts/*")
    b = write(tmp_path / "b")
    assert a is not None and b is not None
    assert a["sha256"] == b["sha256"]
    assert a["name"] != b["name"]


@pytest.mark.django_db
def test_the_dictionary_is_served_immutable_with_use_as_dictionary(
    found: Dictionary,
) -> None:
    response = Client().get(found.url, HTTP_ACCEPT_ENCODING="br")
    assert response.status_code == 200
    assert response["Use-As-Dictionary"] == 'match="/*", match-dest=("document")'
    assert response["Cache-Control"] == IMMUTABLE
    assert response["Content-Encoding"] == "br"


@pytest.mark.django_db
def test_pages_link_the_dictionary(found: Dictionary) -> None:
    post = make_post(title="Linked")
    html = Client().get(f"/posts/{post.pk}/").content.decode()
    assert f'<link rel="compression-dictionary" href="{found.url}">' in html


def test_no_build_no_link() -> None:
    dictionary.clear()
    rendered = (
        engines["django"]
        .from_string("{% load assets_compression %}[{% compression_dictionary %}]")
        .render({})
    )
    assert rendered == "[]"


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


def test_dcz_bodies_with_a_cache_key_are_reused(found: Dictionary) -> None:
    bodies = set()
    for _ in range(3):
        response = page()
        response.compressed_cache_key = ("dcz-reuse", 1)  # type: ignore[attr-defined]
        bodies.add(respond(response, **held(found)).content)
    assert len(bodies) == 1
    assert undcz(bodies.pop(), found) == PAGE


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


@pytest.mark.django_db
def test_post_pages_end_to_end(found: Dictionary) -> None:
    first, second = make_post(title="First"), make_post(title="Second post")
    client = Client()
    client.get(f"/posts/{first.pk}/", HTTP_ACCEPT_ENCODING=CHROME)
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
    # A form page (CSRF token, cookie) is never dcz.
    login = client.get("/admin/login/", **held(found))
    assert login.get("Content-Encoding") != "dcz"


def test_a_damaged_or_missing_dictionary_is_not_used(tmp_path: Path) -> None:
    root = tmp_path / "site"
    index = write(root)
    assert index is not None
    with override_settings(STATIC_ROOT=root):
        dictionary.clear()
        assert dictionary.current() is not None
        (root / index["name"]).write_bytes(b"changed after the build")
        dictionary.clear()
        assert dictionary.current() is None
        (root / "dictionary.json").write_text("{}")
        dictionary.clear()
        assert dictionary.current() is None
    dictionary.clear()


def test_an_encoder_for_another_dictionary_is_refused(found: Dictionary) -> None:
    from assets.compression import make_encoder

    with pytest.raises(ValueError, match="not the current dictionary"):
        make_encoder("dcz:" + "00" * 32, secret=False)


def test_compressed_variants_are_recognised(tmp_path: Path) -> None:
    from assets.precompress import is_compressed_variant

    (tmp_path / "a.css").write_text("a{}")
    for suffix in (".zst", ".br", ".gz"):
        assert is_compressed_variant(str(tmp_path / f"a.css{suffix}"))
        assert is_compressed_variant(f"x.css{suffix}", {"x.css": object()})
    assert not is_compressed_variant(str(tmp_path / "b.css.zst"))
    assert not is_compressed_variant(str(tmp_path / "a.css"))
