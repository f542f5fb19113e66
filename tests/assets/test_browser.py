"""The demo in headless Chromium, served as in production, under a strict CSP."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from assets import manifest
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

WATCH_CSP = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(e.violatedDirective + " " + e.blockedURI);
});
"""


@pytest.fixture
def site(built: Path) -> Iterator[Site]:
    middleware = ["tests.assets.csp.StrictCSPMiddleware", *settings.MIDDLEWARE]
    with production(built, MIDDLEWARE=middleware):
        manifest.clear()
        for views in range(10):
            make_post(views=views, title=f"Story {views}")
        with serve() as running:
            yield running
    manifest.clear()


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 390, "height": 700})
    context.add_init_script(WATCH_CSP)
    yield context
    context.close()


CLOCK_START = 1_700_000_000  # seconds since the epoch, any fixed instant


def open_page(
    context: Any, url: str, *, fake_clock: bool = True
) -> tuple[Any, list[str]]:
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    if fake_clock:
        # Timers fire only when a test advances this clock: no sleeping, no races.
        page.clock.install(time=CLOCK_START)
        page.clock.pause_at(CLOCK_START + 1)
    page.goto(url, wait_until="load")
    return page, errors


def wait_until(page: Any, predicate: str, timeout: float = 30.0) -> None:
    """Poll ``predicate`` (a JS function) from here.

    Playwright's ``wait_for_function`` evaluates its predicate with ``eval`` in
    the page, which the strict CSP under test rightly refuses.
    """
    deadline = time.monotonic() + timeout
    while not page.evaluate(predicate):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout}s: {predicate}")
        time.sleep(0.05)


def lazy_js_hits(site: Site) -> list[str]:
    return [h for h in site.static_hits("/bundles/site.") if h.endswith(".js")]


def assert_clean(page: Any, errors: list[str]) -> None:
    assert page.evaluate("window.__csp") == []
    assert errors == []


def test_deferred_css_applies_after_load(site: Site, context: Any) -> None:
    page, errors = open_page(context, site.url + "/")
    # The inlined critical CSS styles the first screen before any stylesheet.
    assert (
        page.evaluate("getComputedStyle(document.body).fontFamily") != "Times New Roman"
    )
    wait_until(
        page, "() => document.querySelector('link[href*=bundles]').media === 'all'"
    )
    # .card is only in components.css, so only in the deferred bundle.
    assert (
        page.evaluate(
            "getComputedStyle(document.querySelector('.card')).borderTopLeftRadius"
        )
        == "16px"
    )
    assert (
        page.evaluate("document.querySelectorAll('link[data-assets-lazy]').length") == 0
    )
    assert_clean(page, errors)


def test_lazy_scripts_wait_for_interaction_and_load_once(
    site: Site, context: Any
) -> None:
    page, errors = open_page(context, site.url + "/")
    page.wait_for_load_state("networkidle")
    assert lazy_js_hits(site) == []
    assert page.evaluate("window.perfsiteEnhanced") is None
    assert "js-enabled" not in (page.get_attribute("html", "class") or "")

    page.mouse.click(200, 300)
    wait_until(page, "() => window.perfsiteEnhanced === true")

    page.mouse.click(200, 400)
    page.keyboard.press("Shift")
    page.mouse.wheel(0, 400)
    page.clock.run_for(10_000)
    assert "js-enabled" in (page.get_attribute("html", "class") or "")
    assert len(lazy_js_hits(site)) == 1
    assert (
        page.evaluate("document.querySelectorAll('script[src*=bundles]').length") == 1
    )
    # The injected script carries the nonce and the SRI digest.
    assert page.evaluate(
        "document.querySelector('script[src*=bundles]').integrity"
    ).startswith("sha384-")
    assert_clean(page, errors)


def test_lazy_scripts_load_after_the_timeout_without_interaction(
    site: Site, context: Any
) -> None:
    page, errors = open_page(context, site.url + "/")
    page.wait_for_load_state("networkidle")
    page.clock.run_for(2_500)
    assert lazy_js_hits(site) == []

    page.clock.run_for(600)  # past the default 3 s

    wait_until(page, "() => window.perfsiteEnhanced === true")
    assert len(lazy_js_hits(site)) == 1
    assert_clean(page, errors)


def test_below_the_fold_images_load_when_scrolled_to(site: Site, context: Any) -> None:
    page, errors = open_page(context, site.url + "/", fake_clock=False)
    page.wait_for_load_state("networkidle")
    # thumb-4 is first used by the fourth card, far below a 700 px viewport.
    assert site.static_hits("/thumb-4.") == []
    fourth = page.locator("img[src*=thumb-4]").first
    assert fourth.evaluate("img => img.complete") is False

    fourth.scroll_into_view_if_needed()

    wait_until(page, "() => document.querySelector('img[src*=thumb-4]').complete")
    assert len(site.static_hits("/thumb-4.")) == 1
    assert_clean(page, errors)


def test_a_second_visit_requests_no_static_file(site: Site, context: Any) -> None:
    page, errors = open_page(context, site.url + "/")
    page.mouse.click(200, 300)
    wait_until(page, "() => window.perfsiteEnhanced === true")
    page.wait_for_load_state("networkidle")
    assert len(site.static_hits()) >= 6
    site.hits.clear()

    page.goto(site.url + "/", wait_until="load")
    page.mouse.click(200, 300)
    wait_until(page, "() => window.perfsiteEnhanced === true")
    page.wait_for_load_state("networkidle")

    assert site.hits == ["/"]
    assert_clean(page, errors)


# Measured on the demo (10 posts, 390x700 viewport, Chromium 156): 10 requests
# (document, loader, CSS bundle, logo, hero, pattern, three thumbnails, favicon)
# and 19.4 KB transferred on the first view, 6.0 KB for the document, which
# carries the critical CSS. Limits leave about 25 % headroom: an extra request
# in the first view, a blocking one or a few KB more fails. The dcz dictionary,
# fetched at idle priority after load, is counted apart: 5.1 KB (brotli).
MAX_FIRST_VIEW_REQUESTS = 12
MAX_FIRST_VIEW_BYTES = 25_000
MAX_CRITICAL_PATH_BYTES = 7_500
MAX_DICTIONARY_BYTES = 6_500


def test_page_weight_budget(site: Site, context: Any) -> None:
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    sizes: dict[str, int] = {}
    urls: dict[str, str] = {}
    cdp.on(
        "Network.requestWillBeSent",
        lambda e: urls.__setitem__(e["requestId"], e["request"]["url"]),
    )
    cdp.on(
        "Network.loadingFinished",
        lambda e: sizes.__setitem__(e["requestId"], e["encodedDataLength"]),
    )
    page.goto(site.url + "/", wait_until="load")
    page.wait_for_load_state("networkidle")

    document = next(size for rid, size in sizes.items() if urls[rid] == site.url + "/")
    blocking = page.evaluate(
        "performance.getEntriesByType('resource').filter(e => e.renderBlockingStatus === 'blocking').length"
    )
    dictionary = [size for rid, size in sizes.items() if "/dictionary." in urls[rid]]
    total = sum(sizes.values()) - sum(dictionary)
    print(
        f"first view: {len(sizes)} requests, {total} bytes; document {document} "
        f"bytes; dictionary {dictionary} bytes"
    )
    assert blocking == 0
    assert len(sizes) - len(dictionary) <= MAX_FIRST_VIEW_REQUESTS
    assert total <= MAX_FIRST_VIEW_BYTES
    assert len(dictionary) <= 1 and sum(dictionary) <= MAX_DICTIONARY_BYTES
    assert document <= MAX_CRITICAL_PATH_BYTES
