"""HTTP throughput and latency of the demo under gunicorn (2 workers), loaded by wrk.

    .venv/bin/python bench/http.py [--posts 50000] [--duration 10] [--runs 1]

Every figure is also shown as a ratio to the framework floor: a trivial
Django view returning a short JSON body, served by the same processes.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder would come first on sys.path and this
# module would shadow the standard library's `http`: put the project root there.
sys.path[0] = str(Path(__file__).resolve().parent.parent)

import argparse  # noqa: E402
import platform  # noqa: E402
import urllib.error  # noqa: E402
import urllib.request  # noqa: E402

from bench.harness import Result, seeded_site, table, wrk  # noqa: E402


def etag_of(url: str) -> str:
    request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(request, timeout=10) as response:
        etag = response.headers["ETag"]
    if not etag:
        raise SystemExit(f"{url} sent no ETag")
    check = urllib.request.Request(
        url, headers={"Accept-Encoding": "gzip", "If-None-Match": etag}
    )
    try:
        urllib.request.urlopen(check, timeout=10)
    except urllib.error.HTTPError as exc:
        if exc.code == 304:
            return str(etag)
        raise
    raise SystemExit(f"{url} did not answer 304 to its own ETag")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=5000)
    parser.add_argument("--posts", type=int, default=50000)
    parser.add_argument("--duration", type=int, default=10, help="seconds per endpoint")
    parser.add_argument(
        "--runs", type=int, default=1, help="runs per endpoint (median)"
    )
    args = parser.parse_args()

    with seeded_site(args.users, args.posts) as base:

        def load(name: str, path: str, *headers: str) -> Result:
            wrk(name, base + path, headers, duration=2)  # warm-up: caches, connections
            return wrk(
                name, base + path, headers, duration=args.duration, runs=args.runs
            )

        gzip = "Accept-Encoding: gzip"
        floor = load("floor: /api/health", "/api/health", gzip)
        results = [
            floor,
            load("/api/stats", "/api/stats", gzip),
            load("/api/posts/popular?limit=10", "/api/posts/popular?limit=10", gzip),
            load("/ (home page)", "/", gzip),
            load(
                "/ conditional GET -> 304",
                "/",
                gzip,
                f"If-None-Match: {etag_of(base + '/')}",
            ),
        ]
    print(
        f"perfsite bench/http.py: gunicorn 2 sync workers, wrk 2 threads x 16 connections, "
        f"{args.duration}s x {args.runs} run(s) per endpoint, {args.users} users / {args.posts} posts (SQLite), "
        f"Python {platform.python_version()}"
    )
    print(table(results, floor))


if __name__ == "__main__":
    main()
