"""``FailoverCache`` on a real three-master Redis Cluster (``OPTIONS["CLUSTER"]``).

The cache-core behaviours also run on the cluster through the ``clustered``
parameter of tests/caching/test_decorators.py and test_invalidation.py, and
Django's cache contract through test_django_contract.py.
"""

from __future__ import annotations

from typing import Any

import pytest
import redis as redis_py
from django.core.checks import Warning as CheckWarning
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from caching import locks, stats, versions
from caching.breaker import State
from caching.checks import check_cluster, check_redis
from caching.cluster import ClusterClient, _connection_kwargs, _forget_clusters, seeds
from caching.decorators import cache_result
from caching.keys import done_key, group_key, lock_key
from tests.caching.conftest import FakeClock, failover_settings
from tests.support.cluster import RedisCluster
from tests.support.services import command_calls

pytestmark = pytest.mark.redis


def holders(cluster: RedisCluster) -> list[int]:
    """How many keys each master holds."""
    counts = []
    for node in cluster.nodes:
        client = redis_py.Redis(port=node.port)
        counts.append(int(client.dbsize()))
        client.close()
    return counts


def test_keys_spread_over_the_masters_and_many_key_calls_work(
    clustered: Any, cluster: RedisCluster
) -> None:
    assert isinstance(clustered._primary.client, ClusterClient)
    data = {f"k{n}": n for n in range(30)}
    clustered.set_many(data, 60)
    assert all(count > 0 for count in holders(cluster))  # not one node
    assert clustered.get_many(list(data)) == data
    clustered.delete_many([f"k{n}" for n in range(10)])
    assert clustered.get_many(list(data)) == {f"k{n}": n for n in range(10, 30)}
    assert clustered.incr("k10", 5) == 15
    info = clustered.redis_info()  # the admin page's figures: one node's
    assert info is not None and info["redis_version"]
    clustered.clear()
    assert holders(cluster) == [0, 0, 0]


def test_a_hit_is_one_mget_per_node_involved(
    clustered: Any, cluster: RedisCluster
) -> None:
    names = [f"hot-{n}" for n in range(6)]
    calls = []

    @cache_result(60, groups=names)
    def compute(x: int) -> int:
        calls.append(x)
        return x * 2

    assert compute(1) == 2  # a miss: seeds the groups, stores the entry
    groups = [compute.function_group, *names]
    wanted = [compute.cache_key(1), *(group_key(n) for n in groups)]
    slots: dict[int, set[int]] = {}  # port -> the slots of this hit's keys
    for key in wanted:
        name = clustered.make_key(key)
        slots.setdefault(cluster.owner(name).port, set()).add(cluster.slot(name))
    assert len(slots) > 1  # the keys of this hit live on several masters
    before = {n.port: command_calls(n.url, "mget") for n in cluster.nodes}
    assert compute(1) == 2  # a hit
    after = {n.port: command_calls(n.url, "mget") for n in cluster.nodes}
    # One MGET per slot (a node refuses one across slots), nothing else; the
    # MGETs of a node go out together, in one cluster pipeline.
    assert {p: after[p] - before[p] for p in after} == {
        n.port: len(slots.get(n.port, ())) for n in cluster.nodes
    }
    assert calls == [1]
    versions.bump(names[:1])
    assert compute(1) == 2 and calls == [1, 1]  # the bump made the entry a miss


def test_a_stale_slot_map_is_followed(clustered: Any) -> None:
    """A node that answers MOVED (our map is out of date) sends the read
    through redis-py, which follows the redirect and reads the map again."""
    clustered.set_many({"k": 1, "j": 2})
    client = clustered.redis()
    slot = client.keyslot(clustered.make_key("k"))
    right = client.nodes_manager.slots_cache[slot][0]
    wrong = next(n for n in client.get_primaries() if n.name != right.name)
    client.nodes_manager.slots_cache[slot] = [wrong]
    assert clustered.get_many(["k", "j"]) == {"k": 1, "j": 2}
    assert client.nodes_manager.slots_cache[slot][0].name == right.name
    assert clustered.breaker.state is State.CLOSED


def test_the_lock_and_its_done_key_share_a_slot(
    clustered: Any, cluster: RedisCluster
) -> None:
    @cache_result(60)
    def compute(x: int) -> int:
        return x

    key = compute.cache_key(3)
    claim = locks.acquire(clustered, key)
    assert claim.token is not None and locks.held(clustered, key)
    assert locks.acquire(clustered, key).token is None  # one holder
    locks.release(clustered, key, claim.token, stored=True)  # the Lua script
    assert not locks.held(clustered, key)
    owner = cluster.owner(clustered.make_key(key))
    assert owner is cluster.owner(clustered.make_key(lock_key(key)))
    raw = redis_py.Redis(port=owner.port)
    assert raw.exists(clustered.make_key(done_key(key))) == 1
    raw.close()


