"""A real Redis that refuses writes (OOM, READONLY) or holds junk."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import redis as redis_py

from caching.breaker import State
from tests.caching.conftest import FakeClock, accept_writes, refuse_writes
from tests.support.services import RedisServer

pytestmark = pytest.mark.redis


@pytest.fixture
def raw(redis: RedisServer) -> Iterator[redis_py.Redis]:
    client = redis_py.Redis.from_url(redis.url)
    yield client
    accept_writes(client)
    client.close()


@pytest.mark.parametrize("how", ["OOM", "READONLY"])
def test_refused_writes_open_the_breaker_though_reads_work(
    failover: Any, raw: redis_py.Redis, how: str
) -> None:
    clock = FakeClock()
    failover.breaker.clock = clock
    failover.set("k", "v")
    refuse_writes(raw, how)
    for n in range(failover.breaker.threshold):
        # OOM allows the replayed DEL, so reads still reach Redis; a replica
        # refuses it too, and a Redis that has not learned what it missed is
        # not read.
        assert failover.get("k") == ("v" if how == "OOM" or n == 0 else None)
        failover.set(f"w{n}", n)  # refused, kept in the fallback
    assert failover.breaker.state is State.OPEN
    # The probe writes (it bumps the namespace): still refused, still open.
    clock.now += failover.breaker.cooldown
    failover.get("k")
    assert failover.breaker.state is State.OPEN
    assert failover.breaker.cooldown == 2 * failover.breaker.base_cooldown
    accept_writes(raw)
    clock.now += failover.breaker.cooldown
    assert failover.get("w0") is None  # back on Redis, the namespace bumped
    assert failover.breaker.state is State.CLOSED
    failover.set("w0", "fresh")
    assert failover.get("w0") == "fresh"


def test_a_refused_write_then_a_replayed_delete_is_not_health(
    failover: Any, raw: redis_py.Redis
) -> None:
    """The replay is a DEL, which OOM allows: it must not reset the count."""
    refuse_writes(raw, "OOM")
    failover.set("a", 1)
    failover.get("a")  # replays the DEL of "a", then reads
    assert failover.breaker.refusals == 1
    failover.set("b", 1)
    assert failover.breaker.refusals == 2


JUNK = [
    b"\x80\x09K\x01.",  # an unknown pickle protocol: ValueError
    b"\x80\x04h\x00.",  # a memo that is not there
    b"\x80\x04\x8c\x02\xff\xfe\x94.",  # not UTF-8: UnicodeDecodeError
    b"\x80\x04\x95\x05\x00\x00\x00\x00\x00\x00\x00",  # truncated
    b"(.",
    b"not a pickle",
]


@pytest.mark.parametrize("junk", JUNK)
def test_junk_in_redis_is_a_deleted_miss(
    failover: Any, raw: redis_py.Redis, junk: bytes
) -> None:
    raw.set("t:1:k", junk)
    raw.set("t:1:j", junk)
    assert failover.get("k", "default") == "default"
    assert not raw.exists("t:1:k")
    assert failover.get_many(["j", "absent"]) == {}
    assert not raw.exists("t:1:j")
    assert failover.breaker.state is State.CLOSED  # junk is not an outage


def test_a_junk_namespace_epoch_is_replaced(failover: Any, raw: redis_py.Redis) -> None:
    raw.set("t:caching:epoch", b"junk")
    failover.set("k", "v")
    assert failover.get("k") == "v"
    epoch = int(raw.get("t:caching:epoch") or 0)
    assert epoch > 0
    assert failover.health()["epoch"] == epoch
    assert raw.exists(f"t:e{epoch}:1:k")
