"""zstd from the standard library (``compression.zstd``, Python 3.14+) or its backport."""

from __future__ import annotations

import sys

if sys.version_info >= (3, 14):  # pragma: no cover - CI's interpreters are 3.11-3.13
    from compression import zstd
else:
    from backports import zstd

__all__ = ["zstd"]
