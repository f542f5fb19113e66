"""Critical CSS selection (tinycss2) and its extraction at collectstatic."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from assets.critical import select, utf16_to_index
from assets.extract import browser_path
from tests.assets.conftest import build, hashed
from tests.support.services import missing

CSS = (
    '@font-face{font-family:"Inter";src:url(a.woff2)}'
    "@font-face{font-family:Unused;src:url(b.woff2)}"
    '@charset "utf-8";'
    "@layer base,components;"
    ':root{--font:"Inter",sans-serif}'
    "body{font-family:var(--font)}"
    ".spin{animation:turn 1s infinite}"
    "@keyframes turn{to{transform:rotate(1turn)}}"
    "@keyframes unused{to{opacity:0}}"
    "@media (min-width:40rem){.wide{color:red}.never{color:blue}}"
    "@supports (display:grid){@media print{.deep{color:green}}@layer x{.no{a:b}}}"
    ".below{color:pink}"
)


def extracted(root: Path) -> dict[str, Any]:
    """The site bundle's entry of a build that must have used the browser.

    No Chromium skips (or, with ``PERFSITE_REQUIRE_SERVICES=1``, fails); with
    one, a build that fell back to the declared list is a failure."""
    entry: dict[str, Any] = json.loads((root / "assets.json").read_text())["bundles"][
        "site"
    ]
    if entry["critical_source"] != "browser":
        executable, reason = browser_path()
        if executable is None:
            missing(f"{reason}: the build kept the declared list")
        pytest.fail(f"the build kept the declared list although {executable} is here")
    return entry


def at(rule: str) -> int:
    return CSS.index(rule)


def test_keeps_used_rules_in_their_groups_with_what_they_name() -> None:
    used = [at(":root"), at("body{"), at(".spin"), at(".wide"), at(".deep")]
    assert select(CSS, used) == (
        '@font-face{font-family:"Inter";src:url(a.woff2)}'
        "@layer base,components;"
        ':root{--font:"Inter",sans-serif}'
        "body{font-family:var(--font)}"
        ".spin{animation:turn 1s infinite}"
        "@keyframes turn{to{transform:rotate(1turn)}}"
        "@media (min-width:40rem){.wide{color:red}}"
        "@supports (display:grid){@media print{.deep{color:green}}}"
    )


def test_nothing_used_keeps_only_layer_order() -> None:
    assert select(CSS, []) == "@layer base,components;"


def test_offsets_across_lines_and_non_bmp_characters() -> None:
    css = '.a{content:"\U0001f600"}\n.b{color:red}\n\n.c{color:blue}'
    # CDP counts the emoji as two UTF-16 units.
    b = len('.a{content:"\U0001f600"}\n') + 1
    c = b + len(".b{color:red}\n\n")
    assert utf16_to_index(css, [b, c]) == [b - 1, c - 1]
    assert select(css, [b, c]) == ".b{color:red}.c{color:blue}"


def test_the_build_extracts_in_a_browser(built: Path) -> None:
    critical = extracted(built)["critical"]
    # components.css styles the article header, the first screen of a post.
    assert ".article__title{" in critical and ".hero{" in critical
    # Rules for what is never in the first viewport are left to the full sheet.
    assert ".site-footer{" not in critical and ".empty-state{" not in critical
    # The dark palette is kept for readers who prefer it.
    assert "@media (prefers-color-scheme:dark){" in critical
    pattern = hashed(built, "perfsite/img/pattern.svg")
    assert f'url("/static/{pattern}")' in critical


def test_without_a_browser_the_declared_list_is_used_and_said(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="assets.extract"):
        root = build(tmp_path, ASSETS_CRITICAL_BROWSER="")
    entry = json.loads((root / "assets.json").read_text())["bundles"]["site"]
    assert entry["critical_source"] == "declared"
    declared = (root / hashed(root, "bundles/site.critical.css")).read_text()
    assert entry["critical"].startswith(declared[:200])
    assert "the declared list (ASSETS_CRITICAL_BROWSER is empty)" in caplog.text


def test_a_missing_browser_is_said_too(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="assets.extract"):
        build(tmp_path, ASSETS_CRITICAL_BROWSER="no-such-browser-here")
    assert "no browser 'no-such-browser-here' on PATH" in caplog.text


def test_a_browser_that_fails_keeps_the_declared_list(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fake = tmp_path / "bin" / "broken-chromium"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\nexit 1\n")
    fake.chmod(0o755)
    with caplog.at_level(logging.INFO, logger="assets.extract"):
        root = build(tmp_path / "static", ASSETS_CRITICAL_BROWSER=str(fake))
    entry = json.loads((root / "assets.json").read_text())["bundles"]["site"]
    assert entry["critical_source"] == "declared"
    assert "the browser failed" in caplog.text


def test_an_unchanged_rebuild_reuses_the_extraction(
    built: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    root = build(tmp_path)
    first = extracted(root)
    with caplog.at_level(logging.INFO, logger="assets.extract"):
        build(root)
    again = json.loads((root / "assets.json").read_text())["bundles"]["site"]
    assert again == first
    assert "unchanged, reused" in caplog.text
