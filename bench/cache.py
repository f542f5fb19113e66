"""Cache benchmark: cache_result and FailoverCache against their peers, one run.

    .venv/bin/python -m pip install -e ".[dev,bench]"   # + django-cache-memoize, django-cacheops
    .venv/bin/python bench/cache.py                  # needs redis-server on the PATH
    .venv/bin/python bench/cache.py cluster          # only the Redis Cluster table
    .venv/bin/python bench/cache.py hit invalidation # only these sections

Starts a private redis-server, a private three-master Redis Cluster and a
hung TCP server, then prints these tables (ratios measured in this same run):
hit path (with and without the near cache), the hit path on the cluster, the
embedded default against LocMem, how soon other processes see a write,
invalidation vs entries per group, latency with a Redis that never answers,
and computations per 100 concurrent cold callers.
"""

from __future__ import annotations

import hashlib
import logging
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Run as a script, bench/ would come first on sys.path and its http.py would
# shadow the standard library's http.
sys.path[0] = str(Path(__file__).resolve().parent.parent)

from bench.near_latency import near_latency  # noqa: E402
from bench.results import Results  # noqa: E402
from caching.keys import NAMESPACE  # noqa: E402
from tests.support.cluster import RedisCluster  # noqa: E402
from tests.support.hung import HungServer  # noqa: E402
from tests.support.services import RedisServer, redis_binary  # noqa: E402

TIMEOUTS = {"SOCKET_CONNECT_TIMEOUT": 0.25, "SOCKET_TIMEOUT": 0.25}  # seconds


def start_redis() -> RedisServer:
    binary = redis_binary()
    if binary is None:
        sys.exit("bench/cache.py needs redis-server (apt-get install -y redis-server)")
    server = RedisServer(binary)
    server.start()
    return server


def configure(url: str, hung_url: str, cluster: str) -> None:
    import django
    from django.conf import settings

    files = tempfile.mkdtemp(prefix="perfsite-bench-cache-")

    settings.configure(
        INSTALLED_APPS=[
            "django.contrib.contenttypes",
            "django.contrib.auth",
            "caching",
            "perfsite",
            "cacheops",
        ],
        DATABASES={
            "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}
        },
        CACHES={
            "default": {"BACKEND": "caching.backends.FailoverCache", "LOCATION": url},
            "no-near": {
                "BACKEND": "caching.backends.FailoverCache",
                "LOCATION": url,
                "KEY_PREFIX": "no-near",
                "OPTIONS": {"NEAR_CACHE": False},
            },
            "locmem": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
            "sqlite": {
                "BACKEND": "caching.embedded.SQLiteCache",
                "LOCATION": f"{files}/cache.sqlite3",
            },
            "files": {
                "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                "LOCATION": f"{files}/files",
            },
            "redis": {
                "BACKEND": "django_redis.cache.RedisCache",
                "LOCATION": url,
                "OPTIONS": TIMEOUTS,
            },
            "hung": {"BACKEND": "caching.backends.FailoverCache", "LOCATION": hung_url},
            "cluster": {
                "BACKEND": "caching.backends.FailoverCache",
                "LOCATION": cluster,
                "KEY_PREFIX": "cluster",
                "OPTIONS": {"CLUSTER": True},
            },
            "ignore": {
                "BACKEND": "django_redis.cache.RedisCache",
                "LOCATION": hung_url,
                "OPTIONS": {**TIMEOUTS, "IGNORE_EXCEPTIONS": True},
            },
        },
        CACHEOPS_REDIS=url,
        CACHEOPS_DEGRADE_ON_FAILURE=True,
        CACHEOPS={"perfsite.*": {"ops": (), "timeout": 60}},
        USE_TZ=True,
        SECRET_KEY="bench",
        CACHING_RELEASE="bench",  # no static files to derive one from
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
    )
    django.setup()
    logging.getLogger("caching").setLevel(logging.ERROR)  # keep the tables clean


