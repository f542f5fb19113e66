"""Layout stability and instant navigations of the demo in headless Chromium,
served as in production under a strict CSP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from assets import manifest
from perfsite.models import Post
from tests.assets.conftest import build, production
from tests.assets.site import Site, serve
from tests.assets.test_browser import WATCH_CSP, assert_clean, wait_until
from tests.perfsite.factories import make_post

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]

# Every layout shift from the start of the page, as a buffered observer sees it.
WATCH_SHIFTS = """
window.__shifts = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    if (e.hadRecentInput) continue;
    const moved = (e.sources || []).map((source) => {
      const node = source.node;
      const name = node && node.nodeType === 1
        ? node.tagName.toLowerCase() + (node.className ? "." + node.className : "")
        : String(node && node.nodeName);
      const from = source.previousRect, to = source.currentRect;
      return `${name} ${from.x},${from.y} ${from.width}x${from.height} -> ${to.x},${to.y} ${to.width}x${to.height}`;
    });
    window.__shifts.push({value: e.value, at: Math.round(e.startTime), moved});
  }
}).observe({type: "layout-shift", buffered: true});
"""
# Slow enough that the deferred stylesheet arrives after the first paint.
SLOW_NETWORK = {
    "offline": False,
    "latency": 150,  # milliseconds of round trip
    "downloadThroughput": 1_600_000 / 8,  # bytes per second
    "uploadThroughput": 750_000 / 8,  # bytes per second
}
VIEWPORTS = [(412, 823), (1350, 940)]


@pytest.fixture(scope="module")
def declared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo built without a browser: the declared critical list only."""
    return build(tmp_path_factory.mktemp("declared"), ASSETS_CRITICAL_BROWSER="")


def _site(root: Path) -> Iterator[Site]:
    middleware = ["tests.assets.csp.StrictCSPMiddleware", *settings.MIDDLEWARE]
    with production(root, MIDDLEWARE=middleware):
        manifest.clear()
        for views in range(10):
            make_post(views=views, title=f"Story {views}", body="Words. " * 300)
        with serve() as running:
            yield running
    manifest.clear()


@pytest.fixture
def site(built: Path) -> Iterator[Site]:
    yield from _site(built)


@pytest.fixture
def declared_site(declared: Path) -> Iterator[Site]:
    yield from _site(declared)


def shifts(browser: Any, url: str, width: int, height: int) -> list[dict[str, Any]]:
    """Every layout shift of the page on a slow network (its value, time and
    what moved), until the deferred stylesheet applied and the lazy scripts ran."""
    context = browser.new_context(viewport={"width": width, "height": height})
    context.add_init_script(WATCH_CSP + WATCH_SHIFTS)
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", SLOW_NETWORK)
    page.goto(url, wait_until="load")
    wait_until(page, "() => document.querySelector('link[data-assets-lazy]') === null")
    # The lazy scripts load 3 s after load without interaction; they change
    # the header (the theme toggle), which must not shift anything either.
    wait_until(page, "() => window.perfsiteEnhanced === true", timeout=30)
    page.wait_for_timeout(300)
    seen: list[dict[str, Any]] = page.evaluate("window.__shifts")
    assert_clean(page, [])
    context.close()
    return seen


def cls(seen: list[dict[str, Any]]) -> float:
    """The cumulative layout shift of these shifts."""
    return round(sum(shift["value"] for shift in seen), 4)


def pages(site: Site) -> list[str]:
    post = Post.objects.order_by("id").first()
    assert post is not None
    return [site.url + "/", f"{site.url}/posts/{post.pk}/"]


@pytest.mark.parametrize(("width", "height"), VIEWPORTS)
def test_no_layout_shift_with_extracted_critical_css(
    site: Site, browser: Any, width: int, height: int
) -> None:
    for url in pages(site):
        seen = shifts(browser, url, width, height)
        assert cls(seen) == 0, (url, seen)


# A browser paints what it has parsed so far, so a page whose first viewport
# is painted in two pieces must not move the first piece when the second comes.
# For each element of the first viewport: remove what follows it in the source
# (as if the network had not delivered it yet) and list what then sits elsewhere.
MOVED_BY_LATER_CONTENT = """() => {
  const all = Array.from(document.body.querySelectorAll("*"));
  const box = (el) => { const r = el.getBoundingClientRect(); return [r.left, r.top]; };
  const whole = all.map(box);
  const seen = (i) => whole[i][1] < window.innerHeight && all[i].getClientRects().length;
  const moved = [];
  all.forEach((cut, k) => {
    if (!seen(k)) return;
    let last = k;
    while (last + 1 < all.length && cut.contains(all[last + 1])) last++;
    const later = all.slice(last + 1).filter((el) => !el.contains(cut));
    later.forEach((el) => el.style.setProperty("display", "none", "important"));
    for (let i = 0; i <= last; i++) {
      const [x, y] = box(all[i]);
      if (seen(i) && (Math.abs(x - whole[i][0]) >= 1 || Math.abs(y - whole[i][1]) >= 1)) {
        moved.push(`${all[i].tagName.toLowerCase()}.${all[i].className} moves by `
          + `${(whole[i][0] - x).toFixed(1)},${(whole[i][1] - y).toFixed(1)} px `
          + `when what follows ${cut.tagName.toLowerCase()}.${cut.className} arrives`);
      }
    }
    later.forEach((el) => el.style.removeProperty("display"));
  });
  return moved;
}"""


@pytest.mark.parametrize(("width", "height"), VIEWPORTS)
def test_what_is_painted_stays_put_while_the_rest_arrives(
    site: Site, browser: Any, width: int, height: int
) -> None:
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    for url in pages(site):
        page.goto(url, wait_until="load")
        wait_until(
            page, "() => document.querySelector('link[data-assets-lazy]') === null"
        )
        assert page.evaluate(MOVED_BY_LATER_CONTENT) == [], url
    context.close()


def test_the_declared_list_alone_shifts_the_post_page(
    declared_site: Site, browser: Any
) -> None:
    # The measurement can fail: without extraction the article moves.
    home, post = pages(declared_site)
    assert cls(shifts(browser, post, *VIEWPORTS[0])) > 0


def test_a_hovered_link_is_navigated_from_its_prefetch(
    site: Site, browser: Any
) -> None:
    context = browser.new_context(viewport={"width": 1350, "height": 940})
    context.add_init_script(WATCH_CSP)
    page = context.new_page()
    page.goto(site.url + "/", wait_until="load")
    link = page.locator(".post-card__link").first
    target = str(link.get_attribute("href"))
    assert site.hits.count(target) == 0

    link.hover()
    deadline = 50  # tenths of a second
    while site.hits.count(target) == 0 and deadline:
        page.wait_for_timeout(100)
        deadline -= 1
    assert site.hits.count(target) == 1  # prefetched while hovered

    link.click()
    page.wait_for_url(site.url + target)
    delivery = page.evaluate(
        "performance.getEntriesByType('navigation')[0].deliveryType"
    )
    assert delivery == "navigational-prefetch"
    assert site.hits.count(target) == 1  # the click needed no second request
    assert_clean(page, [])
    context.close()
