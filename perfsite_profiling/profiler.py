"""cProfile, one at a time per process, and what is kept of a profile.

On Python 3.12+ cProfile is process-wide: a second ``enable()`` in another
thread raises ``ValueError: Another profiling tool is already active``, and a
profile also records other threads. A non-blocking lock makes a busy profiler
mean "skip and count"; the ValueError (raised too when another tool such as a
debugger holds the hook) is caught and counted the same way.
"""

from __future__ import annotations

import cProfile
import marshal
import threading
from pathlib import Path
from typing import Any

_LOCK = threading.Lock()
_OWN_DIR = str(Path(__file__).parent)


class Busy(Exception):
    """Another profile is running in this process."""


def start() -> cProfile.Profile:
    """A running profiler, or ``Busy``; the caller must ``stop()`` it."""
    if not _LOCK.acquire(blocking=False):
        raise Busy
    profile = cProfile.Profile()
    try:
        profile.enable()
    except ValueError:
        _LOCK.release()
        raise Busy from None
    return profile


def stop(profile: cProfile.Profile) -> None:
    try:
        profile.disable()
    finally:
        _LOCK.release()


Stats = dict[tuple[str, int, str], tuple[int, int, float, float, Any]]


def raw_stats(profile: cProfile.Profile) -> Stats:
    profile.create_stats()
    stats: Stats = dict(profile.stats)
    return stats


def dump(stats: Stats) -> bytes:
    """The ``.prof`` format that ``pstats.Stats(path)`` and snakeviz read."""
    return marshal.dumps(stats)


def _own(key: tuple[str, int, str]) -> bool:
    filename, _, name = key
    return filename.startswith(_OWN_DIR) or "_lsprof.Profiler" in name


def label(key: tuple[str, int, str]) -> str:
    filename, line, name = key
    if filename == "~":
        return name
    return f"{name} ({filename}:{line})"


def top_functions(stats: Stats, limit: int) -> list[dict[str, Any]]:
    """Functions by self time and by cumulative time (union of both tops)."""
    rows: list[dict[str, Any]] = [
        {
            "function": label(key),
            "calls": nc,
            "primitive_calls": cc,
            "self_ms": round(tt * 1000, 3),
            "cumulative_ms": round(ct * 1000, 3),
        }
        for key, (cc, nc, tt, ct, _callers) in stats.items()
        if not _own(key)
    ]
    by_self = sorted(rows, key=lambda r: r["self_ms"], reverse=True)[:limit]
    by_cumulative = sorted(rows, key=lambda r: r["cumulative_ms"], reverse=True)[:limit]
    chosen = {id(r): r for r in by_self + by_cumulative}
    return sorted(chosen.values(), key=lambda r: r["self_ms"], reverse=True)
