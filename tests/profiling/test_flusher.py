"""An idle process flushes its metrics without waiting for a request."""

from __future__ import annotations

import pytest
from django.db.models import Sum
from django.test import override_settings

from perfsite_profiling import flusher
from perfsite_profiling.models import MetricBatch
from perfsite_profiling.store import aggregator


@pytest.mark.django_db(transaction=True)
def test_an_idle_process_flushes_after_the_interval() -> None:
    aggregator.reset()
    with override_settings(PROFILING_FLUSH_INTERVAL=0.1):
        aggregator.flush()  # a new interval starts now
        for _ in range(3):
            aggregator.add("GET /idle/", {"requests": 1, "total_us": 50}, [])
        rounds = flusher.flusher.rounds
        flusher.ensure_started()
        # Wait for the thread's flush, not poll the table it writes to.
        assert flusher.flusher.wait_for_round(rounds, timeout=30)
    rows = MetricBatch.objects.filter(endpoint="GET /idle/")
    assert rows.aggregate(n=Sum("requests"))["n"] == 3
    assert aggregator.pending() == {}
