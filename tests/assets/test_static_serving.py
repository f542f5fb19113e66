"""Every static file the demo pages use, served with the right headers."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from tests.assets.conftest import NEGOTIATION_MATRIX, hashed
from tests.perfsite.factories import make_post

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

IMMUTABLE = "public, max-age=31536000, immutable"
COMPRESSIBLE = (".css", ".js", ".svg", ".txt")


def static_urls(html: str, root: Path) -> set[str]:
    """Every /static/ URL a page links, embeds or makes its scripts load."""
    urls = set(re.findall(r"""(/static/[^"'\s)&]+)""", html.replace("&quot;", '"')))
    css = hashed(root, "bundles/site.css")
    for ref in re.findall(r'url\("([^"]+)"\)', (root / css).read_text()):
        urls.add("/static/" + str(Path("/" + css).parent.joinpath(ref).resolve())[1:])
    return urls


@pytest.fixture
def demo_urls(prod: Path) -> set[str]:
    post = make_post(title="Headers")
    for views in range(3):  # four posts: each of the four thumbnails appears
        make_post(views=views)
    client = Client()
    urls: set[str] = set()
    for page in ("/", f"/posts/{post.pk}/"):
        urls |= static_urls(client.get(page).content.decode(), prod)
    return urls


def get(url: str, **headers: Any) -> Any:
    return Client().get(url, **{f"HTTP_{k.upper()}": v for k, v in headers.items()})


def test_the_demo_uses_only_hashed_bundled_files(
    demo_urls: set[str], prod: Path
) -> None:
    names = {url.removeprefix("/static/") for url in demo_urls}
    assert {
        hashed(prod, n)
        for n in ("bundles/site.css", "bundles/site.js", "assets/lazy.js")
    } <= names
    images = ["hero.svg", "figure.png", "logo.svg", "pattern.svg"]
    images += [f"thumb-{n}.svg" for n in range(1, 5)]
    assert {hashed(prod, f"perfsite/img/{n}") for n in images} <= names
    # Source files are never linked one by one in production.
    assert not any("/css/" in n or "/js/" in n for n in names)


def test_every_demo_static_file_is_immutable_and_negotiated(
    demo_urls: set[str],
) -> None:
    # 3 bundles and scripts, 8 images, 4 AVIF/WebP variants of the figure, the
    # compression dictionary
    assert len(demo_urls) == 16
    for url in sorted(demo_urls):
        response = get(url, accept_encoding="gzip, deflate, br")
        assert response.status_code == 200, url
        assert response["Cache-Control"] == IMMUTABLE, url
        assert response["ETag"].startswith('"'), url
        if url.endswith(COMPRESSIBLE):
            assert response["Content-Encoding"] == "br", url
            assert response["Vary"] == "Accept-Encoding", url
            assert response["ETag"].endswith('-br"'), url
        else:
            assert not response.has_header("Content-Encoding"), url
        for header in (
            response["ETag"],
            f"W/{response['ETag']}",
            f'"x", {response["ETag"]}',
            "*",
        ):
            again = get(url, accept_encoding="gzip, deflate, br", if_none_match=header)
            assert again.status_code == 304, (url, header)
            assert again["ETag"] == response["ETag"]
            assert again["Cache-Control"] == IMMUTABLE


def test_unhashed_files_are_cached_for_a_day(prod: Path) -> None:
    response = get("/static/perfsite/css/base.css")
    assert response["Cache-Control"] == "public, max-age=86400"


@pytest.mark.parametrize(
    ("accept", "encoding"),
    NEGOTIATION_MATRIX,
)
def test_static_negotiation_matrix(
    prod: Path, accept: str | None, encoding: str | None
) -> None:
    url = "/static/" + hashed(prod, "bundles/site.css")
    response = get(url, **({"accept_encoding": accept} if accept else {}))
    assert response.status_code == 200
    assert response.get("Content-Encoding") == encoding
    body = b"".join(response.streaming_content)
    expected = prod / hashed(prod, "bundles/site.css")
    suffix = {"br": ".br", "gzip": ".gz", None: ""}[encoding]
    assert body == Path(f"{expected}{suffix}").read_bytes()


def test_each_encoding_has_its_own_etag(prod: Path) -> None:
    url = "/static/" + hashed(prod, "bundles/site.js")
    etags = {get(url, accept_encoding=a)["ETag"] for a in ("br", "gzip", "identity")}
    assert len(etags) == 3
    # A brotli ETag does not validate the gzip representation.
    br = get(url, accept_encoding="br")["ETag"]
    assert get(url, accept_encoding="gzip", if_none_match=br).status_code == 200


def test_nothing_acceptable_is_406(prod: Path) -> None:
    url = "/static/" + hashed(prod, "bundles/site.js")
    assert get(url, accept_encoding="identity;q=0, br;q=0, gzip;q=0").status_code == 406


def test_if_none_match_wins_over_if_modified_since(prod: Path) -> None:
    url = "/static/" + hashed(prod, "bundles/site.js")
    first = get(url)
    assert get(url, if_modified_since=first["Last-Modified"]).status_code == 304
    response = get(
        url, if_none_match='"other"', if_modified_since=first["Last-Modified"]
    )
    assert response.status_code == 200


def test_head_range_and_post(prod: Path) -> None:
    url = "/static/" + hashed(prod, "perfsite/img/figure.png")
    assert Client().head(url).status_code == 200
    partial = get(url, range="bytes=0-3", accept_encoding="gzip")
    assert partial.status_code == 206
    assert b"".join(partial.streaming_content) == b"\x89PNG"
    assert get(url, range="lines=1-2").status_code == 200
    assert Client().post(url).status_code == 405


def test_the_build_manifest_is_readable_json(prod: Path) -> None:
    assert (
        json.loads(b"".join(get("/static/assets.json").streaming_content))["version"]
        == 1
    )
