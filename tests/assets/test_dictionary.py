"""The dcz dictionary (RFC 9842): its build, its serving, the link to it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from django.template import engines
from django.test import Client, override_settings

from assets import dictionary
from assets.dictionary import Dictionary
from assets.negotiation import parse_byte_sequence
from assets.storage import BundleStorage
from tests.assets.dcz import current
from tests.perfsite.factories import make_post

IMMUTABLE = "public, max-age=31536000, immutable"


@pytest.fixture
def found(prod: Path) -> Dictionary:
    return current()


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


def test_compressed_variants_are_recognised(tmp_path: Path) -> None:
    from assets.precompress import is_compressed_variant

    (tmp_path / "a.css").write_text("a{}")
    for suffix in (".zst", ".br", ".gz"):
        assert is_compressed_variant(str(tmp_path / f"a.css{suffix}"))
        assert is_compressed_variant(f"x.css{suffix}", {"x.css": object()})
    assert not is_compressed_variant(str(tmp_path / "b.css.zst"))
    assert not is_compressed_variant(str(tmp_path / "a.css"))
