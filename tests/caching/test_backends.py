from __future__ import annotations

import time
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
import redis as redis_py
from django.core.cache import CacheKeyWarning, caches
from django.test import override_settings

from caching.breaker import State
from tests.caching.conftest import (
    FakeClock,
    failover_settings,
    forget_state,
    open_breaker,
    run_async,
)
from tests.support.hung import HungServer
from tests.support.services import RedisServer, command_calls


@pytest.fixture(params=["redis up", "breaker open"])
def cache(request: pytest.FixtureRequest, failover: Any, redis: RedisServer) -> Any:
    if request.param == "breaker open":
        redis.stop()
        open_breaker(failover)
    return failover


# -- Django's cache API contract, with Redis up and with the breaker open ----


@pytest.mark.parametrize("value", [None, 0, "", False, [], {"a": [1, 2]}, "text"])
def test_set_get_values(cache: Any, value: Any) -> None:
    cache.set("k", value)
    assert cache.get("k", "default") == value
    assert cache.get("missing", "default") == "default"


def test_add_delete_has_key(cache: Any) -> None:
    assert cache.add("k", 1) is True
    assert cache.add("k", 2) is False
    assert cache.get("k") == 1
    assert cache.has_key("k") and not cache.has_key("missing")
    assert cache.delete("k") is True
    assert cache.delete("k") is False


def test_many(cache: Any) -> None:
    assert cache.set_many({"a": 1, "b": None}) == []
    assert cache.get_many(["a", "b", "c"]) == {"a": 1, "b": None}
    cache.delete_many(["a", "c"])
    cache.delete_many([])
    assert cache.get_many(["a", "b"]) == {"b": None}


def test_incr_decr(cache: Any) -> None:
    cache.set("n", 10)
    assert cache.incr("n") == 11
    assert cache.incr("n", 5) == 16
    assert cache.decr("n", 6) == 10
    with pytest.raises(ValueError):
        cache.incr("absent")


def test_touch_timeout_and_get_or_set(cache: Any) -> None:
    cache.set("k", 1)
    assert cache.touch("k", 100) is True
    assert cache.touch("missing") is False
    cache.set("gone", 1, 0)
    assert cache.get("gone") is None
    assert cache.get_or_set("g", lambda: "made") == "made"
    assert cache.get_or_set("g", "other") == "made"
    cache.set("forever", 1, None)
    assert cache.get("forever") == 1


def test_versions(cache: Any) -> None:
    cache.set("k", "v2", version=2)
    assert cache.get("k") is None
    assert cache.get("k", version=2) == "v2"
    assert cache.incr_version("k", version=2) == 3
    assert cache.get("k", version=3) == "v2"
    assert cache.decr_version("k", version=3) == 2
    assert cache.get("k", version=2) == "v2"


def test_key_validation_warns(cache: Any) -> None:
    with pytest.warns(CacheKeyWarning):
        cache.set("has space", 1)
    with pytest.warns(CacheKeyWarning):
        cache.get("x" * 300)


def test_clear(cache: Any) -> None:
    cache.set("k", 1)
    cache.clear()
    assert cache.get("k") is None


def test_async_api(cache: Any) -> None:
    async def scenario() -> None:
        await cache.aset("k", None)
        assert await cache.aget("k", "d") is None
        assert await cache.aadd("k", 1) is False
        await cache.aset_many({"n": 1})
        assert await cache.aincr("n") == 2
        assert await cache.aget_many(["k", "n"]) == {"k": None, "n": 2}
        assert await cache.ahas_key("n")
        assert await cache.aget_or_set("g", 3) == 3
        assert await cache.atouch("g")
        assert await cache.adelete("g")
        await cache.aclear()
        assert await cache.aget("n") is None

    run_async(scenario())


# -- outages -----------------------------------------------------------------


def test_redis_stopped_mid_test(failover: Any, redis: RedisServer) -> None:
    failover.breaker.clock = FakeClock()  # the cooldown never ends here
    failover.set("k", 1)
    redis.stop()
    for _ in range(failover.breaker.threshold):
        assert failover.get("k") is None  # no exception escapes
    assert failover.breaker.state is State.OPEN
    failover.set("k", 2)
    # No network while open: with Redis back, the calls still reach none of it.
    redis.start()
    before = command_calls(redis.url, "get", "set", "mget", "ping")
    for _ in range(20):
        assert failover.get("k") == 2
    assert command_calls(redis.url, "get", "set", "mget", "ping") == before


@pytest.fixture
def hung() -> Iterator[tuple[Any, HungServer]]:
    server = HungServer()
    forget_state()
    with override_settings(CACHES=failover_settings(server.url)):
        yield caches["default"], server
    server.close()
    forget_state()


