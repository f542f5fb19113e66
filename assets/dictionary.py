"""The compression dictionary for ``dcz`` (RFC 9842): built once, served static.

At ``collectstatic`` the templates in ``ASSETS_DICTIONARY_TEMPLATES`` are
rendered with an empty context (no request, no user, no database rows), and
the result is written as a content-hashed static file. Pages link it with
``<link rel="compression-dictionary">``; the static files middleware serves it
with ``Use-As-Dictionary`` and a year of ``immutable`` caching. Once the
browser holds it, its next navigation to a matching URL sends the SHA-256 in
``Available-Dictionary`` and the compression middleware answers ``dcz``: the
page's zstd frame compressed against the dictionary, which already holds the
layout, the inlined critical CSS and every hashed asset URL, so little more
than the page's own text is sent.

Why templates and not a previous response of the route: the dictionary is
then the same for every visitor and every process (a static file a CDN can
cache, no server-side store of past responses to keep in step across hosts),
it changes only with a deploy, and it cannot hold anyone's content: an empty
context renders no CSRF token, no user and no database row (BREACH).
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.files.base import ContentFile
from django.template.loader import get_template, render_to_string

from assets import manifest
from assets.conf import conf
from assets.zstdlib import zstd

logger = logging.getLogger(__name__)

INDEX_NAME = "dictionary.json"
# RFC 9842 section 4: dcz = this magic number, the dictionary's SHA-256, a zstd frame.
DCZ_MAGIC = bytes.fromhex("5e2a4d1820000000")
DCZ = "dcz"


def dcz_header(digest: bytes) -> bytes:
    """The 40 bytes that open a ``dcz`` body."""
    return DCZ_MAGIC + digest


@dataclass(frozen=True)
class Dictionary:
    name: str  # inside STATIC_ROOT
    digest: bytes  # SHA-256 of the file's bytes
    match: str  # URL pattern of the pages it applies to
    data: bytes = field(repr=False)

    @cached_property
    def zstd_dict(self) -> zstd.ZstdDict:
        # Raw content: zstd refers back into these bytes as if they preceded the page.
        return zstd.ZstdDict(self.data, is_raw=True)

    @property
    def url(self) -> str:
        """Same-origin path: a dictionary only applies to its own origin's URLs."""
        return urlsplit(str(settings.STATIC_URL)).path + self.name

    @property
    def use_as_dictionary(self) -> str:
        """The ``Use-As-Dictionary`` value (a structured-field dictionary)."""
        return f'match="{self.match}", match-dest=("document")'


def content() -> bytes:
    """The dictionary's bytes: each configured template rendered with no context."""
    parts: list[str] = []
    for name in conf.DICTIONARY_TEMPLATES:
        try:
            parts.append(render_to_string(name, {}))
        except Exception as exc:  # a template that needs a context or a database
            logger.warning(
                "compression dictionary: %s does not render without a context "
                "(%s); using its source",
                name,
                exc,
            )
            parts.append(get_template(name).template.source)  # type: ignore[attr-defined]
    return "\n".join(parts).encode()


def suspend() -> None:
    """No dictionary link in what a build renders until ``write`` has run.

    The critical CSS step renders the pages too; with the previous build's
    link in them, a rebuild would see other inputs than the first build did.
    """
    _loaded[str(settings.STATIC_ROOT)] = None


def write(storage: Any) -> Dictionary | None:
    """Build the dictionary into ``storage`` (a collectstatic step), or retire it."""
    _loaded.clear()
    if not conf.DICTIONARY_TEMPLATES:
        if storage.exists(INDEX_NAME):
            storage.delete(INDEX_NAME)
        return None
    manifest.clear()  # render against the manifest just written
    # No link to an older dictionary in this one (it cannot name itself).
    _loaded[str(settings.STATIC_ROOT)] = None
    data = content()
    _loaded.clear()
    digest = hashlib.sha256(data).digest()
    # The name changes with the match pattern too: browsers keep the file and
    # its Use-As-Dictionary header for a year.
    version = hashlib.sha256(conf.DICTIONARY_MATCH.encode() + data).hexdigest()
    name = f"{conf.OUTPUT_DIR}/dictionary.{version[:12]}.txt"
    if not storage.exists(name):
        storage._save(name, ContentFile(data))
        list(storage.compress_files([name]))
    index = {
        "version": 1,
        "name": name,
        "sha256": digest.hex(),
        "match": conf.DICTIONARY_MATCH,
    }
    storage._replace(INDEX_NAME, json.dumps(index, indent=1, sort_keys=True).encode())
    logger.info("compression dictionary: %s, %d bytes", name, len(data))
    return Dictionary(name, digest, conf.DICTIONARY_MATCH, data)


_loaded: dict[str, Dictionary | None] = {}
_lock = threading.Lock()


def current() -> Dictionary | None:
    """The dictionary of the collected static files, if one was built.

    Read once per ``STATIC_ROOT`` and process: like the static files
    themselves, a new build is picked up by the next start.
    """
    root = str(settings.STATIC_ROOT)
    if root in _loaded:
        return _loaded[root]
    with _lock:
        _loaded[root] = _read()
    return _loaded[root]


def clear(**kwargs: Any) -> None:
    _loaded.clear()


def _read() -> Dictionary | None:
    try:
        with staticfiles_storage.open(INDEX_NAME) as handle:
            index = json.loads(handle.read())
        with staticfiles_storage.open(index["name"]) as handle:
            data = handle.read()
    except (FileNotFoundError, KeyError, ValueError):
        return None
    digest = hashlib.sha256(data).digest()
    if digest.hex() != index.get("sha256"):
        logger.warning(
            "compression dictionary: %s does not match its hash", index["name"]
        )
        return None
    return Dictionary(index["name"], digest, str(index.get("match", "/*")), data)
