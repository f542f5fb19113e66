"""Anonymous traffic leaves bounded state: a crawler or an attacker asking for
pages that do not exist makes no lasting key in Redis and no lasting memory in
the worker.

The demo site on the real stack (``FailoverCache`` on a private Redis), 10,000
requests to random URLs and ids that do not exist (404s), ids thousands of
digits long, bad query parameters (400s), ``If-None-Match: *`` and HEADs. Redis
is counted with ``DBSIZE`` and the worker with ``tracemalloc``, both against a
warm-up of the same mix, so what the first requests create once (statistics
names, URL resolver caches) is not counted as growth.
"""

from __future__ import annotations

import gc
import io
import logging
import random
import tracemalloc
from collections import Counter
from typing import Any
from wsgiref.util import setup_testing_defaults

import pytest
import redis as redis_py
from django.core.handlers.wsgi import WSGIHandler

from caching import counters, stats
from tests.perfsite.factories import make_post
from tests.support.services import RedisServer

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

REQUESTS = 10_000
WARM_UP = 5_000
# What a worker may grow by over the 10,000 requests: less than 26 bytes a
# request, where keeping anything per request (a key, a counter, an id) costs
# well over 50.
MEMORY_SLACK = 256 * 1024  # bytes


class Worker:
    """Requests the way a WSGI server makes them: Django's own handler, no
    test client (which connects signal receivers per request)."""

    def __init__(self) -> None:
        self.handler = WSGIHandler()

    def request(self, path: str, method: str = "GET", **headers: str) -> int:
        path, _, query = path.partition("?")
        environ: dict[str, Any] = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "wsgi.input": io.BytesIO(),
        }
        environ.update(headers)
        setup_testing_defaults(environ)
        statuses: list[str] = []
        body = self.handler(environ, lambda status, _headers: statuses.append(status))
        b"".join(body)
        body.close()
        return int(statuses[0].split()[0])


def anonymous_request(worker: Worker, rng: random.Random, missing: int) -> int:
    """One request of the mix; its status."""
    kind = rng.randrange(7)
    if kind == 0:
        return worker.request(f"/posts/{missing + rng.randrange(10**9)}/")
    if kind == 1:
        return worker.request(f"/posts/{rng.randrange(10**3899, 10**3900)}/")
    if kind == 2:
        return worker.request(f"/no-such-page-{rng.randrange(10**12)}/")
    if kind == 3:
        return worker.request(f"/api/posts/popular?limit=x{rng.randrange(10**6)}")
    if kind == 4:
        return worker.request(
            f"/posts/{missing + rng.randrange(10**9)}/", HTTP_IF_NONE_MATCH="*"
        )
    if kind == 5:
        return worker.request(f"/posts/{missing + rng.randrange(10**6)}/", "HEAD")
    return worker.request(f"/profiling/profiles/{rng.randrange(10**9)}/")  # staff


def settle() -> None:
    """What a worker writes in the background, written now."""
    counters.flush()
    stats.flush()
    gc.collect()


def test_random_missing_urls_and_ids_leave_bounded_state(
    failover: Any, redis: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="django.request")  # 10,000 "Not Found"
    post = make_post()
    raw = redis_py.Redis.from_url(redis.url)
    worker = Worker()
    rng = random.Random(20261207)
    missing = post.pk + 1
    assert worker.request(f"/posts/{post.pk}/") == 200

    tracemalloc.start()
    try:
        for _ in range(WARM_UP):
            assert anonymous_request(worker, rng, missing) in {302, 400, 404}
        settle()
        keys_before = raw.dbsize()
        memory_before = tracemalloc.get_traced_memory()[0]
        first = tracemalloc.take_snapshot()
        statuses = Counter(
            anonymous_request(worker, rng, missing) for _ in range(REQUESTS)
        )
        settle()
        memory_after = tracemalloc.get_traced_memory()[0]
        growth = tracemalloc.take_snapshot().compare_to(first, "lineno")[:12]
    finally:
        tracemalloc.stop()
    keys_after = raw.dbsize()
    longest = max(len(k) for k in raw.keys("*"))  # none as long as an id given
    raw.close()

    assert set(statuses) <= {302, 400, 404}
    assert statuses[404] and statuses[400] and statuses[302]  # every refusal
    assert keys_after == keys_before
    assert longest <= 250
    assert memory_after - memory_before < MEMORY_SLACK, (
        f"{memory_after - memory_before} bytes kept over {REQUESTS} requests: "
        + "; ".join(map(str, growth))
    )
