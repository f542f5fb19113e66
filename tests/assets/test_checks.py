from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.template import TemplateDoesNotExist
from django.template.backends.base import BaseEngine
from django.test import override_settings

from assets.checks import (
    COMPRESSION,
    CONDITIONAL_GET,
    SECURITY,
    STATIC_FILES,
    check_middleware,
    check_settings,
)


class OtherEngine(BaseEngine):
    def __init__(self, params: dict[str, Any]) -> None:
        params = {**params}
        params.pop("OPTIONS", None)
        super().__init__(params)

    def get_template(self, template_name: str) -> Any:
        raise TemplateDoesNotExist(template_name)


def ids(**settings: Any) -> list[str]:
    with override_settings(**settings):
        return [message.id or "" for message in check_settings()]


def test_the_demo_settings_pass() -> None:
    assert check_settings() == []


@pytest.mark.parametrize(
    "bundles",
    [
        ["site"],
        {"site": ["a.css"]},
        {"site": {"scss": ["a.scss"]}},
        {"site": {"css": "a.css"}},
        {"bad name": {"css": []}},
        {"site": {"css": [1]}},
    ],
)
def test_bad_bundles_setting(bundles: Any) -> None:
    assert ids(ASSETS_BUNDLES=bundles) == ["assets.E001"]


def test_missing_bundle_files_each_get_an_error() -> None:
    bundles = {
        "site": {"css": ["perfsite/css/base.css", "gone.css"], "js": ["gone.js"]}
    }
    with override_settings(ASSETS_BUNDLES=bundles):
        errors = check_settings()
    assert [(e.id, e.msg) for e in errors] == [
        ("assets.E002", "Bundle 'site' lists a missing file: gone.css"),
        ("assets.E002", "Bundle 'site' lists a missing file: gone.js"),
    ]


def test_unknown_bundle_in_a_template_fails_check(tmp_path: Path) -> None:
    (tmp_path / "page.html").write_text('{% load assets %}{% css_bundle "sitee" %}')
    templates = [
        {
            "BACKEND": "django.template.backends.django.DjangoTemplates",
            "DIRS": [tmp_path],
            "APP_DIRS": False,
        },
        # Other engines' templates are not Django templates: not scanned.
        {
            "BACKEND": "tests.assets.test_checks.OtherEngine",
            "DIRS": [tmp_path],
            "APP_DIRS": False,
            "NAME": "other",
        },
    ]
    with override_settings(
        TEMPLATES=templates, ASSETS_DICTIONARY_TEMPLATES=[], ASSETS_CRITICAL_PAGES={}
    ):
        errors = check_settings()
        assert [(e.id, e.msg) for e in errors] == [
            ("assets.E003", "page.html: {% css_bundle %} names unknown bundle 'sitee'.")
        ]
        assert errors[0].hint == "Add it to ASSETS_BUNDLES or use one of: site."
        with pytest.raises(SystemCheckError, match="assets.E003"):
            call_command("check")


@pytest.mark.parametrize(
    ("setting", "value", "error"),
    [
        ("ASSETS_LAZY_JS_TIMEOUT", -5, "assets.E004"),
        ("ASSETS_MAX_AGE", "1 day", "assets.E004"),
        ("ASSETS_COMPRESS_MIN_SIZE", -1, "assets.E004"),
        ("ASSETS_IMMUTABLE_MAX_AGE", None, "assets.E004"),
        ("ASSETS_COMPRESS_ENCODINGS", ["deflate"], "assets.E005"),
        ("ASSETS_COMPRESS_ENCODINGS", "br", "assets.E005"),
        ("ASSETS_BROTLI_QUALITY", 11, "assets.E006"),
        ("ASSETS_GZIP_LEVEL", 0, "assets.E007"),
        ("ASSETS_ZSTD_LEVEL", 20, "assets.E008"),
        ("ASSETS_ZSTD_LEVEL", 0, "assets.E008"),
        ("ASSETS_DICTIONARY_TEMPLATES", "home.html", "assets.E009"),
        ("ASSETS_DICTIONARY_TEMPLATES", ["home.html", 3], "assets.E009"),
        ("ASSETS_DICTIONARY_TEMPLATES", ["nope.html"], "assets.E009"),
        ("ASSETS_DICTIONARY_MATCH", "posts/*", "assets.E010"),
        ("ASSETS_DICTIONARY_MATCH", '/"*', "assets.E010"),
        ("ASSETS_DICTIONARY_MATCH", None, "assets.E010"),
    ],
)
def test_bad_values(setting: str, value: Any, error: str) -> None:
    assert ids(**{setting: value}) == [error]


