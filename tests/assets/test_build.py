"""Bundles built at collectstatic: minified, hashed, reproducible, precompressed once."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import re
from pathlib import Path

import brotli
import pytest
from django.core.management import call_command
from django.test import override_settings

from assets.bundles import BundleError
from tests.assets.conftest import BUNDLE_STORAGES, build, hashed

pytestmark = pytest.mark.slow


def tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_two_builds_are_byte_identical(built: Path, tmp_path: Path) -> None:
    again = build(tmp_path / "again")
    assert tree(again) == tree(built)


def test_bundles_are_minified_hashed_and_in_order(built: Path) -> None:
    css_name = hashed(built, "bundles/site.css")
    assert re.fullmatch(r"bundles/site\.[0-9a-f]{12}\.css", css_name)
    css = (built / css_name).read_text()
    sources = "".join(
        (built / f"perfsite/css/{n}.css").read_text()
        for n in ("base", "layout", "components")
    )
    assert "/*" not in css and css.count("\n") == 1
    assert len(css) < 0.75 * len(sources)
    # In order: the tokens of base.css come before the cards of components.css.
    assert 0 <= css.index(":root{") < css.index(".container{") < css.index(".card{")
    js = (built / hashed(built, "bundles/site.js")).read_text()
    assert js.index("js-enabled") < js.index("perfsiteEnhanced")
    assert "perfsite — app.js" not in js


def test_bundled_css_urls_point_at_hashed_files(built: Path) -> None:
    css = (built / hashed(built, "bundles/site.css")).read_text()
    pattern = hashed(built, "perfsite/img/pattern.svg")
    assert f'url("../{pattern}")' in css
    assert (built / "bundles" / f"../{pattern}").exists()


def test_manifest_integrity_matches_the_served_bytes(built: Path) -> None:
    entry = json.loads((built / "assets.json").read_text())["bundles"]["site"]["js"]
    data = (built / entry["path"]).read_bytes()
    assert (
        entry["integrity"]
        == "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()
    )


def test_bundles_are_precompressed(built: Path) -> None:
    name = built / hashed(built, "bundles/site.css")
    assert gzip.decompress(Path(f"{name}.gz").read_bytes()) == name.read_bytes()
    assert brotli.decompress(Path(f"{name}.br").read_bytes()) == name.read_bytes()


def test_a_rebuild_does_not_recompress_unchanged_files(
    built: Path, tmp_path: Path
) -> None:
    root = build(tmp_path / "site")
    compressed = {p: p.stat().st_mtime_ns for p in root.rglob("*.br")}
    assert len(compressed) > 10

    build(root)

    assert {p: p.stat().st_mtime_ns for p in root.rglob("*.br")} == compressed


def test_a_changed_source_is_recompressed(tmp_path: Path) -> None:
    source = tmp_path / "src"
    (source / "x").mkdir(parents=True)
    (source / "x/a.css").write_text("body { color: red; }\n" * 100)
    bundles = {"b": {"css": ["x/a.css"]}}
    root = build(tmp_path / "site", STATICFILES_DIRS=[source], ASSETS_BUNDLES=bundles)
    before = (root / "x/a.css.br").read_bytes()

    (source / "x/a.css").write_text("body { color: blue; }\n" * 100)
    build(root, STATICFILES_DIRS=[source], ASSETS_BUNDLES=bundles)

    assert (
        brotli.decompress((root / "x/a.css.br").read_bytes())
        == (source / "x/a.css").read_bytes()
    )
    assert (root / "x/a.css.br").read_bytes() != before


def test_missing_files_are_all_reported_at_once(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (source / "ok.css").write_text("a { background: url(img/gone.png) }")
    bundles = {
        "one": {"css": ["ok.css", "nope/a.css"]},
        "two": {"js": ["nope/b.js"], "critical": ["nope/c.css"]},
    }
    settings = {"STATICFILES_DIRS": [source], "ASSETS_BUNDLES": bundles}
    with (
        override_settings(
            STATIC_ROOT=tmp_path / "out", STORAGES=BUNDLE_STORAGES, **settings
        ),
        pytest.raises(BundleError) as error,
    ):
        call_command("collectstatic", interactive=False, verbosity=0)
    assert str(error.value) == (
        "ASSETS_BUNDLES lists 4 missing file(s):\n"
        "  img/gone.png (url() in ok.css) (listed by bundle 'one')\n"
        "  nope/a.css (listed by bundle 'one')\n"
        "  nope/b.js (listed by bundle 'two')\n"
        "  nope/c.css (listed by bundle 'two')\n"
        "Fix the paths in ASSETS_BUNDLES or add the files to a static directory."
    )
