"""Django's own cache contract (its ``BaseCacheTests``) against ``FailoverCache``.

The tests are those of the installed Django version, from its source
distribution (``scripts/dev`` fetches them). They run twice: with Redis up,
and with every breaker forced open, so the in-process fallback keeps the same
contract. Culling tests are left out, as Django's own suite does for Redis.
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
from tests.support.services import RedisServer, missing

pytestmark = [pytest.mark.redis, pytest.mark.django_db]

try:
    from cache.tests import (
        BaseCacheTests,
        caches_setting_for_tests,
    )
except ImportError:  # pragma: no cover - scripts/dev fetches them
    missing(
        f"Django's cache tests are not in {settings.DJANGO_CACHE_TESTS} "
        "(scripts/dev test fetches them)"
    )

EXCLUDED = {"cull", "zero_cull"}  # as Django's RedisCacheTests


@pytest.fixture(autouse=True)
def failover_caches(
    request: pytest.FixtureRequest, redis: RedisServer
) -> Iterator[None]:
    forget_state()
    params = {"BACKEND": "caching.backends.FailoverCache", "LOCATION": redis.url}
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


class FailoverCacheContractTests(BaseCacheTests, TestCase):  # type: ignore[misc]
    breaker_open = False


class FailoverCacheBreakerOpenContractTests(FailoverCacheContractTests):
    breaker_open = True
