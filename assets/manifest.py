"""Where a bundle's files are at request time: the build manifest, or in DEBUG
the source files themselves."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.exceptions import ImproperlyConfigured
from django.templatetags.static import static

from assets import bundles, images
from assets.conf import conf
from assets.storage import MANIFEST_NAME

_cache: dict[str, Any] = {}


@dataclass(frozen=True)
class Asset:
    url: str
    integrity: str | None = None


def clear(**kwargs: Any) -> None:
    """Forget the loaded manifest (after a build, or when settings change)."""
    _cache.clear()


def load() -> dict[str, Any]:
    if "bundles" not in _cache:
        try:
            with staticfiles_storage.open(MANIFEST_NAME) as handle:
                payload = json.loads(handle.read())
                _cache["bundles"] = payload["bundles"]
                _cache["images"] = payload.get("images", {})
        except FileNotFoundError:
            raise ImproperlyConfigured(
                f"{MANIFEST_NAME} is missing from STATIC_ROOT: run collectstatic "
                "with STORAGES['staticfiles'] = assets.storage.BundleStorage, or "
                "set ASSETS_DEBUG = True to use the source files."
            ) from None
    result: dict[str, Any] = _cache["bundles"]
    return result


def _known(bundle: str) -> dict[str, list[str]]:
    try:
        return conf.BUNDLES[bundle]
    except KeyError:
        known = ", ".join(sorted(conf.BUNDLES)) or "none"
        raise ValueError(
            f"Unknown bundle {bundle!r}; ASSETS_BUNDLES has: {known}."
        ) from None


def assets(bundle: str, kind: str) -> list[Asset]:
    """The files to link for one kind ("css" or "js") of a bundle, in order."""
    sources = _known(bundle).get(kind, [])
    if not sources:
        return []
    if conf.DEBUG:
        return [Asset(static(path)) for path in sources]
    entry = load().get(bundle, {}).get(kind)
    if entry is None:
        raise ImproperlyConfigured(
            f"Bundle {bundle!r} is not in {MANIFEST_NAME}: run collectstatic again."
        )
    return [Asset(staticfiles_storage.url(entry["name"]), entry["integrity"])]


def critical_css(bundle: str) -> str:
    """The bundle's critical CSS, ready to inline ('' when it has none)."""
    sources = _known(bundle).get("critical", [])
    if not sources and bundle not in conf.CRITICAL_PAGES:
        return ""
    if conf.DEBUG:
        return bundles.build(bundle, "critical", _read_source, static)
    text: str = load().get(bundle, {}).get("critical", "")
    return text


@dataclass(frozen=True)
class Picture:
    """A raster image's size and, per MIME type, its ``srcset`` candidates."""

    width: int
    height: int
    sources: tuple[tuple[str, tuple[tuple[str, int], ...]], ...]


def picture(path: str) -> Picture | None:
    """The responsive variants of the image at ``path`` (None in DEBUG, for
    images that have none, or when the build made none)."""
    if conf.DEBUG or not images.is_raster(path):
        return None
    load()
    entry = _cache["images"].get(path)
    if not entry or not entry["variants"]:
        return None
    sources = tuple(
        (
            images.MIME[fmt],
            tuple(
                (staticfiles_storage.url(name), width)
                for width, name in entry["variants"][fmt]
            ),
        )
        for fmt in images.MIME
        if fmt in entry["variants"]
    )
    return Picture(entry["width"], entry["height"], sources)


def _read_source(path: str) -> str:
    found = finders.find(path)
    if not isinstance(found, str):
        raise ImproperlyConfigured(
            f"ASSETS_BUNDLES lists {path!r}, which no finder finds."
        )
    with open(found, encoding="utf-8") as handle:
        return handle.read()
