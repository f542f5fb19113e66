"""whitenoise's collectstatic compressor, with a ``.zst`` variant next to ``.br`` and ``.gz``.

zstd level 19 keeps the window at 8 MB at most, what browsers must accept
(RFC 9659; Chromium refuses larger windows), and the frame records the
content size. Like whitenoise's own variants, a ``.zst`` is kept only when
it saves at least 5 %, and carries the mtime of the file it was made from.
"""

from __future__ import annotations

import os
from typing import Any

from whitenoise.compress import Compressor

from assets.zstdlib import zstd

STATIC_ZSTD_LEVEL = 19
SUFFIXES = (".br", ".gz", ".zst")


class ZstdCompressor(Compressor):  # type: ignore[misc]
    def compress(self, path: str) -> list[str]:
        filenames: list[str] = list(super().compress(path))
        if not filenames:
            return filenames  # brotli did not pay: zstd will not either
        with open(path, "rb") as handle:
            stat_result = os.fstat(handle.fileno())
            data = handle.read()
        compressed = zstd.compress(data, level=STATIC_ZSTD_LEVEL)
        if self.is_compressed_effectively("Zstd", path, len(data), compressed):
            filenames.append(self.write_data(path, compressed, ".zst", stat_result))
        return filenames


def is_compressed_variant(path: str, stat_cache: dict[str, Any] | None = None) -> bool:
    """Whether ``path`` is a precompressed copy of another collected file."""
    for suffix in SUFFIXES:
        if path.endswith(suffix):
            original = path[: -len(suffix)]
            if stat_cache is None:
                return os.path.isfile(original)
            return original in stat_cache
    return False
