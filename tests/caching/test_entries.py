"""The versioned-entry core: what a hit, a cold miss and a 304 cost in Redis
commands (read from Redis's own MONITOR), junk under an entry key, the lock."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import redis as redis_py
from django.core.cache import caches
from django.test import Client

from caching import entries, locks, replay, stats, versions
from caching.decorators import cache_result
from caching.invalidation import invalidate_group
from caching.keys import NAMESPACE, group_key, lock_key
from caching.versions import group_versions
from tests.caching import site
from tests.support.services import RedisServer

END = "perfsite-test-end-of-commands"


@contextmanager
def monitored(url: str) -> Iterator[list[tuple[str, ...]]]:
    """Every command a client sends inside the block that touches a caching key."""
    client = redis_py.Redis.from_url(url)
    seen: list[tuple[str, ...]] = []
    ready = threading.Event()

    def listen() -> None:
        with client.monitor() as monitor:
            ready.set()
            for event in monitor.listen():
                words = tuple(event["command"].split())
                if END in event["command"]:
                    return
                if event.get("client_type") == "lua":
                    continue  # run by a script: counted as its EVAL
                if any(f"{NAMESPACE}:" in word for word in words):
                    seen.append(words)

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    ready.wait(5)
    client.ping()  # MONITOR is on once this connection's first reply is back
    try:
        yield seen
    finally:
        client.echo(END)
        thread.join(10)
        client.close()


def names(commands: list[tuple[str, ...]]) -> list[str]:
    out = []
    for words in commands:
        name = words[0].upper()
        if name == "SET" and "NX" in (w.upper() for w in words):
            name = "SET NX"
        out.append(name)
    return out


@pytest.fixture
def quiet_stats(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stats, "_next_flush", float("inf"))


@pytest.fixture
def core_only(settings: Any) -> None:
    """Redis commands of the core itself: no near cache in front of them."""
    settings.CACHING_NEAR_CACHE = False


def test_a_cold_miss_reads_once_and_writes_once_plus_the_lock(
    failover: Any, redis: RedisServer, quiet_stats: None, core_only: None
) -> None:
    @cache_result(60, groups=["cold"])
    def compute(x: int) -> int:
        return x * 2

    group_versions(compute.groups)  # the groups exist: only the entry is cold
    with monitored(redis.url) as commands:
        assert compute(21) == 42
    assert names(commands) == ["MGET", "SET NX", "GET", "SET", "EVAL"]
    assert commands[1][1].endswith(":lock") and commands[2][1].endswith(":done")
    with monitored(redis.url) as commands:
        assert compute(21) == 42
    assert names(commands) == ["MGET"]


def test_groups_nobody_stored_under_are_seeded_with_add_when_the_entry_is(
    failover: Any, redis: RedisServer, quiet_stats: None
) -> None:
    @cache_result(60, groups=["fresh"])
    def compute() -> int:
        return 1

    with monitored(redis.url) as commands:
        compute()
    # The lock (SET NX + GET of its marker), then django-redis's add (SET NX
    # with an expiry) for each of the two missing groups, the entry, the release.
    assert names(commands) == ["MGET", "SET NX", "GET", "SET NX", "SET NX"] + [
        "SET",
        "EVAL",
    ]
    assert [words[1] for words in commands[3:5]] == [
        f"t:1:{group_key(g)}" for g in compute.groups
    ]


def test_a_lookup_that_stores_nothing_leaves_no_key(
    failover: Any, redis: RedisServer, quiet_stats: None
) -> None:
    @cache_result(60, groups=["nothing-kept"], cache_if=lambda value: False)
    def compute(x: int) -> int:
        return x

    raw = redis_py.Redis.from_url(redis.url)
    before = set(raw.keys("*cr:*"))
    for x in range(20):
        assert compute(x) == x
    assert set(raw.keys("*cr:*")) == before
    raw.close()


def test_a_group_bumped_while_its_first_value_computes_stores_nothing(
    failover: Any, redis: RedisServer, quiet_stats: None
) -> None:
    calls = []

    @cache_result(60, groups=["bumped-meanwhile"])
    def compute() -> int:
        calls.append(1)
        if len(calls) == 1:  # a write lands while the first value is computed
            invalidate_group("bumped-meanwhile")
        return len(calls)

    assert compute() == 1
    assert compute() == 2  # the first value was computed from the old data
    assert compute() == 2


def test_a_nested_computation_shares_its_callers_seeds(
    failover: Any, redis: RedisServer, quiet_stats: None, core_only: None
) -> None:
    @cache_result(60, groups=["shared-seed"])
    def inner() -> int:
        return 1

    @cache_result(60, groups=["shared-seed"])
    def outer() -> int:
        return inner() + 1

    assert outer() == 2  # a cold start: both stored under one new version
    with monitored(redis.url) as commands:
        assert outer() == 2
    assert names(commands) == ["MGET"]


@pytest.mark.django_db(transaction=True)
def test_a_304_costs_no_more_than_a_hit(
    failover: Any, redis: RedisServer, settings: Any, quiet_stats: None, core_only: None
) -> None:
    settings.ROOT_URLCONF = "tests.caching.site"
    site.renders.clear()
    client = Client()
    first = client.get("/t/host/9/")
    with monitored(redis.url) as hit:
        assert client.get("/t/host/9/").status_code == 200
    with monitored(redis.url) as revalidation:
        assert (
            client.get("/t/host/9/", HTTP_IF_NONE_MATCH=first["ETag"]).status_code
            == 304
        )
    assert names(hit) == names(revalidation) == ["MGET"]
    assert site.renders.count("host") == 1


@pytest.mark.django_db(transaction=True)
def test_with_the_near_cache_a_warm_hit_and_a_304_make_no_redis_call(
    failover: Any,
    redis: RedisServer,
    settings: Any,
    quiet_stats: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The namespace epoch is re-read once a second per process, not per request.
    monkeypatch.setattr(replay, "EPOCH_REFRESH", float("inf"))
    settings.ROOT_URLCONF = "tests.caching.site"
    client = Client()
    first = client.get("/t/host/9/")
    # Redis echoes this process's own writes to its tracking connection: once
    # they are in (and the connection is up), the next read fills the near
    # cache for good.
    deadline = time.monotonic() + 10
    while not failover.near_sync():
        assert time.monotonic() < deadline, "the tracking connection never came up"
        time.sleep(0.01)
    client.get("/t/host/9/")
    with monitored(redis.url) as commands:
        assert client.get("/t/host/9/").status_code == 200
        assert (
            client.get("/t/host/9/", HTTP_IF_NONE_MATCH=first["ETag"]).status_code
            == 304
        )
    assert names(commands) == []


@pytest.mark.parametrize(
    "junk", [b"not a pickle", ("cr-entry-1", "no", "shape", 1), {"a": 1}, 7]
)
def test_junk_under_an_entry_key_is_a_miss(
    failover: Any, redis: RedisServer, junk: Any
) -> None:
    calls: list[int] = []

    @cache_result(60)
    def compute() -> int:
        calls.append(1)
        return 5

    key = compute.cache_key()
    if isinstance(junk, bytes):  # raw bytes nobody pickled
        raw = redis_py.Redis.from_url(redis.url)
        raw.set(failover.make_key(key), junk)
        raw.close()
    else:
        failover.set(key, junk, 60)
    assert compute() == 5
    assert compute() == 5
    assert calls == [1]


def test_the_lock_is_one_holders_and_only_its_token_frees_it(
    failover: Any, redis: RedisServer
) -> None:
    key = "cr:test:lock"
    first = locks.acquire(failover, key)
    second = locks.acquire(failover, key)
    assert first.token is not None and second.token is None
    locks.release(failover, key, "someone else's token", stored=True)
    assert locks.held(failover, key)
    locks.release(failover, key, first.token, stored=True)
    assert not locks.held(failover, key)
    again = locks.acquire(failover, key)
    assert again.token is not None and again.just_done  # the holder had stored
    raw = redis_py.Redis.from_url(redis.url)
    assert 0 < raw.pttl(failover.make_key(lock_key(key))) <= 30_000
    raw.close()


def test_the_lock_falls_back_to_the_cache_api(locmem: Any) -> None:
    key = "cr:test:lock"
    claim = locks.acquire(locmem, key)
    assert claim.token is not None and locks.acquire(locmem, key).token is None
    locks.release(locmem, key, "not mine", stored=False)
    assert locks.held(locmem, key)
    locks.release(locmem, key, claim.token, stored=True)
    assert not locks.held(locmem, key)
    assert locks.acquire(locmem, key).just_done


def test_an_open_breaker_takes_the_lock_in_the_fallback(
    failover: Any, redis: RedisServer
) -> None:
    redis.stop()
    for _ in range(5):
        failover.get("x")  # open the breaker
    claim = locks.acquire(failover, "cr:test:down")
    assert claim.token is not None
    locks.release(failover, "cr:test:down", claim.token, stored=False)
    assert not locks.held(failover, "cr:test:down")


def test_lookup_of_versions_only(locmem: Any) -> None:
    backend = caches["default"]
    found = entries.lookup(backend, None, ["g-only"])
    assert found.status == entries.MISS and len(found.versions) == 1
    assert found.seeds == ((group_key("g-only"), found.versions[0]),)
    # Not written by the lookup: the next one has a version of its own ...
    again = entries.lookup(backend, None, ["g-only"])
    assert again.versions != found.versions
    # ... until one is kept, which the other cannot be kept over.
    assert versions.persist(backend, found.seeds)
    assert not versions.persist(backend, again.seeds)
    assert entries.lookup(backend, None, ["g-only"]).versions == found.versions
    assert entries.lookup(backend, None, ["g-only"]).seeds == ()


def test_row_groups_and_junk_group_versions(locmem: Any) -> None:
    from caching.keys import group_key
    from caching.versions import bump, row_group
    from perfsite.models import Post

    assert row_group(Post, 5) == "row:perfsite.post:i5"
    assert row_group("perfsite.Post", "5") == "row:perfsite.post:i5"  # one row
    locmem.set(group_key("junk-group"), "not a number")
    (version,) = group_versions(["junk-group"]).values()
    assert type(version) is int
    assert group_versions(["junk-group"]) == {"junk-group": version}
    bump([])  # nothing to bump: no write
    bump(["junk-group"])
    assert group_versions(["junk-group"]) != {"junk-group": version}


def test_a_lock_taken_after_an_outage_probes_and_closes_the_breaker(
    failover: Any, redis: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    breaker = failover.breaker
    redis.stop()
    for _ in range(5):
        failover.get("x")  # open the breaker
    assert breaker.state == "open"
    redis.start()
    now = breaker.clock() + breaker.cooldown + 1
    monkeypatch.setattr(breaker, "clock", lambda: now)  # the cooldown is over
    claim = locks.acquire(failover, "cr:test:probe")  # this call probes
    assert claim.token is not None
    assert breaker.state == "closed"
    locks.release(failover, "cr:test:probe", claim.token, stored=False)
    assert not locks.held(failover, "cr:test:probe")
