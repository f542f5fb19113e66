"""Flame graphs, speedscope export and latency charts, against known stacks."""

from __future__ import annotations

import json
import marshal
import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from perfsite_profiling import charts, stacks, store
from perfsite_profiling.history import history
from perfsite_profiling.models import MetricBatch, Profile
from perfsite_profiling.store import aggregator

# main -> handler -> (query 6 ms | render 3 ms); main alone 1 ms
KNOWN = {
    "interval_ms": 1.0,
    "samples": 10,
    "frames": [
        ["main", "/srv/app.py", 1],
        ["handler", "/srv/app.py", 10],
        ["query", "/srv/lib/python3.11/site-packages/db.py", 5],
        ["render", "/srv/app.py", 20],
    ],
    "stacks": [[[0, 1, 2], 6.0, 6], [[0, 1, 3], 3.0, 3], [[0], 1.0, 1]],
}


def sampled_profile(endpoint: str) -> Profile:
    """A stored profile of the KNOWN stacks, as the sampling engine makes them."""
    return Profile.objects.create(
        endpoint=endpoint,
        created_at=store.now(),
        reason="staff",
        engine="sampling",
        duration_ms=10,
        python="3.11",
        threads=1,
        functions=[],  # derived from the stacks on read, as the engine leaves it
        stacks=KNOWN,
        prof=b"",
    )


def rects(svg: str) -> dict[str, tuple[float, float, float]]:
    """name -> (x, y, width) of each drawn frame."""
    found = re.findall(
        r"<title>([^ ]+) .*?</title><rect x=\"([\d.]+)\" y=\"(\d+)\" width=\"([\d.]+)\"",
        svg,
    )
    return {name: (float(x), float(y), float(w)) for name, x, y, w in found}


def test_the_flame_graph_draws_each_frame_in_proportion() -> None:
    svg = str(charts.flame_graph(KNOWN))
    drawn = rects(svg)
    width = charts.FLAME_WIDTH
    assert set(drawn) == {"all", "main", "handler", "query", "render"}
    assert drawn["main"][1] == charts.ROW and drawn["query"][1] == 3 * charts.ROW
    # Widths: 10, 9, 6 and 3 ms of 10 (half a unit of gap at the right).
    assert drawn["main"][2] == pytest.approx(width - 0.5)
    assert drawn["handler"][2] == pytest.approx(width * 0.9 - 0.5)
    assert drawn["query"][2] == pytest.approx(width * 0.6 - 0.5)
    assert drawn["render"][2] == pytest.approx(width * 0.3 - 0.5)
    # Callees sit under their caller, the heaviest first.
    assert drawn["query"][0] == 0 and drawn["render"][0] == pytest.approx(width * 0.6)
    assert "query (/srv/lib/python3.11/site-packages/db.py:5) 6.00 ms, 60.0%" in svg
    assert 'viewBox="0 0 1200 72"' in svg  # four rows


def test_frames_too_narrow_to_see_are_left_out() -> None:
    tiny = {**KNOWN, "stacks": [*KNOWN["stacks"], [[0, 1, 3, 2], 0.0001, 1]]}
    svg = str(charts.flame_graph(tiny))
    assert svg.count("<rect") == 5
    assert str(charts.flame_graph({**KNOWN, "stacks": []})) == ""


def test_names_are_escaped() -> None:
    hostile = {
        **KNOWN,
        "frames": [["<lambda>", "<string>", 1]],
        "stacks": [[[0], 1.0, 1]],
    }
    svg = str(charts.flame_graph(hostile))
    assert "<lambda>" not in svg and "&lt;lambda&gt;" in svg


def test_top_functions_and_prof_from_samples() -> None:
    rows = {r["function"].split(" ")[0]: r for r in stacks.top_functions(KNOWN, 10)}
    assert rows["main"]["cumulative_ms"] == 10.0 and rows["main"]["self_ms"] == 1.0
    assert rows["handler"]["calls"] == 9 and rows["handler"]["self_ms"] == 0.0
    assert rows["query"]["self_ms"] == 6.0
    stats = marshal.loads(stacks.to_prof(KNOWN))
    query = stats[("/srv/lib/python3.11/site-packages/db.py", 5, "query")]
    assert query[:4] == (6, 6, 0.006, 0.006)
    assert query[4] == {("/srv/app.py", 10, "handler"): (6, 6, 0.0, 0.006)}


