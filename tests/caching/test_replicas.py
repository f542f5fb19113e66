"""A primary with a replica whose link is cut: a bump is never hidden by the replica.

The replica keeps answering reads with what it had when its link went down
(``REPLICAOF`` a dead port: still read-only, still serving its old data), as
a replica behind a broken network does. Group versions are read from the
primary, so an entry stored before a bump is a miss at once, whatever the
replica holds; entries may still be read from the replica.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from caching.decorators import cache_result
from caching.http import cache_response, policy_of
from caching.invalidation import invalidate_group
from caching.middleware import handle
from caching.versions import group_versions
from tests.support.replicas import Topology
from tests.support.services import RedisServer, command_calls

pytestmark = [pytest.mark.redis, pytest.mark.slow]


@pytest.fixture
def topology(redis: RedisServer, replicated: RedisServer) -> Topology:
    return Topology(redis, replicated)


def test_a_bump_is_seen_though_the_replica_lags(topology: Topology) -> None:
    calls: list[int] = []

    @cache_result(300, key_prefix="t-replica-fn", groups=["t-replica"])
    def compute() -> int:
        calls.append(1)
        return len(calls)

    assert compute() == 1
    topology.synced()
    replica_reads = command_calls(topology.replica_url, "get", "mget")
    assert compute() == 1  # a hit, read (in part) from the replica
    assert command_calls(topology.replica_url, "get", "mget") > replica_reads
    topology.cut()
    invalidate_group("t-replica")
    # The replica still holds the old entry and the old versions: never served.
    # What is stored now goes to the primary only, so each call recomputes.
    assert [compute() for _ in range(3)] == [2, 3, 4]
    topology.restore()
    # Caught up: the last value stored is a hit again, from the replica.
    assert compute() == compute() == 4


def test_the_old_etag_gets_no_304_after_a_bump(topology: Topology) -> None:
    rendered: list[int] = []

    @cache_response(300, groups=["t-replica-page"])
    def view(request: HttpRequest) -> HttpResponse:
        rendered.append(1)
        return HttpResponse(f"render {len(rendered)}")

    def get(**headers: Any) -> HttpResponse:
        request = RequestFactory().get("/replica-page", **headers)
        request.user = AnonymousUser()
        response: HttpResponse = handle(request, policy_of(view), view)
        return response

    first = get()
    topology.synced()
    assert get().content == first.content == b"render 1"
    topology.cut()
    invalidate_group("t-replica-page")
    conditional = get(HTTP_IF_NONE_MATCH=first["ETag"])
    assert conditional.status_code == 200
    assert conditional.content == b"render 2"
    assert conditional["ETag"] != first["ETag"]
    assert get()["ETag"] == conditional["ETag"]


def test_seeding_reads_the_primary(topology: Topology) -> None:
    """A group another process seeded a moment ago is read where it was written."""
    topology.cut()  # the replica will never hear of the seed
    seeded = group_versions(["t-replica-seed"])
    assert group_versions(["t-replica-seed"]) == seeded
