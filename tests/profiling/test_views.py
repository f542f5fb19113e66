"""The staff-only pages: access, sorting, the profile page, download, clear."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from perfsite_profiling.models import MetricBatch, Profile
from perfsite_profiling.store import aggregator
from tests.profiling.site import FakeClock

pytestmark = pytest.mark.django_db

PAGES = [
    "/profiling/",
    "/profiling/sql/",
    "/profiling/profiles/{pk}/",
    "/profiling/profiles/{pk}.prof",
    "/profiling/profiles/{sampled}.speedscope.json",
]


@pytest.fixture
def profile(staff_client: Client, settings: Any) -> Profile:
    settings.PROFILING_ENABLED = True
    settings.PROFILING_ENGINE = "cprofile"  # exact functions to check
    settings.PROFILING_SAMPLE_RATE = 0.0
    staff_client.get("/t/queries/3/?profile=1")
    return Profile.objects.get()


@pytest.fixture
def sampled(staff_client: Client, profile: Profile, settings: Any) -> Profile:
    """A profile of the sampling engine: the one kind with a speedscope export."""
    settings.PROFILING_ENGINE = "sampling"
    staff_client.get("/t/spin/3/?profile=1")
    found = Profile.objects.exclude(pk=profile.pk).get()
    assert found.stacks and found.stacks["samples"] >= 3
    return found


def urls(profile: Profile, sampled: Profile) -> list[str]:
    return [page.format(pk=profile.pk, sampled=sampled.pk) for page in PAGES]


def test_anonymous_users_go_to_the_admin_login(
    client: Client, profile: Profile, sampled: Profile
) -> None:
    for url in urls(profile, sampled):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/admin/login/?next="), url


def test_non_staff_get_404(
    user_client: Client, profile: Profile, sampled: Profile
) -> None:
    for url in urls(profile, sampled):
        assert user_client.get(url).status_code == 404, url
    assert user_client.post("/profiling/clear/", {"what": "all"}).status_code == 404
    assert Profile.objects.exists()


def test_endpoints_sorted_with_flags(
    client: Client, staff_client: Client, clock: FakeClock, settings: Any
) -> None:
    settings.PROFILING_N_PLUS_ONE_MIN_MS = 0
    client.get("/t/work/30/")
    client.get("/t/work/10/")
    client.get("/t/queries/6/")
    html = staff_client.get("/profiling/?sort=p50").content.decode()
    order = re.findall(r'data-endpoint="([^"]+)" data-requests="(\d+)"', html)
    assert order == [
        ("GET /t/work/&lt;int:ms&gt;/", "2"),
        ("GET /t/queries/&lt;int:n&gt;/", "1"),
    ]
    assert "N+1 &times;1" in html
    assert staff_client.get("/profiling/?sort=db").status_code == 200
    bad = staff_client.get("/profiling/?sort=nope")
    assert bad.status_code == 400
    assert b"sort must be one of" in bad.content


def test_profile_page_has_a_sortable_table_and_bars(
    staff_client: Client, profile: Profile
) -> None:
    url = f"/profiling/profiles/{profile.pk}/"
    html = staff_client.get(url + "?sort=cumulative_ms").content.decode()
    assert '<rect width="100.0%"' in html
    assert "SELECT ?" in html
    ours = html[html.index('<div class="profiling">') :]
    assert "<script" not in ours  # no chart library (the admin's frame has its own)
    assert 'href="/static/admin/css/base.css"' in html  # the admin's look
    cumulative = [
        float(v)
        for v in re.findall(
            r'<td class="num">[\d]+</td><td class="num">[\d.]+</td><td class="num">([\d.]+)</td>',
            html,
        )
    ]
    assert cumulative == sorted(cumulative, reverse=True) and cumulative
    assert staff_client.get(url + "?sort=bogus").status_code == 400
    assert staff_client.get("/profiling/profiles/999999/").status_code == 404


def test_download_is_an_attachment(staff_client: Client, profile: Profile) -> None:
    response = staff_client.get(f"/profiling/profiles/{profile.pk}.prof")
    assert (
        response["Content-Disposition"]
        == f'attachment; filename="profile-{profile.pk}.prof"'
    )
    assert response.content == bytes(profile.prof)


def test_sql_summary_lists_flagged_queries(
    client: Client, staff_client: Client, settings: Any
) -> None:
    settings.PROFILING_N_PLUS_ONE_MIN_MS = 0
    client.get("/t/queries/5/")
    html = staff_client.get("/profiling/sql/").content.decode()
    assert "<code>SELECT ?</code>" in html


def test_gets_never_mutate(
    client: Client, staff_client: Client, profile: Profile, sampled: Profile
) -> None:
    client.get("/t/work/1/")  # pending figures, shown but not flushed by a GET
    assert staff_client.get("/profiling/clear/?what=all").status_code == 405
    for url in [*urls(profile, sampled), "/api/performance"]:
        assert staff_client.get(url).status_code == 200, url
    assert Profile.objects.count() == 2
    assert not MetricBatch.objects.exists()
    # The two profiled requests and /t/work/1/; the pages are not measured.
    assert staff_client.get("/api/performance").json()["requests"] == 3


def test_clear_is_post_with_csrf(staff_client: Client, profile: Profile) -> None:
    aggregator.add("GET /x", {"requests": 1, "total_us": 5}, [])
    aggregator.flush()
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = staff_client.cookies
    assert strict.post("/profiling/clear/", {"what": "all"}).status_code == 403
    assert Profile.objects.exists()
    page = strict.get("/profiling/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token
    data = {"what": "bogus", "csrfmiddlewaretoken": token.group(1)}
    assert strict.post("/profiling/clear/", data).status_code == 400
    data["what"] = "all"
    response = strict.post("/profiling/clear/", data, follow=True)
    assert response.redirect_chain[-1][0] == "/profiling/"
    assert not Profile.objects.exists() and not MetricBatch.objects.exists()
