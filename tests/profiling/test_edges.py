"""Edge paths: unresolved URLs, fallbacks, caps, string forms."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import AsyncClient, Client
from django.utils import timezone

from perfsite_profiling import middleware, sql, store
from perfsite_profiling.checks import check_deploy
from perfsite_profiling.models import MetricBatch, Profile
from perfsite_profiling.store import aggregator
from tests.profiling.test_middleware import run_async

pytestmark = pytest.mark.django_db


def test_unresolved_paths_share_one_endpoint(client: Client) -> None:
    client.get("/no/such/page/1")
    client.get("/no/such/page/2")
    aggregator.flush()
    assert MetricBatch.objects.get().endpoint == "GET (unresolved)"


def test_async_pass_through_when_everything_is_off(settings: Any) -> None:
    settings.PROFILING_METRICS = False

    async def go() -> Any:
        return await AsyncClient().get("/t/queries/1/")

    assert run_async(go).status_code == 200
    assert aggregator.flush() == 0


def test_login_falls_back_to_login_url(user_client: Client, settings: Any) -> None:
    settings.ROOT_URLCONF = "tests.profiling.no_admin"
    settings.LOGIN_URL = "/accounts/login/"
    response = Client().get("/profiling/")
    assert response["Location"] == "/accounts/login/?next=%2Fprofiling%2F"


def test_deploy_check_leaves_a_bad_rate_to_e001(settings: Any) -> None:
    settings.PROFILING_ENABLED = True
    settings.PROFILING_SAMPLE_RATE = "high"
    assert check_deploy() == []


def test_string_forms() -> None:
    now = timezone.now()
    assert (
        str(MetricBatch(endpoint="GET /", process="h:1", created_at=now))
        == "GET / from h:1"
    )
    profile = Profile(endpoint="GET /", created_at=now.replace(2026, 1, 2, 3, 4, 5))
    assert str(profile) == "GET / at 2026-01-02 03:04:05"


def test_fingerprint_cache_is_bounded(monkeypatch: Any) -> None:
    monkeypatch.setattr(sql, "_FINGERPRINT_CACHE_SIZE", 2)
    for i in range(5):
        assert sql.fingerprint(f"SELECT {i}") == "SELECT ?"
    assert len(sql._FINGERPRINTS) <= 2


def test_call_site_without_project_frames() -> None:
    assert sql.call_site(None) == "?"
    assert sql.project_frames(None, 5) == []


def test_flagged_sql_per_endpoint_is_capped(monkeypatch: Any) -> None:
    monkeypatch.setattr(store, "MAX_SQL", 1)
    entries = [
        {"sql": s, "count": 5, "ms": 1.0, "slow": 0, "n_plus_one": 1} for s in "ab"
    ]
    aggregator.add("GET /a", {"requests": 1, "total_us": 1}, entries)
    aggregator.add("GET /a", {"requests": 1, "total_us": 1}, entries)
    aggregator.flush()
    assert MetricBatch.objects.get().sql == [
        {"sql": "a", "count": 10, "ms": 2.0, "slow": 0, "n_plus_one": 2}
    ]


def test_a_failure_to_record_never_reaches_the_user(
    client: Client, monkeypatch: Any, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(response: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(middleware, "body_sizes", broken)
    assert client.get("/t/work/1/").status_code == 200

    async def go() -> Any:
        return await AsyncClient().get("/t/work/1/")

    assert run_async(go).status_code == 200
    assert caplog.text.count("could not record GET /t/work/<int:ms>/") == 2


def test_server_timing_keeps_the_views_own_entries(settings: Any) -> None:
    from django.http import HttpResponse
    from django.test import RequestFactory

    settings.PROFILING_SERVER_TIMING = "all"

    def view(request: Any) -> HttpResponse:
        response = HttpResponse("ok")
        response["Server-Timing"] = "render;dur=1"
        return response

    response = middleware.ProfilingMiddleware(view)(RequestFactory().get("/"))
    assert response["Server-Timing"].startswith("render;dur=1, db;dur=")
