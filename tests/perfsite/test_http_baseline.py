"""The middleware order of the site: whitenoise, then compression, then conditional GET."""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client, override_settings

from tests.perfsite.factories import make_post

pytestmark = pytest.mark.django_db


def test_repeated_get_of_home_gets_304(client: Client) -> None:
    for views in range(10):
        make_post(views=views)
    first = client.get("/", HTTP_ACCEPT_ENCODING="gzip")
    assert first.status_code == 200
    assert first["Content-Encoding"] == "gzip"
    etag = first["ETag"]
    # GZip's random padding must not reach the ETag: a second GET has the same one.
    assert client.get("/", HTTP_ACCEPT_ENCODING="gzip")["ETag"] == etag

    again = client.get("/", HTTP_ACCEPT_ENCODING="gzip", HTTP_IF_NONE_MATCH=etag)

    assert again.status_code == 304
    assert again.content == b""


def test_a_padded_page_gets_the_etag_of_its_uncompressed_body_and_a_304(
    client: Client, django_user_model: Any
) -> None:
    """A logged-in page is not stored by the response cache and carries a
    secret, so its gzip is padded at random: only ConditionalGet running
    before compression (listed after it) gives it a stable ETag and a 304."""
    make_post(views=3)
    client.force_login(django_user_model.objects.create_user("reader"))
    first = client.get("/", HTTP_ACCEPT_ENCODING="gzip")
    second = client.get("/", HTTP_ACCEPT_ENCODING="gzip")
    assert first["Content-Encoding"] == second["Content-Encoding"] == "gzip"
    body = gzip.decompress(first.content)
    assert body == gzip.decompress(second.content)
    assert first["ETag"] == second["ETag"] == f'W/"{hashlib.md5(body).hexdigest()}"'
    again = client.get(
        "/", HTTP_ACCEPT_ENCODING="gzip", HTTP_IF_NONE_MATCH=first["ETag"]
    )
    assert again.status_code == 304


def test_api_conditional_get(client: Client) -> None:
    make_post(views=3)
    first = client.get("/api/posts/popular", HTTP_ACCEPT_ENCODING="gzip")
    again = client.get(
        "/api/posts/popular",
        HTTP_ACCEPT_ENCODING="gzip",
        HTTP_IF_NONE_MATCH=first["ETag"],
    )
    assert again.status_code == 304


@pytest.fixture
def collected(tmp_path: Path) -> Iterator[Path]:
    """Static files collected with the production (hashed, precompressed) storage."""
    storages = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {
            "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        },
    }
    with override_settings(STATIC_ROOT=tmp_path, STORAGES=storages):
        call_command("collectstatic", interactive=False, verbosity=0)
        yield tmp_path


def hashed_name(root: Path, original: str) -> str:
    import json

    manifest = json.loads((root / "staticfiles.json").read_text())
    return str(manifest["paths"][original])


def test_whitenoise_serves_hashed_css_precompressed_and_immutable(
    collected: Path,
) -> None:
    name = hashed_name(collected, "perfsite/css/base.css")
    response = Client().get(f"/static/{name}", HTTP_ACCEPT_ENCODING="gzip, br")
    assert response.status_code == 200
    assert response["Content-Encoding"] == "br"
    assert "immutable" in response["Cache-Control"]
    max_age = int(response["Cache-Control"].split("max-age=")[1].split(",")[0])
    assert max_age >= 365 * 24 * 3600


def test_png_is_not_gzipped_and_range_works(collected: Path) -> None:
    name = hashed_name(collected, "perfsite/img/figure.png")
    full = Client().get(f"/static/{name}", HTTP_ACCEPT_ENCODING="gzip")
    assert full.status_code == 200
    assert not full.has_header("Content-Encoding")
    body = b"".join(full.streaming_content)
    assert body.startswith(b"\x89PNG")

    partial = Client().get(
        f"/static/{name}", HTTP_ACCEPT_ENCODING="gzip", HTTP_RANGE="bytes=0-7"
    )

    assert partial.status_code == 206
    assert not partial.has_header("Content-Encoding")
    assert b"".join(partial.streaming_content) == body[:8]
    assert partial["Content-Range"] == f"bytes 0-7/{len(body)}"
