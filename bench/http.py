"""HTTP throughput and latency of the demo under gunicorn (2 workers), loaded by wrk.

    .venv/bin/python bench/http.py [--posts 50000] [--duration 10] [--runs 3]
    .venv/bin/python bench/http.py --server gunicorn,uvicorn,granian [--runs 3]

With ``--server`` it compares the servers instead, one worker each
(bench/servers.py).

Endpoints are loaded in turn within each run (A B C ... A B C ...), and each
figure is the median over the runs. Every figure is also shown as a ratio to
the framework floor: a trivial Django JSON view (``/api/health``) through the
whole middleware stack, served by the same processes. The site runs on a
private redis-server (FailoverCache); the same views are also served uncached
and under Django's ``cache_page``, and a naive Flask app (bench/naive_flask.py,
2 gunicorn workers) serves popular posts and stats from the same database and
Redis. When Varnish is installed, it runs in front of the same gunicorn
(deploy/varnish/perfsite.vcl, the site purging it) and the cached pages are
also loaded through it: "Varnish, hit" and "Varnish, 304" rows.

A Lua script counts the statuses wrk got; a "304" row that got any 200 fails
the run. The home page's ETag moves each minute (``refresh_every=60``): it is
fetched before each of its runs, which start early enough in a minute to end
within it.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder would come first on sys.path and this
# module would shadow the standard library's `http`: put the project root there.
sys.path[0] = str(Path(__file__).resolve().parent.parent)

import argparse  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import urllib.error  # noqa: E402
import urllib.request  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402

from bench.harness import parse_wrk, prepare_site  # noqa: E402
from bench.results import Results  # noqa: E402
from tests.support.gunicorn import SERVERS, gunicorn  # noqa: E402
from tests.support.services import RedisServer, free_port  # noqa: E402
from tests.support.varnish import Varnish, varnishd  # noqa: E402

GZIP = "Accept-Encoding: gzip"
COUNT_STATUSES = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) ok = 0; not_modified = 0; other = 0 end
function response(status, headers, body)
  if status == 200 then ok = ok + 1
  elseif status == 304 then not_modified = not_modified + 1
  else other = other + 1 end
end
function done(summary, latency, requests)
  local a, b, c = 0, 0, 0
  for _, t in ipairs(threads) do
    a = a + t:get("ok"); b = b + t:get("not_modified"); c = c + t:get("other")
  end
  io.write(string.format("STATUS 200=%d 304=%d other=%d\\n", a, b, c))
end
"""


@dataclass
class Row:
    name: str
    url: str
    etag_of: str | None = None  # a URL whose ETag goes in If-None-Match
    rps: list[float] = field(default_factory=list)
    p50: list[float] = field(default_factory=list)
    p99: list[float] = field(default_factory=list)
    statuses: dict[str, int] = field(
        default_factory=lambda: {"200": 0, "304": 0, "other": 0}
    )

    @property
    def expects_304(self) -> bool:
        return self.etag_of is not None

    @property
    def failed(self) -> bool:
        s = self.statuses
        return bool(s["other"] or (s["200"] if self.expects_304 else s["304"]))


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


def wait_for_room(seconds: float, clock: Callable[[], float] = time.time) -> None:
    """Start a run only if it ends within the current minute (the home ETag's period)."""
    left = 60 - clock() % 60
    if left < seconds + 1:
        time.sleep(left + 0.1)


def run_wrk(row: Row, script: Path, duration: int) -> None:
    headers = [GZIP]
    if row.etag_of is not None:
        wait_for_room(duration)
        headers.append(f"If-None-Match: {etag_of(row.etag_of)}")
    command = ["wrk", "-t2", "-c16", f"-d{duration}s", "--latency", "-s", str(script)]
    for header in headers:
        command += ["-H", header]
    output = subprocess.run(
        [*command, row.url], capture_output=True, text=True, check=True
    ).stdout
    result = parse_wrk(row.name, output)
    row.rps.append(result.rps)
    row.p50.append(result.p50_ms)
    row.p99.append(result.p99_ms)
    counts = re.search(r"STATUS 200=(\d+) 304=(\d+) other=(\d+)", output)
    assert counts, output
    for name, value in zip(("200", "304", "other"), counts.groups(), strict=True):
        row.statuses[name] += int(value)