def test_statistics_flush_to_the_cluster(clustered: Any) -> None:
    stats.record("f", "hits", 2)
    stats.record("g", "misses")
    stats.flush(wait=5)
    stats.reset()
    figures = stats.snapshot()
    assert figures["f"]["hits"] == 2 and figures["g"]["misses"] == 1


def test_the_near_cache_is_off_on_a_cluster(clustered: Any) -> None:
    clustered.set("k", 1)
    assert clustered.get("k") == 1 and clustered.get("k") == 1
    assert clustered.near_stats()["entries"] == 0
    assert clustered.near_sync() is False  # no tracker to wait for


def test_a_master_down_serves_the_fallback_then_recovers(
    clustered: Any, cluster: RedisCluster
) -> None:
    clock = FakeClock()
    clustered.breaker.clock = clock
    clustered.set("before", "old")
    victim = cluster.owner(clustered.make_key("before"))
    victim.stop()
    for _ in range(clustered.breaker.threshold):
        clustered.get_many(["before", "other"])  # a hit's read, on a dead node
    assert clustered.breaker.state is State.OPEN
    clustered.set("during", "kept")  # the fallback serves while the node is gone
    assert clustered.get("during") == "kept"
    clock.now += clustered.breaker.cooldown
    clustered.get("during")  # the probe pings every master: still down
    assert clustered.breaker.state is State.OPEN
    cluster.start()
    clock.now += clustered.breaker.cooldown
    assert clustered.get("before") is None  # recovered, the namespace bumped
    assert clustered.breaker.state is State.CLOSED
    assert clustered.health()["epoch"] >= 1
    clustered.set("after", "fresh")
    assert clustered.get("after") == "fresh"


def test_connection_options_reach_every_node() -> None:
    kwargs = _connection_kwargs(
        ["rediss://user:secret@h:1", "redis://g:2"],
        {"SOCKET_TIMEOUT": 0.5, "CONNECTION_POOL_KWARGS": {"max_connections": 9}},
    )
    assert kwargs == {
        "max_connections": 9,
        "socket_timeout": 0.5,
        "password": "secret",
        "username": "user",
        "ssl": True,
    }
    assert _connection_kwargs(["redis://h:1"], {"PASSWORD": "p"}) == {"password": "p"}


def test_one_cluster_client_per_process_and_a_fresh_one_after_fork(
    clustered: Any,
) -> None:
    client = clustered._primary.client
    shared = client.get_client()
    client.disconnect()  # a no-op: the process's caches share it
    assert client.connect() is shared
    assert client.get_many([]) == {}
    _forget_clusters()  # what a forked child runs
    assert client.connect() is not shared


def test_a_bad_seed_is_refused() -> None:
    with pytest.raises(ValueError, match="redis://host:port"):
        seeds("unix:///tmp/redis.sock")
    with pytest.raises(ValueError, match="database 0"):
        seeds("redis://127.0.0.1:7000/2")
    with pytest.raises(ValueError, match="at least one"):
        seeds(" , ")
    assert [(n.host, n.port) for n in seeds(["redis://a:1", "rediss://b:2"])] == [
        ("a", 1),
        ("b", 2),
    ]
    bad = failover_settings("redis://127.0.0.1:7000/3", CLUSTER=True)
    with override_settings(CACHES=bad), pytest.raises(ImproperlyConfigured):
        from django.core.cache import caches

        caches["default"].get("k")


def test_the_checks_on_cluster_settings() -> None:
    asked = failover_settings("redis://127.0.0.1:7000", CLUSTER=True, NEAR_CACHE=True)
    with override_settings(CACHES=asked):
        messages = check_cluster()
    assert len(messages) == 1 and isinstance(messages[0], CheckWarning)
    plain = failover_settings("redis://127.0.0.1:7000", CLUSTER=True)
    with override_settings(CACHES=plain):
        assert check_cluster() == []
    bad = failover_settings("unix:///tmp/r.sock", CLUSTER=True)
    with override_settings(CACHES=bad):
        assert [m.id for m in check_cluster()] == ["caching.E028"]
        assert check_redis() == []  # E028 says it; no ping of a bad LOCATION


def test_the_demo_runs_on_a_redis_cluster_url(cluster: RedisCluster) -> None:
    from django.core.cache import caches

    from perfsite.settings import _caches
    from tests.caching.conftest import forget_state

    forget_state()
    with override_settings(CACHES=_caches(cluster.url)):
        cache = caches["default"]
        cache.set_many({f"d{n}": n for n in range(10)})
        assert cache.get_many([f"d{n}" for n in range(10)]) == {
            f"d{n}": n for n in range(10)
        }
        assert check_cluster() == [] and check_redis() == []
    forget_state()
