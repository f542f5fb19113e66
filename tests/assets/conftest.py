"""Fixtures: a production build of the static files, settings that use it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import override_settings

from assets import manifest

# Accept-Encoding -> the coding a server offering br and gzip must answer with.
NEGOTIATION_MATRIX = [
    ("br", "br"),
    ("gzip", "gzip"),
    ("br;q=0", None),
    ("br;q=0, gzip", "gzip"),
    ("gzip;q=1, br;q=0.5", "gzip"),
    ("*", "br"),
    ("*;q=0, identity", None),
    ("identity", None),
    (None, None),
]

BUNDLE_STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "assets.storage.BundleStorage"},
}


def build(root: Path, **settings: Any) -> Path:
    """collectstatic into ``root`` with the bundle storage (and ``settings``).

    As in production, ``ASSETS_DEBUG`` is off: the dcz dictionary is rendered
    the way pages will be.
    """
    settings = {"ASSETS_DEBUG": False, **settings}
    with override_settings(STATIC_ROOT=root, STORAGES=BUNDLE_STORAGES, **settings):
        call_command("collectstatic", interactive=False, verbosity=0)
    manifest.clear()
    return root


def production(root: Path, **settings: Any) -> Any:
    """Settings that serve ``root`` as a production site would."""
    return override_settings(
        STATIC_ROOT=root, STORAGES=BUNDLE_STORAGES, ASSETS_DEBUG=False, **settings
    )


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's static files, built once per session (tests must not modify them)."""
    return build(tmp_path_factory.mktemp("static"))


@pytest.fixture
def prod(built: Path) -> Iterator[Path]:
    with production(built):
        manifest.clear()
        yield built
    manifest.clear()


def hashed(root: Path, name: str) -> str:
    paths: dict[str, str] = json.loads((root / "staticfiles.json").read_text())["paths"]
    return paths[name]
