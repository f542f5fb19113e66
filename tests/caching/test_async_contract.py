"""Django's async cache API on FailoverCache, Redis up and breaker open: the
async methods keep the sync methods' contract (``BaseCache``'s ``a*`` names),
and ``aread_current`` answers as ``read_current`` does."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.core.cache import caches

from tests.caching.test_django_contract import force_open

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["redis up", "breaker open"])
def cache(request: pytest.FixtureRequest, failover: Any) -> Iterator[Any]:
    if request.param == "breaker open":
        force_open(failover)
    yield caches["default"]


async def contract(cache: Any) -> None:
    await cache.aset("k", "v", 60)
    assert await cache.aget("k") == "v"
    assert await cache.aget("missing", "default") == "default"
    assert await cache.aadd("k", "other") is False
    assert await cache.aadd("new", "value") is True
    assert await cache.aget_many(["k", "new", "missing"]) == {"k": "v", "new": "value"}
    assert await cache.aset_many({"a": 1, "b": {"x": [1, 2]}}) == []
    assert await cache.aget_many(["a", "b"]) == {"a": 1, "b": {"x": [1, 2]}}
    assert await cache.aincr("a") == 2
    assert await cache.adecr("a", 5) == -3
    with pytest.raises(ValueError):
        await cache.aincr("missing")
    assert await cache.ahas_key("k") and not await cache.ahas_key("missing")
    assert await cache.atouch("k", 60) is True
    assert await cache.atouch("missing", 60) is False
    assert await cache.aget_or_set("made", lambda: "computed") == "computed"
    assert await cache.aget_or_set("made", "other") == "computed"
    assert await cache.adelete("k") is True
    assert await cache.aget("k") is None
    await cache.adelete_many(["a", "b"])
    assert await cache.aget_many(["a", "b"]) == {}
    assert await cache.aread_current(["new"], ["made"]) == cache.read_current(
        ["new"], ["made"]
    )
    await cache.aclear()
    assert await cache.aget("new") is None


def test_the_async_api_keeps_the_contract(cache: Any) -> None:
    async_to_sync(contract)(cache)
