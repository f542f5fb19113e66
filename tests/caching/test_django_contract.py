"""Django's own cache contract (its ``BaseCacheTests``) against ``FailoverCache``.

The tests are those of the installed Django version, from its source
distribution (``scripts/dev`` fetches them). They run three times: with Redis
up, with every breaker forced open, so the in-process fallback keeps the same
contract, and on a three-master Redis Cluster (``OPTIONS["CLUSTER"]``). Culling tests are left out, as Django's own suite does for Redis.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import caches
from django.test import TestCase, override_settings

from caching.breaker import State
from tests.caching.conftest import forget_state
from tests.caching.django_contract import ContractTests, caches_setting_for_tests
from tests.support.cluster import RedisCluster
from tests.support.services import RedisServer

pytestmark = [pytest.mark.redis, pytest.mark.django_db]


EXCLUDED = {"cull", "zero_cull"}  # as Django's RedisCacheTests


@pytest.fixture(autouse=True)
def failover_caches(request: pytest.FixtureRequest) -> Iterator[None]:
    forget_state()
    params: dict[str, Any] = {"BACKEND": "caching.backends.FailoverCache"}
    if getattr(request.cls, "cluster", False):
        cluster: RedisCluster = request.getfixturevalue("cluster")
        params.update(LOCATION=cluster.location, OPTIONS={"CLUSTER": True})
    else:
        redis: RedisServer = request.getfixturevalue("redis")
        params["LOCATION"] = redis.url
    with override_settings(
        CACHES=caches_setting_for_tests(base=params, exclude=EXCLUDED)
    ):
        if getattr(request.cls, "breaker_open", False):
            for alias in settings.CACHES:
                force_open(caches[alias])
        yield
    forget_state()


def force_open(cache: Any) -> None:
    breaker = cache.breaker
    breaker.state = State.OPEN
    breaker.opened_at = breaker.clock()
    breaker.cooldown = 10**9  # seconds: no probe during the test


class FailoverCacheContractTests(ContractTests, TestCase):  # type: ignore[misc]
    breaker_open = False
    cluster = False


class FailoverCacheBreakerOpenContractTests(FailoverCacheContractTests):
    breaker_open = True


class FailoverCacheClusterContractTests(FailoverCacheContractTests):
    cluster = True

    def test_every_alias_is_on_the_cluster(self) -> None:
        from caching.cluster import ClusterClient

        for alias in settings.CACHES:
            assert isinstance(caches[alias]._primary.client, ClusterClient)
