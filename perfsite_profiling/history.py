"""Each endpoint's p50/p95 over the retained rows, in time buckets.

The span runs from the oldest retained row (at most ``PROFILING_RETENTION``
old) to now, cut into ``BUCKETS`` equal buckets; a bucket's percentiles are
exact over the response times of the rows flushed in it (this process's
unflushed figures fall in the last one). At most ``MAX_ROWS`` of the newest
rows are read, so the page stays cheap when the table is full.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from perfsite_profiling.conf import conf
from perfsite_profiling.models import MetricBatch
from perfsite_profiling.store import aggregator, now, percentile

BUCKETS = 24
MAX_ROWS = 5000


@dataclass
class History:
    start: datetime
    end: datetime
    # endpoint -> per bucket (p50 ms, p95 ms), None where nothing was measured
    buckets: dict[str, list[tuple[float, float] | None]]

    @property
    def span(self) -> str:
        seconds = int((self.end - self.start).total_seconds())
        if seconds >= 2 * 3600:
            return f"{seconds // 3600} h"
        if seconds >= 120:
            return f"{seconds // 60} min"
        return f"{seconds} s" if seconds else "the last flush"


def history(endpoints: list[str], buckets: int = BUCKETS) -> History:
    end = now()
    rows = list(
        MetricBatch.objects.filter(
            endpoint__in=endpoints,
            created_at__gte=end - timedelta(seconds=conf.RETENTION),
        )
        .order_by("-created_at")
        .values_list("endpoint", "created_at", "durations")[:MAX_ROWS]
    )
    pending = aggregator.pending()
    for endpoint in endpoints:
        if endpoint in pending:
            rows.append((endpoint, end, pending[endpoint].durations))
    start = min((created for _, created, _ in rows), default=end)
    width = max((end - start).total_seconds(), 1e-6) / buckets
    values: dict[str, list[list[int]]] = {
        e: [[] for _ in range(buckets)] for e in endpoints
    }
    for endpoint, created, durations in rows:
        # Counted back from now: the newest figures are always in the last bucket.
        index = max(buckets - 1 - int((end - created).total_seconds() / width), 0)
        values[endpoint][index].extend(durations)
    result: dict[str, list[tuple[float, float] | None]] = {}
    for endpoint, per_bucket in values.items():
        result[endpoint] = []
        for durations in per_bucket:
            durations.sort()
            result[endpoint].append(
                (percentile(durations, 50) / 1000, percentile(durations, 95) / 1000)
                if durations
                else None
            )
    return History(start, end, result)
