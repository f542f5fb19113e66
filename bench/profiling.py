"""Overhead of the profiling middleware, and of django-silk and pyinstrument.

    .venv/bin/python bench/profiling.py [--rounds 15] [--requests 40]

CPU time per request (``time.process_time``, less sensitive to neighbours
than wall time) through ``django.test.Client``, on a trivial view and on a
20-query view, for each variant, interleaved in one process over several
rounds; the figure is the median over rounds, shown as a ratio to the run with
no profiling middleware. Silk patches the ORM for good on its first recorded
request, so it runs last, against a baseline re-measured after the patch.
Needs the bench extra: pip install -e '.[bench]'.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this folder would come first on sys.path and this file would
# shadow the `profiling` app: put the project root there instead.
sys.path[0] = str(Path(__file__).resolve().parent.parent)

import argparse  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

MW = "profiling.middleware.ProfilingMiddleware"
SILK = "silk.middleware.SilkyMiddleware"
PYINSTRUMENT = "pyinstrument.middleware.ProfilerMiddleware"


def variants(base: list[str]) -> dict[str, dict[str, Any]]:
    own = [base[0], MW, *base[1:]]
    return {
        "no profiling middleware": {"MIDDLEWARE": base},
        "installed, metrics and profiles off": {"MIDDLEWARE": own},
        "metrics on (default), profiles off": {
            "MIDDLEWARE": own,
            "PROFILING_METRICS": True,
        },
        "metrics on, profiles sampled at 1%": {
            "MIDDLEWARE": own,
            "PROFILING_METRICS": True,
            "PROFILING_ENABLED": True,
            "PROFILING_SAMPLE_RATE": 0.01,
        },
        "a profiled request (sample rate 1)": {
            "MIDDLEWARE": own,
            "PROFILING_METRICS": True,
            "PROFILING_ENABLED": True,
            "PROFILING_SAMPLE_RATE": 1.0,
        },
        "pyinstrument middleware, ?profile": {
            "MIDDLEWARE": [*base, PYINSTRUMENT],
            "query": "?profile",
        },
    }


def measure(config: dict[str, Any], url: str, n: int) -> float:
    """Median-free mean CPU µs per request over ``n`` requests of one batch."""
    from django.test import Client, override_settings

    config = dict(config)
    query = config.pop("query", "")
    with override_settings(**config):
        client = Client()
        client.get(url + query)  # load the middleware chain outside the timing
        start = time.process_time()
        for _ in range(n):
            response = client.get(url + query)
            assert response.status_code == 200, response.status_code
        return (time.process_time() - start) / n * 1e6


def run(
    group: dict[str, dict[str, Any]], urls: list[str], rounds: int, n: int
) -> dict[tuple[str, str], float]:
    samples: dict[tuple[str, str], list[float]] = {
        (name, url): [] for name in group for url in urls
    }
    names = list(group)
    for _ in range(rounds):
        random.shuffle(names)
        for name in names:
            for url in urls:
                samples[name, url].append(measure(group[name], url, n))
    return {key: statistics.median(values) for key, values in samples.items()}


def report(
    medians: dict[tuple[str, str], float], baseline: str, urls: list[str]
) -> list[str]:
    lines = []
    for name in dict.fromkeys(name for name, _ in medians):
        cells = []
        for url in urls:
            value, base = medians[name, url], medians[baseline, url]
            cells.append(f"{value:>9.0f} {value / base:>6.3f} {value - base:>+8.0f}")
        lines.append(f"{name:<40} " + "   ".join(cells))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--requests", type=int, default=40)
    args = parser.parse_args()
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.profiling_site"
    workdir = tempfile.mkdtemp(prefix="bench-profiling-")
    os.environ["BENCH_DB"] = str(Path(workdir) / "bench.sqlite3")
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.utils import timezone

    from perfsite.models import Post

    call_command("migrate", verbosity=0)
    User = get_user_model()
    for i in range(19):
        author = User.objects.create(username=f"author{i}")
        Post.objects.create(
            title=f"Post {i}",
            slug=f"post-{i}",
            body="x",
            published_at=timezone.now(),
            author=author,
        )
    random.seed(1)
    urls = ["/t/", "/q20/"]
    base: list[str] = list(settings.BASE_MIDDLEWARE)
    print(f"Python {platform.python_version()}, Django {django.get_version()}, SQLite")
    print(f"{args.rounds} rounds x {args.requests} requests per variant and view;")
    print(
        "CPU µs per request (median over rounds), ratio and difference to no middleware\n"
    )
    head = f"{'variant':<40} " + "   ".join(
        f"{url + ' µs':>9} {'ratio':>6} {'Δ µs':>8}" for url in urls
    )
    print(head)
    own = run(variants(base), urls, args.rounds, args.requests)
    print("\n".join(report(own, "no profiling middleware", urls)))
    peers = {
        "no profiling middleware (after silk)": {"MIDDLEWARE": base},
        "django-silk recording every request": {"MIDDLEWARE": [*base, SILK]},
    }
    rounds = max(3, args.rounds // 3)  # silk writes several rows per request
    silk = run(peers, urls, rounds, args.requests)
    print("\n".join(report(silk, "no profiling middleware (after silk)", urls)))

    def ratio(name: str, url: str) -> float:
        return own[name, url] / own["no profiling middleware", url]

    sampled = ratio("metrics on, profiles sampled at 1%", "/q20/")
    print(
        "\ngoals: installed/off <= 1.01 and <= 10 µs; metrics <= 1.03; sampled 1% <= 1.03 "
        f"(20-query view: off {ratio('installed, metrics and profiles off', '/q20/'):.3f}, "
        f"metrics {ratio('metrics on (default), profiles off', '/q20/'):.3f}, "
        f"sampled {sampled:.3f})"
    )


if __name__ == "__main__":
    main()