def test_speedscope_format() -> None:
    data = stacks.to_speedscope(KNOWN, "GET /x")
    (profile,) = data["profiles"]
    assert profile["type"] == "sampled" and profile["unit"] == "milliseconds"
    assert profile["samples"] == [[0, 1, 2], [0, 1, 3], [0]]
    assert profile["weights"] == [6.0, 3.0, 1.0]
    assert profile["endValue"] == 10.0
    assert data["shared"]["frames"][2] == {
        "name": "query",
        "file": "/srv/lib/python3.11/site-packages/db.py",
        "line": 5,
    }


@pytest.mark.django_db
def test_profile_page_and_speedscope_download(staff_client: Client) -> None:
    profile = sampled_profile("GET /x")
    html = staff_client.get(f"/profiling/profiles/{profile.pk}/").content.decode()
    assert html.count('<svg class="flame"') == 1
    assert rects(html)["query"][2] == pytest.approx(charts.FLAME_WIDTH * 0.6 - 0.5)
    assert "10 samples every 1.0 ms" in html
    assert "<code>query (/srv/lib/python3.11/site-packages/db.py:5)</code>" in html
    download = staff_client.get(f"/profiling/profiles/{profile.pk}.prof")
    assert marshal.loads(download.content) == marshal.loads(stacks.to_prof(KNOWN))
    response = staff_client.get(f"/profiling/profiles/{profile.pk}.speedscope.json")
    assert response["Content-Disposition"] == (
        f'attachment; filename="profile-{profile.pk}.speedscope.json"'
    )
    assert json.loads(response.content) == stacks.to_speedscope(
        KNOWN, f"GET /x #{profile.pk}"
    )


@pytest.mark.django_db
def test_a_cprofile_profile_has_no_speedscope(
    staff_client: Client, settings: Any
) -> None:
    settings.PROFILING_ENABLED = True
    settings.PROFILING_ENGINE = "cprofile"
    staff_client.get("/t/work/1/?profile=1")
    profile = Profile.objects.get()
    assert (
        staff_client.get(
            f"/profiling/profiles/{profile.pk}.speedscope.json"
        ).status_code
        == 404
    )
    html = staff_client.get(f"/profiling/profiles/{profile.pk}/").content.decode()
    assert "no flame graph for this profile" in html


def _row(endpoint: str, minutes_ago: float, durations: list[int]) -> MetricBatch:
    return MetricBatch.objects.create(
        endpoint=endpoint,
        process="test:1",
        created_at=store.now() - timedelta(minutes=minutes_ago),
        requests=len(durations),
        durations=durations,
    )


@pytest.mark.django_db
def test_history_buckets_hold_exact_percentiles(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fixed = store.now()
    monkeypatch.setattr(store, "now", lambda: fixed)
    monkeypatch.setattr("perfsite_profiling.history.now", lambda: fixed)
    _row("GET /a", 40, [1000, 2000, 3000, 4000])  # oldest: bucket 0
    _row("GET /a", 19, list(range(1000, 21000, 1000)))  # 20 values
    _row("GET /b", 1, [7000])
    past = history(["GET /a", "GET /b"], buckets=4)
    assert past.span == "40 min"
    # p50 and p95 by nearest rank, in ms
    assert past.buckets["GET /a"] == [(2.0, 4.0), None, (10.0, 19.0), None]
    assert past.buckets["GET /b"] == [None, None, None, (7.0, 7.0)]


@pytest.mark.django_db
def test_endpoints_page_draws_each_endpoints_latency(
    client: Client, staff_client: Client, clock: Any
) -> None:
    for ms in (2, 4, 6):
        client.get(f"/t/work/{ms}/")
    html = staff_client.get("/profiling/").content.decode()
    (chart,) = re.findall(
        r'<tr data-endpoint="GET /t/work/&lt;int:ms&gt;/".*?(<svg class="spark".*?</svg>)',
        html,
        re.S,
    )
    # Nothing flushed yet: one bucket, this process's pending figures.
    assert 'data-p50="' + ",".join(["-"] * 23 + ["4.000"]) + '"' in chart
    assert 'data-p95="' + ",".join(["-"] * 23 + ["6.000"]) + '"' in chart
    assert chart.count("<polyline") == 2
    assert chart.count("<circle") == 2  # one bucket: a dot per line
    assert aggregator.pending()  # the page read them without flushing


@pytest.mark.django_db
def test_the_other_threads_note_is_for_cprofile_only(staff_client: Client) -> None:
    sampled = sampled_profile("GET /x")
    Profile.objects.filter(pk=sampled.pk).update(threads=4)
    html = staff_client.get(f"/profiling/profiles/{sampled.pk}/").content.decode()
    assert "threads were alive" not in html
    Profile.objects.filter(pk=sampled.pk).update(stacks=None, engine="cprofile")
    html = staff_client.get(f"/profiling/profiles/{sampled.pk}/").content.decode()
    assert "4 threads were alive" in html
