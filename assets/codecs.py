"""Streaming gzip, brotli and zstd encoders: one per response, flushed per chunk.

Plain objects over bytes. ``Encoder.chunk()`` returns everything the client
can decode so far (a sync flush), so a streamed page's ``<head>`` reaches the
browser without waiting for the rest; ``finish()`` returns the trailer.
"""

from __future__ import annotations

import secrets
import struct
import zlib
from typing import Protocol

import brotli

from assets.zstdlib import zstd

# BREACH: up to this many bytes of random-length padding in the gzip header
# (Django's "Heal The Breach" figure), so the size no longer leaks content.
MAX_PADDING = 100


class Encoder(Protocol):
    def compress(self, data: bytes) -> bytes: ...

    def chunk(self, data: bytes) -> bytes: ...

    def finish(self) -> bytes: ...


class GzipEncoder:
    """RFC 1952 gzip with an optional random-length file name as padding."""

    def __init__(self, level: int, pad: bool = False) -> None:
        self._deflate = zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS)
        self._crc = 0
        self._size = 0
        name = b"a" * secrets.randbelow(MAX_PADDING) if pad else b""
        flags = 0x08 if name else 0  # FNAME
        # ID1 ID2 CM FLG MTIME(0: reproducible) XFL OS(255: unknown)
        self._header: bytes | None = struct.pack(
            "<BBBBIBB", 0x1F, 0x8B, 8, flags, 0, 0, 255
        ) + (name + b"\0" if name else b"")

    def _start(self) -> bytes:
        header, self._header = self._header or b"", None
        return header

    def _feed(self, data: bytes) -> bytes:
        self._crc = zlib.crc32(data, self._crc)
        self._size += len(data)
        return self._start() + self._deflate.compress(data)

    def compress(self, data: bytes) -> bytes:
        """All of ``data`` in one go: no intermediate flush, the smallest output."""
        return self._feed(data) + self.finish()

    def chunk(self, data: bytes) -> bytes:
        return self._feed(data) + self._deflate.flush(zlib.Z_SYNC_FLUSH)

    def finish(self) -> bytes:
        tail = self._deflate.flush(zlib.Z_FINISH)
        return (
            self._start()
            + tail
            + struct.pack("<II", self._crc, self._size & 0xFFFFFFFF)
        )


class BrotliEncoder:
    def __init__(self, quality: int) -> None:
        self._brotli = brotli.Compressor(quality=quality)

    def compress(self, data: bytes) -> bytes:
        return bytes(self._brotli.process(data)) + self.finish()

    def chunk(self, data: bytes) -> bytes:
        return bytes(self._brotli.process(data) + self._brotli.flush())

    def finish(self) -> bytes:
        return bytes(self._brotli.finish())


class ZstdEncoder:
    """A zstd frame, optionally against a raw-content dictionary, after ``prefix``.

    ``prefix`` is written before the frame: the ``dcz`` header (RFC 9842) when
    the frame uses a dictionary. Windows stay at most 8 MB at levels up to 19,
    the largest a browser must accept (RFC 9659).
    """

    def __init__(
        self, level: int, dictionary: zstd.ZstdDict | None = None, prefix: bytes = b""
    ) -> None:
        self._level = level
        self._dictionary = dictionary
        self._prefix: bytes | None = prefix
        self._zstd = zstd.ZstdCompressor(level=level, zstd_dict=dictionary)

    def _start(self) -> bytes:
        prefix, self._prefix = self._prefix or b"", None
        return prefix

    def compress(self, data: bytes) -> bytes:
        # One shot: the frame records the content size, so the window is no
        # bigger than the body.
        return self._start() + zstd.compress(
            data, level=self._level, zstd_dict=self._dictionary
        )

    def chunk(self, data: bytes) -> bytes:
        return self._start() + self._zstd.compress(
            data, mode=zstd.ZstdCompressor.FLUSH_BLOCK
        )

    def finish(self) -> bytes:
        return self._start() + self._zstd.flush(mode=zstd.ZstdCompressor.FLUSH_FRAME)