def per_call(fn: Callable[[], Any], calls: int = 2000, runs: int = 7) -> float:
    """Median over runs of the mean time per call, in microseconds."""
    fn()
    results = []
    for _ in range(runs):
        started = time.perf_counter()
        for _ in range(calls):
            fn()
        results.append((time.perf_counter() - started) / calls * 1e6)
    return statistics.median(results)


def interleaved(
    results: Results,
    sample: str,
    candidates: dict[str, Callable[[], Any]],
    calls: int = 2000,
    runs: int = 9,
    pick: Callable[[list[float]], float] = min,
) -> dict[str, float]:
    """Best run's time per call (or ``pick``'s), in microseconds, for several
    functions measured in turns, so that load from elsewhere on the machine
    hits all of them alike (the best of several runs is the figure least
    distorted by that load)."""
    samples: dict[str, list[float]] = {name: [] for name in candidates}
    for fn in candidates.values():
        fn()
    for _ in range(runs):
        for name, fn in candidates.items():
            started = time.perf_counter()
            for _ in range(calls):
                fn()
            samples[name].append((time.perf_counter() - started) / calls * 1e6)
    results.sample(sample, {"unit": "µs per call", "calls": calls, "runs": samples})
    return {name: pick(values) for name, values in samples.items()}


VALUE = {"numbers": list(range(50)), "text": "x" * 200}


def compute(n: int, slug: str, page: int = 1) -> dict[str, Any]:
    return VALUE


