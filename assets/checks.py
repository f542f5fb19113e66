"""System checks for the assets app (ids ``assets.E0xx`` / ``assets.W0xx``)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.contrib.staticfiles import finders
from django.core.checks import CheckMessage, Error
from django.template import TemplateDoesNotExist, engines
from django.template.backends.django import DjangoTemplates
from django.template.loader import get_template

from assets import bundles
from assets.checks_pageload import check_page_load
from assets.conf import conf

BUNDLE_TAGS = ("css_bundle", "js_bundle", "critical_css", "lazy_css", "lazy_js")
TAG_RE = re.compile(
    r"""\{%\s*(""" + "|".join(BUNDLE_TAGS) + r""")\s+(['"])([^'"]+)\2"""
)


def check_settings(**kwargs: Any) -> list[CheckMessage]:
    """Every ``ASSETS_*`` setting against its kind (ids in ``assets.conf``),
    then what a kind cannot say: files, templates and bundles that exist."""
    errors = conf.check()
    bundles_ok = conf.fits("ASSETS_BUNDLES")
    if bundles_ok:
        errors += _check_bundle_files()
        errors += _check_templates()
    if conf.fits("ASSETS_DICTIONARY_TEMPLATES"):
        errors += _check_dictionary()
    errors += check_page_load(bundles_ok)
    return errors


def _find(path: str) -> str | None:
    found = finders.find(path)
    return found if isinstance(found, str) else None


def _read(path: str) -> str:
    found = _find(path)
    return Path(found).read_text(encoding="utf-8") if found else ""


def _check_bundle_files() -> list[CheckMessage]:
    missing = bundles.missing_files(conf.BUNDLES, lambda p: _find(p) is not None, _read)
    return [
        Error(
            f"Bundle {bundle!r} lists a missing file: {path}",
            hint="Fix the path in ASSETS_BUNDLES or add the file to a static directory.",
            id="assets.E002",
        )
        for bundle, path in missing
    ]


def _template_files() -> Iterator[Path]:
    for engine in engines.all():
        if not isinstance(engine, DjangoTemplates):
            continue
        for directory in engine.template_dirs:
            yield from Path(directory).rglob("*.html")


def _check_templates() -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    for path in sorted(set(_template_files())):
        for match in TAG_RE.finditer(
            path.read_text(encoding="utf-8", errors="replace")
        ):
            if match.group(3) not in conf.BUNDLES:
                errors.append(
                    Error(
                        f"{path.name}: {{% {match.group(1)} %}} names unknown bundle {match.group(3)!r}.",
                        hint=f"Add it to ASSETS_BUNDLES or use one of: {', '.join(sorted(conf.BUNDLES)) or 'none'}.",
                        obj=str(path),
                        id="assets.E003",
                    )
                )
    return errors


def _check_dictionary() -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    for name in conf.DICTIONARY_TEMPLATES:
        try:
            get_template(name)
        except TemplateDoesNotExist:
            errors.append(
                Error(
                    f"ASSETS_DICTIONARY_TEMPLATES names a missing template: {name}",
                    id="assets.E009",
                )
            )
    return errors


SECURITY = "django.middleware.security.SecurityMiddleware"
STATIC_FILES = "assets.middleware.StaticFilesMiddleware"
COMPRESSION = "assets.compression.CompressionMiddleware"
CONDITIONAL_GET = "django.middleware.http.ConditionalGetMiddleware"


def _after(middleware: list[str], first: str, later: str) -> bool:
    """False when both are listed and ``later`` comes first."""
    if first in middleware and later in middleware:
        return middleware.index(first) < middleware.index(later)
    return True


def check_middleware(**kwargs: Any) -> list[CheckMessage]:
    """The order the assets middleware needs in ``MIDDLEWARE``."""
    from django.conf import settings

    middleware = list(getattr(settings, "MIDDLEWARE", None) or [])
    errors: list[CheckMessage] = []
    if not (
        _after(middleware, SECURITY, STATIC_FILES)
        and _after(middleware, STATIC_FILES, COMPRESSION)
    ):
        errors.append(
            Error(
                "StaticFilesMiddleware must come right after SecurityMiddleware.",
                hint="Above CompressionMiddleware: static files keep their "
                "precompressed variants and Range requests work.",
                id="assets.E011",
            )
        )
    if not _after(middleware, COMPRESSION, CONDITIONAL_GET):
        errors.append(
            Error(
                "CompressionMiddleware must be listed before ConditionalGet.",
                hint="ConditionalGetMiddleware then hashes the uncompressed "
                "body, a stable ETag, and repeated GETs get 304s.",
                id="assets.E012",
            )
        )
    return errors
