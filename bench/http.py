"""HTTP throughput and latency of the demo under gunicorn (2 workers), loaded by wrk.

    .venv/bin/python bench/http.py [--posts 50000] [--duration 10] [--runs 1]

Every figure is also shown as a ratio to the framework floor: a trivial
Django view returning a short JSON body, served by the same processes. The
site runs on a private redis-server (FailoverCache); the same views are also
served uncached and under Django's ``cache_page``, and a naive Flask app
(bench/naive_flask.py, 2 gunicorn workers) serves the popular posts from the
same database and Redis.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder would come first on sys.path and this
# module would shadow the standard library's `http`: put the project root there.
sys.path[0] = str(Path(__file__).resolve().parent.parent)

import argparse  # noqa: E402
import platform  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402
import urllib.error  # noqa: E402
import urllib.request  # noqa: E402

from bench.harness import Result, prepare_site, table, wrk  # noqa: E402
from tests.support.gunicorn import gunicorn  # noqa: E402
from tests.support.services import RedisServer  # noqa: E402


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

    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit(
            "redis-server is not installed: apt-get install -y redis-server"
        )
    redis = RedisServer(binary)
    redis.start()
    workdir = Path(tempfile.mkdtemp(prefix="perfsite-bench-"))
    try:
        env = prepare_site(
            workdir,
            args.users,
            args.posts,
            DJANGO_SETTINGS_MODULE="bench.http_site",
            REDIS_URL=redis.url,
        )
        sqlite = env["DATABASE_URL"].removeprefix("sqlite:///")
        flask_env = {**env, "BENCH_SQLITE": sqlite, "REDIS_URL": redis.url}
        with (
            gunicorn(env, workers=2, log=workdir / "django.log") as base,
            gunicorn(
                flask_env,
                workers=2,
                app="bench.naive_flask:app",
                log=workdir / "flask.log",
                ready_path="/api/posts/popular",
            ) as flask,
        ):
            results, floor = run_all(base, flask, args)
    finally:
        redis.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    print(
        f"perfsite bench/http.py: gunicorn 2 sync workers, wrk 2 threads x 16 connections, "
        f"{args.duration}s x {args.runs} run(s) per endpoint, {args.users} users / {args.posts} posts (SQLite), "
        f"Python {platform.python_version()}"
    )
    print(table(results, floor))


def run_all(
    base: str, flask: str, args: argparse.Namespace
) -> tuple[list[Result], Result]:
    gzip = "Accept-Encoding: gzip"

    def load(name: str, url: str, *headers: str) -> Result:
        wrk(name, url, headers, duration=2)  # warm-up: caches, connections
        return wrk(name, url, (gzip, *headers), duration=args.duration, runs=args.runs)

    popular = "/api/posts/popular?limit=10"
    floor = load("floor: /api/health", base + "/api/health")
    results = [
        floor,
        load("popular: uncached", base + "/bench/uncached/popular?limit=10"),
        load("popular: Django cache_page", base + "/bench/cache_page/popular?limit=10"),
        load("popular: cache_response (ours)", base + popular),
        load(
            "popular: ours, 304",
            base + popular,
            f"If-None-Match: {etag_of(base + popular)}",
        ),
        load("popular: naive Flask + Redis", flask + popular),
        load("home: uncached", base + "/bench/uncached/home"),
        load("home: Django cache_page", base + "/bench/cache_page/home"),
        load("home: cache_response (ours)", base + "/"),
        load("home: ours, 304", base + "/", f"If-None-Match: {etag_of(base + '/')}"),
        load("/api/stats (ours)", base + "/api/stats"),
    ]
    return results, floor


if __name__ == "__main__":
    main()
