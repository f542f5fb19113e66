"""ProfilingMiddleware end to end: Server-Timing, profiles, async, off switch."""

from __future__ import annotations

import asyncio
import cProfile
import marshal
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.db import connections
from django.http import HttpRequest, HttpResponse
from django.test import AsyncClient, Client, RequestFactory

from perfsite_profiling import middleware as middleware_module
from perfsite_profiling import profiler, profiles, recorder
from perfsite_profiling.middleware import ProfilingMiddleware
from perfsite_profiling.models import MetricBatch, Profile
from perfsite_profiling.sampling import within_budget
from perfsite_profiling.store import aggregator
from tests.profiling.site import FakeClock

pytestmark = pytest.mark.django_db


def test_server_timing_for_staff_only(
    client: Client, user_client: Client, staff_client: Client, clock: FakeClock
) -> None:
    assert "Server-Timing" not in client.get("/t/work/5/")
    assert "Server-Timing" not in user_client.get("/t/work/5/")
    response = staff_client.get("/t/work/5/")
    # The two queries are the session and the user, timed at zero by the fake clock.
    assert response["Server-Timing"] == (
        'db;dur=0.00;desc="Database (2 queries)", '
        'cache;dur=0.00;desc="Cache (0 hits, 0 misses)", '
        'app;dur=5.00;desc="Application", total;dur=5.00;desc="Total"'
    )
    assert "Timing-Allow-Origin" not in response


def test_server_timing_for_everyone_or_no_one(
    client: Client, staff_client: Client, settings: Any
) -> None:
    settings.PROFILING_SERVER_TIMING = "all"
    settings.PROFILING_TIMING_ALLOW_ORIGIN = "https://example.com"
    response = client.get("/t/queries/2/")
    assert 'desc="Database (2 queries)"' in response["Server-Timing"]
    assert response["Timing-Allow-Origin"] == "https://example.com"
    settings.PROFILING_SERVER_TIMING = "off"
    assert "Server-Timing" not in staff_client.get("/t/work/1/")


def test_nothing_is_written_per_request(
    client: Client, django_assert_num_queries: Any, settings: Any
) -> None:
    settings.PROFILING_FLUSH_REQUESTS = 3
    settings.PROFILING_FLUSH_INTERVAL = 3600
    with django_assert_num_queries(0):
        client.get("/t/work/1/")
        client.get("/t/work/1/")
    client.get("/t/work/1/")  # the third request flushes the batch
    assert MetricBatch.objects.get().requests == 3


def test_metrics_can_be_switched_off(client: Client, settings: Any) -> None:
    settings.PROFILING_METRICS = False
    client.get("/t/work/1/")
    assert aggregator.flush() == 0


def test_profiles_are_off_unless_enabled(staff_client: Client, settings: Any) -> None:
    settings.PROFILING_SAMPLE_RATE = 1.0
    staff_client.get("/t/queries/3/?profile=1")
    assert not Profile.objects.exists()


def test_staff_can_ask_for_a_cprofile(staff_client: Client, settings: Any) -> None:
    settings.PROFILING_ENABLED = True
    settings.PROFILING_ENGINE = "cprofile"
    settings.PROFILING_SAMPLE_RATE = 0.0
    assert staff_client.get("/t/queries/3/?profile=1").status_code == 200
    profile = Profile.objects.get()
    assert profile.reason == "staff"
    assert profile.endpoint == "GET /t/queries/<int:n>/"
    names = [f["function"] for f in profile.functions]
    assert any(n.startswith("queries (") and "site.py" in n for n in names)
    own = str(Path(middleware_module.__file__).parent) + "/"
    assert not any(own in n for n in names)  # the middleware's frames are filtered
    assert {q["sql"]: q["count"] for q in profile.sql}["SELECT ?"] == 3
    stats = marshal.loads(bytes(profile.prof))
    assert any(key[2] == "queries" for key in stats)
    assert (profile.engine, profile.stacks) == ("cprofile", None)


def test_the_default_engine_samples_the_request_stack(
    staff_client: Client, settings: Any
) -> None:
    settings.PROFILING_ENABLED = True
    settings.PROFILING_SAMPLE_RATE = 0.0
    assert staff_client.get("/t/spin/3/?profile=1").status_code == 200
    profile = Profile.objects.get()
    assert profile.engine == "sampling"
    frames = [name for name, _file, _line in profile.stacks["frames"]]
    assert "spin" in frames
    own = str(Path(middleware_module.__file__).parent) + "/"
    assert not any(own in file for _n, file, _l in profile.stacks["frames"])
    spin = frames.index("spin")
    assert any(path[-1] == spin for path, _ms, _n in profile.stacks["stacks"])
    assert profile.stacks["samples"] >= 3
    assert (profile.functions, bytes(profile.prof)) == ([], b"")  # derived on read
    page = staff_client.get(f"/profiling/profiles/{profile.pk}/").content.decode()
    assert "<code>spin (" in page
    download = staff_client.get(f"/profiling/profiles/{profile.pk}.prof")
    stats = marshal.loads(download.content)
    (key,) = [k for k in stats if k[2] == "spin"]
    assert stats[key][0] >= 3  # sampled in at least three samples


