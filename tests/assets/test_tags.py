"""Template tags render exactly the expected HTML."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.template import Context, Template, TemplateSyntaxError
from django.test import RequestFactory, override_settings

from assets import manifest
from tests.assets.conftest import hashed

BUNDLES = {
    "main": {
        "css": ["perfsite/css/base.css", "perfsite/css/layout.css"],
        "js": ["perfsite/js/app.js", "perfsite/js/enhance.js"],
    },
    "empty": {},
}


def render(source: str, nonce: str | None = None, **context: Any) -> str:
    request = RequestFactory().get("/")
    if nonce:
        request.csp_nonce = nonce  # type: ignore[attr-defined]
    template = Template("{% load assets %}" + source)
    return template.render(Context({"request": request, **context}))


@override_settings(ASSETS_BUNDLES=BUNDLES)
def test_debug_bundles_emit_each_source_file() -> None:
    assert render('{% css_bundle "main" %}') == (
        '<link rel="stylesheet" href="/static/perfsite/css/base.css">\n'
        '<link rel="stylesheet" href="/static/perfsite/css/layout.css">'
    )
    assert render('{% js_bundle "main" %}', nonce="n0nce") == (
        '<script src="/static/perfsite/js/app.js" defer nonce="n0nce"></script>\n'
        '<script src="/static/perfsite/js/enhance.js" defer nonce="n0nce"></script>'
    )
    assert render('{% css_bundle "empty" %}{% js_bundle "empty" %}') == ""


@override_settings(ASSETS_BUNDLES=BUNDLES)
@pytest.mark.parametrize(
    ("mode", "flag"),
    [("async", " async"), ("module", ' type="module"'), ("blocking", "")],
)
def test_js_bundle_modes(mode: str, flag: str) -> None:
    output = render('{% js_bundle "main" mode %}', mode=mode)
    assert (
        output.split("\n")[0]
        == f'<script src="/static/perfsite/js/app.js"{flag}></script>'
    )


@override_settings(ASSETS_BUNDLES=BUNDLES)
def test_unknown_mode_and_bundle_are_refused() -> None:
    with pytest.raises(ValueError, match="Unknown script mode 'later'"):
        render('{% js_bundle "main" "later" %}')
    with pytest.raises(
        ValueError, match="Unknown bundle 'nope'; ASSETS_BUNDLES has: empty, main"
    ):
        render('{% css_bundle "nope" %}')


def test_production_bundles_carry_integrity(prod: Path) -> None:
    data = json.loads((prod / "assets.json").read_text())["bundles"]["site"]
    css, js = hashed(prod, "bundles/site.css"), hashed(prod, "bundles/site.js")
    assert render('{% css_bundle "site" %}') == (
        f'<link rel="stylesheet" href="/static/{css}" integrity="{data["css"]["integrity"]}">'
    )
    assert render('{% js_bundle "site" %}') == (
        f'<script src="/static/{js}" defer integrity="{data["js"]["integrity"]}"></script>'
    )


def test_cross_origin_bundles_get_crossorigin(prod: Path) -> None:
    integrity = json.loads((prod / "assets.json").read_text())["bundles"]["site"][
        "css"
    ]["integrity"]
    css = hashed(prod, "bundles/site.css")
    with override_settings(ASSETS_CDN_URL="https://cdn.example.com/"):
        assert render('{% css_bundle "site" %}') == (
            f'<link rel="stylesheet" href="https://cdn.example.com/static/{css}" '
            f'integrity="{integrity}" crossorigin="anonymous">'
        )
        assert render("{% preconnect %}") == (
            '<link rel="preconnect" href="https://cdn.example.com" crossorigin>'
        )
        assert render('{% cdn_url "perfsite/img/logo.svg" %}') == (
            f"https://cdn.example.com/static/{hashed(prod, 'perfsite/img/logo.svg')}"
        )


def test_cdn_url_without_cdn_is_the_static_url() -> None:
    assert (
        render('{% cdn_url "perfsite/img/logo.svg" %}')
        == "/static/perfsite/img/logo.svg"
    )
    assert render("{% preconnect %}") == ""


def test_production_without_a_build_says_how_to_fix(tmp_path: Path) -> None:
    from tests.assets.conftest import production

    with (
        production(tmp_path),
        pytest.raises(ImproperlyConfigured, match="run collectstatic"),
    ):
        manifest.clear()
        render('{% css_bundle "site" %}')
    manifest.clear()


def test_preconnect_dedupes_and_caps_origins() -> None:
    assert render(
        '{% preconnect "https://a.example" "https://a.example/x" "//b.example" %}'
    ) == (
        '<link rel="preconnect" href="https://a.example" crossorigin>\n'
        '<link rel="preconnect" href="//b.example" crossorigin>'
    )
    with pytest.raises(ValueError, match="at most 4 origins, got 5"):
        render(
            "{% preconnect "
            + " ".join(f'"https://{n}.example"' for n in "abcde")
            + " %}"
        )


def test_preload() -> None:
    assert render(
        '{% preload "perfsite/img/hero.svg" as="image" fetchpriority="high" %}'
    ) == (
        '<link rel="preload" href="/static/perfsite/img/hero.svg" as="image" fetchpriority="high">'
    )
    assert render('{% preload "fonts/x.woff2" as="font" type="font/woff2" %}') == (
        '<link rel="preload" href="/static/fonts/x.woff2" as="font" crossorigin="anonymous" type="font/woff2">'
    )
    with pytest.raises(TemplateSyntaxError, match="preload needs as="):
        render('{% preload "perfsite/img/hero.svg" %}')


@override_settings(ASSETS_BUNDLES={"main": {"critical": ["perfsite/css/layout.css"]}})
def test_critical_css_is_inlined_with_nonce_and_absolute_urls() -> None:
    output = render('{% critical_css "main" %}', nonce="abc")
    assert output.startswith('<style nonce="abc">.container{')
    assert output.endswith("</style>")
    assert 'url("/static/perfsite/img/pattern.svg")' in output
    assert "\n" not in output.strip()


@override_settings(ASSETS_BUNDLES=BUNDLES)
def test_critical_css_of_a_bundle_without_one_is_empty() -> None:
    assert render('{% critical_css "main" %}') == ""


def test_critical_css_from_the_build(prod: Path) -> None:
    critical = json.loads((prod / "assets.json").read_text())["bundles"]["site"][
        "critical"
    ]
    pattern = hashed(prod, "perfsite/img/pattern.svg")
    assert f'url("/static/{pattern}")' in critical
    assert render('{% critical_css "site" %}') == f"<style>{critical.strip()}</style>"


def test_inline_style_cannot_close_its_element() -> None:
    from assets.html import inline_style

    assert inline_style('a::after{content:"</style><script>"}') == (
        '<style>a::after{content:"<\\/style><script>"}</style>'
    )


@override_settings(ASSETS_BUNDLES=BUNDLES)
def test_lazy_css_defers_without_inline_handlers() -> None:
    assert render('{% lazy_css "main" %}{% lazy_css "main" %}', nonce="n") == (
        '<link rel="stylesheet" href="/static/perfsite/css/base.css" media="print" data-assets-lazy>\n'
        '<link rel="stylesheet" href="/static/perfsite/css/layout.css" media="print" data-assets-lazy>\n'
        "<noscript>"
        '<link rel="stylesheet" href="/static/perfsite/css/base.css">\n'
        '<link rel="stylesheet" href="/static/perfsite/css/layout.css">'
        "</noscript>\n"
        '<script src="/static/assets/lazy.js" defer nonce="n"></script>'
        # The second call reuses the loader already on the page.
        '<link rel="stylesheet" href="/static/perfsite/css/base.css" media="print" data-assets-lazy>\n'
        '<link rel="stylesheet" href="/static/perfsite/css/layout.css" media="print" data-assets-lazy>\n'
        "<noscript>"
        '<link rel="stylesheet" href="/static/perfsite/css/base.css">\n'
        '<link rel="stylesheet" href="/static/perfsite/css/layout.css">'
        "</noscript>"
    )


@override_settings(ASSETS_BUNDLES=BUNDLES)
def test_lazy_js_hands_the_scripts_to_the_loader() -> None:
    scripts = (
        "[{&quot;src&quot;:&quot;/static/perfsite/js/app.js&quot;},"
        "{&quot;src&quot;:&quot;/static/perfsite/js/enhance.js&quot;}]"
    )
    assert render('{% lazy_js "main" %}', nonce="n") == (
        f'<script src="/static/assets/lazy.js" defer nonce="n" data-assets-scripts="{scripts}" '
        'data-assets-timeout="3000"></script>'
    )
    assert 'data-assets-timeout="500"' in render('{% lazy_js "main" timeout=500 %}')
    with override_settings(ASSETS_LAZY_JS_TIMEOUT=1234):
        assert 'data-assets-timeout="1234"' in render('{% lazy_js "main" %}')


def test_lazy_js_in_production_carries_integrity(prod: Path) -> None:
    integrity = json.loads((prod / "assets.json").read_text())["bundles"]["site"]["js"][
        "integrity"
    ]
    output = render('{% lazy_js "site" %}')
    assert f"/static/{hashed(prod, 'assets/lazy.js')}" in output
    assert (
        f"[{{&quot;src&quot;:&quot;/static/{hashed(prod, 'bundles/site.js')}&quot;,"
        f"&quot;integrity&quot;:&quot;{integrity}&quot;}}]"
    ) in output


def test_lazy_img_and_hero_img() -> None:
    # Template string literals are safe; a variable is escaped.
    assert render(
        '{% lazy_img "perfsite/img/thumb-1.svg" alt 320 200 class="t" %}',
        alt="A <thumb>",
    ) == (
        '<img src="/static/perfsite/img/thumb-1.svg" alt="A &lt;thumb&gt;" width="320" height="200" '
        'decoding="async" loading="lazy" class="t">'
    )
    assert render('{% hero_img "perfsite/img/hero.svg" "Hero" 1200 500 %}') == (
        '<img src="/static/perfsite/img/hero.svg" alt="Hero" width="1200" height="500" fetchpriority="high">'
    )


def test_nonce_from_the_template_context() -> None:
    with override_settings(ASSETS_BUNDLES=BUNDLES):
        output = render('{% js_bundle "main" %}', csp_nonce="ctx")
    assert output.count('nonce="ctx"') == 2


class LazyNonce:
    """Like Django 6's: false until generated, generated by ``str()``."""

    def __init__(self) -> None:
        self.value: str | None = None

    def __bool__(self) -> bool:
        return self.value is not None

    def __str__(self) -> str:
        self.value = self.value or "lazy"
        return self.value


def test_django_6_lazy_nonce_is_generated_and_used() -> None:
    request = RequestFactory().get("/")
    nonce = LazyNonce()
    request._csp_nonce = nonce  # type: ignore[attr-defined]
    with override_settings(ASSETS_BUNDLES=BUNDLES):
        output = Template('{% load assets %}{% js_bundle "main" %}').render(
            Context({"request": request, "csp_nonce": nonce})
        )
    assert output.count('nonce="lazy"') == 2
    assert nonce  # generated now, so the CSP middleware puts it in the header


def test_tags_without_a_request() -> None:
    with override_settings(ASSETS_BUNDLES=BUNDLES):
        output = Template('{% load assets %}{% css_bundle "main" %}').render(Context())
    assert output.startswith(
        '<link rel="stylesheet" href="/static/perfsite/css/base.css">'
    )
