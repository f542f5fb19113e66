"""REDIS_URL's replica and Sentinel forms against real Redis servers."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache.backends.base import BaseCache
from django.utils.module_loading import import_string

from perfsite.env import redis_cache_config
from tests.support.sentinel import SentinelCluster
from tests.support.services import RedisServer, redis_binary

pytestmark = [pytest.mark.redis, pytest.mark.slow]


def django_redis_cache(url: str) -> BaseCache:
    config = redis_cache_config(url)
    options: dict[str, Any] = {
        "SOCKET_CONNECT_TIMEOUT": 1,
        "SOCKET_TIMEOUT": 1,
        **config["OPTIONS"],
    }
    backend = import_string("django_redis.cache.RedisCache")
    cache: BaseCache = backend(config["LOCATION"], {"OPTIONS": options})
    return cache


def test_replica_form_writes_to_primary_and_reads_from_replicas(
    redis: RedisServer,
) -> None:
    replica = RedisServer(
        redis_binary(), None, "--replicaof", "127.0.0.1", str(redis.port)
    )
    replica.start()
    try:
        cache = django_redis_cache(f"{redis.url},{replica.url}")
        cache.set("greeting", "hello", 60)
        SentinelCluster.wait(lambda: cache.get("greeting") == "hello", "replication")
        # The write went to the primary; the replica refuses writes.
        assert (
            import_string("redis.Redis").from_url(redis.url).get(":1:greeting")
            is not None
        )
    finally:
        replica.stop()


def test_sentinel_form_follows_a_failover(sentinel_cluster: SentinelCluster) -> None:
    cache = django_redis_cache(sentinel_cluster.url)
    cache.set("k", "before", 60)
    assert cache.get("k") == "before"
    old_primary = sentinel_cluster.primary.port

    sentinel_cluster.primary.stop()
    SentinelCluster.wait(
        lambda: sentinel_cluster.current_primary_port() not in (None, old_primary),
        "failover",
    )

    def writable() -> bool:
        try:
            cache.set("k", "after", 60)
        except Exception:
            return False
        return True

    SentinelCluster.wait(writable, "writes on the promoted replica")
    assert sentinel_cluster.current_primary_port() == sentinel_cluster.replica.port
    assert cache.get("k") == "after"
