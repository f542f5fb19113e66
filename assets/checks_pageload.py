"""Checks of the page-load settings: critical pages, images, speculation rules.

Their ids start at ``assets.E020`` (``E008``-``E019`` are left to the
compression settings).
"""

from __future__ import annotations

from typing import Any

from django.core.checks import CheckMessage, Error
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.utils.module_loading import import_string

from assets.conf import conf as _conf
from assets.images import MIME
from assets.prefetch import EAGERNESS

# Settings as the user wrote them (Any), before the typed view of ``conf``.
conf: Any = _conf


def _positive_ints(value: Any, length: int | None = None) -> bool:
    return (
        isinstance(value, list | tuple)
        and (length is None or len(value) == length)
        and all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in value)
    )


def check_page_load(bundles_ok: bool = True) -> list[CheckMessage]:
    """``bundles_ok``: ASSETS_BUNDLES is valid, so pages can be checked against it."""
    return [
        *(_check_critical_pages() if bundles_ok else []),
        *_check_critical_browser(),
        *_check_images(),
        *_check_speculation(),
    ]


def _page_problem(bundle: Any, page: Any) -> str | None:
    if bundle not in conf.BUNDLES:
        return f"bundle {bundle!r} is not in ASSETS_BUNDLES"
    if not (isinstance(page, dict) and isinstance(page.get("template"), str)):
        return 'each page must be {"template": "...", "context": "dotted.path"}'
    try:
        get_template(page["template"])
    except TemplateDoesNotExist:
        return f"template {page['template']!r} does not exist"
    context = page.get("context")
    if context is not None:
        try:
            if not callable(import_string(str(context))):
                raise ImportError
        except ImportError:
            return f"context {context!r} is not an importable callable"
    return None


def _check_critical_pages() -> list[CheckMessage]:
    setting = conf.CRITICAL_PAGES
    if not isinstance(setting, dict) or not all(
        isinstance(pages, list) for pages in setting.values()
    ):
        return [
            Error(
                "ASSETS_CRITICAL_PAGES must map bundle names to lists of pages.",
                hint='e.g. {"site": [{"template": "home.html", "context": "app.samples.home"}]}',
                id="assets.E020",
            )
        ]
    errors: list[CheckMessage] = []
    for bundle, pages in setting.items():
        for page in pages:
            problem = _page_problem(bundle, page)
            if problem:
                errors.append(
                    Error(
                        f"ASSETS_CRITICAL_PAGES[{bundle!r}]: {problem}.",
                        hint="The context callable returns the template's sample context.",
                        id="assets.E020",
                    )
                )
    return errors


def _check_critical_browser() -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    viewports = conf.CRITICAL_VIEWPORTS
    if not (
        isinstance(viewports, list | tuple)
        and viewports
        and all(_positive_ints(v, 2) for v in viewports)
    ):
        errors.append(
            Error(
                "ASSETS_CRITICAL_VIEWPORTS must be a list of [width, height].",
                hint="CSS pixels, e.g. [[412, 823], [1350, 940]] (mobile, desktop).",
                id="assets.E021",
            )
        )
    if not isinstance(conf.CRITICAL_BROWSER, str):
        errors.append(
            Error(
                "ASSETS_CRITICAL_BROWSER must be a command name, a path or ''.",
                id="assets.E022",
            )
        )
    return errors


def _check_images() -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    if not _positive_ints(conf.IMAGE_WIDTHS):
        errors.append(
            Error(
                "ASSETS_IMAGE_WIDTHS must be a list of pixel widths.", id="assets.E023"
            )
        )
    formats = conf.IMAGE_FORMATS
    if not (isinstance(formats, list | tuple) and set(formats) <= set(MIME)):
        errors.append(
            Error(
                "ASSETS_IMAGE_FORMATS lists an unknown format.",
                hint=f"Use a list of {', '.join(MIME)}.",
                id="assets.E024",
            )
        )
    return errors


def _check_speculation() -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    exclude = conf.SPECULATION_EXCLUDE
    if not (
        isinstance(exclude, list | tuple)
        and all(isinstance(p, str) and p.startswith("/") for p in exclude)
    ):
        errors.append(
            Error(
                "ASSETS_SPECULATION_EXCLUDE must be a list of URL patterns.",
                hint='Paths in URL Pattern syntax, e.g. ["/admin/*", "/*logout*"].',
                id="assets.E025",
            )
        )
    if conf.SPECULATION_EAGERNESS not in EAGERNESS:
        errors.append(
            Error(
                "ASSETS_SPECULATION_EAGERNESS is not a known eagerness.",
                hint=f"Use one of {', '.join(EAGERNESS)}; moderate prefetches on hover.",
                id="assets.E026",
            )
        )
    return errors
