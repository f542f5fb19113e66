"""The profiling pages in a real headless Chromium, as a staff user."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from perfsite_profiling.models import Profile
from tests.perfsite.factories import make_post, make_user
from tests.profiling.test_pictures import sampled_profile

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def test_staff_profile_a_page_and_read_it(
    browser: Any, live_server: Any, settings: Any
) -> None:
    settings.PROFILING_ENABLED = True
    settings.PROFILING_ENGINE = "cprofile"  # exact functions for the table
    settings.PROFILING_SAMPLE_RATE = 0.0
    get_user_model().objects.create_user("boss", password="pw-for-tests", is_staff=True)
    author = make_user(username="ada")
    for views in range(3):
        make_post(author, views=views)
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    page.goto(live_server.url + "/profiling/")
    assert "/admin/login/" in page.url  # anonymous: sent to the login
    page.fill("#id_username", "boss")
    page.fill("#id_password", "pw-for-tests")
    page.click("input[type=submit]")
    page.wait_for_url("**/profiling/")

    response = page.goto(live_server.url + "/?profile=1")
    assert response is not None
    assert "db;dur=" in response.headers["server-timing"]
    assert Profile.objects.count() == 1

    page.goto(live_server.url + "/profiling/")
    assert page.locator("#endpoints").inner_text().count("GET /") >= 1
    page.click("#profiles >> text=view")
    assert page.locator("#functions svg rect").count() > 5
    page.click("text=cumulative_ms")
    page.wait_for_url("**?sort=cumulative_ms")
    cumulative = [
        float(text)
        for text in page.locator(
            "#functions tbody tr td:nth-child(4)"
        ).all_inner_texts()
    ]
    assert cumulative == sorted(cumulative, reverse=True)

    page.goto(live_server.url + "/profiling/")
    page.click("text=Clear profiles")  # a POST form with its CSRF token
    assert page.locator(".messagelist").inner_text().startswith("Deleted 1 rows")
    assert Profile.objects.count() == 0
    assert errors == []
    page.close()


# Per drawn element: its box on screen and its fill, as the browser computed them.
DRAWN = """svg => Array.from(svg.querySelectorAll('rect, circle')).map(el => {
    const box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    return [box.width, box.height, style.fill, style.stroke];
})"""


def log_in(page: Any, url: str) -> None:
    page.goto(url + "/admin/login/?next=/profiling/")
    page.fill("#id_username", "boss")
    page.fill("#id_password", "pw-for-tests")
    page.click("input[type=submit]")
    page.wait_for_url("**/profiling/")


def test_each_page_renders_its_svg_in_the_admin_frame(
    browser: Any, live_server: Any, settings: Any, tmp_path: Path
) -> None:
    settings.PROFILING_ENABLED = True
    get_user_model().objects.create_user("boss", password="pw-for-tests", is_staff=True)
    profile = sampled_profile("GET /")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(page, live_server.url)
    for _ in range(3):
        page.goto(live_server.url + "/")  # measured requests for the chart

    pages = {
        "endpoints": ("/profiling/", "svg.spark"),
        "profile": (f"/profiling/profiles/{profile.pk}/", "svg.flame"),
        "sql": ("/profiling/sql/", None),
    }
    for name, (path, svg) in pages.items():
        page.goto(live_server.url + path)
        assert page.locator("#header #site-name").count() == 1  # the admin's frame
        assert page.locator(".breadcrumbs").inner_text().find("Profiling") >= 0
        shot = tmp_path / f"{name}.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        if svg is None:
            continue
        chart = page.locator(svg).first
        box = chart.bounding_box()
        assert box is not None and box["width"] > 100 and box["height"] > 20
        drawn = chart.evaluate(DRAWN)
        visible = [d for d in drawn if d[0] > 0 and d[1] > 0 and d[2] != "none"]
        assert len(visible) == len(drawn) >= 2  # every frame or dot has area and fill
        if svg == "svg.flame":
            assert page.locator("svg.flame text", has_text="handler").count() == 1
    assert errors == []
    page.close()
