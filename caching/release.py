"""The default ``CACHING_RELEASE``: a digest of what a deploy changes.

Computed once per process (a deploy starts new processes) from:

- the static files manifest's hash, when ``django.contrib.staticfiles`` is
  installed, ``STATIC_URL`` is set and the storage keeps a manifest
  (``ManifestStaticFilesStorage`` and its subclasses): any changed CSS, JS or
  image. A project without static files (an API) leaves this part out;
- the installed versions of the distribution that holds ``ROOT_URLCONF``'s
  package (the project) and of Django;
- the source of every template in the template directories Django's own
  autoreloader watches (the project's ``DIRS`` and each app's ``templates/``,
  not Django's own, which its version covers).

Python code that changes without a version bump is not covered: set
``CACHING_RELEASE`` to the deployed commit for that.
"""

from __future__ import annotations

import functools
import hashlib
from importlib import metadata
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

# Settings whose change changes what the default digests.
_INPUTS = frozenset(
    {
        "CACHING_RELEASE",
        "TEMPLATES",
        "STORAGES",
        "STATIC_ROOT",
        "STATIC_URL",
        "INSTALLED_APPS",
        "ROOT_URLCONF",
    }
)


@functools.cache
def default_release() -> str:
    digest = hashlib.blake2b(digest_size=6)
    for part in _parts():
        digest.update(part.encode() + b"\0")
    for path, content in _template_sources():
        digest.update(path.encode() + b"\0" + content + b"\0")
    return digest.hexdigest()


def _parts() -> list[str]:
    parts = [f"django={_version('django')}"]
    top = str(getattr(settings, "ROOT_URLCONF", "") or "").split(".")[0]
    for name in metadata.packages_distributions().get(top, []) if top else []:
        parts.append(f"{name}={_version(name)}")
    parts.append(f"static={_manifest_hash()}")
    return parts


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return ""


def _manifest_hash() -> str:
    if not getattr(settings, "STATIC_URL", None) or not apps.is_installed(
        "django.contrib.staticfiles"
    ):
        return ""  # no static files: nothing of theirs to follow
    from django.contrib.staticfiles.storage import staticfiles_storage

    return str(getattr(staticfiles_storage, "manifest_hash", "") or "")


def _template_sources() -> list[tuple[str, bytes]]:
    from django.template.autoreload import get_template_directories

    found: list[tuple[str, bytes]] = []
    for directory in sorted(get_template_directories()):
        root = Path(directory)
        if not root.is_dir():
            continue
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            found.append((str(path.relative_to(root)), path.read_bytes()))
    return found


@receiver(setting_changed, dispatch_uid="caching.release.reset")
def _reset(setting: str, **kwargs: Any) -> None:
    if setting in _INPUTS:
        default_release.cache_clear()
