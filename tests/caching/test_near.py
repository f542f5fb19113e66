"""The near cache: the store's rules, and its coherence against a real Redis."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis as redis_py
from django.core import checks
from django.core.cache import caches
from django.test import override_settings

from caching import near_redis, tracking
from caching.checks import check_settings
from caching.near import MISSING, REMEMBERED, NearStore
from tests.caching.conftest import FakeClock, failover_settings, forget_state
from tests.support.services import RedisServer


def live_store(**kwargs: Any) -> NearStore:
    store = NearStore(**{"max_entries": 100, "max_bytes": 100_000, **kwargs})
    store.set_live(True)
    return store


# -- the store, on its own ---------------------------------------------------


def test_a_copy_is_served_only_while_live() -> None:
    store = live_store()
    assert store.put("k", b"v", -1, store.begin())
    assert store.get("k") == b"v"
    store.set_live(False)
    assert store.get("k") is MISSING
    assert not store.put("k", b"v", -1, store.begin())
    store.set_live(True)  # going live again starts empty
    assert store.get("k") is MISSING


def test_a_read_that_raced_an_invalidation_is_not_kept() -> None:
    store = live_store()
    started = store.begin()
    store.invalidate(["k"])  # arrives while the read is in flight
    assert not store.put("k", b"old", -1, started)
    assert store.get("k") is MISSING
    # Another key's invalidation does not refuse it; a read begun after does.
    started = store.begin()
    store.invalidate(["other"])
    assert store.put("k", b"new", -1, started)
    assert store.get("k") == b"new"


def test_a_flush_refuses_every_read_in_flight() -> None:
    store = live_store()
    started = store.begin()
    store.flush()
    assert not store.put("k", b"v", -1, started)
    assert store.put("k", b"v", -1, store.begin())


def test_forgetting_too_many_keys_refuses_reads_begun_before() -> None:
    store = live_store()
    started = store.begin()
    store.invalidate(f"k{n}" for n in range(REMEMBERED + 1))
    assert not store.put("unrelated", b"v", -1, started)
    assert store.put("unrelated", b"v", -1, store.begin())


def test_bounds_evict_the_least_recently_used() -> None:
    store = live_store(max_entries=2)
    for key in ("a", "b"):
        store.put(key, b"v", -1, store.begin())
    store.get("a")  # b is now the oldest
    store.put("c", b"v", -1, store.begin())
    assert [store.get(k) is MISSING for k in ("a", "b", "c")] == [False, True, False]

    store = live_store(max_bytes=16 * 400)
    for n in range(20):
        store.put(f"k{n}", b"x" * 200, -1, store.begin())
    assert 0 < store.size <= 16 * 400
    assert len(store) < 20
    assert store.get("k19") == b"x" * 200
    # One value may not take more than a sixteenth of the bytes.
    assert not store.put("big", b"x" * 400, -1, store.begin())


def test_a_copy_expires_with_its_redis_ttl() -> None:
    clock = FakeClock()
    store = NearStore(10, 100_000, clock=clock)
    store.set_live(True)
    store.put("k", b"v", 1500, store.begin())  # milliseconds
    assert not store.put("gone", b"v", -2, store.begin())
    clock.now += 1.4
    assert store.get("k") == b"v"
    clock.now += 0.2
    assert store.get("k") is MISSING


def test_after_a_fork_nothing_is_kept() -> None:
    store = live_store()
    store.put("k", b"v", -1, store.begin())
    store.after_fork()
    assert not store.live
    assert len(store) == 0


# -- settings --------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value", "check_id"),
    [
        ("CACHING_NEAR_CACHE", "yes", "caching.E020"),
        ("CACHING_NEAR_MAX_ENTRIES", -1, "caching.E021"),
        ("CACHING_NEAR_MAX_BYTES", 1.5, "caching.E022"),
    ],
)
def test_bad_near_settings_are_reported(name: str, value: Any, check_id: str) -> None:
    with override_settings(**{name: value}):
        deprecated = ["caching.W005"] if name == "CACHING_NEAR_CACHE" else []
        assert [e.id for e in check_settings()] == [check_id, *deprecated]
        assert check_id in [e.id for e in checks.run_checks()]


# -- against Redis -----------------------------------------------------------


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def reads(raw: redis_py.Redis) -> int:
    """GET and MGET commands Redis has processed so far."""
    stats = raw.info("commandstats")
    return sum(stats.get(f"cmdstat_{c}", {}).get("calls", 0) for c in ("get", "mget"))


def settled(cache: Any) -> None:
    """Apply the echo of this process's own writes (Redis sends it too), so a
    copy filled next is not dropped by it a moment later."""
    assert cache.near_sync()


@pytest.fixture
def near(redis: RedisServer) -> Iterator[Any]:
    """A FailoverCache whose near cache is live, and a plain client beside it."""
    forget_state()
    with override_settings(CACHES=failover_settings(redis.url)):
        cache = caches["default"]
        cache.get("warm-up")  # starts the tracker
        wait_until(lambda: cache.near_stats()["live"], "the tracking connection")
        raw = redis_py.Redis.from_url(redis.url)
        yield cache, raw
        raw.close()
    forget_state()


def test_a_valid_hit_makes_no_round_trip(near: Any) -> None:
    cache, raw = near
    cache.set_many({"entry": ("versions", 1, [1, 2]), "group": 12345}, 60)
    settled(cache)
    assert cache.get_many(["entry", "group"]) == {
        "entry": ("versions", 1, [1, 2]),
        "group": 12345,
    }
    before = reads(raw)
    for _ in range(50):
        assert cache.get("group") == 12345
        assert cache.get_many(["entry", "group"])["entry"] == ("versions", 1, [1, 2])
    assert reads(raw) == before
    # Each hit decodes its own copy: a caller mutating it changes nothing.
    cache.get("entry")[2].append(3)
    assert cache.get("entry") == ("versions", 1, [1, 2])


def test_a_write_elsewhere_is_never_served_once_its_invalidation_is_in(
    near: Any,
) -> None:
    cache, raw = near
    cache.set("k", "old", 60)
    assert cache.get("k") == "old"
    assert cache.get("k") == "old"  # a copy now
    for n in range(20):
        raw.set("t:1:k", str(n * 1000).encode())  # another process's write
        assert cache.near_sync()
        assert cache.get("k") == n * 1000


def test_this_process_reads_its_own_writes_at_once(near: Any) -> None:
    cache, _ = near
    for n in range(20):
        cache.set("k", n, 60)
        assert cache.get("k") == n  # no wait for Redis's message
        cache.get_many(["k"])
    cache.delete("k")
    assert cache.get("k") is None
    cache.set("n", 1, 60)
    cache.get("n")
    cache.incr("n")
    assert cache.get("n") == 2


def test_a_read_racing_an_invalidation_leaves_no_stale_copy(near: Any) -> None:
    cache, raw = near
    store = near_redis._near[cache._primary._near_name].store
    cache.set("k", "old", 60)
    settled(cache)
    started = store.begin()
    value = raw.get("t:1:k")  # the read, answered before the write below
    raw.set("t:1:k", b"2")  # django-redis stores integers as digits
    assert cache.near_sync()  # its invalidation is applied before the read ends
    assert not store.put("t:1:k", value, -1, started)
    assert cache.get("k") == 2


def test_a_killed_tracking_connection_flushes_and_reconnects(near: Any) -> None:
    cache, raw = near
    cache.set("k", "old", 60)
    settled(cache)
    cache.get("k")
    assert cache.near_stats()["entries"] == 1
    raw.client_kill_filter(_type="pubsub")
    raw.set("t:1:k", b"2")  # written while it was down
    assert not cache.near_sync()  # the connection is gone, and so are the copies
    assert cache.near_stats()["entries"] == 0
    assert cache.get("k") == 2
    wait_until(lambda: cache.near_stats()["live"], "the reconnection")
    assert cache.get("k") == 2
    before = reads(raw)
    assert cache.get("k") == 2
    assert reads(raw) == before


def test_nothing_is_served_while_redis_is_down(near: Any, redis: RedisServer) -> None:
    cache, raw = near
    cache.set("k", "before", 60)
    cache.get("k")
    redis.stop()
    wait_until(lambda: not cache.near_stats()["live"], "the tracker to notice")
    assert cache.near_stats()["entries"] == 0
    assert cache.get("k") is None  # the fallback, which never held it
    redis.start()
    raw.set("t:1:k", b"2")
    wait_until(lambda: cache.near_stats()["live"], "the reconnection")
    wait_until(lambda: cache.get("k") == 2, "Redis through the breaker")


def test_junk_in_redis_is_a_miss_and_is_not_kept(near: Any) -> None:
    cache, raw = near
    raw.set("t:1:k", b"\x80\x05junk")
    assert cache.get("k", "default") == "default"
    assert cache.get_many(["k"]) == {}
    assert cache.near_stats()["entries"] == 0


def test_the_copies_go_when_the_breaker_leaves_closed(near: Any) -> None:
    cache, raw = near
    cache.set("k", "before", 60)
    cache.get("k")
    for _ in range(3):
        cache.breaker.failure(RuntimeError("test"))
    assert cache.breaker.state == "open"
    cache.get("other")
    assert cache.near_stats()["entries"] == 0


def test_a_flush_anywhere_empties_it(near: Any) -> None:
    cache, raw = near
    cache.set("k", "v", 60)
    cache.get("k")
    raw.flushall()
    assert cache.near_sync()
    assert cache.get("k") is None
    cache.set("k", "v", 60)
    cache.get("k")
    cache.clear()
    assert cache.near_stats()["entries"] == 0


def test_keys_outside_the_tracked_prefix_are_never_kept(redis: RedisServer) -> None:
    forget_state()
    config = failover_settings(redis.url)
    config["default"]["KEY_FUNCTION"] = "tests.caching.test_near.other_key"
    with override_settings(CACHES=config):
        cache = caches["default"]
        cache.get("warm-up")
        wait_until(lambda: cache.near_stats()["live"], "the tracking connection")
        cache.set("k", "v", 60)
        assert cache.get("k") == cache.get("k") == "v"
        assert cache.near_stats()["entries"] == 0
    forget_state()


def other_key(key: str, key_prefix: str, version: int) -> str:
    return f"elsewhere:{key_prefix}:{version}:{key}"


@pytest.mark.parametrize(
    ("setting", "option"), [(False, None), (True, False)], ids=["setting", "option"]
)
def test_turned_off_it_reads_redis_every_time(
    redis: RedisServer, setting: bool, option: bool | None
) -> None:
    forget_state()
    options = {} if option is None else {"NEAR_CACHE": option}
    with override_settings(
        CACHES=failover_settings(redis.url, **options), CACHING_NEAR_CACHE=setting
    ):
        cache = caches["default"]
        raw = redis_py.Redis.from_url(redis.url)
        cache.set("k", "v", 60)
        before = reads(raw)
        assert [cache.get("k") for _ in range(3)] == ["v"] * 3
        assert reads(raw) == before + 3
        assert cache.near_stats()["live"] is False
        assert not cache.near_sync()
        raw.close()
    forget_state()


def test_a_forked_child_starts_empty_with_a_tracker_of_its_own(near: Any) -> None:
    cache, raw = near
    cache.set("k", 1, 60)
    settled(cache)
    cache.get("k")
    assert cache.near_stats()["entries"] == 1
    pid = os.fork()
    if pid == 0:  # the child: report through the exit status only
        status = 1
        try:
            empty = cache.near_stats() == {**cache.near_stats(), "entries": 0}
            fresh = not cache.near_stats()["live"] and cache.get("k") == 1
            deadline = time.monotonic() + 10
            while not cache.near_stats()["live"] and time.monotonic() < deadline:
                time.sleep(0.01)
            cache.get("k")
            served = cache.get("k") == 1 and cache.near_stats()["hits"] > 0
            status = 0 if empty and fresh and served else 2
        finally:
            os._exit(status)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    # The parent's tracker was left alone by the child.
    raw.set("t:1:k", b"2")
    assert cache.near_sync()
    assert cache.get("k") == 2


def test_a_server_refusing_client_tracking_turns_it_off(
    redis: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    from tests.support.services import redis_binary

    server = RedisServer(redis_binary(), None, "--rename-command", "CLIENT", "")
    server.start()
    forget_state()
    try:
        with override_settings(CACHES=failover_settings(server.url)):
            cache = caches["default"]
            cache.set("k", "v", 60)
            cache.get("k")  # starts the tracker
            tracker = near_redis._near[cache._primary._near_name].tracker
            wait_until(lambda: not tracker.supported, "the refusal")
            assert "no near cache" in caplog.text
            assert [cache.get("k") for _ in range(3)] == ["v"] * 3
            assert cache.near_stats()["live"] is False
    finally:
        forget_state()
        server.stop()


def test_a_server_that_stops_answering_is_found_by_the_heartbeat(
    near: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache, raw = near
    monkeypatch.setattr(tracking, "HEARTBEAT", 0.05)  # seconds
    cache.set("k", 1, 60)
    settled(cache)
    cache.get("k")
    raw.client_pause(1000)  # milliseconds without an answer to anyone
    wait_until(lambda: not cache.near_stats()["live"], "the heartbeat to fail")
    assert cache.near_stats()["entries"] == 0
    assert not cache.near_sync()
    wait_until(lambda: cache.near_stats()["live"], "the reconnection")


def test_no_copy_of_an_old_namespace_is_served_after_an_epoch_bump(
    near: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from caching import replay

    cache, raw = near
    monkeypatch.setattr(replay, "EPOCH_REFRESH", 0.0)  # re-read on every call
    cache.set("k", 1, 60)
    settled(cache)
    assert cache.get("k") == cache.get("k") == 1
    raw.incr("t:caching:epoch")  # another process's recovery bumped it
    assert cache.get("k") is None


def test_a_fork_without_at_fork_hooks_is_caught_on_the_hit_path(near: Any) -> None:
    """uWSGI forks in C, skipping Python's at-fork hooks: the store notices the
    pid change itself, drops its copies and the tracker starts over."""
    cache, _ = near
    cache.set("k", 1, 60)
    settled(cache)
    cache.get("k")
    near_state = near_redis._near[cache._primary._near_name]
    store = near_state.store
    store.pid, store._pid_checked_at = -1, float("-inf")  # as if forked
    assert store.get(cache._primary.make_key("k")) is MISSING
    assert not store.live and len(store) == 0 and store.pid == os.getpid()
    assert cache.get("k") == 1  # read from Redis meanwhile
    wait_until(lambda: cache.near_stats()["live"], "a tracker of its own")
