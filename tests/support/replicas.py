"""A primary and its replica, and the link between them cut and restored."""

from __future__ import annotations

import time

import redis as redis_py

from tests.support.services import RedisServer, free_port


class Topology:
    def __init__(self, primary: RedisServer, replica: RedisServer) -> None:
        self.primary = redis_py.Redis.from_url(primary.url)
        self.replica = redis_py.Redis.from_url(replica.url)
        self.replica_url = replica.url
        self.primary_port = primary.port

    def synced(self, timeout: float = 30.0) -> None:
        """Wait until the replica is linked (again: the primary may have been
        restarted) and has acknowledged every write made so far."""
        deadline = time.monotonic() + timeout
        while self.replica.info("replication").get("master_link_status") != "up":
            assert time.monotonic() < deadline, "the replica never linked up"
            time.sleep(0.05)
        assert self.primary.execute_command("WAIT", 1, 3_000) == 1

    def cut(self) -> None:
        """The replica loses its primary and keeps serving what it had."""
        self.replica.replicaof("127.0.0.1", free_port())

    def restore(self) -> None:
        self.replica.replicaof("127.0.0.1", self.primary_port)
        self.synced()
