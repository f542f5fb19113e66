"""Compression measurements for bench/assets.py (not a command of its own).

- ``compression``: bytes and CPU per response of our middleware's codings
  and of the peers', interleaved.
- ``zstd_levels``: bytes and CPU of zstd at several levels against brotli-4
  (the live default before zstd), interleaved per repetition, to choose
  ``ASSETS_ZSTD_LEVEL``.
- ``second_navigation``: in headless Chromium, a post page opened after
  another post page, once with the site's dcz dictionary and once with its
  download blocked (so the page comes as br-4): the HTML bytes of the second
  navigation, interleaved, medians.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import brotli
from django.http import HttpResponse

from assets.zstdlib import zstd
from bench.results import Results

LEVELS = (1, 3, 4, 6, 9, 12)
CHROME_ACCEPT_ENCODING = "gzip, deflate, br, zstd"
CHROME_DCZ_ACCEPT_ENCODING = "gzip, deflate, br, zstd, dcb, dcz"


def compressors(dictionary_digest: bytes) -> dict[str, Callable[[Any], Any]]:
    import base64

    from compression_middleware.middleware import CompressionMiddleware as Peer
    from django.middleware.gzip import GZipMiddleware

    from assets.compression import CompressionMiddleware

    def run(middleware: Any, accept: str, **headers: str) -> Callable[[Any], Any]:
        from django.test import RequestFactory

        request = RequestFactory().get("/", HTTP_ACCEPT_ENCODING=accept, **headers)
        return lambda response: middleware(lambda _: response)(request)

    held = ":" + base64.b64encode(dictionary_digest).decode() + ":"
    return {
        "assets (br-4)": run(CompressionMiddleware, CHROME_ACCEPT_ENCODING),
        "assets (zstd-6)": run(CompressionMiddleware, "zstd"),
        "assets (dcz, zstd-6 + dictionary)": run(
            CompressionMiddleware,
            CHROME_DCZ_ACCEPT_ENCODING,
            HTTP_AVAILABLE_DICTIONARY=held,
        ),
        "assets (gzip-6)": run(CompressionMiddleware, "gzip"),
        "Django GZipMiddleware": run(GZipMiddleware, CHROME_ACCEPT_ENCODING),
        "django-compression-middleware": run(Peer, CHROME_ACCEPT_ENCODING),
    }


def use_dictionary(data: bytes) -> bytes:
    """Make ``data`` this process's dcz dictionary, as a build would; its SHA-256."""
    import hashlib

    from django.conf import settings

    from assets import dictionary

    digest = hashlib.sha256(data).digest()
    found = dictionary.Dictionary("dictionary.txt", digest, "/*", data)
    dictionary._loaded[str(settings.STATIC_ROOT)] = found
    return digest


def compression(
    results: Results,
    bodies: dict[str, tuple[bytes, str]],
    reps: int,
    digest: bytes,
) -> None:
    lines: list[list[str]] = []
    for body_name, (body, content_type) in bodies.items():
        lines.append([body_name, "none", "identity", f"{len(body):,}", "1.00", "0"])
        runners = compressors(digest)
        times: dict[str, list[float]] = {name: [] for name in runners}
        outs: dict[str, Any] = {}
        for _ in range(reps):
            for name, compress in runners.items():  # interleaved
                response = HttpResponse(body, content_type=content_type)
                start = time.process_time()
                outs[name] = compress(response)
                times[name].append(time.process_time() - start)
        results.sample(f"compression CPU s: {body_name}", times)
        for name, out in outs.items():
            size = len(out.content)
            lines.append(
                [
                    body_name,
                    name,
                    out.get("Content-Encoding", "identity"),
                    f"{size:,}",
                    f"{size / len(body):.3f}",
                    f"{statistics.median(times[name]) * 1000:.2f} ms",
                ]
            )
    results.table(
        f"Dynamic compression (median CPU of {reps} responses)",
        ["body", "middleware", "coding", "bytes", "ratio", "CPU per response"],
        lines,
        align="lllrrr",
    )


