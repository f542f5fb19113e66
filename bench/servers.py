"""gunicorn sync workers against ASGI servers, one worker each (``bench/http.py --server``).

Every server serves the same site (the same database, the same private
Redis), started side by side; each endpoint is loaded on each server in turn
(A1 A2 A3 B1 B2 B3 ...), ``--runs`` times, and each figure is the median. The
figures are per worker. The async row is the demo's async view with its
upstream awaited on every request (50 ms), at 200 connections.
"""

from __future__ import annotations

import re
import statistics
import subprocess
import urllib.request
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from bench.harness import parse_wrk
from bench.results import Results
from tests.support.gunicorn import serve

CONNECTIONS, ASYNC_CONNECTIONS = 16, 200


@dataclass
class Load:
    name: str
    path: str
    connections: int = CONNECTIONS
    etag: bool = False  # send the page's own ETag: every answer a 304
    rps: dict[str, list[float]] = field(default_factory=dict)
    p99: dict[str, list[float]] = field(default_factory=dict)
    bad: dict[str, int] = field(default_factory=dict)


def loads(static_path: str) -> list[Load]:
    popular = "/api/posts/popular?limit=10"
    return [
        Load("floor: /api/health", "/api/health"),
        Load("popular: stored hit", popular),
        Load("popular: 304", popular, etag=True),
        Load("popular: miss (uncached view)", "/bench/uncached/popular?limit=10"),
        Load("static: site.css (br)", static_path),
        Load("async view, 50 ms upstream", "/bench/upstream", ASYNC_CONNECTIONS),
    ]


def static_path(base: str) -> str:
    with urllib.request.urlopen(base + "/", timeout=30) as response:
        home = response.read().decode()
    found = re.search(r"/static/bundles/site\.[0-9a-f]+\.css", home)
    assert found, "the home page links no site.css bundle"
    return found.group(0)


def etag(url: str) -> str:
    request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return str(response.headers["ETag"])


def run(load: Load, server: str, base: str, duration: int) -> None:
    url = base + load.path
    command = ["wrk", "-t2", f"-c{load.connections}", f"-d{duration}s", "--latency"]
    headers = ["Accept-Encoding: gzip, br"]
    if load.etag:
        headers.append(f"If-None-Match: {etag(url)}")
    for header in headers:
        command += ["-H", header]
    output = subprocess.run(
        [*command, url], capture_output=True, text=True, check=True
    ).stdout
    result = parse_wrk(load.name, output)
    load.rps.setdefault(server, []).append(result.rps)
    load.p99.setdefault(server, []).append(result.p99_ms)
    load.bad[server] = load.bad.get(server, 0) + result.non_2xx_3xx
    if load.connections > CONNECTIONS:
        # A sync worker still has the queued requests wrk gave up on: the next
        # load starts once one more request has waited its turn.
        urllib.request.urlopen(base + "/api/health", timeout=120).read()


def compare(
    env: dict[str, str], servers: list[str], runs: int, duration: int, workdir: Path
) -> list[Load]:
    with ExitStack() as stack:
        bases = {
            name: stack.enter_context(
                serve(name, env, workers=1, log=workdir / f"{name}.log")
            )
            for name in servers
        }
        found = loads(static_path(bases[servers[0]]))
        for load in found:  # warm-up: caches, connections, near copies
            for name, base in bases.items():
                run(load, name, base, 1)
        for load in found:
            load.rps.clear(), load.p99.clear(), load.bad.clear()
        for _ in range(runs):
            for load in found:
                for name, base in bases.items():
                    run(load, name, base, duration)
    return found


# The targets of the ASGI work, as (load, goal in words, least ratio to the first server).
TARGETS = {
    "floor: /api/health": (">= 0.9x gunicorn", 0.9),
    "popular: stored hit": (">= 1.0x gunicorn", 1.0),
    "popular: 304": (">= 1.0x gunicorn", 1.0),
    "async view, 50 ms upstream": (">= 10x gunicorn", 10.0),
}


def record(results: Results, found: list[Load], servers: list[str], title: str) -> None:
    """Samples, the table (medians) and the targets, against ``servers[0]``."""
    first = servers[0]
    header = ["endpoint (1 worker each)"]
    for name in servers:
        header += [f"{name} req/s", "p99 ms"] + (
            [f"x {first}"] if name != first else []
        )
    rows = []
    for load in found:
        results.sample(
            load.name, {"rps": load.rps, "p99_ms": load.p99, "bad": load.bad}
        )
        base = statistics.median(load.rps[first])
        row = [load.name]
        for name in servers:
            rps = statistics.median(load.rps[name])
            row += [f"{rps:.0f}", f"{statistics.median(load.p99[name]):.1f}"]
            if name != first:
                row.append(f"{rps / base:.2f}" if base else "n/a")
        rows.append(row)
        goal = TARGETS.get(load.name)
        for name in servers[1:]:
            if goal is not None and base:
                ratio = statistics.median(load.rps[name]) / base
                results.target(
                    f"{load.name}, {name}",
                    ratio,
                    goal[0],
                    ratio >= goal[1],
                    shown=f"{ratio:.2f}x",
                )
    results.table(title, header, rows, align="l" + "r" * (len(header) - 1))
