"""The collectstatic step: bundles built, hashed and precompressed once.

``BundleStorage`` extends whitenoise's ``CompressedManifestStaticFilesStorage``:
before Django hashes the collected files it writes every bundle of
``ASSETS_BUNDLES`` into ``STATIC_ROOT`` (so the bundles are hashed, get their
``url()``s rewritten and are compressed like any other file), and afterwards it
writes ``assets.json``: each bundle's hashed path, its SRI digest and the
inlinable critical CSS (extracted in a browser by ``assets.extract`` where it
can be), and each raster image's size and responsive variants
(``assets.images``, written before hashing like the bundles). Nothing is
written at request time.

Compression (``assets.precompress``) adds a ``.zst`` to whitenoise's ``.br``
and ``.gz``; the last step builds the ``dcz`` dictionary (``assets.dictionary``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Callable, Iterator
from typing import Any

from django.core.files.base import ContentFile
from whitenoise.storage import CompressedManifestStaticFilesStorage

from assets import bundles, dictionary, extract, images
from assets.conf import conf
from assets.precompress import SUFFIXES, ZstdCompressor

MANIFEST_NAME = "assets.json"
Processed = tuple[str, str | None, Any]


def integrity(data: bytes) -> str:
    """The Subresource Integrity value of ``data``."""
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


def absolute_static_url(base_url: str) -> Any:
    return lambda name: base_url + name


class BundleStorage(CompressedManifestStaticFilesStorage):  # type: ignore[misc]
    def post_process(
        self, paths: dict[str, tuple[Any, str]], dry_run: bool = False, **options: Any
    ) -> Iterator[Processed]:
        if dry_run:
            yield from super().post_process(paths, dry_run=dry_run, **options)
            return
        previous = self._previous_manifest()
        dictionary.suspend()
        built = self._write_bundles(paths)
        pictures = self._write_images(paths, previous.get("images", {}))
        self._manifest_inputs = (built, pictures, previous.get("bundles", {}))
        self._finish_manifest: Callable[[], None] | None = None
        yield from super().post_process(paths, dry_run=dry_run, **options)
        self._manifest_finisher()()
        dictionary.write(self)  # renders the pages against the manifest just written

    def _manifest_finisher(self) -> Callable[[], None]:
        if self._finish_manifest is None:  # nothing was compressed
            self._start_manifest()
        assert self._finish_manifest is not None
        return self._finish_manifest

    def _write_bundles(
        self, paths: dict[str, tuple[Any, str]]
    ) -> dict[str, dict[str, str]]:
        def read(path: str) -> str:
            storage, source = paths[path]
            with storage.open(source) as handle:
                return str(handle.read().decode("utf-8"))

        bundles.check_sources(conf.BUNDLES, paths.__contains__, read)

        built: dict[str, dict[str, str]] = {}
        for bundle, kinds in conf.BUNDLES.items():
            for kind in bundles.KINDS:
                if not kinds.get(kind):
                    continue
                name = bundles.bundle_name(bundle, kind)
                self._replace(name, bundles.build(bundle, kind, read).encode())
                paths[name] = (self, name)
                built.setdefault(bundle, {})[kind] = name
        return built

    def _write_images(
        self, paths: dict[str, tuple[Any, str]], previous: dict[str, Any]
    ) -> dict[str, Any]:
        """AVIF/WebP variants of each raster image, recorded for the tags."""
        fmts: list[str] | None = None
        entries: dict[str, Any] = {}
        for path in sorted(p for p in paths if images.is_raster(p)):
            storage, source = paths[path]
            with storage.open(source) as handle:
                data = handle.read()
            digest = images.source_digest(data)
            entry = previous.get(path, {})
            names = [
                n
                for variants in entry.get("variants", {}).values()
                for _, n in variants
            ]
            if entry.get("digest") != digest or not all(map(self.exists, names)):
                if fmts is None:
                    fmts = images.formats()
                width, height = images.size(data)
                entry = {
                    "digest": digest,
                    "width": width,
                    "height": height,
                    "variants": {},
                }
                for variant in images.variants(path, data, fmts):
                    self._replace(variant.name, variant.data)
                    entry["variants"].setdefault(variant.format, []).append(
                        [variant.width, variant.name]
                    )
            for variants in entry["variants"].values():
                for _, name in variants:
                    paths[name] = (self, name)
            entries[path] = entry
        return entries

    def _replace(self, name: str, data: bytes) -> None:
        if self.exists(name):
            with self.open(name) as handle:
                if handle.read() == data:
                    return  # untouched, so its compressed variants stay valid
            self.delete(name)
        self._save(name, ContentFile(data))

    def _start_manifest(self) -> None:
        """Once every file is hashed: the manifest, and the browser step
        started (it runs while the files are compressed)."""
        built, pictures, previous = self._manifest_inputs
        manifest: dict[str, dict[str, Any]] = {}
        for bundle, kinds in built.items():
            entry: dict[str, Any] = {}
            for kind, name in kinds.items():
                hashed = self.stored_name(name)
                with self.open(hashed) as handle:
                    data = handle.read()
                if kind == "critical":
                    # Inlined into pages: url()s must be absolute, not relative
                    # to the bundle directory.
                    entry[kind] = bundles.rebase_css(
                        data.decode(),
                        hashed,
                        absolute_static_url(self.base_url or "/"),
                    )
                else:
                    entry[kind] = {
                        "name": name,
                        "path": hashed,
                        "integrity": integrity(data),
                    }
            manifest[bundle] = entry

        def write() -> None:
            payload = json.dumps(
                {"version": 1, "bundles": manifest, "images": pictures},
                indent=1,
                sort_keys=True,
            )
            self._replace(MANIFEST_NAME, payload.encode())

        # Critical CSS extracted in a browser (it reads the manifest just written).
        wait = extract.start(self, manifest, previous, write)

        def finish() -> None:
            wait()
            write()

        self._finish_manifest = finish

    def _previous_manifest(self) -> dict[str, Any]:
        """The last build's ``assets.json``: what it extracted and encoded."""
        if not self.exists(MANIFEST_NAME):
            return {}
        with self.open(MANIFEST_NAME) as handle:
            try:
                loaded: dict[str, Any] = json.load(handle)
            except ValueError:
                return {}
        return loaded

    def create_compressor(self, **kwargs: Any) -> ZstdCompressor:
        return ZstdCompressor(**kwargs)

    def compress_files(self, paths: Any) -> Iterator[tuple[str, str]]:
        # Every file is hashed by now: the browser step can run meanwhile.
        if getattr(self, "_finish_manifest", False) is None:
            self._start_manifest()
        # Only what changed since the last build is compressed again.
        hashed = set(self.hashed_files.values())
        stale = [name for name in paths if not self._compressed(name, name in hashed)]
        yield from super().compress_files(stale)

    def _compressed(self, name: str, content_addressed: bool) -> bool:
        source = self.path(name)
        variants = [
            source + suffix for suffix in SUFFIXES if os.path.exists(source + suffix)
        ]
        if not variants or source + ".zst" not in variants:
            return False  # never compressed, or by a build without zstd
        if content_addressed:
            # The name carries the content's hash: same name, same bytes.
            return True
        mtime = os.stat(source).st_mtime
        # whitenoise gives each variant the mtime of the file it was made from.
        return all(os.stat(variant).st_mtime == mtime for variant in variants)