def test_others_cannot_trigger_a_profile(
    client: Client, user_client: Client, settings: Any
) -> None:
    settings.PROFILING_ENABLED = True
    settings.PROFILING_SAMPLE_RATE = 0.0
    client.get("/t/work/1/?profile=1")
    user_client.get("/t/work/1/?profile=1")
    assert not Profile.objects.exists()


def test_samples_stay_within_the_budget_and_bounds(
    client: Client, settings: Any, clock: FakeClock
) -> None:
    settings.PROFILING_ENABLED = True
    settings.PROFILING_SAMPLE_RATE = 1.0
    settings.PROFILING_SAMPLE_BUDGET = 3
    settings.PROFILING_MAX_PROFILES_PER_ENDPOINT = 2
    for _ in range(5):
        client.get("/t/spin/1/")
    assert not Profile.objects.exists()  # sampled profiles wait for a flush
    assert profiles.pending() == 3
    assert profiles.flush() == 3
    assert Profile.objects.count() == 2  # three taken, the oldest deleted
    assert {p.reason for p in Profile.objects.all()} == {"sample"}
    clock.advance(3600 * 1000)  # an hour later the budget is back
    assert within_budget("GET /t/spin/<int:samples>/", clock())


def test_a_busy_profiler_means_skip_and_count(client: Client, settings: Any) -> None:
    settings.PROFILING_ENABLED = True
    settings.PROFILING_SAMPLE_RATE = 1.0
    running = profiler.start()
    try:
        response = client.get("/t/work/1/")
    finally:
        profiler.stop(running)
    assert response.status_code == 200
    assert not Profile.objects.exists()
    aggregator.flush()
    assert MetricBatch.objects.get().profiles_skipped == 1


def test_another_profiling_tool_never_reaches_the_user(
    client: Client, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.PROFILING_ENABLED = True
    settings.PROFILING_SAMPLE_RATE = 1.0
    settings.PROFILING_ENGINE = "cprofile"

    def refuse(self: Any) -> None:
        raise ValueError("Another profiling tool is already active")

    monkeypatch.setattr(profiler.cProfile.Profile, "enable", refuse)
    assert client.get("/t/work/1/").status_code == 200
    aggregator.flush()
    assert MetricBatch.objects.get().profiles_skipped == 1
    assert profiler._LOCK.acquire(blocking=False)  # released after the failure
    profiler._LOCK.release()


def test_concurrent_requests_profile_one_at_a_time(settings: Any) -> None:
    settings.PROFILING_ENABLED = True
    settings.PROFILING_SAMPLE_RATE = 1.0
    settings.PROFILING_SAMPLE_BUDGET = 1000
    settings.PROFILING_METRICS = False
    inside = threading.Barrier(4, timeout=30)
    errors: list[BaseException] = []

    def view(request: HttpRequest) -> HttpResponse:
        inside.wait()  # all four are inside at once
        return HttpResponse("ok")

    middleware = ProfilingMiddleware(view)
    rec_states: list[bool] = []

    def run() -> None:
        try:
            request = RequestFactory().get("/x")
            rec = recorder.Recorder(endpoint="GET /x")
            token = recorder.current.set(rec)
            middleware.process_view(request, view, (), {})
            rec_states.append(rec.profile is not None)
            view(request)
            if rec.profile is not None:
                middleware._stop_profile(rec)
            recorder.current.reset(token)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert sorted(rec_states) == [False, False, False, True]


def run_async(go: Any) -> Any:
    """asyncio.run in a fresh thread: browser tests may leave a loop in this one.

    The test client keeps connections open between requests, so the one the
    sync worker thread opened is closed here, before the test database goes.
    """

    async def run() -> Any:
        try:
            return await go()
        finally:
            await sync_to_async(connections.close_all)()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, run()).result(timeout=60)


def test_async_requests_are_measured(settings: Any, staff_client: Client) -> None:
    async def go() -> Any:
        return await AsyncClient().get("/t/queries/3/")

    response = run_async(go)
    assert response.status_code == 200
    aggregator.flush()
    row = MetricBatch.objects.get(endpoint="GET /t/queries/<int:n>/")
    assert (row.requests, row.queries) == (1, 3)


@pytest.mark.django_db(transaction=True)  # the sync_to_async thread reads the session
def test_async_staff_profile(settings: Any, staff_client: Client) -> None:
    settings.PROFILING_ENABLED = True
    settings.PROFILING_SAMPLE_RATE = 0.0
    cookie = staff_client.cookies["sessionid"].value

    async def go() -> Any:
        c = AsyncClient()
        c.cookies["sessionid"] = cookie
        return await c.get("/t/queries/2/?profile=1")

    response = run_async(go)
    assert "Server-Timing" in response
    assert Profile.objects.get().reason == "staff"


