"""The demo pages in a real headless Chromium."""

from __future__ import annotations

import os
from typing import Any

import pytest

from tests.perfsite.factories import make_post, make_user

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]

# Playwright's sync API runs an event loop in this thread; the ORM calls the
# tests make around it are ordinary synchronous ones.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def test_home_renders_and_runs_its_scripts(browser: Any, live_server: Any) -> None:
    author = make_user(username="ada")
    for views in range(12):
        make_post(author, views=views, title=f"Story {views}")
    page = browser.new_page()
    errors: list[str] = []
    page.on(
        "console", lambda msg: errors.append(msg.text) if msg.type == "error" else None
    )
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    failed: list[str] = []
    page.on("requestfailed", lambda request: failed.append(request.url))
    statuses: list[tuple[str, int]] = []
    page.on(
        "response", lambda response: statuses.append((response.url, response.status))
    )

    page.goto(live_server.url + "/")
    # The scripts load on the first interaction (or after 3 s): interact.
    page.mouse.click(5, 5)
    page.wait_for_function("window.perfsiteEnhanced === true")

    assert "js-enabled" in (page.get_attribute("html", "class") or "")
    assert page.locator("text=Story 11").count() == 1
    # Every stylesheet applied: the body has a non-default font family.
    assert (
        page.evaluate("getComputedStyle(document.body).fontFamily") != "Times New Roman"
    )
    assert errors == []
    assert failed == []
    assert [url for url, status in statuses if status >= 400] == []
    page.close()
