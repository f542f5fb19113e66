"""dcz in headless Chromium: the dictionary fetched once, the next page sent dcz."""

from __future__ import annotations

import base64
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from assets import dictionary, manifest
from tests.assets.conftest import production
from tests.assets.site import Site, serve
from tests.perfsite.factories import make_post

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]

# Playwright's sync API runs an event loop in this thread; the ORM calls the
# tests make around it are ordinary synchronous ones.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def site(built: Path) -> Iterator[Site]:
    middleware = ["tests.assets.csp.StrictCSPMiddleware", *settings.MIDDLEWARE]
    with production(built, MIDDLEWARE=middleware):
        manifest.clear()
        dictionary.clear()
        with serve() as running:
            yield running
    manifest.clear()
    dictionary.clear()


def test_a_second_post_page_is_sent_dcz_and_renders(site: Site, browser: Any) -> None:
    first = make_post(title="The first story")
    second = make_post(title="The second story", body="Words of the second story.")
    found = dictionary.current()
    assert found is not None
    context = browser.new_context(viewport={"width": 390, "height": 700})
    errors: list[str] = []
    fetched: list[Any] = []
    context.on(
        "requestfinished",
        lambda r: fetched.append(r) if r.url.endswith(found.url) else None,
    )
    try:
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on(
            "console", lambda m: errors.append(m.text) if m.type == "error" else None
        )
        landing = page.goto(f"{site.url}/posts/{first.pk}/", wait_until="load")
        assert landing is not None
        # http://127.0.0.1 is potentially trustworthy: a secure context, which
        # Chromium requires before it stores or uses a dictionary.
        assert page.evaluate("window.isSecureContext") is True
        assert landing.request.all_headers().get("available-dictionary") is None
        deadline = time.monotonic() + 30
        while not fetched and time.monotonic() < deadline:
            page.wait_for_timeout(50)  # the link is fetched at idle priority
        assert len(fetched) == 1
        stored = fetched[0].response()
        assert stored.all_headers()["use-as-dictionary"] == found.use_as_dictionary

        response = page.goto(f"{site.url}/posts/{second.pk}/", wait_until="load")

        assert response is not None
        sent = response.request.all_headers()
        assert "dcz" in sent["accept-encoding"]
        digest = base64.b64encode(found.digest).decode()
        assert sent["available-dictionary"] == f":{digest}:"
        headers = response.all_headers()
        assert headers["content-encoding"] == "dcz"
        assert headers["vary"] == "Accept-Encoding, Available-Dictionary"
        # Decoded and rendered: the page, its inlined CSS and its scripts work.
        assert page.locator("h1").inner_text() == "The second story"
        assert "Words of the second story." in page.locator("#post-body").inner_text()
        assert (
            page.evaluate("getComputedStyle(document.body).fontFamily")
            != "Times New Roman"
        )
        assert site.static_hits(found.name) == [f"/static/{found.name}"]
        assert errors == []
    finally:
        context.close()