def test_a_redis_that_never_answers(hung: tuple[Any, HungServer]) -> None:
    cache, server = hung
    client = cache._primary.client.get_client(write=True)
    assert client.connection_pool.connection_kwargs["retry"].get_retries() == 0
    # Each call before the breaker opens tries once and gives up at the socket
    # timeout: one connection each, not a retry storm (redis-py's own
    # defaults once made it 6 s and ten connections a call).
    for calls in range(1, cache.breaker.threshold + 1):
        cache.get("k")
        assert len(server.accepted) == calls
    assert cache.breaker.state is State.OPEN
    for _ in range(20):  # open: none of them reaches the server
        cache.set("k", 1)
    assert len(server.accepted) == cache.breaker.threshold
    assert cache.get("k") == 1


def outage_after_filling(
    cache: Any, redis: RedisServer, *keys: str, open_it: bool = True
) -> FakeClock:
    """Store keys, snapshot Redis so a restart brings them back, stop it, open."""
    clock = FakeClock()
    cache.breaker.clock = clock
    cache.set_many(dict.fromkeys(keys, "old"))
    raw = redis_py.Redis.from_url(redis.url)
    raw.save()
    raw.close()
    redis.stop()
    if open_it:
        open_breaker(cache)
    return clock


def test_recovery_replays_missed_writes(failover: Any, redis: RedisServer) -> None:
    """A short blip (the breaker stays closed): what this process missed is replayed."""
    outage_after_filling(
        failover, redis, "deleted", "rewritten", "untouched", open_it=False
    )
    failover.delete("deleted")  # two failures: below the breaker's threshold
    failover.set("rewritten", "new")
    assert failover.breaker.state is State.CLOSED
    redis.start()
    assert failover.get("deleted") is None  # the first call replays first
    assert failover.get("rewritten") is None  # not the old Redis value
    assert failover.get("untouched") == "old"
    assert failover.health()["missed"] == 0


def test_recovery_after_an_outage_bumps_the_namespace(
    failover: Any, redis: RedisServer
) -> None:
    """Other processes (some gone since) may have missed invalidations too."""
    clock = outage_after_filling(failover, redis, "untouched")
    redis.start()
    raw = redis_py.Redis.from_url(redis.url)
    assert raw.exists("t:1:untouched")  # still in Redis, in the old namespace
    raw.close()
    clock.now += failover.breaker.cooldown
    assert failover.get("untouched") is None
    assert failover.breaker.state is State.CLOSED
    failover.set("fresh", "new")
    assert failover.get("fresh") == "new"


def test_recovery_bumps_the_namespace_past_the_replay_limit(
    failover: Any, redis: RedisServer
) -> None:
    clock = outage_after_filling(failover, redis, "a", "b")
    with override_settings(CACHING_REPLAY_LIMIT=1):
        failover.delete("a")
        failover.delete("b")
    assert failover.health()["overflow"]
    redis.start()
    clock.now += failover.breaker.cooldown
    assert failover.get("a") is None and failover.get("b") is None
    assert failover.health()["epoch"] == 1
    failover.set("a", "fresh")
    assert failover.get("a") == "fresh"


def test_clear_during_an_outage_bumps_the_namespace(
    failover: Any, redis: RedisServer
) -> None:
    clock = outage_after_filling(failover, redis, "a")
    failover.clear()
    redis.start()
    clock.now += failover.breaker.cooldown
    assert failover.get("a") is None


def test_a_failed_probe_reopens_with_a_longer_cooldown(
    failover: Any, redis: RedisServer
) -> None:
    clock = FakeClock()
    failover.breaker.clock = clock
    redis.stop()
    open_breaker(failover)
    failover.delete("k")
    clock.now += failover.breaker.cooldown
    failover.get("k")  # the probe fails
    assert failover.breaker.state is State.OPEN
    assert failover.breaker.cooldown == 2 * failover.breaker.base_cooldown
    assert failover.health()["missed"] == 1  # kept for the next probe
    states = [t.state for t in failover.health()["history"]]
    assert states == ["open", "half-open", "open"]


def test_fallback_timeout_is_capped(failover: Any, redis: RedisServer) -> None:
    redis.stop()
    open_breaker(failover)
    with override_settings(CACHING_FALLBACK_TIMEOUT=5):
        failover.set("k", 1, 3600)
        failover.add("a", 1)
        failover.set_many({"m": 1}, None)
        failover.touch("k", None)
    fallback = failover._fallback
    for key in ("k", "a", "m"):
        expiry = fallback._expire_info[fallback.make_key(key)]
        assert expiry - time.time() <= 5


