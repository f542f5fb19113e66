"""Per-process aggregation, batched flushes and bounded, batched cleanup.

Requests add to an in-memory aggregate; a flush appends one row per endpoint
to ``MetricBatch`` every ``PROFILING_FLUSH_INTERVAL`` seconds or
``PROFILING_FLUSH_REQUESTS`` requests, so nothing is written per request.
Readers sum the rows of a time window, which is what makes the figures right
across processes and hosts.
"""

from __future__ import annotations

import logging
import math
import os
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import DatabaseError, models
from django.utils import timezone

from perfsite_profiling.conf import conf
from perfsite_profiling.models import MetricBatch, Profile

logger = logging.getLogger(__name__)

BATCH = 1000  # rows per DELETE: short locks, never one huge delete
MAX_DURATIONS = 10_000  # per endpoint per flush
MAX_SQL = 20  # flagged fingerprints per endpoint per flush
MAX_ENDPOINTS = 1000
OTHER = "(other endpoints)"
COUNTERS = (
    "requests",
    "total_us",
    "db_us",
    "cache_us",
    "queries",
    "cache_hits",
    "cache_misses",
    "sized_responses",
    "bytes_original",
    "bytes_sent",
    "slow_queries",
    "n_plus_one",
    "profiles",
    "profiles_skipped",
)


def now() -> datetime:
    """Wall-clock time of rows; tests replace ``perfsite_profiling.store.now``."""
    return timezone.now()


@dataclass
class Totals:
    counters: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTERS, 0))
    durations: list[int] = field(default_factory=list)
    sql: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add(self, counters: dict[str, int], sql: list[dict[str, Any]]) -> None:
        for name, value in counters.items():
            self.counters[name] += value
        if len(self.durations) < MAX_DURATIONS:
            self.durations.append(counters["total_us"])
        merge_sql(self.sql, sql, limit=MAX_SQL)


SQL_FIGURES = ("count", "ms", "slow", "n_plus_one")


def merge_sql(
    target: dict[str, dict[str, Any]], entries: list[dict[str, Any]], limit: int | None
) -> None:
    """Add flagged-query figures by fingerprint, with at most ``limit`` of them."""
    for entry in entries:
        merged = target.get(entry["sql"])
        if merged is None:
            if limit is not None and len(target) >= limit:
                continue
            merged = target[entry["sql"]] = dict.fromkeys(SQL_FIGURES, 0)
        for name in SQL_FIGURES:
            merged[name] += entry[name]


class Aggregator:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[str, Totals] = {}
        self._requests = 0
        self._last_flush = time.monotonic()

    def add(self, endpoint: str, counters: dict[str, int], sql: list[Any]) -> bool:
        """Record one request; True when a flush is due."""
        with self._lock:
            if endpoint not in self._pending and len(self._pending) >= MAX_ENDPOINTS:
                endpoint = OTHER
            self._pending.setdefault(endpoint, Totals()).add(counters, sql)
            self._requests += 1
            return (
                self._requests >= conf.FLUSH_REQUESTS
                or time.monotonic() - self._last_flush >= conf.FLUSH_INTERVAL
            )

    def due(self) -> bool:
        """Whether something waits and the flush interval has passed."""
        with self._lock:
            return bool(self._pending) and (
                time.monotonic() - self._last_flush >= conf.FLUSH_INTERVAL
            )

    @property
    def process(self) -> str:
        """Read at use: a server that forks after import (gunicorn --preload)
        must not give every worker its parent's pid."""
        return f"{socket.gethostname()}:{os.getpid()}"

    def pending(self) -> dict[str, Totals]:
        """A copy of what has not been flushed yet."""
        with self._lock:
            return {
                endpoint: Totals(
                    dict(t.counters),
                    list(t.durations),
                    {k: dict(v) for k, v in t.sql.items()},
                )
                for endpoint, t in self._pending.items()
            }

    def reset(self) -> None:
        """Drop what is pending (tests start from a known state)."""
        with self._lock:
            self._pending, self._requests = {}, 0

    def flush(self) -> int:
        """Write pending totals as rows; returns the number of rows written."""
        with self._lock:
            pending, self._pending = self._pending, {}
            self._requests = 0
            self._last_flush = time.monotonic()
        if not pending:
            return 0
        stamp = now()
        rows = [
            MetricBatch(
                endpoint=endpoint,
                process=self.process,
                created_at=stamp,
                durations=totals.durations,
                sql=[{"sql": k, **v} for k, v in totals.sql.items()],
                **totals.counters,
            )
            for endpoint, totals in pending.items()
        ]
        try:
            MetricBatch.objects.bulk_create(rows)
            delete_expired(MetricBatch, conf.MAX_METRIC_ROWS, batches=1)
        except DatabaseError:
            # Metrics must never break the site (e.g. before migrate).
            logger.exception("profiling: could not flush %d metric rows", len(rows))
            return 0
        return len(rows)