def test_the_middleware_runs_in_async_mode() -> None:
    async def get_response(request: HttpRequest) -> HttpResponse:
        return HttpResponse("ok")

    middleware = ProfilingMiddleware(get_response)
    assert asyncio.iscoroutinefunction(middleware)


@pytest.mark.parametrize("engine", ["cprofile", "sampling"])
def test_a_real_foreign_profiler_never_breaks_a_request(
    client: Client, settings: Any, engine: str
) -> None:
    """On 3.12+ a second cProfile raises ValueError: a skip, never an error.
    The sampling engine hooks nothing, so it profiles beside it."""
    settings.PROFILING_ENABLED = True
    settings.PROFILING_SAMPLE_RATE = 1.0
    settings.PROFILING_ENGINE = engine
    other = cProfile.Profile()
    other.enable()
    try:
        response = client.get("/t/spin/1/")
    finally:
        other.disable()
    assert response.status_code == 200
    aggregator.flush()
    profiles.flush()
    row = MetricBatch.objects.get()
    if engine == "cprofile" and sys.version_info >= (3, 12):
        assert (row.profiles, row.profiles_skipped) == (0, 1)
    else:  # 3.11 lets a second cProfile replace the first in the same thread
        assert (row.profiles, row.profiles_skipped) == (1, 0)
        assert Profile.objects.get().engine == engine


def test_a_sampled_profile_is_written_with_the_next_flush(
    client: Client, settings: Any, django_assert_num_queries: Any
) -> None:
    settings.PROFILING_ENABLED = True
    settings.PROFILING_SAMPLE_RATE = 1.0
    settings.PROFILING_FLUSH_REQUESTS = 2
    with django_assert_num_queries(0):
        client.get("/t/spin/1/")
    assert profiles.pending() == 1
    client.get("/t/spin/1/")  # the flush writes metrics and both profiles
    assert profiles.pending() == 0
    assert Profile.objects.count() == 2
    assert MetricBatch.objects.get().profiles == 2


@pytest.mark.parametrize(
    "headers",
    [{"HTTP_SEC_PURPOSE": "prefetch"}, {"HTTP_SEC_PURPOSE": "prefetch;prerender"}],
)
def test_a_speculative_prefetch_is_never_sampled(
    client: Client, settings: Any, headers: dict[str, str]
) -> None:
    settings.PROFILING_ENABLED = True
    settings.PROFILING_SAMPLE_RATE = 1.0
    assert client.get("/t/spin/1/", **headers).status_code == 200
    assert profiles.pending() == 0
    client.get("/t/spin/1/")  # the same request, a visit: sampled
    assert profiles.pending() == 1


def test_the_queue_of_profiles_is_bounded(
    client: Client, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.PROFILING_ENABLED = True
    settings.PROFILING_SAMPLE_RATE = 1.0
    monkeypatch.setattr(profiles, "MAX_PENDING", 2)
    for samples in (1, 2, 3, 4):
        assert client.get(f"/t/spin/{samples}/").status_code == 200
    assert profiles.pending() == 2
    queued = profiles.waiting()
    # The first two wait, unsaved, as the sampler took them; the others were dropped.
    assert [p.pk for p in queued] == [None, None]
    assert {(p.endpoint, p.reason, p.engine) for p in queued} == {
        ("GET /t/spin/<int:samples>/", "sample", "sampling")
    }
    assert all(p.stacks["samples"] >= n for p, n in zip(queued, (1, 2), strict=True))
    for p in queued:
        frames = [name for name, _file, _line in p.stacks["frames"]]
        assert "spin" in frames and p.prof == b"" and p.duration_ms > 0
    assert profiles.flush() == 2
    assert profiles.waiting() == []
    written = list(Profile.objects.order_by("pk"))
    assert [(p.endpoint, p.created_at, p.stacks) for p in written] == [
        (p.endpoint, p.created_at, p.stacks) for p in queued
    ]
    aggregator.flush()
    row = MetricBatch.objects.get()
    # Counted as the module says: two taken, the two dropped as skipped.
    assert (row.profiles, row.profiles_skipped) == (2, 2)


def test_a_sample_that_caught_nothing_is_not_stored(
    client: Client, staff_client: Client, settings: Any
) -> None:
    settings.PROFILING_ENABLED = True
    settings.PROFILING_SAMPLE_RATE = 1.0
    settings.PROFILING_SAMPLING_INTERVAL = 60_000  # no tick during the request
    client.get("/t/work/1/")
    assert profiles.pending() == 0
    staff_client.get("/t/work/1/?profile=1")  # asked for: kept, even empty
    profile = Profile.objects.get()
    assert (profile.reason, profile.stacks["stacks"], profile.functions) == (
        "staff",
        [],
        [],
    )