STATIC, CONDITIONAL = STATIC_FILES, CONDITIONAL_GET


@pytest.mark.parametrize(
    ("middleware", "expected"),
    [
        ([SECURITY, STATIC, COMPRESSION, CONDITIONAL], []),
        ([STATIC, SECURITY, COMPRESSION, CONDITIONAL], ["assets.E011"]),
        ([SECURITY, COMPRESSION, STATIC, CONDITIONAL], ["assets.E011"]),
        ([SECURITY, STATIC, CONDITIONAL, COMPRESSION], ["assets.E012"]),
        ([COMPRESSION], []),  # only what is listed is ordered
    ],
)
def test_middleware_order(middleware: list[str], expected: list[str]) -> None:
    with override_settings(MIDDLEWARE=middleware):
        assert [m.id for m in check_middleware()] == expected


def test_middleware_order_check_is_registered(
    settings: Any, no_confusable_views: None
) -> None:
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != CONDITIONAL] + [
        CONDITIONAL
    ]
    call_command("check")  # ConditionalGet last is fine
    settings.MIDDLEWARE = [CONDITIONAL, *settings.MIDDLEWARE[:-1]]
    with pytest.raises(SystemCheckError, match="assets.E012"):
        call_command("check")


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"ASSETS_CRITICAL_PAGES": ["home.html"]}, "assets.E020"),
        (
            {"ASSETS_CRITICAL_PAGES": {"nope": [{"template": "home.html"}]}},
            "assets.E020",
        ),
        ({"ASSETS_CRITICAL_PAGES": {"site": ["home.html"]}}, "assets.E020"),
        (
            {"ASSETS_CRITICAL_PAGES": {"site": [{"template": "missing.html"}]}},
            "assets.E020",
        ),
        (
            {
                "ASSETS_CRITICAL_PAGES": {
                    "site": [{"template": "home.html", "context": "no.such.thing"}]
                }
            },
            "assets.E020",
        ),
        (
            {
                "ASSETS_CRITICAL_PAGES": {
                    "site": [
                        {
                            "template": "home.html",
                            "context": "perfsite.views.HOME_POSTS",
                        }
                    ]
                }
            },
            "assets.E020",
        ),
        ({"ASSETS_CRITICAL_VIEWPORTS": [[412]]}, "assets.E021"),
        ({"ASSETS_CRITICAL_VIEWPORTS": []}, "assets.E021"),
        ({"ASSETS_CRITICAL_BROWSER": None}, "assets.E022"),
        ({"ASSETS_IMAGE_WIDTHS": [400, 0]}, "assets.E023"),
        ({"ASSETS_IMAGE_FORMATS": ["jxl"]}, "assets.E024"),
        ({"ASSETS_SPECULATION_EXCLUDE": "/admin/*"}, "assets.E025"),
        ({"ASSETS_SPECULATION_EXCLUDE": ["admin"]}, "assets.E025"),
        ({"ASSETS_SPECULATION_EAGERNESS": "hover"}, "assets.E026"),
    ],
)
def test_page_load_settings(settings: dict[str, Any], expected: str) -> None:
    assert ids(**settings) == [expected]


def test_page_load_settings_that_pass() -> None:
    assert (
        ids(
            ASSETS_CRITICAL_PAGES={"site": [{"template": "home.html"}]},
            ASSETS_CRITICAL_BROWSER="",
            ASSETS_SPECULATION_EXCLUDE=[],
        )
        == []
    )
