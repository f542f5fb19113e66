"""System checks for the assets app (ids ``assets.E0xx`` / ``assets.W0xx``)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.contrib.staticfiles import finders
from django.core.checks import CheckMessage, Error
from django.template import engines
from django.template.backends.django import DjangoTemplates

from assets import bundles
from assets.checks_pageload import check_page_load
from assets.conf import conf

BUNDLE_TAGS = ("css_bundle", "js_bundle", "critical_css", "lazy_css", "lazy_js")
TAG_RE = re.compile(
    r"""\{%\s*(""" + "|".join(BUNDLE_TAGS) + r""")\s+(['"])([^'"]+)\2"""
)
COUNTS = ("LAZY_JS_TIMEOUT", "MAX_AGE", "IMMUTABLE_MAX_AGE", "COMPRESS_MIN_SIZE")


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
    if conf.BROTLI_QUALITY not in range(0, 10):
        errors.append(
            Error(
                "ASSETS_BROTLI_QUALITY must be 0 to 9 for live responses.",
                hint="Brotli 10 and 11 take hundreds of milliseconds per page; 4 or 5 is fast.",
                id="assets.E006",
            )
        )
    if conf.GZIP_LEVEL not in range(1, 10):
        errors.append(Error("ASSETS_GZIP_LEVEL must be 1 to 9.", id="assets.E007"))
    return errors
