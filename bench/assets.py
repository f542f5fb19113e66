"""What the assets app is worth: page loads, dynamic compression, collectstatic.

    .venv/bin/python bench/assets.py [--runs 5] [--reps 200]
    # needs: pip install -e ".[dev,bench]" and Debian's chromium

1. ``/`` and ``/posts/1/`` in headless Chromium under emulated slow 4G (150 ms
   RTT, 1.6 Mbps down, 750 kbps up), perfsite's page (critical CSS extracted
   in a browser, AVIF figure) vs the same page served the naive way
   (bench/naive_settings.py): FCP, LCP, CLS, bytes and requests, first and
   repeat view, medians of ``--runs`` runs. Bytes are counted 4 s after load, once
   perfsite's lazy scripts have loaded too, so both pages carry all their code.
2. A post page opened after another one in Chromium: its HTML bytes as dcz
   (the browser holds the site's dictionary) vs br-4 (dictionary blocked).
3. Dynamic compression of the demo's HTML and JSON: ours (br-4, zstd, dcz,
   gzip) vs Django's GZipMiddleware vs django-compression-middleware, with
   Chrome's Accept-Encoding: bytes and CPU time per response (median of
   ``--reps``, interleaved); then zstd's levels against br-4.
4. collectstatic time: whitenoise alone, ours before zstd, dcz, the browser
   step and image variants, ours now, and a no-change rebuild, interleaved.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this folder would come first on sys.path and bench/http.py
# would shadow the standard library's `http`: put the project root there.
sys.path[0] = str(Path(__file__).resolve().parent.parent)

import argparse  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import urllib.request  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from contextlib import ExitStack, contextmanager  # noqa: E402
from typing import Any  # noqa: E402

from bench.assets_compression import (  # noqa: E402
    compression,
    second_navigation,
    use_dictionary,
    zstd_levels,
)
from bench.harness import seeded_site  # noqa: E402
from bench.results import Results  # noqa: E402

SLOW_4G = {
    "offline": False,
    "latency": 150,  # milliseconds of round trip
    "downloadThroughput": 1_600_000 / 8,  # bytes per second
    "uploadThroughput": 750_000 / 8,  # bytes per second
}
PAINTS = """() => new Promise((resolve) => {
  let fcp = null, lcp = null;
  const done = () => { if (fcp !== null && lcp !== null) resolve([fcp, lcp]); };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if (e.name === "first-contentful-paint") fcp = e.startTime;
    done();
  }).observe({type: "paint", buffered: true});
  new PerformanceObserver((list) => {
    const entries = list.getEntries();
    lcp = entries[entries.length - 1].startTime;
    done();
  }).observe({type: "largest-contentful-paint", buffered: true});
})"""


# Layout shifts so far (buffered): the page's CLS once it has settled.
LAYOUT_SHIFT = """() => new Promise((resolve) => {
  let total = 0;
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if (!e.hadRecentInput) total += e.value;
  }).observe({type: "layout-shift", buffered: true});
  setTimeout(() => resolve(total), 0);
})"""


def fmt_ms(value: float) -> str:
    return f"{value:,.0f} ms"


def fmt_kb(value: float) -> str:
    return f"{value / 1024:,.1f} KB"


# 1. Page load ----------------------------------------------------------------


def view(context: Any, url: str) -> dict[str, float]:
    """One navigation: paint times, bytes on the wire and requests."""
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", SLOW_4G)
    sizes: dict[str, int] = {}
    cdp.on(
        "Network.loadingFinished",
        lambda e: sizes.__setitem__(e["requestId"], e["encodedDataLength"]),
    )
    page.goto(url, wait_until="load")
    fcp, lcp = page.evaluate(PAINTS)
    page.wait_for_timeout(4000)  # past perfsite's 3 s lazy-script timeout
    cls = page.evaluate(LAYOUT_SHIFT)
    page.close()
    # A request the browser cache answers moves no byte (encodedDataLength 0):
    # only the others count; a 304 still moves its headers.
    network = [size for size in sizes.values() if size > 0]
    return {
        "fcp": fcp,
        "lcp": lcp,
        "cls": cls,
        "bytes": sum(network),
        "requests": len(network),
    }


def page_loads(
    urls: dict[str, str], runs: int, results: Results
) -> dict[tuple[str, str], dict[str, float]]:
    from playwright.sync_api import sync_playwright

    samples: dict[tuple[str, str], list[dict[str, float]]] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"]
        )
        for _ in range(runs):
            for name, url in urls.items():
                context = browser.new_context(viewport={"width": 412, "height": 823})
                samples.setdefault((name, "first view"), []).append(view(context, url))
                samples.setdefault((name, "repeat view"), []).append(view(context, url))
                context.close()
        browser.close()
    for (name, kind), values in samples.items():
        results.sample(f"page load: {name}, {kind}", values)
    return {
        key: {
            metric: statistics.median(s[metric] for s in runs_) for metric in runs_[0]
        }
        for key, runs_ in samples.items()
    }


def page_table(
    results: Results, runs: int, loads: dict[tuple[str, str], dict[str, float]]
) -> None:
    rows = [
        [
            name,
            kind,
            fmt_ms(r["fcp"]),
            fmt_ms(r["lcp"]),
            f"{r['cls']:.3f}",
            fmt_kb(r["bytes"]),
            f"{r['requests']:.0f}",
        ]
        for (name, kind), r in loads.items()
    ]
    notes = []
    for page in sorted({name.split(" ", 1)[1] for name, _ in loads}):
        for kind in ("first view", "repeat view"):
            ours = loads[(f"perfsite {page}", kind)]
            naive = loads[(f"naive {page}", kind)]
            notes.append(
                f"{page} {kind}, naive ÷ perfsite: LCP {naive['lcp'] / ours['lcp']:.2f}, "
                f"bytes {naive['bytes'] / max(ours['bytes'], 1):.2f}, "
                f"FCP {naive['fcp'] / ours['fcp']:.2f} (above 1: perfsite is ahead)."
            )
    results.table(
        f"Page load under slow 4G (median of {runs} runs)",
        ["page", "view", "FCP", "LCP", "CLS", "transferred", "network requests"],
        rows,
        notes,
        align="llrrrrr",
    )


@contextmanager
def two_sites(posts: int) -> Iterator[dict[str, str]]:
    workdir = Path(tempfile.mkdtemp(prefix="perfsite-bench-assets-"))
    database = f"sqlite:///{workdir / 'shared.sqlite3'}"
    with ExitStack() as stack:
        ours = stack.enter_context(seeded_site(200, posts, DATABASE_URL=database))
        naive = stack.enter_context(
            seeded_site(
                200,
                posts,
                DATABASE_URL=database,
                DJANGO_SETTINGS_MODULE="bench.naive_settings",
                NAIVE_STATIC_ROOT=str(workdir / "naive-static"),
            )
        )
        # The post page: its figure is a <picture> (AVIF) and its critical CSS
        # was extracted in a browser.
        yield {
            "perfsite /": ours + "/",
            "naive /": naive + "/",
            "perfsite /posts/1/": ours + "/posts/1/",
            "naive /posts/1/": naive + "/posts/1/",
        }


# 3. Dynamic compression ----------------------------------------------------------


def fetch(url: str) -> bytes:
    request = urllib.request.Request(url, headers={"Accept-Encoding": "identity"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return bytes(response.read())


# 4. collectstatic ------------------------------------------------------------------


def collectstatic_times(results: Results, runs: int) -> None:
    from django.core.management import call_command
    from django.test import override_settings

    def storages(backend: str) -> dict[str, dict[str, str]]:
        return {
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": backend},
        }

    def timed(root: Path, **settings: Any) -> float:
        with override_settings(STATIC_ROOT=root, **settings):
            start = time.perf_counter()
            call_command("collectstatic", interactive=False, verbosity=0)
            return time.perf_counter() - start

    plain = storages("whitenoise.storage.CompressedManifestStaticFilesStorage")
    before = storages("bench.storage_before.BrotliGzipStorage")
    bundled = storages("assets.storage.BundleStorage")
    rows: dict[str, list[float]] = {}
    for _ in range(runs):
        with ExitStack() as dirs:
            a, b, c = (
                Path(dirs.enter_context(tempfile.TemporaryDirectory())) for _ in "abc"
            )
            rows.setdefault("whitenoise, no bundles", []).append(
                timed(
                    a, STORAGES=plain, ASSETS_BUNDLES={}, ASSETS_DICTIONARY_TEMPLATES=[]
                )
            )
            rows.setdefault(
                "assets, br + gzip, no dictionary, no browser step or images (before)",
                [],
            ).append(
                timed(
                    b,
                    STORAGES=before,
                    ASSETS_DICTIONARY_TEMPLATES=[],
                    ASSETS_CRITICAL_BROWSER="",
                    ASSETS_IMAGE_FORMATS=[],
                )
            )
            rows.setdefault(
                "assets, br + gzip + zstd, dictionary, critical CSS in Chromium, images",
                [],
            ).append(timed(c, STORAGES=bundled))
            rows.setdefault("assets, rebuild with no change", []).append(
                timed(c, STORAGES=bundled)
            )
    results.sample("collectstatic, s", rows)
    before = "assets, br + gzip, no dictionary, no browser step or images (before)"
    now_name = "assets, br + gzip + zstd, dictionary, critical CSS in Chromium, images"
    base = statistics.median(rows[before])
    table = []
    for name, values in rows.items():
        value = statistics.median(values)
        table.append([name, f"{value:.2f} s", f"{value / base:.2f}×"])
    results.table(
        f"collectstatic (median of {runs} runs)",
        ["build", "wall time", "vs before"],
        table,
        align="lrr",
    )
    now = statistics.median(rows[now_name]) / base
    results.target(
        "collectstatic with the new steps, against the build before them",
        now,
        "<= 1.5×",
        now <= 1.5,
        f"{now:.2f}×",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--posts", type=int, default=2000)
    args = parser.parse_args()

    results = Results(
        "assets",
        distributions=(
            "whitenoise",
            "brotli",
            "backports.zstd",
            "django-compression-middleware",
            "playwright",
            "Pillow",
        ),
        programs=("chromium",),
    )
    with two_sites(args.posts) as urls:
        page_table(results, args.runs, page_loads(urls, args.runs, results))
        base = urls["perfsite /"].rstrip("/")
        second_navigation(results, base, args.runs)
        home = fetch(base + "/")
        link = re.search(rb'rel="compression-dictionary" href="([^"]+)"', home)
        if link is None:
            raise SystemExit("the page links no compression dictionary")
        dictionary_bytes = fetch(base + link.group(1).decode())
        bodies = {
            "HTML of /": (home, "text/html; charset=utf-8"),
            "HTML of /posts/3/": (
                fetch(base + "/posts/3/"),
                "text/html; charset=utf-8",
            ),
            "JSON of /api/posts/popular?limit=100": (
                fetch(base + "/api/posts/popular?limit=100"),
                "application/json",
            ),
        }

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "perfsite.settings")
    os.environ.setdefault("DJANGO_LOG_LEVEL", "WARNING")
    import django

    django.setup()
    digest = use_dictionary(dictionary_bytes)
    compression(results, bodies, args.reps, digest)
    zstd_levels(results, {k: v[0] for k, v in bodies.items()}, args.reps)
    collectstatic_times(results, 3)
    results.write()


if __name__ == "__main__":
    main()
