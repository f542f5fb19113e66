from __future__ import annotations

import time
from typing import Any

import pytest
import redis as redis_py
from django.test import override_settings

from caching import stats
from caching.decorators import cache_result
from tests.caching.conftest import open_breaker
from tests.support.services import RedisServer


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    now = [0.0]
    monkeypatch.setattr(stats, "clock", lambda: now[0])
    monkeypatch.setattr(stats, "_next_flush", 10.0)
    return now


def test_counts_stay_in_process_until_the_interval(
    failover: Any, redis: RedisServer, clock: list[float]
) -> None:
    raw = redis_py.Redis.from_url(redis.url)
    with override_settings(CACHING_STATS_FLUSH_INTERVAL=10):
        stats.record("f", "hits")
        stats.record("f", "hits")
        assert raw.keys("*caching:stats*") == []  # no network write per call
        clock[0] = 11
        stats.record("f", "misses")
    assert raw.hget("t:caching:stats:f", "hits") == b"2"
    assert raw.ttl("t:caching:stats:f") > 0
    raw.close()


def test_counts_add_up_across_processes(failover: Any, redis: RedisServer) -> None:
    raw = redis_py.Redis.from_url(redis.url)
    # What another worker process flushed earlier.
    raw.hincrbyfloat("t:caching:stats:f", "hits", 5)
    raw.sadd("t:caching:stats:names", "f")
    stats.record("f", "hits", 2)
    assert stats.snapshot()["f"]["hits"] == 7
    raw.close()


def test_without_redis_counts_are_kept_in_process(
    failover: Any, redis: RedisServer
) -> None:
    stats.record("g", "errors")
    redis.stop()
    for _ in range(3):
        failover.get("open-the-breaker")
    stats.record("g", "errors")
    assert stats.snapshot()["g"]["errors"] == 2


def test_counts_kept_during_an_outage_reach_redis_once_it_is_back(
    failover: Any, redis: RedisServer
) -> None:
    redis.stop()
    open_breaker(failover)
    stats.record("k", "misses", 3)
    stats.flush()  # kept in the process: Redis is down
    redis.start()
    time.sleep(failover.breaker.cooldown_max + 0.1)  # seconds: the next probe is due
    stats.record("k", "hits")
    stats.flush()
    raw = redis_py.Redis.from_url(redis.url)
    row = {k.decode(): float(v) for k, v in raw.hgetall("t:caching:stats:k").items()}
    raw.close()
    assert (row["misses"], row["hits"]) == (3, 1)
    assert stats.snapshot()["k"]["misses"] == 3  # moved to Redis, not counted twice


def test_flush_errors_keep_the_counts(
    failover: Any, redis: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    stats.record("h", "hits")
    redis.stop()  # the breaker is still closed: the flush itself fails
    stats.flush()
    assert stats.snapshot()["h"]["hits"] == 1


def test_locmem_snapshot(locmem: Any) -> None:
    stats.reset()

    @cache_result(60)
    def f() -> int:
        return 1

    f(), f()
    row = stats.snapshot()[f.name]
    assert (row["hits"], row["misses"]) == (1, 1)
    assert stats.snapshot()[f.name]["hits"] == 1  # flushing does not double count


def test_an_idle_process_flushes_after_the_interval(
    failover: Any, redis: RedisServer
) -> None:
    """No request comes after the counts: the flusher thread sends them."""
    raw = redis_py.Redis.from_url(redis.url)
    with override_settings(CACHING_STATS_FLUSH_INTERVAL=0.1):
        stats.flush()  # starts a new interval
        rounds = stats._flusher.rounds
        stats.record("idle", "hits", 3)
        # The thread's flush is waited for, not raced by polling what it writes.
        assert stats._flusher.wait_for_round(rounds, timeout=30)
    assert raw.hget("t:caching:stats:idle", "hits") == b"3"
    raw.close()


def test_on_an_event_loop_a_due_flush_is_left_to_the_thread(
    failover: Any,
    redis: RedisServer,
    clock: list[float],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Under ASGI a request never writes to Redis for the statistics."""
    import asyncio
    import threading

    flushed_on: list[int] = []
    original = stats._flush

    def recorded() -> None:
        flushed_on.append(threading.get_ident())
        original()

    monkeypatch.setattr(stats, "_flush", recorded)
    raw = redis_py.Redis.from_url(redis.url)
    with override_settings(CACHING_STATS_FLUSH_INTERVAL=10):
        clock[0] = 11
        rounds = stats._flusher.rounds

        async def request() -> int:
            stats.record("loop", "hits")
            return threading.get_ident()

        loop_thread = asyncio.run(request())
        assert stats._flusher.wait_for_round(rounds, timeout=30)
    assert flushed_on and loop_thread not in flushed_on
    assert raw.hget("t:caching:stats:loop", "hits") == b"1"
    raw.close()
