"""The profile engines, one profile at a time per process.

Two engines: ``sampling`` (the default, ``perfsite_profiling.sampler``: a
thread reads the request's stack every millisecond, so the cost does not grow
with the number of calls) and ``cprofile`` (exact call counts, 2-3x the CPU
of the request). Both keep one profile per process at a time behind a
non-blocking lock, so a busy profiler means "skip and count".

On Python 3.12+ cProfile is process-wide: a second ``enable()`` raises
``ValueError: Another profiling tool is already active`` (raised too when
another tool such as a debugger holds the hook), and a profile also records
other threads. The ValueError is caught and counted as busy; the sampling
engine hooks nothing and cannot meet it.
"""

from __future__ import annotations

import cProfile
import marshal
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from perfsite_profiling import stacks as stacks_module
from perfsite_profiling.conf import ENGINES
from perfsite_profiling.sampler import sampler

_LOCK = threading.Lock()
_OWN_DIR = str(Path(__file__).parent)


class Busy(Exception):
    """Another profile is running in this process."""


@dataclass
class Running:
    engine: str
    cprofile: cProfile.Profile | None = None


@dataclass
class Result:
    engine: str
    functions: list[dict[str, Any]]  # cprofile only (derived from stacks else)
    prof: bytes  # cprofile only (derived from stacks else)
    stacks: dict[str, Any] | None  # sampled stacks (sampling engine only)


def start(
    engine: str = "sampling",
    threads: frozenset[int] = frozenset(),
    interval: float = 0.001,
) -> Running:
    """A running profile of ``threads`` (default: the calling thread), or
    ``Busy``; the caller must ``stop()`` it."""
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of: {', '.join(ENGINES)}")
    if not _LOCK.acquire(blocking=False):
        raise Busy
    if engine == "sampling":
        sampler.begin(threads | {threading.get_ident()}, interval)
        return Running(engine)
    profile = cProfile.Profile()
    try:
        profile.enable()
    except ValueError:
        _LOCK.release()
        raise Busy from None
    return Running(engine, profile)


def stop(running: Running, top: int = 30) -> Result:
    try:
        if running.cprofile is None:
            session = sampler.end()
        else:
            running.cprofile.disable()
    finally:
        _LOCK.release()
    if running.cprofile is None:
        # Only the stacks are kept: the table and the .prof are derived from
        # them when a page or a download asks, not on the request's time.
        return Result(running.engine, [], b"", stacks_module.encode(session))
    stats = raw_stats(running.cprofile)
    return Result(running.engine, top_functions(stats, top), dump(stats), None)


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


def top_functions(stats: Stats, limit: int) -> list[dict[str, Any]]:
    """Functions by self time and by cumulative time (union of both tops)."""
    rows: list[dict[str, Any]] = [
        {
            "function": stacks_module.label(key),
            "calls": nc,
            "primitive_calls": cc,
            "self_ms": round(tt * 1000, 3),
            "cumulative_ms": round(ct * 1000, 3),
        }
        for key, (cc, nc, tt, ct, _callers) in stats.items()
        if not _own(key)
    ]
    return stacks_module.union_of_tops(rows, limit)
