"""The endpoints and SQL pages show the figures of the requests the test made.

Times come from the fake clock (a view advances it by the milliseconds in
its URL; queries take zero), so every figure on the page has an exact
expected value computed here from what was requested.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from perfsite_profiling.store import percentile
from tests.profiling.site import FakeClock

pytestmark = pytest.mark.django_db

COLUMNS = ("requests", "p50", "p95", "db_ms", "queries", "hit_rate")


def endpoint_rows(html: str) -> dict[str, dict[str, str]]:
    """endpoint -> the figures in its row of the endpoints table."""
    rows = {}
    for endpoint, body in re.findall(
        r'<tr data-endpoint="([^"]+)"[^>]*>(.*?)</tr>', html, re.S
    ):
        cells = re.findall(r'<td class="num">([^<]*)</td>', body)
        rows[endpoint.replace("&lt;", "<").replace("&gt;", ">")] = dict(
            zip(COLUMNS, cells, strict=True)
        )
    return rows


def test_endpoint_figures_match_the_requests_made(
    client: Client, staff_client: Client, clock: FakeClock
) -> None:
    durations = [3, 1, 4, 1, 5, 9, 2, 6]  # ms, fake clock
    for ms in durations:
        client.get(f"/t/work/{ms}/")
    for _ in range(2):
        client.get("/t/queries/3/")  # three queries each, anonymous: no session
    cache.set("known", 1)
    client.get("/t/cached/?get=known&get=unknown&many=known,unknown,other")
    rows = endpoint_rows(staff_client.get("/profiling/?sort=requests").content.decode())

    work = rows["GET /t/work/<int:ms>/"]
    us = sorted(ms * 1000 for ms in durations)
    assert work["requests"] == str(len(durations))
    assert work["p50"] == f"{percentile(us, 50) / 1000:.2f}" == "3.00"
    assert work["p95"] == f"{percentile(us, 95) / 1000:.2f}" == "9.00"
    assert work["hit_rate"] == "&ndash;"  # no lookups: no rate

    queries = rows["GET /t/queries/<int:n>/"]
    assert (queries["requests"], queries["queries"]) == ("2", "3.0")  # per request

    cached = rows["GET /t/cached/"]
    # get: 1 hit, 1 miss; get_many: 1 hit, 2 misses -> 2 hits of 5 lookups
    assert cached["hit_rate"] == "40.0"
    assert list(rows)[:2] == ["GET /t/work/<int:ms>/", "GET /t/queries/<int:n>/"]


def test_db_time_per_request(
    client: Client, staff_client: Client, clock: FakeClock, monkeypatch: Any
) -> None:
    from perfsite_profiling import recorder

    real = recorder.clock
    ticks = iter(range(10**12, 10**13, 2_000_000))  # each reading 2 ms later

    monkeypatch.setattr(recorder, "clock", lambda: next(ticks))
    for _ in range(2):
        client.get("/t/queries/4/")
    monkeypatch.setattr(recorder, "clock", real)
    row = endpoint_rows(staff_client.get("/profiling/").content.decode())[
        "GET /t/queries/<int:n>/"
    ]
    # Readings 2 ms apart: each query takes 2 ms, four queries per request.
    assert row["db_ms"] == "8.00"
    assert row["queries"] == "4.0"


def test_sql_page_figures_match_the_flagged_queries(
    client: Client, staff_client: Client, settings: Any, clock: FakeClock
) -> None:
    settings.PROFILING_N_PLUS_ONE_MIN_MS = 0
    settings.PROFILING_N_PLUS_ONE_THRESHOLD = 5
    for n in (5, 7, 2):  # the last one is under the threshold: not flagged
        client.get(f"/t/queries/{n}/")
    html = staff_client.get("/profiling/sql/").content.decode()
    (row,) = re.findall(
        r"<tr><td><code>([^<]+)</code></td><td><code>([^<]+)</code></td>"
        r'<td class="num">(\d+)</td><td class="num">([\d.]+)</td>'
        r'<td class="num">(\d+)</td><td class="num">(\d+)</td></tr>',
        html,
    )
    endpoint, sql, count, ms, n_plus_one, slow = row
    assert (endpoint, sql) == ("GET /t/queries/&lt;int:n&gt;/", "SELECT ?")
    assert (count, n_plus_one, slow) == ("12", "2", "0")  # 5 + 7 queries, 2 requests
    assert ms == "0.00"
