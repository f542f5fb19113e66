"""REDIS_URL's replica and Sentinel forms against real Redis servers."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache.backends.base import BaseCache
from django.utils.module_loading import import_string

from perfsite.env import redis_cache_config
from tests.support.sentinel import SentinelCluster
from tests.support.services import RedisServer, command_calls, replica_of

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
    with replica_of(redis) as replica:
        cache = django_redis_cache(f"{redis.url},{replica.url}")
        cache.set("greeting", "hello", 60)
        # The write went to the primary (a replica refuses writes).
        primary = import_string("redis.Redis").from_url(redis.url)
        assert primary.get(":1:greeting") is not None
        primary.close()
        SentinelCluster.wait(lambda: cache.get("greeting") == "hello", "replication")
        before = (command_calls(redis.url, "get"), command_calls(replica.url, "get"))
        for _ in range(5):
            assert cache.get("greeting") == "hello"
        after = (command_calls(redis.url, "get"), command_calls(replica.url, "get"))
        # Every read was answered by the replica, none by the primary.
        assert (after[0] - before[0], after[1] - before[1]) == (0, 5)


def test_sentinel_form_follows_a_failover(sentinel_cluster: SentinelCluster) -> None:
    cache = django_redis_cache(sentinel_cluster.url)
    cache.set("k", "before", 60)
    # Reads go to the replica: replication is asynchronous.
    SentinelCluster.wait(lambda: cache.get("k") == "before", "replication")
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