def test_an_entry_that_cannot_be_unpickled_is_a_deleted_miss(
    failover: Any, redis: RedisServer
) -> None:
    failover.set("k", 1)
    raw = redis_py.Redis.from_url(redis.url)
    (stored,) = raw.keys("*k")
    raw.set(stored, b"\x80\x04not a pickle")
    assert failover.get("k", "default") == "default"
    assert not raw.exists(stored)
    raw.set(stored, b"\x80\x04not a pickle")
    assert failover.get_many(["k"]) == {}
    raw.close()


def test_health_and_redis_info(failover: Any, redis: RedisServer) -> None:
    assert failover.health()["state"] is State.CLOSED
    info = failover.redis_info()
    assert info is not None and "used_memory_human" in info
    redis.stop()
    assert failover.redis_info() is None
    open_breaker(failover)
    assert failover.redis_info() is None and failover.redis() is None


def test_breaker_is_shared_by_threads(failover: Any, redis: RedisServer) -> None:
    import threading

    seen: list[Any] = []
    thread = threading.Thread(target=lambda: seen.append(caches["default"]))
    thread.start()
    thread.join()
    assert seen[0] is not failover
    assert seen[0].breaker is failover.breaker


def test_one_log_line_per_state_change(
    failover: Any, redis: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    redis.stop()
    with warnings.catch_warnings(), caplog.at_level("INFO", logger="caching"):
        for _ in range(20):
            failover.get("k")
    lines = [r for r in caplog.records if "circuit breaker" in r.getMessage()]
    assert len(lines) == 1


@pytest.mark.django_db(transaction=True)
def test_no_key_is_written_without_a_ttl(failover: Any, redis: RedisServer) -> None:
    from caching import stats
    from caching.decorators import cache_result
    from caching.invalidation import invalidate_group, invalidate_model
    from perfsite.models import Post
    from tests.perfsite.factories import make_post

    @cache_result(60, depends_on=[Post], groups=["g"], stale_timeout=30)
    def listed(n: int) -> int:
        return Post.objects.count() + n

    for n in range(3):
        listed(n)
    make_post()
    invalidate_group("g")
    invalidate_model(Post)
    listed(1)
    listed.invalidate_all()
    listed(2)
    stats.flush()
    failover.set("plain", 1)
    # A namespace bump writes the epoch key too.
    outage_after_filling(failover, redis, "x").now += failover.breaker.cooldown
    failover.clear()
    redis.start()
    failover.get("x")
    listed(3)
    stats.record("f", "hits")
    stats.flush()
    raw = redis_py.Redis.from_url(redis.url)
    keys = list(raw.scan_iter())
    assert len(keys) > 5
    assert {key: raw.ttl(key) for key in keys if raw.ttl(key) < 0} == {}
    raw.close()


def test_primary_and_replica_locations(
    redis: RedisServer, replicated: RedisServer
) -> None:
    """Two real servers: writes land on the primary, reads are served by the replica."""
    cache = caches["default"]
    reads = ("get", "mget")
    writes_before = command_calls(redis.url, "set")
    cache.set("k", 1)
    assert command_calls(redis.url, "set") > writes_before
    deadline = time.monotonic() + 30
    while cache.get("k") != 1:  # until replication has carried the write
        assert time.monotonic() < deadline, "the replica never caught up"
        time.sleep(0.05)
    primary_reads = command_calls(redis.url, *reads)
    replica_reads = command_calls(replicated.url, *reads)
    assert cache.get("k") == 1
    assert command_calls(replicated.url, *reads) > replica_reads
    assert command_calls(redis.url, *reads) == primary_reads


def test_response_errors_fall_back_but_programming_errors_raise(
    failover: Any, redis: RedisServer
) -> None:
    raw = redis_py.Redis.from_url(redis.url)
    raw.config_set("maxmemory-policy", "noeviction")
    raw.config_set("maxmemory", 1)  # every write now gets "OOM command not allowed"
    try:
        failover.set("k", "v")  # no exception: written to the fallback
        assert failover.breaker.refusals == 1
        # Redis still answers reads, so it stays the authority: the missed
        # write is replayed as a delete and the read is a miss, never stale.
        assert failover.get("k") is None
        assert failover.breaker.state is State.CLOSED
    finally:
        raw.config_set("maxmemory", 0)
        raw.close()
    with pytest.raises(Exception) as caught:
        failover.set("k", lambda: None)  # cannot be pickled: the caller's bug
    assert not isinstance(caught.value, redis_py.RedisError)
