"""Which CSS rules style the first viewport, asked of headless Chromium.

Each page is loaded at each viewport (and colour scheme). Once the page's
deferred stylesheets apply and its fonts are ready, every element that starts
below the first viewport is replaced by an empty element of the same tag (so
``:last-child``, ``:nth-of-type`` and the like still match the elements above
the fold as on the real page, while the classes and content below it match
nothing), and the style of the whole document is recomputed under CDP
rule-usage tracking (``CSS.startRuleUsageTracking`` /
``CSS.stopRuleUsageTracking``). The rules reported as used are the ones that
style what is inside the first viewport (plus a few type selectors the
stand-ins match).

Nothing is fetched from a network: the pages are HTML rendered beforehand,
and every request the browser makes is answered through request interception
by ``fetch`` (static files from ``STATIC_ROOT``) or aborted.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)

# An origin nothing listens on: interception answers every request.
ORIGIN = "http://127.0.0.1:9"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]

APPLY_DEFERRED = """async () => {
  for (const link of document.querySelectorAll('link[rel=stylesheet][media=print]')) {
    link.media = 'all';
  }
  await document.fonts.ready;
}"""

# Measure every element first, then replace: replacing while measuring would
# move later elements up into the viewport.
HIDE_BELOW_FOLD = """() => {
  const below = [];
  for (const el of document.body.querySelectorAll('*')) {
    const box = el.getBoundingClientRect();
    if (box.top >= innerHeight && !below.some((b) => b.contains(el))) below.push(el);
  }
  for (const el of below) el.replaceWith(document.createElement(el.localName));
  return below.length;
}"""

RESTYLE = """() => {
  const sheets = [...document.styleSheets];
  for (const s of sheets) s.disabled = true;
  document.body.getBoundingClientRect();
  for (const s of sheets) s.disabled = false;
  document.body.getBoundingClientRect();
}"""


@dataclass(frozen=True)
class Viewport:
    width: int
    height: int


# Colour schemes are switched on the loaded page (they change no layout).
SCHEMES = ("light", "dark")


@dataclass
class Usage:
    """Per stylesheet URL: its text as the browser read it, the used offsets."""

    texts: dict[str, str] = field(default_factory=dict)
    used: dict[str, set[int]] = field(default_factory=dict)
    version: str = ""


Fetch = Callable[[str], "tuple[bytes, str] | None"]


@contextmanager
def chromium(executable: str, args: Sequence[str] = CHROMIUM_ARGS) -> Iterator[Any]:
    """Headless Chromium at ``executable`` (Playwright downloads nothing here)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=list(args)
        )
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def chromium_lazily(executable: str) -> Iterator[Callable[[], Any]]:
    """A function that launches Chromium on its first call (and only then)."""
    with ExitStack() as stack:
        started: list[Any] = []

        def launch() -> Any:
            if not started:
                started.append(stack.enter_context(chromium(executable)))
            return started[0]

        yield launch


def _route(pages: dict[str, bytes], fetch: Fetch) -> Callable[[Any], None]:
    def handle(route: Any) -> None:
        url = route.request.url
        # The first render is what the server sent: scripts run after it (and
        # the deferred stylesheets are applied here, not by the loader).
        if route.request.resource_type == "script":
            route.abort()
            return
        if url in pages:
            route.fulfill(body=pages[url], content_type="text/html; charset=utf-8")
            return
        found = fetch(url)
        if found is None:
            route.abort()
        else:
            route.fulfill(body=found[0], content_type=found[1])

    return handle


def _measure(context: Any, url: str, stylesheets: Sequence[str], usage: Usage) -> None:
    # A page of its own: a reused one reports rules its previous document used.
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    sheets: dict[str, str] = {}

    def added(event: dict[str, Any]) -> None:
        header = event["header"]
        sheets[header["styleSheetId"]] = header["sourceURL"]

    cdp.on("CSS.styleSheetAdded", added)
    page.goto(url, wait_until="load")
    page.evaluate(APPLY_DEFERRED)
    hidden = page.evaluate(HIDE_BELOW_FOLD)
    reports = []
    for scheme in SCHEMES:
        page.emulate_media(color_scheme=scheme)
        cdp.send("CSS.startRuleUsageTracking")
        page.evaluate(RESTYLE)
        reports += cdp.send("CSS.stopRuleUsageTracking")["ruleUsage"]
    for sheet_id, source in sheets.items():
        if source in stylesheets and source not in usage.texts:
            usage.texts[source] = cdp.send(
                "CSS.getStyleSheetText", {"styleSheetId": sheet_id}
            )["text"]
    for rule in reports:
        source = sheets.get(rule["styleSheetId"], "")
        if rule["used"] and source in stylesheets:
            usage.used.setdefault(source, set()).add(int(rule["startOffset"]))
    logger.debug("%s: %d subtrees below the fold", url, hidden)
    page.close()


def used_rules(
    browser: Any,
    pages: Sequence[bytes],
    stylesheets: Sequence[str],
    fetch: Fetch,
    viewports: Sequence[Viewport],
) -> Usage:
    """The rules of ``stylesheets`` (absolute URLs) used in the first viewport
    of any of ``pages`` at any of ``viewports``."""
    urls = {f"{ORIGIN}/__critical__/{index}/": html for index, html in enumerate(pages)}
    usage = Usage(version=browser.version)
    for viewport in viewports:
        context = browser.new_context(
            viewport={"width": viewport.width, "height": viewport.height},
            service_workers="block",
        )
        context.route("**/*", _route(urls, fetch))
        for url in urls:
            _measure(context, url, stylesheets, usage)
        context.close()
    return usage
