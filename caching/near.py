"""The near cache's store: per-process copies of raw Redis values.

A copy is only ever stored if nothing could have made it stale while it was
being read. Every invalidation (a message from Redis, or a write made by this
process) takes a new sequence number; a reader takes the current number
*before* it sends its read (``begin``), and ``put`` refuses the copy when its
key was invalidated, or the store flushed, after that number. So a read that
raced an invalidation never leaves a stale copy behind, whichever of the two
the process saw first.

Copies are served only while ``live`` (the tracking connection is subscribed
and tracking); going live or dead flushes everything, so nothing read before
tracking started, or while it was down, is ever served.
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Final

MISSING: Final = object()
# Keys whose last invalidation is remembered; past this the memory is dropped
# and every read in flight is refused instead (rare, and always safe).
REMEMBERED = 10_000
ENTRY_OVERHEAD = 120  # bytes of bookkeeping counted per copy besides key and value
# seconds between two looks at the pid on the hit path: a fork that skipped
# Python's at-fork hooks (a C-level fork, as uWSGI does by default) is caught
# this long after at most, without a system call on every hit.
PID_CHECK = 0.005


class NearStore:
    def __init__(
        self,
        max_entries: int,
        max_bytes: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.max_value = max_bytes // 16  # one value may not crowd out the rest
        self.clock = clock
        self.live = False
        self.pid = os.getpid()
        self._pid_checked_at = float("-inf")
        # Called when a hit finds itself in another process than the store's.
        self.on_fork: Callable[[], None] = self.after_fork
        # key -> (raw value, expires at on ``clock``, counted bytes)
        self._data: OrderedDict[str, tuple[bytes, float, int]] = OrderedDict()
        self._bytes = 0
        self._seq = 0
        self._horizon = 0  # reads begun before this number are refused
        self._invalidated: dict[str, int] = {}
        self._lock = threading.Lock()
        self.hits = self.fills = self.invalidations = self.flushes = 0

    def __len__(self) -> int:
        return len(self._data)

    @property
    def size(self) -> int:
        """Bytes counted against ``max_bytes``."""
        return self._bytes

    def get(self, key: str) -> object:
        """The raw value of ``key``, or ``MISSING``; takes no lock."""
        item = self._data.get(key)
        if item is None or not self.live:
            return MISSING
        now = self.clock()
        if now - self._pid_checked_at > PID_CHECK:
            self._pid_checked_at = now
            if os.getpid() != self.pid:
                self.on_fork()
                return MISSING
        if item[1] <= now:  # expired in Redis too
            self.invalidate((key,))
            return MISSING
        try:  # noqa: SIM105 - suppress() would cost a context manager per hit
            self._data.move_to_end(key)
        except KeyError:  # invalidated by another thread since: the copy was
            pass  # still valid when it was read above
        self.hits += 1
        return item[0]

    def begin(self) -> int:
        """Call before sending a read whose answer may be stored with ``put``."""
        return self._seq

    def put(self, key: str, raw: bytes, ttl_ms: int, started: int) -> bool:
        """Keep a copy of ``raw`` unless ``key`` changed since ``started``.

        ``ttl_ms`` is Redis's ``PTTL`` read with the value: -1 for no expiry.
        """
        size = len(key) + len(raw) + ENTRY_OVERHEAD
        if size > self.max_value or self.max_entries == 0 or ttl_ms == -2:
            return False
        expires = float("inf") if ttl_ms < 0 else self.clock() + ttl_ms / 1000
        with self._lock:
            if (
                not self.live
                or started < self._horizon
                or self._invalidated.get(key, 0) > started
            ):
                return False
            old = self._data.pop(key, None)
            if old is not None:
                self._bytes -= old[2]
            self._data[key] = (raw, expires, size)
            self._bytes += size
            while len(self._data) > self.max_entries or self._bytes > self.max_bytes:
                _, (_, _, evicted) = self._data.popitem(last=False)
                self._bytes -= evicted
            self.fills += 1
        return True

    def invalidate(self, keys: Iterable[str]) -> None:
        with self._lock:
            self._seq += 1
            for key in keys:
                old = self._data.pop(key, None)
                if old is not None:
                    self._bytes -= old[2]
                self._invalidated[key] = self._seq
            self.invalidations += 1
            if len(self._invalidated) > REMEMBERED:
                self._invalidated.clear()
                self._horizon = self._seq

    def flush(self) -> None:
        """Drop every copy and refuse every read in flight."""
        with self._lock:
            self._flush()

    def set_live(self, live: bool) -> None:
        with self._lock:
            self._flush()
            self.live = live

    def _flush(self) -> None:
        self._seq += 1
        self._horizon = self._seq
        self._data.clear()
        self._invalidated.clear()
        self._bytes = 0
        self.flushes += 1

    def after_fork(self) -> None:
        """In a forked child: a fresh lock (the parent's may be held), no copies."""
        self._lock = threading.Lock()
        self.pid = os.getpid()
        self.set_live(False)

    def stats(self) -> dict[str, int | bool]:
        return {
            "live": self.live,
            "entries": len(self._data),
            "bytes": self._bytes,
            "hits": self.hits,
            "fills": self.fills,
            "invalidations": self.invalidations,
            "flushes": self.flushes,
        }
