"""What the assets app is worth: page loads, dynamic compression, collectstatic.

    .venv/bin/python bench/assets.py [--runs 5] [--reps 200]
    # needs: pip install -e ".[dev,bench]" and Debian's chromium

1. ``/`` and ``/posts/1/`` in headless Chromium under emulated slow 4G (150 ms
   RTT, 1.6 Mbps down, 750 kbps up), perfsite's page (critical CSS extracted
   in a browser, AVIF figure) vs the same page served the naive way
   (bench/naive_settings.py): FCP, LCP, CLS, bytes and requests, first and
   repeat view, medians of ``--runs`` runs. Bytes are counted 4 s after load, once
   perfsite's lazy scripts have loaded too, so both pages carry all their code.
2. Dynamic compression of the demo's HTML and JSON: ours vs Django's
   GZipMiddleware vs django-compression-middleware, with Chrome's
   Accept-Encoding: bytes and CPU time per response (median of ``--reps``).
3. collectstatic time with and without bundling, with and without the
   browser step and image variants, and a no-change rebuild.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this folder would come first on sys.path and bench/http.py
# would shadow the standard library's `http`: put the project root there.
sys.path[0] = str(Path(__file__).resolve().parent.parent)

import argparse  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import urllib.request  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from contextlib import ExitStack, contextmanager  # noqa: E402
from typing import Any  # noqa: E402

from bench.harness import seeded_site  # noqa: E402

SLOW_4G = {
    "offline": False,
    "latency": 150,  # milliseconds of round trip
    "downloadThroughput": 1_600_000 / 8,  # bytes per second
    "uploadThroughput": 750_000 / 8,  # bytes per second
}
CHROME_ACCEPT_ENCODING = "gzip, deflate, br, zstd"
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
    urls: dict[str, str], runs: int
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
    return {
        key: {
            metric: statistics.median(s[metric] for s in runs_) for metric in runs_[0]
        }
        for key, runs_ in samples.items()
    }


def page_table(results: dict[tuple[str, str], dict[str, float]]) -> str:
    lines = [
        "| page | view | FCP | LCP | CLS | transferred | network requests |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for (name, kind), r in results.items():
        lines.append(
            f"| {name} | {kind} | {fmt_ms(r['fcp'])} | {fmt_ms(r['lcp'])} | "
            f"{r['cls']:.3f} | {fmt_kb(r['bytes'])} | {r['requests']:.0f} |"
        )
    for page in sorted({name.split(" ", 1)[1] for name, _ in results}):
        for kind in ("first view", "repeat view"):
            ours = results[(f"perfsite {page}", kind)]
            naive = results[(f"naive {page}", kind)]
            lines.append(
                f"\n{page} {kind}: LCP {naive['lcp'] / ours['lcp']:.1f}x faster, "
                f"{naive['bytes'] / max(ours['bytes'], 1):.1f}x fewer bytes, "
                f"FCP {naive['fcp'] / ours['fcp']:.1f}x faster."
            )
    return "\n".join(lines)


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


# 2. Dynamic compression ----------------------------------------------------------


def fetch(url: str) -> bytes:
    request = urllib.request.Request(url, headers={"Accept-Encoding": "identity"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return bytes(response.read())


def compressors() -> dict[str, Callable[[Any], Any]]:
    from compression_middleware.middleware import CompressionMiddleware as Peer
    from django.middleware.gzip import GZipMiddleware

    from assets.compression import CompressionMiddleware

    def run(middleware: Any, accept: str) -> Callable[[Any], Any]:
        from django.test import RequestFactory

        request = RequestFactory().get("/", HTTP_ACCEPT_ENCODING=accept)
        return lambda response: middleware(lambda _: response)(request)

    return {
        "assets (br-4)": run(CompressionMiddleware, CHROME_ACCEPT_ENCODING),
        "assets (gzip-6)": run(CompressionMiddleware, "gzip"),
        "Django GZipMiddleware": run(GZipMiddleware, CHROME_ACCEPT_ENCODING),
        "django-compression-middleware": run(Peer, CHROME_ACCEPT_ENCODING),
    }


def compression(bodies: dict[str, tuple[bytes, str]], reps: int) -> str:
    from django.http import HttpResponse

    lines = [
        "| body | middleware | coding | bytes | ratio | CPU per response |",
        "|---|---|---|---:|---:|---:|",
    ]
    for body_name, (body, content_type) in bodies.items():
        lines.append(f"| {body_name} | none | identity | {len(body):,} | 1.00 | 0 |")
        for name, compress in compressors().items():
            times = []
            for _ in range(reps):
                response = HttpResponse(body, content_type=content_type)
                start = time.process_time()
                out = compress(response)
                times.append(time.process_time() - start)
            size = len(out.content)
            lines.append(
                f"| {body_name} | {name} | {out.get('Content-Encoding', 'identity')} | {size:,} | "
                f"{size / len(body):.3f} | {statistics.median(times) * 1000:.2f} ms |"
            )
    return "\n".join(lines)


# 3. collectstatic ------------------------------------------------------------------


def collectstatic_times(runs: int) -> str:
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
    bundled = storages("assets.storage.BundleStorage")
    rows: dict[str, list[float]] = {}
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
            rows.setdefault("whitenoise, no bundles", []).append(
                timed(Path(a), STORAGES=plain, ASSETS_BUNDLES={})
            )
            with tempfile.TemporaryDirectory() as c:
                rows.setdefault(
                    "assets, no browser step and no image variants (as before)", []
                ).append(
                    timed(
                        Path(c),
                        STORAGES=bundled,
                        ASSETS_CRITICAL_BROWSER="",
                        ASSETS_IMAGE_FORMATS=[],
                    )
                )
            rows.setdefault(
                "assets, with bundles, image variants, critical CSS in Chromium", []
            ).append(timed(Path(b), STORAGES=bundled))
            rows.setdefault("assets, rebuild with no change", []).append(
                timed(Path(b), STORAGES=bundled)
            )
    lines = ["| build | wall time |", "|---|---:|"]
    base = statistics.median(rows["whitenoise, no bundles"])
    for name, values in rows.items():
        value = statistics.median(values)
        lines.append(f"| {name} | {value:.2f} s ({value / base:.2f}x) |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--posts", type=int, default=2000)
    args = parser.parse_args()

    with two_sites(args.posts) as urls:
        print("## Page load under slow 4G (median of", args.runs, "runs)\n")
        print(page_table(page_loads(urls, args.runs)))
        base = urls["perfsite /"].rstrip("/")
        bodies = {
            "HTML of /": (fetch(base + "/"), "text/html; charset=utf-8"),
            "JSON of /api/posts/popular?limit=100": (
                fetch(base + "/api/posts/popular?limit=100"),
                "application/json",
            ),
        }

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "perfsite.settings")
    os.environ.setdefault("DJANGO_LOG_LEVEL", "WARNING")
    import django

    django.setup()
    print(f"\n## Dynamic compression (median CPU of {args.reps} responses)\n")
    print(compression(bodies, args.reps))
    print("\n## collectstatic (median of 3 runs)\n")
    print(collectstatic_times(3))


if __name__ == "__main__":
    main()