def rows_for(base: str, flask: str, edge: str | None) -> list[Row]:
    popular = "/api/posts/popular?limit=10"
    rows = [
        Row("floor: /api/health", base + "/api/health"),
        Row("popular: uncached", base + "/bench/uncached/popular?limit=10"),
        Row("popular: Django cache_page", base + "/bench/cache_page/popular?limit=10"),
        Row("popular: ours, hit", base + popular),
        Row("popular: ours, 304", base + popular, etag_of=base + popular),
        Row("popular: naive Flask + Redis", flask + popular),
        Row("home: uncached", base + "/bench/uncached/home"),
        Row("home: Django cache_page", base + "/bench/cache_page/home"),
        Row("home: ours, hit", base + "/"),
        Row("home: ours, 304", base + "/", etag_of=base + "/"),
        Row("stats: ours, hit", base + "/api/stats"),
        Row("stats: ours, 304", base + "/api/stats", etag_of=base + "/api/stats"),
        Row("stats: naive Flask + Redis", flask + "/api/stats"),
    ]
    if edge is not None:
        # Home and stats change ETag each minute (refresh_every=60), on Varnish's
        # own schedule there: only popular gets a 304 row.
        rows += [
            Row("popular: Varnish, hit", edge + popular),
            Row("popular: Varnish, 304", edge + popular, etag_of=edge + popular),
            Row("home: Varnish, hit", edge + "/"),
            Row("stats: Varnish, hit", edge + "/api/stats"),
        ]
    return rows


def median(values: list[float]) -> float:
    return statistics.median(values)


def record_table(rows: list[Row], results: Results, title: str) -> None:
    floor = median(rows[0].rps)
    flask = {r.name.split(":")[0]: median(r.rps) for r in rows if "Flask" in r.name}
    cells = []
    for r in rows:
        rps = median(r.rps)
        peer = flask.get(r.name.split(":")[0])
        ratio = f"{rps / peer:.2f}" if peer and "Flask" not in r.name else ""
        cells.append(
            [
                r.name + (" (FAILED: wrong statuses)" if r.failed else ""),
                f"{rps:.0f}",
                f"{rps / floor:.2f}",
                ratio,
                f"{median(r.p50):.2f}",
                f"{median(r.p99):.2f}",
                r.statuses["200"],
                r.statuses["304"],
            ]
        )
    results.table(
        title,
        ["endpoint", "req/s", "× floor", "× Flask", "p50 ms", "p99 ms", "200s", "304s"],
        cells,
        align="lrrrrrrr",
    )


