"""Slow SQL and N+1 detection, proven with real queries."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from perfsite_profiling import recorder
from perfsite_profiling.models import MetricBatch
from perfsite_profiling.sql import execute_wrapper, fingerprint, install
from perfsite_profiling.store import aggregator
from tests.perfsite.factories import make_post, make_user

pytestmark = pytest.mark.django_db


def test_fingerprint_strips_literals_and_folds_in_lists() -> None:
    sql = "SELECT * FROM t WHERE a = 'it''s' AND b = 42 AND c IN (%s, %s, %s)  AND d = -1.5"
    assert (
        fingerprint(sql)
        == "SELECT * FROM t WHERE a = ? AND b = ? AND c IN (...) AND d = ?"
    )
    assert fingerprint('SELECT "t1"."x" FROM "t1" WHERE id = $1') == (
        'SELECT "t1"."x" FROM "t1" WHERE id = ?'
    )


def test_one_permanent_wrapper_per_connection() -> None:
    connection.ensure_connection()
    install(connection)
    install(connection)
    assert connection.execute_wrappers.count(execute_wrapper) == 1
    assert connection.execute_wrappers[0] is execute_wrapper


def test_the_wrapper_is_inert_without_a_recorder() -> None:
    assert recorder.current.get() is None
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)


def test_raw_cursor_queries_are_counted(client: Client) -> None:
    client.get("/t/queries/7/")
    aggregator.flush()
    row = MetricBatch.objects.get(endpoint="GET /t/queries/<int:n>/")
    assert row.queries == 7


@pytest.mark.usefixtures("sleep_sql")
def test_slow_queries_are_logged_with_what_helps(
    client: Client, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings.PROFILING_SLOW_QUERY_MS = 50
    with caplog.at_level(logging.WARNING, logger="profiling.slow_queries"):
        client.get("/t/slow/120/")
        client.get("/t/slow/1/")
    records = [r for r in caplog.records if r.name == "profiling.slow_queries"]
    assert len(records) == 1
    record: Any = records[0]
    assert record.duration_ms >= 100
    assert record.alias == "default"
    assert record.endpoint == "GET /t/slow/<int:ms>/"
    assert "sleep(?)" in record.sql
    message = record.getMessage()
    assert "tests/profiling/site.py" in message  # the project frame that ran it
    assert "django/" not in message.split("stack:")[1]
    aggregator.flush()
    rows = MetricBatch.objects.filter(endpoint="GET /t/slow/<int:ms>/")
    assert sum(r.slow_queries for r in rows) == 1
    assert [e["slow"] for r in rows for e in r.sql] == [1]


def _authors(client: Client, mode: str, settings: Any) -> MetricBatch:
    settings.PROFILING_N_PLUS_ONE_MIN_MS = 0
    aggregator.reset()
    response = client.get(f"/t/authors/{mode}/")
    assert response.content.decode().count(",") == 5
    aggregator.flush()
    return MetricBatch.objects.filter(endpoint="GET /t/authors/<str:mode>/").latest(
        "pk"
    )


def test_n_plus_one_is_flagged_but_not_for_select_or_prefetch_related(
    client: Client, settings: Any
) -> None:
    for i in range(6):
        make_post(make_user(username=f"author{i}"))
    lazy = _authors(client, "lazy", settings)
    assert lazy.n_plus_one == 1
    assert lazy.queries == 7
    (flagged,) = lazy.sql
    assert flagged["count"] == 6 and flagged["n_plus_one"] == 1
    assert '"auth_user"' in flagged["sql"] and "?" in flagged["sql"]
    assert _authors(client, "select", settings).n_plus_one == 0
    prefetch = _authors(client, "prefetch", settings)
    assert prefetch.n_plus_one == 0
    assert prefetch.queries == 2


def test_the_time_floor_keeps_fast_repeats_quiet(client: Client, settings: Any) -> None:
    settings.PROFILING_N_PLUS_ONE_MIN_MS = 10_000
    client.get("/t/queries/20/")
    aggregator.flush()
    assert MetricBatch.objects.get().n_plus_one == 0
