"""Responsive variants of raster images, made once at collectstatic.

Each PNG or JPEG gets an AVIF and a WebP copy at every width of
``ASSETS_IMAGE_WIDTHS`` narrower than itself, plus one at its own width
(never upscaled). Encoder settings are fixed and AVIF runs on one thread, so
the same source gives the same bytes on every build; the variants are then
hashed by the manifest storage like any other file (cached for a year,
``immutable``). Without AVIF in the installed Pillow, AVIF is skipped and the
build says so once.
"""

from __future__ import annotations

import hashlib
import io
import logging
import posixpath
from collections.abc import Iterator
from dataclasses import dataclass

from PIL import Image, features

from assets.conf import conf

logger = logging.getLogger(__name__)

RASTER = (".png", ".jpg", ".jpeg")
MIME = {"avif": "image/avif", "webp": "image/webp"}
# Encoder settings: visually lossless for charts and photos at a fraction of
# the PNG's bytes; changing them changes every variant's hash.
OPTIONS = {
    "avif": {"quality": 60, "speed": 6, "max_threads": 1},
    "webp": {"quality": 80, "method": 6},
}


@dataclass(frozen=True)
class Variant:
    name: str
    format: str
    width: int
    data: bytes


def is_raster(path: str) -> bool:
    return path.lower().endswith(RASTER)


def variant_name(path: str, width: int, fmt: str) -> str:
    """``img/a.png`` at 400 px in AVIF is ``img/a.400w.avif``."""
    stem, _ = posixpath.splitext(path)
    return f"{stem}.{width}w.{fmt}"


def formats() -> list[str]:
    """The configured formats this Pillow can write."""
    usable = []
    for fmt in conf.IMAGE_FORMATS:
        if features.check(fmt):
            usable.append(fmt)
        else:
            logger.warning(
                "Responsive images: no %s variants (the installed Pillow cannot "
                "write %s).",
                fmt.upper(),
                fmt.upper(),
            )
    return usable


def widths(original: int) -> list[int]:
    return sorted({w for w in conf.IMAGE_WIDTHS if w < original} | {original})


def source_digest(data: bytes) -> str:
    """What a variant depends on: the source's bytes and the encoder settings."""
    digest = hashlib.sha256(data)
    digest.update(repr(sorted(OPTIONS.items())).encode())
    return digest.hexdigest()


def size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        return image.size


def variants(path: str, data: bytes, fmts: list[str]) -> Iterator[Variant]:
    """Every variant of the image at ``path`` whose bytes are ``data``."""
    with Image.open(io.BytesIO(data)) as source:
        source.load()
        mode = (
            "RGBA"
            if "A" in source.getbands() or "transparency" in source.info
            else "RGB"
        )
        image = source.convert(mode)
    for width in widths(image.width):
        height = max(1, round(image.height * width / image.width))
        resized = (
            image
            if width == image.width
            else image.resize((width, height), Image.Resampling.LANCZOS)
        )
        for fmt in fmts:
            out = io.BytesIO()
            resized.save(out, format=fmt.upper(), **OPTIONS[fmt])
            yield Variant(variant_name(path, width, fmt), fmt, width, out.getvalue())