def record_targets(rows: list[Row], results: Results) -> None:
    by_name = {r.name: median(r.rps) for r in rows}
    floor = by_name["floor: /api/health"]

    def target(label: str, value: float, goal: float) -> None:
        results.target(label, value, f">= {goal}×", value >= goal, f"{value:.2f}×")

    for page in ("popular", "home", "stats"):
        target(f"{page}: ours, hit / floor", by_name[f"{page}: ours, hit"] / floor, 1.3)
        if f"{page}: naive Flask + Redis" in by_name:
            target(
                f"{page}: ours, hit / naive Flask",
                by_name[f"{page}: ours, hit"] / by_name[f"{page}: naive Flask + Redis"],
                1.5,
            )
    for page in ("popular", "home", "stats"):
        target(f"{page}: ours, 304 / floor", by_name[f"{page}: ours, 304"] / floor, 1.4)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=5000)
    parser.add_argument("--posts", type=int, default=50000)
    parser.add_argument("--duration", type=int, default=10, help="seconds per load")
    parser.add_argument("--runs", type=int, default=3, help="interleaved runs (median)")
    parser.add_argument(
        "--server",
        help="compare servers, one worker each: e.g. gunicorn,uvicorn,granian",
    )
    args = parser.parse_args()
    if args.server:
        compare_servers(args)
        return
    for tool in ("redis-server", "wrk"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is not installed: apt-get install -y {tool}")
    results = Results(
        "http",
        distributions=("gunicorn", "flask", "redis", "django-redis"),
        programs=("redis-server", "wrk", "varnishd"),
    )

    redis = RedisServer(str(shutil.which("redis-server")))
    redis.start()
    workdir = Path(tempfile.mkdtemp(prefix="perfsite-bench-"))
    script = workdir / "statuses.lua"
    script.write_text(COUNT_STATUSES)
    edge = Varnish("", free_port()) if varnishd() else None
    try:
        env = bench_site(workdir, args, redis)
        if edge is not None:  # tags, s-maxage and purges, as scripts/dev edge
            env["VARNISH_URL"] = edge.url
        database = env["DATABASE_URL"]
        flask_env = {**env, "BENCH_DATABASE_URL": database, "REDIS_URL": redis.url}
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
            if edge is not None:
                edge.backend = base.removeprefix("http://")
                edge.start()
            rows = rows_for(base, flask, edge.url if edge else None)
            for row in rows:  # warm-up: caches, connections, compressed variants
                run_wrk(row, script, duration=1)
                row.rps.clear(), row.p50.clear(), row.p99.clear()
                row.statuses.update({"200": 0, "304": 0, "other": 0})
            for _ in range(args.runs):
                for row in rows:
                    run_wrk(row, script, args.duration)
    finally:
        if edge is not None:
            edge.close()
        redis.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    kind = "PostgreSQL" if database.startswith("postgres") else "SQLite"
    for row in rows:
        results.sample(
            row.name,
            {"rps": row.rps, "p50_ms": row.p50, "p99_ms": row.p99, **row.statuses},
        )
    record_table(
        rows,
        results,
        "gunicorn 2 sync workers, wrk 2 threads × 16 connections, "
        f"{args.runs} interleaved run(s) × {args.duration} s per endpoint, "
        f"{args.users} users / {args.posts} posts ({kind}); medians",
    )
    record_targets(rows, results)
    results.write()
    if any(r.failed for r in rows):
        raise SystemExit("a row got statuses it should not have (see FAILED)")


def bench_site(
    workdir: Path, args: argparse.Namespace, redis: RedisServer
) -> dict[str, str]:
    """The seeded site of the benchmark, on the private ``redis``."""
    return prepare_site(
        workdir,
        args.users,
        args.posts,
        DJANGO_SETTINGS_MODULE="bench.http_site",
        REDIS_URL=redis.url,
    )


def compare_servers(args: argparse.Namespace) -> None:
    from bench import servers

    names = args.server.split(",")
    for name in names:
        if name not in SERVERS:
            raise SystemExit(f"--server takes {', '.join(SERVERS)}, not {name!r}")
    results = Results(
        "servers",
        distributions=("gunicorn", "uvicorn", "granian", "redis", "django-redis"),
        programs=("redis-server", "wrk"),
    )
    redis = RedisServer(str(shutil.which("redis-server")))
    redis.start()
    workdir = Path(tempfile.mkdtemp(prefix="perfsite-bench-"))
    try:
        env = bench_site(workdir, args, redis)
        found = servers.compare(env, names, args.runs, args.duration, workdir)
    finally:
        redis.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    servers.record(
        results,
        found,
        names,
        f"1 worker each, wrk 2 threads x {servers.CONNECTIONS} connections "
        f"({servers.ASYNC_CONNECTIONS} for the async view), {args.runs} interleaved "
        f"run(s) x {args.duration} s, {args.users} users / {args.posts} posts; medians",
    )
    results.write()


if __name__ == "__main__":
    main()
