"""Overhead of the profiling middleware, and of django-silk and pyinstrument.

    .venv/bin/python bench/profiling.py [--rounds 15] [--requests 40]

CPU time per request (``time.process_time``, less sensitive to neighbours
than wall time) through ``django.test.Client``, on a trivial view and on a
20-query view. Each batch of a variant is paired with a batch of its
reference variant run just before it (A B A B), in one process, variants
shuffled each round. Printed per variant: the median over rounds of its µs
per request; the median over rounds of the ratio to its paired reference;
the aggregate ratio (sum of its batches over the sum of the references'),
which is what counts for a 1% sample that lands in few batches; and the mean
difference in µs. Silk patches the ORM for good on its first recorded
request, so it runs last, against a baseline re-measured after the patch.
Needs the bench extra: pip install -e '.[bench]'.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this folder would come first on sys.path (and this file,
# bench/profiling.py, would shadow Python 3.15's `profiling` package that
# cProfile imports): put the project root there instead.
sys.path[0] = str(Path(__file__).resolve().parent.parent)

import argparse  # noqa: E402
import gc  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

from bench.results import Results  # noqa: E402

MW = "perfsite_profiling.middleware.ProfilingMiddleware"
SILK = "silk.middleware.SilkyMiddleware"
PYINSTRUMENT = "pyinstrument.middleware.ProfilerMiddleware"


OFF = "no profiling middleware"
METRICS = "metrics on (default), profiles off"


def variants(base: list[str]) -> dict[str, dict[str, Any]]:
    """Each variant with the reference it is paired with (``ref``)."""
    own = [base[0], MW, *base[1:]]
    profiled = {"MIDDLEWARE": own, "PROFILING_METRICS": True, "PROFILING_ENABLED": True}
    return {
        OFF: {"MIDDLEWARE": base, "ref": OFF},
        "installed, metrics and profiles off": {"MIDDLEWARE": own, "ref": OFF},
        METRICS: {"MIDDLEWARE": own, "PROFILING_METRICS": True, "ref": OFF},
        "metrics on, sampled at 1% (sampling)": {
            **profiled,
            "PROFILING_SAMPLE_RATE": 0.01,
            "ref": METRICS,
            "scale": 10,  # ten times the requests: a 1% sample is rare
        },
        "every request profiled (sampling)": {
            **profiled,
            "PROFILING_SAMPLE_RATE": 1.0,
            "ref": METRICS,
        },
        "every request profiled (cprofile)": {
            **profiled,
            "PROFILING_SAMPLE_RATE": 1.0,
            "PROFILING_ENGINE": "cprofile",
            "ref": METRICS,
        },
        "pyinstrument middleware, ?profile": {
            "MIDDLEWARE": [*base, PYINSTRUMENT],
            "query": "?profile",
            "ref": OFF,
        },
    }


def measure(config: dict[str, Any], url: str, n: int) -> float:
    """Mean CPU µs per request over ``n`` requests, garbage collector paused."""
    from django.test import Client, override_settings

    config = dict(config)
    query = config.pop("query", "")
    config.pop("ref", None)
    n *= config.pop("scale", 1)
    with override_settings(**config):
        client = Client()
        client.get(url + query)  # load the middleware chain outside the timing
        gc.collect()
        gc.disable()
        try:
            start = time.process_time()
            for _ in range(n):
                response = client.get(url + query)
                assert response.status_code == 200, response.status_code
            return (time.process_time() - start) / n * 1e6
        finally:
            gc.enable()


Figures = dict[tuple[str, str], tuple[float, float, float, float]]


def run(
    group: dict[str, dict[str, Any]],
    urls: list[str],
    rounds: int,
    n: int,
    results: Results,
    sample: str,
) -> Figures:
    """Each variant paired with its reference batch run just before it.

    The machine is shared, so its speed drifts; a ratio of two adjacent
    batches cancels most of that drift.
    """
    names = [name for name, config in group.items() if config["ref"] != name]
    pairs: dict[tuple[str, str], list[tuple[float, float]]] = {
        (name, url): [] for name in group for url in urls
    }
    for _ in range(rounds):
        random.shuffle(names)
        for name in names:
            ref = group[name]["ref"]
            scaled = {**group[ref], "scale": group[name].get("scale", 1)}
            for url in urls:
                base = measure(scaled, url, n)
                value = measure(group[name], url, n)
                pairs[name, url].append((value, base))
                if group[ref]["ref"] == ref:  # a pure baseline: its own row
                    pairs[ref, url].append((base, base))
    results.sample(
        sample,
        {
            f"{name} on {url}": {
                "unit": "CPU µs per request, (variant, its paired reference)",
                "pairs": values,
            }
            for (name, url), values in pairs.items()
        },
    )
    return {key: summary(values) for key, values in pairs.items()}


def summary(values: list[tuple[float, float]]) -> tuple[float, float, float, float]:
    """Median µs, median of the paired ratios, aggregate ratio, mean Δ µs."""
    variant, base = sum(v for v, _ in values), sum(b for _, b in values)
    return (
        statistics.median(v for v, _ in values),
        statistics.median(v / b for v, b in values),
        variant / base,
        (variant - base) / len(values),
    )


def middleware_alone(rounds: int, calls: int = 20_000) -> dict[str, float]:
    """µs the middleware adds around a trivial view, without the test client."""
    from django.http import HttpRequest, HttpResponse
    from django.test import RequestFactory, override_settings
    from django.urls import resolve

    from perfsite_profiling.middleware import ProfilingMiddleware

    def view(request: HttpRequest) -> HttpResponse:
        return HttpResponse("ok")

    request = RequestFactory().get("/t/")
    request.resolver_match = resolve("/t/")
    inner = ProfilingMiddleware(view)

    def viewed(request: HttpRequest) -> HttpResponse:
        inner.process_view(request, view, (), {})
        return view(request)

    chains: dict[str, Callable[[HttpRequest], Any]] = {
        "installed, metrics and profiles off": ProfilingMiddleware(view),
        "metrics on (default), profiles off": ProfilingMiddleware(viewed),
    }
    deltas: dict[str, list[float]] = {name: [] for name in chains}
    for _ in range(rounds):
        for name, chain in chains.items():
            metrics = name.startswith("metrics")
            with override_settings(PROFILING_METRICS=metrics):
                times = []
                for get_response in (view, chain):
                    gc.collect()
                    start = time.process_time()
                    for _ in range(calls):
                        get_response(request)
                    times.append((time.process_time() - start) / calls * 1e6)
            deltas[name].append(times[1] - times[0])
    return {name: statistics.median(values) for name, values in deltas.items()}


def record(
    results: Results,
    title: str,
    figures: Figures,
    urls: list[str],
    notes: list[str] | None = None,
) -> None:
    header = ["variant"]
    for url in urls:
        header += [f"{url} µs", "med r", "agg r", "Δ µs"]
    rows = []
    for name in dict.fromkeys(name for name, _ in figures):
        cells = [name]
        for url in urls:
            value, median_ratio, aggregate, delta = figures[name, url]
            cells += [
                f"{value:.0f}",
                f"{median_ratio:.3f}",
                f"{aggregate:.3f}",
                f"{delta:+.0f}",
            ]
        rows.append(cells)
    results.table(title, header, rows, notes or [], align="l" + "rrrr" * len(urls))


GOALS = [
    # (variant, which ratio, limit): 1 = median of paired ratios, 2 = aggregate
    ("installed, metrics and profiles off", 1, 1.01),
    (METRICS, 1, 1.01),  # "profiles off" read strictly: the default install
    ("metrics on, sampled at 1% (sampling)", 2, 1.01),
    ("every request profiled (sampling)", 1, 1.3),
]


def goals(own: Figures, urls: list[str], results: Results) -> None:
    for name, index, limit in GOALS:
        kind = "median ratio" if index == 1 else "aggregate ratio"
        for url in urls:
            value = own[name, url][index]
            results.target(
                f"{name} on {url}, {kind}",
                value,
                f"<= {limit}",
                value <= limit,
                f"{value:.3f}",
            )


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
    results = Results("profiling", distributions=("django-silk", "pyinstrument"))
    print(results.command)
    notes = [
        "CPU µs per request (median over rounds); med r: median of the ratios to "
        "the paired reference batch; agg r: sum over sum; Δ µs: mean difference. "
        f"References: profiles-on variants against '{METRICS}', "
        f"the others against '{OFF}'.",
    ]
    own = run(variants(base), urls, args.rounds, args.requests, results, "ours")
    record(
        results,
        f"perfsite's middleware ({args.rounds} rounds × {args.requests} requests "
        "per variant and view, SQLite)",
        own,
        urls,
        notes,
    )
    after = "no profiling middleware (after silk)"
    peers = {
        after: {"MIDDLEWARE": base, "ref": after},
        "django-silk recording every request": {
            "MIDDLEWARE": [*base, SILK],
            "ref": after,
        },
    }
    alone = middleware_alone(max(5, args.rounds // 2))
    results.table(
        "The middleware alone around a trivial view (RequestFactory, no client)",
        ["variant", "µs per request added (median)"],
        [[name, f"{delta:+.1f}"] for name, delta in alone.items()],
        align="lr",
    )
    rounds = max(3, args.rounds // 3)  # silk writes several rows per request
    silk = run(peers, urls, rounds, args.requests, results, "silk")
    record(
        results,
        f"django-silk, against a baseline measured after its patch ({rounds} rounds)",
        silk,
        urls,
    )
    goals(own, urls, results)
    results.write()


if __name__ == "__main__":
    main()