def zstd_levels(results: Results, bodies: dict[str, bytes], reps: int) -> None:
    lines: list[list[str]] = []
    for body_name, body in bodies.items():
        coders: dict[str, Callable[[], bytes]] = {
            "br-4": lambda body=body: bytes(brotli.compress(body, quality=4))
        }
        for level in LEVELS:
            coders[f"zstd-{level}"] = lambda body=body, level=level: zstd.compress(
                body, level=level
            )
        times: dict[str, list[float]] = {name: [] for name in coders}
        sizes: dict[str, int] = {}
        for _ in range(reps):
            for name, coder in coders.items():  # interleaved: A B C ... A B C
                start = time.process_time()
                sizes[name] = len(coder())
                times[name].append(time.process_time() - start)
        results.sample(f"zstd levels CPU s: {body_name}", times)
        base_size, base_cpu = sizes["br-4"], statistics.median(times["br-4"])
        for name in coders:
            cpu = statistics.median(times[name])
            lines.append(
                [
                    body_name,
                    name,
                    f"{sizes[name]:,}",
                    f"{sizes[name] / base_size:.3f}",
                    f"{cpu * 1000:.3f} ms",
                    f"{cpu / base_cpu:.2f}",
                ]
            )
    results.table(
        f"zstd levels against br-4 (median CPU of {reps} responses)",
        ["body", "coding", "bytes", "vs br-4", "CPU per response", "vs br-4"],
        lines,
        align="llrrrr",
    )


def _navigate_twice(
    browser: Any, base: str, first: str, second: str, dictionary: bool
) -> dict[str, float]:
    context = browser.new_context(viewport={"width": 412, "height": 823})
    fetched: list[Any] = []
    if dictionary:
        context.on(
            "requestfinished",
            lambda r: fetched.append(r) if "/dictionary." in r.url else None,
        )
    else:
        context.route("**/dictionary.*", lambda route: route.abort())
    page = context.new_page()
    page.goto(base + first, wait_until="load")
    deadline = time.monotonic() + 30
    while dictionary and not fetched and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    if dictionary and not fetched:
        raise SystemExit("the browser never fetched the dcz dictionary")
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    documents: dict[str, dict[str, Any]] = {}

    def received(event: dict[str, Any]) -> None:
        if event["type"] == "Document":
            documents[event["requestId"]] = {"headers": event["response"]["headers"]}

    def finished(event: dict[str, Any]) -> None:
        if event["requestId"] in documents:
            documents[event["requestId"]]["wire"] = event["encodedDataLength"]

    cdp.on("Network.responseReceived", received)
    cdp.on("Network.loadingFinished", finished)
    page.goto(base + second, wait_until="load")
    page.wait_for_timeout(100)  # the last CDP events
    context.close()
    (document,) = documents.values()
    headers = {k.lower(): v for k, v in document["headers"].items()}
    return {
        "body": float(headers["content-length"]),
        "wire": float(document["wire"]),
        "dcz": float(headers.get("content-encoding") == "dcz"),
    }


def second_navigation(results: Results, base: str, runs: int) -> None:
    from playwright.sync_api import sync_playwright

    samples: dict[bool, list[dict[str, float]]] = {True: [], False: []}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"]
        )
        for run in range(runs):
            first, second = f"/posts/{2 * run + 1}/", f"/posts/{2 * run + 2}/"
            order = (True, False) if run % 2 == 0 else (False, True)
            for with_dictionary in order:  # A B, then B A
                samples[with_dictionary].append(
                    _navigate_twice(browser, base, first, second, with_dictionary)
                )
        browser.close()
    if not all(s["dcz"] for s in samples[True]):
        raise SystemExit("a navigation that held the dictionary was not sent dcz")
    med = {
        key: {m: statistics.median(s[m] for s in values) for m in ("body", "wire")}
        for key, values in samples.items()
    }
    dcz, br = med[True], med[False]
    ratio = br["body"] / dcz["body"]
    results.sample(
        "second navigation",
        {"dcz": samples[True], "br-4 (dictionary blocked)": samples[False]},
    )
    results.table(
        f"A second post page, dcz vs br-4 (median of {runs} runs)",
        ["second navigation", "HTML body", "transferred (with headers)"],
        [
            [
                "br-4 (dictionary blocked)",
                f"{br['body']:,.0f} B",
                f"{br['wire']:,.0f} B",
            ],
            ["dcz", f"{dcz['body']:,.0f} B", f"{dcz['wire']:,.0f} B"],
        ],
        [f"dcz: {br['wire'] / dcz['wire']:.1f}× fewer bytes transferred."],
        align="lrr",
    )
    results.target(
        "dcz: fewer HTML bytes than br-4 on a second post page",
        ratio,
        ">= 5×",
        ratio >= 5,
        f"{ratio:.1f}×",
    )
