"""Retention, caps and batched cleanup of the shared tables."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from perfsite_profiling import store
from perfsite_profiling.models import MetricBatch, Profile
from perfsite_profiling.store import aggregator, delete_expired, percentile

pytestmark = pytest.mark.django_db


def test_percentile_is_nearest_rank() -> None:
    assert percentile([], 50) == 0
    assert percentile([5], 99) == 5
    values = list(range(1, 101))
    assert [percentile(values, p) for p in (50, 95, 99)] == [50, 95, 99]


def _rows(n: int, age: timedelta) -> None:
    stamp = timezone.now() - age
    MetricBatch.objects.bulk_create(
        MetricBatch(endpoint="GET /x", process="p", created_at=stamp) for _ in range(n)
    )


def test_cleanup_deletes_old_rows_in_batches(settings: Any, monkeypatch: Any) -> None:
    settings.PROFILING_RETENTION = 3600
    monkeypatch.setattr(store, "BATCH", 10)
    _rows(25, timedelta(hours=2))
    _rows(5, timedelta(minutes=1))
    with CaptureQueriesContext(connection) as queries:
        assert delete_expired(MetricBatch, cap=1000) == 25
    deletes = [q["sql"] for q in queries if q["sql"].startswith("DELETE")]
    assert len(deletes) == 3  # 10 + 10 + 5, never one huge delete
    assert MetricBatch.objects.count() == 5


def test_cleanup_keeps_the_newest_rows_within_the_cap() -> None:
    _rows(3, timedelta(minutes=3))
    _rows(2, timedelta(minutes=1))
    assert delete_expired(MetricBatch, cap=2) == 3
    assert (
        MetricBatch.objects.filter(
            created_at__gte=timezone.now() - timedelta(minutes=2)
        ).count()
        == 2
    )


def test_a_flush_deletes_at_most_one_batch(settings: Any, monkeypatch: Any) -> None:
    settings.PROFILING_RETENTION = 60
    monkeypatch.setattr(store, "BATCH", 4)
    _rows(10, timedelta(hours=1))
    aggregator.add("GET /y", {"requests": 1, "total_us": 7}, [])
    assert aggregator.flush() == 1
    assert MetricBatch.objects.count() == 10 - 4 + 1


def test_the_command_cleans_everything_expired(settings: Any) -> None:
    settings.PROFILING_RETENTION = 60
    _rows(7, timedelta(hours=1))
    Profile.objects.create(
        endpoint="GET /x",
        created_at=timezone.now() - timedelta(hours=1),
        reason="sample",
        duration_ms=1,
        python="3",
        threads=1,
        prof=b"",
    )
    out = io.StringIO()
    call_command("profiling_cleanup", stdout=out)
    assert out.getvalue().strip() == "Deleted 7 metric rows and 1 profiles."
    assert not MetricBatch.objects.exists() and not Profile.objects.exists()


def test_too_many_endpoints_fold_into_one(monkeypatch: Any) -> None:
    monkeypatch.setattr(store, "MAX_ENDPOINTS", 2)
    for name in ("a", "b", "c", "d"):
        aggregator.add(f"GET /{name}", {"requests": 1, "total_us": 1}, [])
    aggregator.flush()
    assert sorted(MetricBatch.objects.values_list("endpoint", flat=True)) == [
        "(other endpoints)",
        "GET /a",
        "GET /b",
    ]
    assert MetricBatch.objects.get(endpoint="(other endpoints)").requests == 2


def test_a_failed_flush_never_breaks_a_request(monkeypatch: Any, caplog: Any) -> None:
    from django.db import DatabaseError

    def fail(*args: Any, **kwargs: Any) -> None:
        raise DatabaseError("no table")

    monkeypatch.setattr(MetricBatch.objects, "bulk_create", fail)
    aggregator.add("GET /a", {"requests": 1, "total_us": 1}, [])
    assert aggregator.flush() == 0
    assert "could not flush" in caplog.text


def test_json_text_round_trips_and_accepts_decoded_values() -> None:
    field = MetricBatch._meta.get_field("durations")
    assert field.to_python("[1,2]") == [1, 2]
    assert field.to_python([3]) == [3]
    assert field.get_prep_value(None) is None
    row = MetricBatch.objects.create(
        endpoint="GET /j", process="p", created_at=timezone.now(), durations=[5, 6]
    )
    row.refresh_from_db()
    assert row.durations == [5, 6]
    assert field.from_db_value(None, None, None) is None
