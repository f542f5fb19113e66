"""The profiling pages in a real headless Chromium, as a staff user."""

from __future__ import annotations

import os
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from perfsite_profiling.models import Profile
from tests.perfsite.factories import make_post, make_user

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
    assert page.locator(".messages").inner_text().startswith("Deleted 1 rows")
    assert Profile.objects.count() == 0
    assert errors == []
    page.close()