def naive_md5(ttl: int, key_prefix: str, cache: Any) -> Callable[..., Any]:
    """The seed chapter's decorator: md5 of str(args), None never cached."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            raw = (str(args) + str(kwargs)).encode()
            key = f"{key_prefix}:{hashlib.md5(raw).hexdigest()}"
            value = cache.get(key)
            if value is None:
                value = fn(*args, **kwargs)
                cache.set(key, value, ttl)
            return value

        return wrapper

    return decorate


def wait_live(*aliases: str) -> None:
    from django.core.cache import caches

    deadline = time.monotonic() + 10
    for alias in aliases:
        caches[alias].get("warm-up")
        while not caches[alias].near_stats()["live"]:
            if time.monotonic() > deadline:
                sys.exit(f"the near cache of {alias!r} did not go live")
            time.sleep(0.01)


def hit_path(results: Results) -> None:
    from cache_memoize import cache_memoize
    from cacheops import cached_as
    from django.core.cache import caches

    from caching.decorators import cache_result
    from perfsite.models import Post

    wait_live("default")
    locmem, redis = caches["locmem"], caches["redis"]
    failover, no_near = caches["default"], caches["no-near"]
    for cache in (locmem, redis, failover, no_near):
        cache.set("raw", VALUE)
    ours_locmem = cache_result(60, cache="locmem", key_prefix="l")(compute)
    ours_redis = cache_result(60, depends_on=[Post], key_prefix="r")(compute)
    ours_no_near = cache_result(60, depends_on=[Post], key_prefix="r", cache="no-near")(
        compute
    )
    memoize = cache_memoize(60, cache_alias="redis")(compute)
    cacheops = cached_as(Post, timeout=60)(compute)
    naive = naive_md5(60, "naive", redis)(compute)
    args = (42, "some-slug")
    us = interleaved(
        results,
        "hit path",
        {
            "raw `cache.get`, LocMem": lambda: locmem.get("raw"),
            "`cache_result`, LocMem": lambda: ours_locmem(*args, page=2),
            "raw django-redis `get`": lambda: redis.get("raw"),
            "raw `FailoverCache.get`, near cache": lambda: failover.get("raw"),
            "raw `FailoverCache.get`, near cache off": lambda: no_near.get("raw"),
            "`cache_result(depends_on=[Post])`, FailoverCache, near cache": lambda: (
                ours_redis(*args, page=2)
            ),
            "`cache_result(depends_on=[Post])`, FailoverCache, near cache off": (
                lambda: ours_no_near(*args, page=2)
            ),
            "django-cache-memoize 0.2.1, django-redis": lambda: memoize(*args, page=2),
            "cacheops 7.2 `@cached_as(Post)`": lambda: cacheops(*args, page=2),
            "md5-of-`str(args)` decorator, django-redis": lambda: naive(*args, page=2),
        },
    )
    raw_locmem, raw_redis = us["raw `cache.get`, LocMem"], us["raw django-redis `get`"]
    measured = [
        (name, value, raw_locmem if "LocMem" in name else raw_redis)
        for name, value in us.items()
    ]
    results.table(
        "Hit path (per call, best of 9 runs × 2000 calls, measured in turns)",
        ["what", "µs per call", "× raw get on the same backend"],
        [[name, f"{us:.1f}", f"{us / base:.2f}"] for name, us, base in measured],
    )
    hit = us["`cache_result(depends_on=[Post])`, FailoverCache, near cache"]
    results.target(
        "a `cache_result` hit (near cache) against a raw django-redis `get`",
        hit,
        "faster than the raw get",
        hit < raw_redis,
        f"{hit:.1f} µs vs {raw_redis:.1f} µs ({raw_redis / hit:.1f}× faster)",
    )


def cluster_hit_path(results: Results) -> None:
    from django.core.cache import caches

    from caching.decorators import cache_result
    from perfsite.models import Post

    cluster, one = caches["cluster"], caches["no-near"]
    for cache in (cluster, one):
        cache.set("raw", VALUE)
    raw_cluster = cluster.redis()  # redis-py's RedisCluster
    raw_one = caches["redis"]
    raw_key = cluster.make_key("raw")
    three = [raw_key, *(cluster.make_key(f"other-{n}") for n in range(2))]
    six = [f"bench-{n}" for n in range(6)]
    on_cluster = cache_result(60, depends_on=[Post], key_prefix="c", cache="cluster")
    on_one = cache_result(60, depends_on=[Post], key_prefix="c", cache="no-near")
    wide_cluster = cache_result(60, groups=six, key_prefix="w", cache="cluster")
    wide_one = cache_result(60, groups=six, key_prefix="w", cache="no-near")
    fns = [f(compute) for f in (on_cluster, on_one, wide_cluster, wide_one)]
    args = (42, "some-slug")
    rows = {
        "raw redis-py `RedisCluster.get` (cluster floor)": (
            lambda: raw_cluster.get(raw_key)
        ),
        "raw django-redis `get`, one Redis (floor)": lambda: raw_one.get("raw"),
        "3 keys, redis-py's `mget_nonatomic` (cluster pipeline)": (
            lambda: raw_cluster.mget_nonatomic(three)
        ),
        "3 keys, `mget_by_node` (ours: every node written, then read)": (
            lambda: raw_cluster.mget_by_node(three)
        ),
        "raw `FailoverCache.get`, cluster": lambda: cluster.get("raw"),
        "raw `FailoverCache.get`, one Redis, near cache off": lambda: one.get("raw"),
        "`cache_result(depends_on=[Post])` (3 keys), cluster": lambda: fns[0](*args),
        "`cache_result(depends_on=[Post])` (3 keys), one Redis, near cache off": (
            lambda: fns[1](*args)
        ),
        "`cache_result(groups=<6 groups>)` (8 keys), cluster": lambda: fns[2](*args),
        "`cache_result(groups=<6 groups>)` (8 keys), one Redis, near cache off": (
            lambda: fns[3](*args)
        ),
    }
    us = interleaved(
        results, "cluster hit path", rows, calls=1000, runs=9, pick=statistics.median
    )
    floor_cluster = us["raw redis-py `RedisCluster.get` (cluster floor)"]
    floor_one = us["raw django-redis `get`, one Redis (floor)"]
    results.table(
        "Hit path on a 3-master Redis Cluster (per call, median of 9 runs × 1000 "
        "calls, measured in turns; loopback, one machine)",
        ["what", "µs per call", "× the floor of its topology"],
        [
            [
                name,
                f"{value:.1f}",
                f"{value / (floor_one if 'one Redis' in name else floor_cluster):.2f}",
            ]
            for name, value in us.items()
        ],
    )


def embedded(results: Results) -> None:
    from django.core.cache import caches

    from caching.decorators import cache_result

    rows = []
    keys = ["a", "b", "c"]
    stores = {"LocMem": "locmem", "SQLiteCache": "sqlite", "FileBasedCache": "files"}
    for cache in map(caches.__getitem__, stores.values()):
        cache.set_many(dict.fromkeys(keys, VALUE), 600)
    calls: dict[str, Callable[[], Any]] = {}
    for label, alias in stores.items():
        cache = caches[alias]
        calls[f"{label} get"] = lambda c=cache: c.get("a")
        calls[f"{label} get_many(3)"] = lambda c=cache: c.get_many(keys)
        calls[f"{label} set"] = lambda c=cache: c.set("a", VALUE, 600)
        hit = cache_result(60, cache=alias, key_prefix=f"e{alias}")(compute)
        calls[f"{label} `cache_result` hit"] = lambda f=hit: f(42, "some-slug")
    us = interleaved(results, "embedded", calls, calls=500, runs=5)
    for op in ("get", "get_many(3)", "set", "`cache_result` hit"):
        base = us[f"LocMem {op}"]
        rows.append(
            [op]
            + [
                f"{us[f'{label} {op}']:.1f} ({us[f'{label} {op}'] / base:.1f}×)"
                for label in stores
            ]
        )
    results.table(
        "Embedded default: µs per call (× LocMem), best of 5 runs × 500 calls, in turns",
        ["operation", *stores],
        rows,
    )


def invalidation_row(results: Results, entries: int) -> list[str]:
    """Fill a ``cache_result`` function of its own with ``entries`` entries
    (through the function, as a site would), check a sample is served from
    the cache, invalidate, check the sample is recomputed; time both ways."""
    from django.core.cache import caches

    from caching.decorators import cache_result

    redis = caches["redis"]
    computed: list[int] = []

    def entry(n: int) -> int:
        computed.append(n)
        return n

    fn = cache_result(600, key_prefix=f"inv{entries}", cache="redis")(entry)
    sample = list(range(0, entries, max(1, entries // 10)))

    def fill() -> None:
        for n in range(entries):
            fn(n)
        computed.clear()
        for n in sample:
            fn(n)
        assert not computed, "the filled entries are not served from the cache"

    def check_invalidated() -> None:
        for n in sample:
            fn(n)
        assert computed == sample, "entries survived the invalidation"
        computed.clear()

    ours, theirs = [], []
    for _ in range(3 if entries <= 1_000 else 1):
        fill()
        started = time.perf_counter()
        fn.invalidate_all()
        ours.append((time.perf_counter() - started) * 1000)
        check_invalidated()
        fill()
        started = time.perf_counter()
        redis.delete_pattern(f"*{NAMESPACE}:{fn.namespace}:*")
        theirs.append((time.perf_counter() - started) * 1000)
        check_invalidated()
    redis.clear()
    results.sample(
        f"invalidation, {entries} entries",
        {"unit": "ms", "invalidate_all": ours, "delete_pattern": theirs},
    )
    ours_ms, theirs_ms = statistics.median(ours), statistics.median(theirs)
    return [
        f"{entries:,}",
        f"{ours_ms:.3f}",
        f"{theirs_ms:.1f}",
        f"{theirs_ms / ours_ms:,.0f}×",
    ]


def invalidation(results: Results) -> None:
    results.table(
        "Invalidation vs entries of the group (ms, median; entries checked "
        "served before and recomputed after)",
        ["entries", "`invalidate_all` (one group bump)", "`delete_pattern`", "ratio"],
        [invalidation_row(results, entries) for entries in (10, 100, 1_000, 10_000)],
    )


def outage(results: Results) -> None:
    from django.core.cache import caches

    ignore, hung = caches["ignore"], caches["hung"]
    theirs = [per_call(lambda: ignore.get("k"), calls=1, runs=1) for _ in range(6)]
    started = time.perf_counter()
    for _ in range(hung.breaker.threshold):
        hung.get("k")
    opening = (time.perf_counter() - started) * 1000
    ours = per_call(lambda: hung.get("k"), calls=1000, runs=5)
    results.sample(
        "outage",
        {
            "django-redis IGNORE_EXCEPTIONS, µs per call": theirs,
            "opening the breaker, ms in all": opening,
            "breaker open, µs per call (median of 5 runs × 1000)": ours,
        },
    )
    theirs_ms = statistics.median(theirs) / 1000
    results.table(
        "A Redis that accepts connections and never answers (socket timeout 0.25 s)",
        ["what", "per `get`", "ratio"],
        [
            [
                "django-redis `IGNORE_EXCEPTIONS`, every call",
                f"{theirs_ms:.1f} ms",
                "1",
            ],
            [
                f"FailoverCache, the {hung.breaker.threshold} calls that open the breaker",
                f"{opening:.0f} ms in all",
                "",
            ],
            [
                "FailoverCache, breaker open",
                f"{ours:.1f} µs",
                f"{theirs_ms * 1000 / ours:,.0f}× faster",
            ],
        ],
    )


def stampede(results: Results) -> None:
    from cache_memoize import cache_memoize

    from caching.decorators import cache_result

    def run(
        decorate: Callable[[Callable[[int], int]], Callable[[int], int]], arg: int
    ) -> int:
        count = [0]
        lock = threading.Lock()

        def slow(x: int) -> int:
            with lock:
                count[0] += 1
            time.sleep(0.05)
            return x

        wrapped = decorate(slow)
        barrier = threading.Barrier(100)

        def caller() -> None:
            barrier.wait()
            wrapped(arg)

        threads = [threading.Thread(target=caller) for _ in range(100)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return count[0]

    ours = [run(cache_result(60, key_prefix="stampede"), i) for i in range(3)]
    theirs = [
        run(cache_memoize(60, cache_alias="redis", prefix=f"s{i}"), i) for i in range(3)
    ]
    results.sample("stampede", {"cache_result": ours, "django-cache-memoize": theirs})
    results.table(
        "100 concurrent callers on a cold key (computations, median of 3)",
        ["what", "computations"],
        [
            ["`cache_result` (FailoverCache)", statistics.median(ours)],
            ["django-cache-memoize (django-redis)", statistics.median(theirs)],
        ],
    )


def main(names: list[str]) -> None:
    """Every table, or only the sections ``names`` (``cluster``, ``hit``...)."""
    server = start_redis()
    cluster = RedisCluster(server.binary)
    hung = HungServer()
    try:
        cluster.start()
        configure(server.url, hung.url, cluster.location)
        results = Results(
            "cache",
            distributions=(
                "redis",
                "django-redis",
                "django-cache-memoize",
                "django-cacheops",
            ),
            programs=("redis-server",),
        )
        print(f"{results.command}: one machine, loopback Redis; compare ratios.")
        sections: dict[str, Callable[[Results], None]] = {
            "hit": hit_path,
            "cluster": cluster_hit_path,
            "embedded": embedded,
            "near": lambda results: near_latency(server.url, results),
            "invalidation": invalidation,
            "outage": outage,
            "stampede": stampede,
        }
        unknown = set(names) - set(sections)
        if unknown:
            sys.exit(f"unknown sections {sorted(unknown)}; pick from {list(sections)}")
        for name, run in sections.items():
            if not names or name in names:
                run(results)
        results.write()
    finally:
        hung.close()
        cluster.stop()
        server.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
