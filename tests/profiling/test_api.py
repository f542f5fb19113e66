"""/api/performance and the Prometheus text, against ground truth built here."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.http import HttpResponse
from django.test import Client

from tests.profiling.site import FakeClock

pytestmark = pytest.mark.django_db
TOKEN = "t" * 32


def nearest_rank(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(p / 100 * len(ordered))) - 1]


@contextmanager
def db_takes(clock: FakeClock, ms: float) -> Iterator[None]:
    """Every query of the block takes ``ms`` of fake time."""

    def advance(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        clock.advance(ms)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(advance):
        yield


def test_every_figure_equals_ground_truth(
    client: Client, staff_client: Client, clock: FakeClock
) -> None:
    durations: list[float] = []
    sizes: list[tuple[int, int]] = []

    def get(url: str, ms: float, original: int, **headers: str) -> None:
        response = client.get(url, headers=headers)
        assert response.status_code == 200
        durations.append(ms)
        sizes.append((original, len(response.content)))

    for ms in range(10, 101, 10):
        get(f"/t/work/{ms}/", ms, 2)
    cache.set("a", "x")
    cache.set("none", None)  # a cached None is a hit
    cache.set("c", 3)
    for _ in range(2):
        get("/t/cached/?get=a&get=none&get=b&many=a,b,c&gos=d", 0, 2)
    hits, misses = (2 + 2 + 0) + (2 + 2 + 1), (1 + 1 + 1) + (1 + 1 + 0)
    get("/t/body/5000/", 0, 5000, accept_encoding="gzip")
    get("/t/body/100/", 0, 100, accept_encoding="gzip")  # too small to compress
    get("/t/encoded/3000/", 0, 3000)  # a view that encodes its own body
    with db_takes(clock, 3):
        get("/t/queries/4/", 12, 2)
    assert sizes[10 + 2][1] < 1000  # gzip really happened

    data = staff_client.get("/api/performance").json()

    assert data["requests"] == len(durations)
    assert data["processes"] == 1
    assert data["response_time_ms"] == {
        "p50": nearest_rank(durations, 50),
        "p95": nearest_rank(durations, 95),
        "p99": nearest_rank(durations, 99),
    }
    assert data["cache"] == {
        "hits": hits,
        "misses": misses,
        "hit_rate": round(hits / (hits + misses), 4),
    }
    original, sent = sum(o for o, _ in sizes), sum(s for _, s in sizes)
    assert data["compression"] == {
        "responses": len(sizes),
        "bytes_original": original,
        "bytes_sent": sent,
        "ratio": round(original / sent, 4),
    }
    assert data["db"]["queries"] == 4
    assert data["db"]["time_ms"] == 12
    assert data["db"]["time_share"] == round(12 / sum(durations), 4)


def compressor(get_response: Any) -> Any:
    """Stands in for the assets compressor's contract: it sets the original size."""

    def middleware(request: Any) -> HttpResponse:
        response: HttpResponse = get_response(request)
        response.assets_original_size = 4321  # type: ignore[attr-defined]
        return response

    return middleware


def test_assets_original_size_is_read_when_present(
    client: Client, staff_client: Client, settings: Any
) -> None:
    below = (
        settings.MIDDLEWARE.index("perfsite_profiling.middleware.ProfilingMiddleware")
        + 1
    )
    settings.MIDDLEWARE = [
        *settings.MIDDLEWARE[:below],
        "tests.profiling.test_api.compressor",
        *settings.MIDDLEWARE[below:],
    ]
    response = client.get("/t/body/10/")
    data = staff_client.get("/api/performance").json()
    assert data["compression"]["bytes_original"] == 4321
    assert data["compression"]["bytes_sent"] == len(response.content)


def test_anonymous_and_non_staff_are_refused(
    client: Client, user_client: Client
) -> None:
    for c in (client, user_client):
        response = c.get("/api/performance")
        assert response.status_code == 403
        assert "Bearer" in response.json()["error"]


def test_a_bearer_token_is_enough(client: Client, settings: Any) -> None:
    settings.PROFILING_API_TOKEN = TOKEN
    assert client.get("/api/performance").status_code == 403
    bad = client.get("/api/performance", headers={"authorization": "Bearer nope"})
    assert bad.status_code == 403
    ok = client.get("/api/performance", headers={"authorization": f"Bearer {TOKEN}"})
    assert ok.status_code == 200
    assert ok.json()["requests"] == 0  # its own requests are not measured


def test_the_api_only_answers_get(staff_client: Client) -> None:
    assert staff_client.post("/api/performance").status_code == 405


def test_prometheus_is_off_unless_enabled(staff_client: Client) -> None:
    assert staff_client.get("/api/performance/metrics").status_code == 404


def test_prometheus_text_has_the_same_sums(
    client: Client, staff_client: Client, settings: Any, clock: FakeClock
) -> None:
    settings.PROFILING_PROMETHEUS = True
    settings.PROFILING_API_TOKEN = TOKEN
    for _ in range(3):
        client.get("/t/work/250/")
    assert client.get("/api/performance/metrics").status_code == 403
    text = client.get(
        "/api/performance/metrics", headers={"authorization": f"Bearer {TOKEN}"}
    ).content.decode()
    endpoint = r'\{endpoint="GET /t/work/<int:ms>/"\}'
    assert re.search(rf"^profiling_requests_total{endpoint} 3$", text, re.M)
    assert re.search(rf"^profiling_request_seconds_sum{endpoint} 0.75$", text, re.M)
    assert "# TYPE profiling_requests_total gauge" in text
    assert staff_client.get("/api/performance/metrics").status_code == 200
