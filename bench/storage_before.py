"""The collectstatic step as it was before zstd and dcz, for bench/assets.py.

``BundleStorage`` with whitenoise's own compressor (``.br`` and ``.gz`` only);
run with ``ASSETS_DICTIONARY_TEMPLATES = []`` so no dictionary is built.
"""

from __future__ import annotations

from typing import Any

from whitenoise.compress import Compressor

from assets.storage import BundleStorage


class BrotliGzipStorage(BundleStorage):
    def create_compressor(self, **kwargs: Any) -> Any:
        return Compressor(**kwargs)
