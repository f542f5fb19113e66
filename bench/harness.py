"""Shared pieces of the benchmarks: a seeded site under gunicorn, and wrk runs."""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.gunicorn import gunicorn, manage, production_env


def prepare_site(
    workdir: Path, users: int, posts: int, **extra_env: str
) -> dict[str, str]:
    """Production settings, a migrated and seeded database, static files collected."""
    env = production_env(DJANGO_STATIC_ROOT=str(workdir / "static"), **extra_env)
    env.setdefault(
        "DATABASE_URL",
        os.environ.get("DATABASE_URL") or f"sqlite:///{workdir / 'bench.sqlite3'}",
    )
    manage(env, "migrate", "--noinput", "--verbosity", "0")
    manage(env, "collectstatic", "--noinput", "--verbosity", "0")
    manage(env, "seed_demo", "--users", str(users), "--posts", str(posts))
    return env


@contextmanager
def seeded_site(
    users: int, posts: int, workers: int = 2, **extra_env: str
) -> Iterator[str]:
    """Yield the base URL of the demo under gunicorn, seeded and with static collected."""
    workdir = Path(tempfile.mkdtemp(prefix="perfsite-bench-"))
    env = prepare_site(workdir, users, posts, **extra_env)
    try:
        with gunicorn(env, workers=workers, log=workdir / "gunicorn.log") as base:
            yield base
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@dataclass
class Result:
    name: str
    rps: float
    p50_ms: float
    p99_ms: float
    non_2xx_3xx: int


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s)", text)
    if not match:
        raise ValueError(f"unexpected wrk latency {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse_wrk(name: str, output: str) -> Result:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", output, re.M).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    return Result(name, rps, p50, p99, int(bad.group(1)) if bad else 0)


def wrk(
    name: str,
    url: str,
    headers: Sequence[str] = (),
    duration: int = 10,
    connections: int = 16,
    threads: int = 2,
    runs: int = 1,
) -> Result:
    """Load ``url`` with wrk; with several runs, the median of each figure."""
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    results = []
    for _ in range(runs):
        command = [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{duration}s",
            "--latency",
        ]
        for header in headers:
            command += ["-H", header]
        output = subprocess.run(
            command + [url], capture_output=True, text=True, check=True
        ).stdout
        results.append(parse_wrk(name, output))
    return Result(
        name,
        statistics.median(r.rps for r in results),
        statistics.median(r.p50_ms for r in results),
        statistics.median(r.p99_ms for r in results),
        sum(r.non_2xx_3xx for r in results),
    )


def table(results: Sequence[Result], floor: Result) -> str:
    lines = [
        f"{'endpoint':<34} {'req/s':>9} {'x floor':>8} {'p50 ms':>8} {'x floor':>8} {'p99 ms':>8} {'x floor':>8}",
    ]
    for r in results:
        lines.append(
            f"{r.name:<34} {r.rps:>9.0f} {r.rps / floor.rps:>8.2f} {r.p50_ms:>8.2f} "
            f"{r.p50_ms / floor.p50_ms:>8.2f} {r.p99_ms:>8.2f} {r.p99_ms / floor.p99_ms:>8.2f}"
            + (f"  ({r.non_2xx_3xx} errors)" if r.non_2xx_3xx else "")
        )
    return "\n".join(lines)
