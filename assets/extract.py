"""The collectstatic step that replaces declared critical CSS by extracted CSS.

For each bundle listed in ``ASSETS_CRITICAL_PAGES``, the configured templates
are rendered with their sample context (no request, no database: a build
must not depend on what a database holds, and two builds of the same sources
must agree), loaded in headless Chromium at each of
``ASSETS_CRITICAL_VIEWPORTS`` (in a light and a dark colour scheme), and the
bundle's rules used in the first viewport become its critical CSS
(``assets.coverage`` asks the browser, ``assets.critical`` selects).

Pages reach the browser through request interception rather than a server on
a port: nothing to bind, nothing the page can reach beyond ``STATIC_ROOT``,
and the same code works when ``STATIC_URL`` names a CDN.

Without a browser (``ASSETS_CRITICAL_BROWSER = ""``, no Chromium found, no
Playwright, or a browser that fails), the declared ``critical`` list stays;
the log says which one each bundle got, and ``assets.json`` records it as
``critical_source``. An unchanged input (pages, stylesheet, viewports,
browser) reuses the previous extraction.
"""

from __future__ import annotations

import hashlib
import json
import logging
import mimetypes
import os
import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from typing import Any
from urllib.parse import unquote, urljoin

from django.template.loader import render_to_string
from django.test.utils import override_settings
from django.utils.module_loading import import_string

from assets import bundles, coverage, critical
from assets.conf import conf

logger = logging.getLogger(__name__)


def browser_path() -> tuple[str | None, str]:
    """The Chromium to use, or None and why not."""
    setting = conf.CRITICAL_BROWSER
    if not setting:
        return None, "ASSETS_CRITICAL_BROWSER is empty"
    found = shutil.which(setting)
    if found is None:
        return None, f"no browser {setting!r} on PATH"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return None, "playwright is not installed (pip install 'perfsite[browser]')"
    return found, ""


def viewports() -> list[coverage.Viewport]:
    return [
        coverage.Viewport(int(width), int(height))
        for width, height in conf.CRITICAL_VIEWPORTS
    ]


def render_pages(bundle: str) -> list[bytes]:
    from assets import manifest

    pages = []
    # The pages must link the built bundles even when DEBUG would not.
    with override_settings(ASSETS_DEBUG=False) if conf.DEBUG else nullcontext():
        manifest.clear()
        for page in conf.CRITICAL_PAGES.get(bundle, []):
            context_path = page.get("context")
            context = import_string(context_path)() if context_path else {}
            pages.append(render_to_string(page["template"], context).encode())
    return pages


def static_fetcher(storage: Any, page_origin: str) -> coverage.Fetch:
    base = urljoin(page_origin + "/", storage.base_url or "/")

    def fetch(url: str) -> tuple[bytes, str] | None:
        if not url.startswith(base):
            return None
        name = unquote(url[len(base) :].split("?", 1)[0].split("#", 1)[0])
        if not name or not storage.exists(name):
            return None
        with storage.open(name) as handle:
            data: bytes = handle.read()
        kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
        return data, kind

    return fetch


def _digest(executable: str, pages: list[bytes], css: bytes) -> str:
    stat = os.stat(executable)
    digest = hashlib.sha256()
    for part in (
        json.dumps([executable, stat.st_size, stat.st_mtime_ns]).encode(),
        json.dumps([vars(v) for v in viewports()]).encode(),
        css,
        *pages,
    ):
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()


def start(
    storage: Any,
    entries: dict[str, dict[str, Any]],
    previous: dict[str, dict[str, Any]],
    write: Callable[[], None],
) -> Callable[[], None]:
    """Start giving each configured bundle in ``entries`` its extracted
    critical CSS; the function returned waits until it has.

    ``write`` saves ``entries`` as the manifest, so the pages rendered for the
    browser link this build's bundles. The browser works in a thread of its
    own while the caller goes on (collectstatic compresses meanwhile); it is
    a thread too because Playwright's sync API refuses to run in one that has
    an event loop (an async caller, or another Playwright).
    """
    wanted = [name for name in conf.CRITICAL_PAGES if "css" in entries.get(name, {})]
    for entry in entries.values():
        entry["critical_source"] = "declared" if "critical" in entry else "none"
    if not wanted:
        return lambda: None
    executable, reason = browser_path()
    if executable is None:
        for name in wanted:
            logger.warning(
                "Critical CSS of bundle %r: the declared list (%s).", name, reason
            )
        return lambda: None
    write()
    pool = ThreadPoolExecutor(1)
    job = pool.submit(_extract, storage, entries, previous, wanted, executable)
    pool.shutdown(wait=False)

    def finish() -> None:
        try:
            job.result()
        except Exception as exc:  # a browser that cannot start must not stop a deploy
            logger.warning(
                "Critical CSS: the declared lists (the browser failed: %s).", exc
            )
            for name in wanted:
                entries[name]["critical_source"] = "declared"
                entries[name].pop("critical_inputs", None)

    return finish


def _extract(
    storage: Any,
    entries: dict[str, dict[str, Any]],
    previous: dict[str, dict[str, Any]],
    wanted: list[str],
    executable: str,
) -> None:
    fetch = static_fetcher(storage, coverage.ORIGIN)
    with coverage.chromium_lazily(executable) as launch:
        for name in wanted:
            entry = entries[name]
            path = entry["css"]["path"]
            with storage.open(path) as handle:
                css = handle.read()
            pages = render_pages(name)
            inputs = _digest(executable, pages, css)
            before = previous.get(name, {})
            if before.get("critical_inputs") == inputs:
                entry["critical"] = before["critical"]
                entry["critical_source"] = "browser"
                entry["critical_inputs"] = inputs
                logger.info("Critical CSS of bundle %r: unchanged, reused.", name)
                continue
            browser = launch()
            url = urljoin(coverage.ORIGIN + "/", storage.url(entry["css"]["name"]))
            usage = coverage.used_rules(browser, pages, [url], fetch, viewports())
            text = usage.texts.get(url, "")
            selected = critical.select(text, sorted(usage.used.get(url, ())))
            entry["critical"] = bundles.rebase_css(
                bundles.minify_css(selected),
                path,
                lambda target: (storage.base_url or "/") + target,
            )
            entry["critical_source"] = "browser"
            entry["critical_inputs"] = inputs
            logger.info(
                "Critical CSS of bundle %r: extracted in Chromium %s from %d "
                "page(s) at %d viewport(s), %d bytes.",
                name,
                usage.version,
                len(pages),
                len(viewports()),
                len(entry["critical"]),
            )
