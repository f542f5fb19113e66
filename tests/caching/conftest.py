from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import caches
from django.core.cache.backends import locmem as locmem_backend
from django.test import override_settings

from caching import entries, near_redis, replay, stats
from caching.breaker import State
from tests.support.cluster import RedisCluster
from tests.support.services import RedisServer, free_port, replica_of


def failover_settings(url: str, **options: Any) -> dict[str, Any]:
    return {
        "default": {
            "BACKEND": "caching.backends.FailoverCache",
            "LOCATION": url,
            "KEY_PREFIX": "t",
            "OPTIONS": options,
        }
    }


def forget_state() -> None:
    replay.forget()
    near_redis.close_all()
    for name, store in locmem_backend._caches.items():
        if name.startswith("caching-fallback"):
            store.clear()
            locmem_backend._expire_info[name].clear()
    stats.reset()


@pytest.fixture
def failover(redis: RedisServer) -> Iterator[Any]:
    """The default cache is a FailoverCache on the private Redis, fresh state."""
    forget_state()
    with override_settings(CACHES=failover_settings(redis.url)):
        yield caches["default"]
    forget_state()


@pytest.fixture
def replicated(redis: RedisServer) -> Iterator[RedisServer]:
    """The default cache on the private Redis and a replica of it (yielded)."""
    forget_state()
    with (
        replica_of(redis) as replica,
        # Near cache off: a near hit makes no round trip to either server.
        override_settings(
            CACHES=failover_settings([redis.url, replica.url], NEAR_CACHE=False)
        ),
    ):
        yield replica
    forget_state()


@pytest.fixture
def clustered(cluster: RedisCluster) -> Iterator[Any]:
    """The default cache is a FailoverCache on the private Redis Cluster."""
    forget_state()
    with override_settings(CACHES=failover_settings(cluster.location, CLUSTER=True)):
        yield caches["default"]
    forget_state()


@pytest.fixture
def locmem() -> Iterator[Any]:
    forget_state()
    caches["default"].clear()
    yield caches["default"]
    caches["default"].clear()


@pytest.fixture(params=["locmem", "failover", "clustered"])
def backend(request: pytest.FixtureRequest) -> Any:
    """The default cache as LocMem, then as a FailoverCache on real Redis,
    then on a real Redis Cluster."""
    return request.getfixturevalue(request.param)


def open_breaker(cache: Any) -> None:
    """Fail enough calls on a stopped Redis to open the cache's breaker."""
    for _ in range(cache.breaker.threshold):
        cache.get("probe")
    assert cache.breaker.state is State.OPEN


def refuse_writes(raw: Any, how: str) -> None:
    """A real Redis that still serves reads but refuses writes: OOM or READONLY."""
    if how == "OOM":
        raw.config_set("maxmemory-policy", "noeviction")
        raw.config_set("maxmemory", 1)  # bytes: every write that allocates fails
    else:  # a primary demoted to a replica (of a server that is gone)
        raw.replicaof("127.0.0.1", free_port())


def accept_writes(raw: Any) -> None:
    raw.config_set("maxmemory", 0)
    raw.replicaof("NO", "ONE")


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def wall(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    clock = FakeClock()
    monkeypatch.setattr(entries, "wall", clock)
    return clock


def run_async(coroutine: Any) -> Any:
    """``asyncio.run`` in a thread of its own.

    The session's Playwright browser keeps an event loop running on the main
    thread, where ``asyncio.run`` refuses to start.
    """
    import threading

    result: list[Any] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            result.append(asyncio.run(coroutine))
        except BaseException as exc:  # re-raised on the caller's thread
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return result[0]
