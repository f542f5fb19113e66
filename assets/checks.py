"""System checks for the assets app (ids ``assets.E0xx`` / ``assets.W0xx``)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

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
COUNTS = ("LAZY_JS_TIMEOUT", "MAX_AGE", "IMMUTABLE_MAX_AGE", "COMPRESS_MIN_SIZE")
LIVE = " for live responses"


class _Level(NamedTuple):
    setting: str
    levels: range
    scope: str
    hint: str | None
    id: str


CODEC_LEVELS = (
    _Level(
        "BROTLI_QUALITY",
        range(0, 10),
        LIVE,
        "Brotli 10 and 11 take hundreds of milliseconds per page; 4 or 5 is fast.",
        id="assets.E006",
    ),
    _Level("GZIP_LEVEL", range(1, 10), "", None, id="assets.E007"),
    _Level(
        "ZSTD_LEVEL",
        range(1, 20),
        LIVE,
        "Above 19 the window exceeds the 8 MB browsers accept; 3 to 6 is fast.",
        id="assets.E008",
    ),
)


def _raw(name: str) -> Any:
    """A setting as the user wrote it, before the typed view in ``conf``."""
    return getattr(conf, name)


def check_settings(**kwargs: Any) -> list[CheckMessage]:
    errors = _check_bundles_shape()
    bundles_ok = not errors
    if bundles_ok:
        errors += _check_bundle_files()
        errors += _check_templates()
    errors += _check_numbers()
    errors += _check_compression()
    errors += _check_dictionary()
    errors += check_page_load(bundles_ok)
    return errors


def _check_bundles_shape() -> list[CheckMessage]:
    setting = _raw("BUNDLES")
    hint = 'e.g. {"site": {"css": ["app/site.css"], "js": ["app/site.js"]}}'
    if not isinstance(setting, dict):
        return [
            Error(
                "ASSETS_BUNDLES must be a dict of bundles.", hint=hint, id="assets.E001"
            )
        ]
    for name, kinds in setting.items():
        if not (
            isinstance(name, str)
            and re.fullmatch(r"[\w.-]+", name)
            and isinstance(kinds, dict)
            and set(kinds) <= set(bundles.KINDS)
            and all(
                isinstance(paths, list) and all(isinstance(p, str) for p in paths)
                for paths in kinds.values()
            )
        ):
            return [
                Error(
                    f"ASSETS_BUNDLES[{name!r}] is not a valid bundle.",
                    hint=f"Keys {', '.join(bundles.KINDS)}, each a list of static paths; {hint}",
                    id="assets.E001",
                )
            ]
    return []


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


def _check_numbers() -> list[CheckMessage]:
    return [
        Error(
            f"ASSETS_{name} must be an integer of 0 or more.",
            id="assets.E004",
        )
        for name in COUNTS
        if not (isinstance(_raw(name), int) and _raw(name) >= 0)
    ]


def _check_compression() -> list[CheckMessage]:
    from assets.compression import SUPPORTED

    errors: list[CheckMessage] = []
    encodings = _raw("COMPRESS_ENCODINGS")
    if not isinstance(encodings, list | tuple) or not set(encodings) <= set(SUPPORTED):
        errors.append(
            Error(
                "ASSETS_COMPRESS_ENCODINGS lists an unknown coding.",
                hint=f"Use a list of {', '.join(SUPPORTED)}, the preferred first.",
                id="assets.E005",
            )
        )
    errors += [
        Error(
            f"ASSETS_{c.setting} must be {c.levels.start} to {c.levels.stop - 1}{c.scope}.",
            hint=c.hint,
            id=c.id,
        )
        for c in CODEC_LEVELS
        if getattr(conf, c.setting) not in c.levels
    ]
    return errors


def _check_dictionary() -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    names = _raw("DICTIONARY_TEMPLATES")
    if not isinstance(names, list | tuple) or not all(
        isinstance(n, str) for n in names
    ):
        errors.append(
            Error(
                "ASSETS_DICTIONARY_TEMPLATES must be a list of template names.",
                hint='e.g. ["blog/post.html"]; [] builds no dcz dictionary.',
                id="assets.E009",
            )
        )
    else:
        for name in names:
            try:
                get_template(name)
            except TemplateDoesNotExist:
                errors.append(
                    Error(
                        f"ASSETS_DICTIONARY_TEMPLATES names a missing template: {name}",
                        id="assets.E009",
                    )
                )
    match = _raw("DICTIONARY_MATCH")
    if not (
        isinstance(match, str)
        and match.startswith("/")
        and match.isprintable()
        and not set(match) & {'"', "\\"}
    ):
        errors.append(
            Error(
                "ASSETS_DICTIONARY_MATCH must be a URL pattern starting with /.",
                hint='e.g. "/*" or "/posts/*", without quotes or backslashes.',
                id="assets.E010",
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
