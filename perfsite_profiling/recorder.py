"""Per-request state, held in a ContextVar so that threads and tasks never mix.

``sync_to_async`` copies the context, so ORM queries that an async view runs in
a worker thread still find the request's recorder.
"""

from __future__ import annotations

import time
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any


def clock() -> int:
    """Nanoseconds; tests replace ``perfsite_profiling.recorder.clock`` to inject time."""
    return time.perf_counter_ns()


@dataclass
class QueryGroup:
    """Queries of one request that share a fingerprint and a call site."""

    fingerprint: str
    site: str
    count: int = 0
    total_ns: int = 0
    slow: int = 0


@dataclass
class Recorder:
    endpoint: str = ""
    started_ns: int = 0
    db_ns: int = 0
    queries: int = 0
    cache_ns: int = 0
    cache_hits: int = 0
    cache_misses: int = 0
    slow_queries: int = 0
    groups: dict[tuple[str, str], QueryGroup] = field(default_factory=dict)
    # Depth of nested cache calls: get_or_set calls get; only the outer one counts.
    cache_depth: int = 0
    staff: bool = False
    # Set by the views of this app, which are not measured or profiled.
    exempt: bool = False
    profile: Any = None  # a running perfsite_profiling.profiler.Running
    loop_thread: int = 0  # the event loop's thread, in async mode
    reason: str = ""
    profile_ns: int = 0
    profile_payload: dict[str, Any] | None = None
    profiles_skipped: int = 0
    flush_due: bool = False

    def add_query(self, fingerprint: str, site: str, ns: int, slow: bool) -> None:
        self.queries += 1
        self.db_ns += ns
        key = (fingerprint, site)
        group = self.groups.get(key)
        if group is None:
            group = self.groups[key] = QueryGroup(fingerprint, site)
        group.count += 1
        group.total_ns += ns
        if slow:
            group.slow += 1
            self.slow_queries += 1

    def n_plus_one(self, threshold: int, floor_ms: float) -> list[QueryGroup]:
        floor_ns = floor_ms * 1_000_000
        return [
            g
            for g in self.groups.values()
            if g.count >= threshold and g.total_ns >= floor_ns
        ]


current: ContextVar[Recorder | None] = ContextVar("profiling_recorder", default=None)
