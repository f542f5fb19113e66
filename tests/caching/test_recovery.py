"""Every path that is handed the breaker's probe brings the process back to Redis.

A probe handed to a caller that never reported it used to leave the breaker
half-open for good: the process then served its fallback (and kept its
invalidations to itself) until it restarted. That is what made the Sentinel
failover test serve pre-failover pages. These tests inject the timing: the
breaker's clock is moved past the cooldown, then one given path runs first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import redis as redis_py

from caching import report, stats
from caching.breaker import CircuitBreaker, Decision, State
from caching.decorators import cache_result
from tests.caching.conftest import FakeClock, open_breaker
from tests.support.services import RedisServer

pytestmark = pytest.mark.redis


def _redis_figures(cache: Any) -> None:
    assert cache.redis_info() is not None


def _admin_backends(cache: Any) -> None:
    (row,) = report.backends()
    assert row["redis"] is not None


def _stats_flush(cache: Any) -> None:
    stats.record("probe-path", "hits")
    stats.flush()


def _raw_client(cache: Any) -> None:
    assert cache.redis() is not None


PATHS: dict[str, Callable[[Any], None]] = {
    "redis()": _raw_client,
    "redis_info() (admin figures)": _redis_figures,
    "report.backends() (admin page)": _admin_backends,
    "stats.flush()": _stats_flush,
}


def outage(cache: Any, redis: RedisServer) -> FakeClock:
    """Redis stopped, breaker open, one delete missed, Redis back, cooldown over."""
    clock = FakeClock()
    cache.breaker.clock = clock
    redis.stop()
    open_breaker(cache)
    cache.delete("k")
    assert cache.health()["missed"] == 1
    redis.start()
    clock.now += cache.breaker.cooldown
    return clock


def assert_back_on_redis(cache: Any, redis: RedisServer, epoch: int = 1) -> None:
    assert cache.breaker.state is State.CLOSED
    assert cache.health()["missed"] == 0
    assert cache.health()["epoch"] == epoch  # the outage bumped the namespace
    cache.set("written-after", "x")
    raw = redis_py.Redis.from_url(redis.url)
    try:
        assert raw.exists(f"t:e{epoch}:1:written-after")
        assert raw.get("t:caching:epoch") == str(epoch).encode()
    finally:
        raw.close()


@pytest.mark.parametrize("path", PATHS.values(), ids=PATHS.keys())
def test_the_first_path_after_the_cooldown_recovers(
    failover: Any, redis: RedisServer, path: Callable[[Any], None]
) -> None:
    outage(failover, redis)
    path(failover)
    assert_back_on_redis(failover, redis)


def test_a_slow_miss_outlasting_the_cooldown_then_a_flush(
    failover: Any, redis: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The issue's third reproduction: computed on the fallback, stored after."""
    clock = outage(failover, redis)
    clock.now -= failover.breaker.cooldown  # not yet due
    monkeypatch.setattr(stats, "clock", clock)
    monkeypatch.setattr(stats, "_next_flush", clock.now + 1)

    @cache_result(60, key_prefix="slow")
    def slow(n: int) -> int:
        clock.now += 2 * failover.breaker.cooldown  # the cooldown ends meanwhile
        return n * 2

    assert slow(4) == 8
    stats.flush()
    assert_back_on_redis(failover, redis)
    assert slow(4) == 8


def test_a_probe_whose_holder_fails_unexpectedly_is_given_back(
    failover: Any, redis: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    outage(failover, redis)

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("not a Redis error")

    monkeypatch.setattr(failover._primary, "delete_many", broken)
    with pytest.raises(RuntimeError):
        failover.get("k")
    assert failover.breaker.state is State.OPEN  # not stuck half-open
    assert failover.health()["missed"] == 1  # kept for the next probe
    monkeypatch.undo()
    assert failover.get("k") is None  # the very next call probes again
    assert_back_on_redis(failover, redis, epoch=2)  # each probe bumped once


# -- the breaker alone -----------------------------------------------------


def opened(clock: FakeClock) -> CircuitBreaker:
    breaker = CircuitBreaker("t", threshold=1, cooldown=1.0, cooldown_max=4.0)
    breaker.clock = clock
    breaker.failure(ConnectionError("down"))
    assert breaker.state is State.OPEN
    return breaker


def test_one_probe_at_a_time() -> None:
    clock = FakeClock()
    breaker = opened(clock)
    assert breaker.allow() is Decision.FALLBACK
    clock.now += 1.0
    assert breaker.allow() is Decision.PROBE
    assert [breaker.allow() for _ in range(3)] == [Decision.FALLBACK] * 3
    breaker.success()
    assert breaker.allow() is Decision.PRIMARY


def test_a_probe_never_reported_expires_after_one_cooldown() -> None:
    clock = FakeClock()
    breaker = opened(clock)
    clock.now += 1.0
    assert breaker.allow() is Decision.PROBE  # its holder never reports
    clock.now += 0.9
    assert breaker.allow() is Decision.FALLBACK
    clock.now += 0.1
    assert breaker.allow() is Decision.PROBE
    breaker.failure(ConnectionError("still down"))
    assert breaker.state is State.OPEN and breaker.cooldown == 2.0


def test_a_probe_given_back_goes_to_the_next_caller() -> None:
    clock = FakeClock()
    breaker = opened(clock)
    clock.now += 1.0
    assert breaker.allow() is Decision.PROBE
    breaker.give_back()
    assert breaker.allow() is Decision.PROBE
    breaker.give_back()
    breaker.give_back()  # a second give-back changes nothing
    assert breaker.allow() is Decision.PROBE
    assert breaker.cooldown == 1.0  # giving back is not a failure