aggregator = Aggregator()


def _delete_batches(queryset: models.QuerySet[Any], batches: int | None) -> int:
    deleted = 0
    done = 0
    while batches is None or done < batches:
        pks = list(queryset.order_by("created_at").values_list("pk", flat=True)[:BATCH])
        if not pks:
            break
        deleted += queryset.model._default_manager.filter(pk__in=pks).delete()[0]
        done += 1
    return deleted


def delete_all(model: type[MetricBatch] | type[Profile]) -> int:
    return _delete_batches(model._default_manager.all(), None)


def delete_expired(
    model: type[MetricBatch] | type[Profile],
    cap: int,
    batches: int | None = None,
    endpoint: str | None = None,
) -> int:
    """Delete rows older than the retention, then the oldest rows beyond ``cap``."""
    rows = model._default_manager.all()
    if endpoint is not None:
        rows = rows.filter(endpoint=endpoint)
    cutoff = now() - timedelta(seconds=conf.RETENTION)
    deleted = _delete_batches(rows.filter(created_at__lt=cutoff), batches)
    boundary = list(
        rows.order_by("-created_at", "-pk").values_list("created_at", "pk")[
            cap : cap + 1
        ]
    )
    if boundary:
        stamp, pk = boundary[0]
        older = rows.filter(
            models.Q(created_at__lt=stamp) | models.Q(created_at=stamp, pk__lte=pk)
        )
        deleted += _delete_batches(older, batches)
    return deleted


def percentile(sorted_values: list[int], p: float) -> int:
    """Nearest-rank percentile of an ascending list (0 for an empty one)."""
    if not sorted_values:
        return 0
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


@dataclass
class EndpointStats:
    endpoint: str
    counters: dict[str, int]
    durations: list[int]
    sql: dict[str, dict[str, Any]]
    processes: set[str]

    def p(self, q: float) -> float:
        return percentile(self.durations, q) / 1000  # milliseconds

    @property
    def p50(self) -> float:
        return self.p(50)

    @property
    def p95(self) -> float:
        return self.p(95)

    @property
    def p99(self) -> float:
        return self.p(99)

    def per_request(self, name: str) -> float:
        n = self.counters["requests"]
        return self.counters[name] / n if n else 0.0

    @property
    def db_ms(self) -> float:
        return self.per_request("db_us") / 1000


def _merge(
    result: dict[str, EndpointStats],
    endpoint: str,
    process: str,
    counters: dict[str, int],
    durations: list[int],
    sql: list[dict[str, Any]],
) -> None:
    stats = result.get(endpoint)
    if stats is None:
        stats = result[endpoint] = EndpointStats(
            endpoint, dict.fromkeys(COUNTERS, 0), [], {}, set()
        )
    for name in COUNTERS:
        stats.counters[name] += counters[name]
    stats.durations.extend(durations)
    stats.processes.add(process)
    merge_sql(stats.sql, sql, limit=None)


def window_stats(seconds: int | None = None) -> dict[str, EndpointStats]:
    """Per-endpoint sums over the last ``seconds``: every process's rows, plus
    what this process has not flushed yet (read, not written: GETs never write).
    """
    since = now() - timedelta(seconds=seconds or conf.WINDOW)
    result: dict[str, EndpointStats] = {}
    for row in MetricBatch.objects.filter(created_at__gte=since).iterator():
        counters = {name: getattr(row, name) for name in COUNTERS}
        _merge(result, row.endpoint, row.process, counters, row.durations, row.sql)
    for endpoint, totals in aggregator.pending().items():
        _merge(
            result,
            endpoint,
            aggregator.process,
            totals.counters,
            totals.durations,
            [{"sql": k, **v} for k, v in totals.sql.items()],
        )
    for stats in result.values():
        stats.durations.sort()
    return result


def combined(stats: dict[str, EndpointStats]) -> EndpointStats:
    total = EndpointStats("*", dict.fromkeys(COUNTERS, 0), [], {}, set())
    for item in stats.values():
        for name in COUNTERS:
            total.counters[name] += item.counters[name]
        total.durations.extend(item.durations)
        total.processes |= item.processes
    total.durations.sort()
    return total
