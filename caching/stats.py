"""Per-function statistics: counted in-process, flushed in batches.

A call only bumps a number in a dict. At most every
``CACHING_STATS_FLUSH_INTERVAL`` seconds a process adds its counts to Redis
hashes in one pipeline, so the figures add up across worker processes without
a network write per call. Without Redis the counts stay in the process, and
go out with its first flush once Redis is back.

Counts are not left behind: a daemon thread flushes what an idle process
holds once the interval has passed, and the process flushes at exit (a
gunicorn worker's graceful stop runs the interpreter's exit handlers).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import Any

from django.core.cache import caches

from caching.conf import conf
from caching.health import reporting
from caching.keys import STATS_NAMES_KEY, stats_key
from perfsite_conf.background import Flusher, on_event_loop

FIELDS = ("hits", "misses", "stale", "fallback", "errors", "lock_waits", "compute_ms")
STATS_TTL = 7 * 24 * 60 * 60  # seconds; figures of functions no longer called fade out
SNAPSHOT_WAIT = 5.0  # seconds a snapshot waits for a flush under way on another thread

_lock = threading.Lock()
_flushing = threading.Lock()
_pending: dict[str, dict[str, float]] = {}
_kept: dict[str, dict[str, float]] = {}  # flushed counts when there is no Redis
_next_flush = 0.0  # clock() value; the first record() flushes and sets it
clock: Callable[[], float] = time.monotonic


def record(name: str, field: str, amount: float = 1) -> None:
    with _lock:
        counters = _pending.setdefault(name, dict.fromkeys(FIELDS, 0.0))
        counters[field] += amount
        due = clock() >= _next_flush
    if not _flusher.started:
        _flusher.start()
    if due:
        if on_event_loop():  # never a network write on the loop: the thread's
            _flusher.wake()
        else:
            flush()


def _forked() -> None:
    global _lock, _flushing
    _lock = threading.Lock()  # another thread may have held them at the fork
    _flushing = threading.Lock()
    _pending.clear()  # the parent's counts are the parent's to flush
    _kept.clear()


def _redis() -> tuple[Any, str] | None:
    cache = caches["default"]
    backend = reporting(cache)
    client = backend.redis() if backend is not None else None
    return None if client is None else (client, str(cache.key_prefix))


def _hash_key(prefix: str, name: str) -> str:
    return f"{prefix}:{stats_key(name)}"


def flush(wait: float | None = None) -> None:
    """Add this process's counts to Redis (or keep them, without Redis).

    One flush at a time. By default a flush already under way makes this a
    no-op (its counts stay pending for the next), so a request never waits on
    another thread's network write; ``wait`` seconds (at exit) waits for it
    instead, so the process does not end with a batch in flight.
    """
    acquired = (
        _flushing.acquire(timeout=wait) if wait else _flushing.acquire(blocking=False)
    )
    if not acquired:
        return
    try:
        _flush()
    finally:
        _flushing.release()


def _flush() -> None:
    global _next_flush
    # Read here, not per record(): settings access costs more than a count.
    interval = conf.STATS_FLUSH_INTERVAL
    with _lock:
        batch = {name: dict(c) for name, c in _pending.items()}
        _pending.clear()
        _next_flush = clock() + interval
        if not batch and not _kept:
            return
    target = _redis()
    if target is not None:
        # Back on Redis: what was kept during an outage goes out with this batch.
        with _lock:
            for name, counters in _kept.items():
                _add(batch.setdefault(name, dict.fromkeys(FIELDS, 0.0)), counters)
            _kept.clear()
        client, prefix = target
        from caching.errors import REDIS_ERRORS

        try:
            with client.pipeline(transaction=False) as pipe:
                for name, counters in batch.items():
                    key = _hash_key(prefix, name)
                    for field, amount in counters.items():
                        if amount:
                            pipe.hincrbyfloat(key, field, amount)
                    pipe.expire(key, STATS_TTL)
                    pipe.sadd(f"{prefix}:{STATS_NAMES_KEY}", name)
                pipe.expire(f"{prefix}:{STATS_NAMES_KEY}", STATS_TTL)
                pipe.execute()
            return
        except REDIS_ERRORS:
            pass  # keep the counts in this process rather than lose them
    with _lock:
        for name, counters in batch.items():
            _add(_kept.setdefault(name, dict.fromkeys(FIELDS, 0.0)), counters)


def _add(into: dict[str, float], counters: dict[str, float]) -> None:
    for field, amount in counters.items():
        into[field] = into.get(field, 0.0) + float(amount)


def snapshot() -> dict[str, dict[str, float]]:
    """Figures per function: every process's flushed counts plus this one's."""
    flush(wait=SNAPSHOT_WAIT)
    totals: dict[str, dict[str, float]] = {}

    def add(name: str, counters: dict[str, float]) -> None:
        _add(totals.setdefault(name, dict.fromkeys(FIELDS, 0.0)), counters)

    with _lock:
        for name, counters in _kept.items():
            add(name, counters)
    target = _redis()
    if target is not None:
        client, prefix = target
        from caching.errors import REDIS_ERRORS

        try:
            names = sorted(
                n.decode() for n in client.smembers(f"{prefix}:{STATS_NAMES_KEY}")
            )
            with client.pipeline(transaction=False) as pipe:
                for name in names:
                    pipe.hgetall(_hash_key(prefix, name))
                rows = pipe.execute()
            for name, row in zip(names, rows, strict=True):
                add(name, {k.decode(): float(v) for k, v in row.items()})
        except REDIS_ERRORS:
            pass
    return totals


def reset() -> None:
    """Forget this process's counts (tests)."""
    with _lock:
        _pending.clear()
        _kept.clear()


os.register_at_fork(after_in_child=_forked)
_flusher = Flusher(
    "caching-stats-flush",
    flush,
    due=lambda: bool(_pending) and clock() >= _next_flush,
    interval=lambda: conf.STATS_FLUSH_INTERVAL,
    at_exit=lambda: flush(wait=conf.EXIT_WAIT),
)
