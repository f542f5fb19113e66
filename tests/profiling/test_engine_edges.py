"""Edges of the sampler, the profile queue and the page frame."""

from __future__ import annotations

import os
import threading
from datetime import timedelta
from typing import Any

import pytest
from django.db import DatabaseError
from django.test import Client

from perfsite_profiling import profiler, profiles, sampler, store
from perfsite_profiling.history import History
from perfsite_profiling.models import Profile


def test_an_unknown_engine_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="sampling, cprofile"):
        profiler.start("pyinstrument")


def test_one_profile_at_a_time_whatever_the_engine() -> None:
    running = profiler.start("sampling")
    try:
        with pytest.raises(profiler.Busy):
            profiler.start("cprofile")
    finally:
        profiler.stop(running)
    profiler.stop(profiler.start("cprofile"))  # free again


def test_the_sampler_thread_is_restarted_after_a_fork(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    own = sampler.Sampler()
    own.begin(frozenset({threading.get_ident()}), 0.001)
    own.end()
    first = own._thread
    monkeypatch.setattr(os, "getpid", lambda: -1)  # as seen in a forked child
    own.begin(frozenset({threading.get_ident()}), 0.001)
    own.end()
    assert own._thread is not first and own._thread is not None
    assert own._thread.is_alive()


def test_the_switch_interval_is_restored() -> None:
    import sys

    before = sys.getswitchinterval()
    running = profiler.start("sampling", interval=0.0005)
    assert sys.getswitchinterval() == pytest.approx(0.0005)
    profiler.stop(running)
    assert sys.getswitchinterval() == before


@pytest.mark.django_db
def test_a_failed_profile_write_is_logged_not_raised(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise DatabaseError("no such table")

    profiles.queue(
        "GET /x",
        {
            "reason": "sample",
            "duration_ms": 1,
            "python": "3",
            "threads": 1,
            "prof": b"",
        },
    )
    monkeypatch.setattr(Profile.objects, "bulk_create", broken)
    assert profiles.flush() == 0
    assert "could not write 1 profiles" in caplog.text
    assert profiles.flush() == 0  # nothing left queued


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "the last flush"), (59, "59 s"), (600, "10 min"), (3 * 3600, "3 h")],
)
def test_history_span_wording(seconds: int, text: str) -> None:
    end = store.now()
    assert History(end - timedelta(seconds=seconds), end, {}).span == text


@pytest.mark.django_db
def test_pages_without_the_admin_use_the_plain_frame(
    staff_client: Client, settings: Any
) -> None:
    settings.ROOT_URLCONF = "tests.profiling.no_admin"
    html = staff_client.get("/profiling/").content.decode()
    assert "<h1>Endpoints</h1>" in html
    assert "admin/css/base.css" not in html and 'id="header"' not in html
    assert '<div class="breadcrumbs"><a href="/profiling/">Profiling</a>' in html
