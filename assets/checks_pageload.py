"""Checks of the page-load settings beyond their kinds: the critical pages.

Their ids start at ``assets.E020``; the kind of every page-load setting
(critical viewports and browser, image widths and formats, speculation
rules) is checked by ``conf.check()`` under the ids ``assets.conf`` gives.
"""

from __future__ import annotations

from typing import Any

from django.core.checks import CheckMessage, Error
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.utils.module_loading import import_string

from assets.conf import conf


def check_page_load(bundles_ok: bool = True) -> list[CheckMessage]:
    """What the kinds in ``assets.conf`` cannot say about the critical pages:
    their bundles, templates and context callables exist (``bundles_ok``:
    ASSETS_BUNDLES is valid, so pages can be checked against it)."""
    if not (bundles_ok and conf.fits("ASSETS_CRITICAL_PAGES")):
        return []
    return _check_critical_pages()


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
