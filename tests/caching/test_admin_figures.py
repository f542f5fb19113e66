"""The admin's cache statistics page shows the figures the test recorded.

Counts are recorded through ``caching.stats.record`` (what the decorators
call), then read back from the page's HTML: order, hit rate (stale serves are
hits), average compute time per miss, and the chart's percentages.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from caching import stats

pytestmark = pytest.mark.django_db

URL = "/admin/caching/cachestatistics/"
# name: hits, misses, stale, compute ms
RECORDED = {
    "figures.alpha": (3, 2, 1, 50.0),
    "figures.beta": (1, 4, 0, 10.0),
    "figures.gamma": (6, 1, 3, 7.0),
}


def expected(hits: int, misses: int, stale: int, ms: float) -> tuple[str, str]:
    lookups = hits + misses + stale
    return f"{100 * (hits + stale) / lookups:.1f}%", f"{ms / misses:.2f}"


@pytest.fixture
def page(locmem: Any, client: Client) -> Any:
    for name, (hits, misses, stale, ms) in RECORDED.items():
        stats.record(name, "hits", hits)
        stats.record(name, "misses", misses)
        stats.record(name, "stale", stale)
        stats.record(name, "compute_ms", ms)
    client.force_login(User.objects.create_user("figures", is_staff=True))

    def get(order: str) -> list[tuple[str, ...]]:
        html = client.get(f"{URL}?o={order}").content.decode()
        cells = r"\s*".join([r"<td>([^<]*)</td>"] * 10)
        rows = re.findall(r"<tr>\s*" + cells, html)
        return [r for r in rows if r[0] in RECORDED]

    return get


def test_rows_show_the_recorded_figures(page: Any) -> None:
    rows = page("-hits")
    assert [r[0] for r in rows] == ["figures.gamma", "figures.alpha", "figures.beta"]
    for name, hits, misses, stale, _fb, _err, _lw, rate, compute, avg in rows:
        h, m, s, ms = RECORDED[name]
        assert (int(hits), int(misses), int(stale)) == (h, m, s)
        assert (rate, avg) == expected(h, m, s, ms)
        assert float(compute) == ms


@pytest.mark.parametrize(
    ("order", "names"),
    [
        ("hits", ["figures.beta", "figures.alpha", "figures.gamma"]),
        ("-avg_ms", ["figures.alpha", "figures.gamma", "figures.beta"]),
        ("hit_rate", ["figures.beta", "figures.alpha", "figures.gamma"]),
        ("-misses", ["figures.beta", "figures.alpha", "figures.gamma"]),
    ],
)
def test_each_order_is_the_one_asked_for(
    page: Any, order: str, names: list[str]
) -> None:
    assert [r[0] for r in page(order)] == names


def test_the_chart_draws_each_hit_rate(locmem: Any, client: Client) -> None:
    stats.record("figures.alpha", "hits", 3)
    stats.record("figures.alpha", "misses", 1)
    stats.record("figures.alpha", "stale", 1)
    client.force_login(User.objects.create_user("chart", is_staff=True))
    html = client.get(URL).content.decode()
    groups = re.findall(r"<g transform[^>]*>(.*?)</g>", html, re.S)
    (alpha,) = [g for g in groups if ">figures.alpha<" in g]
    widths = re.findall(r'<rect[^>]*width="(\d+)"', alpha)
    percent = re.findall(r">([\d.]+)%</text>", alpha)
    # (3 + 1) of 5 lookups: 80% of the 300-unit track
    assert (widths, percent) == (["300", "240"], ["80.0"])
