"""A Redis primary, a replica and a Sentinel on free ports, for failover tests."""

from __future__ import annotations

import time
from pathlib import Path

import redis

from tests.support.services import RedisServer, free_port

SERVICE = "perfsite"


class SentinelCluster:
    def __init__(self, binary: str) -> None:
        self.primary = RedisServer(binary)
        self.replica = RedisServer(
            binary, None, "--replicaof", "127.0.0.1", str(self.primary.port)
        )
        self.sentinel_port = free_port()
        conf = Path(self.primary.dir) / "sentinel.conf"
        conf.write_text(
            f"sentinel monitor {SERVICE} 127.0.0.1 {self.primary.port} 1\n"
            # Fast failover for tests: 1 s to decide the primary is down.
            f"sentinel down-after-milliseconds {SERVICE} 1000\n"
            f"sentinel failover-timeout {SERVICE} 10000\n"
            f"sentinel parallel-syncs {SERVICE} 1\n"
        )
        self.sentinel = RedisServer(
            binary, self.sentinel_port, "--sentinel", config_file=str(conf)
        )

    @property
    def url(self) -> str:
        """The ``REDIS_URL`` of this cluster."""
        return f"sentinel://127.0.0.1:{self.sentinel_port}/{SERVICE}/0"

    def start(self) -> None:
        self.primary.start()
        self.replica.start()
        self.sentinel.start()
        self.wait(lambda: self._replica_in_sync(), "replica in sync")
        self.wait(
            lambda: self.current_primary_port() == self.primary.port, "sentinel ready"
        )

    def stop(self) -> None:
        for server in (self.sentinel, self.replica, self.primary):
            server.stop()

    def current_primary_port(self) -> int | None:
        client = redis.Redis(port=self.sentinel_port, socket_timeout=1)
        try:
            address = client.execute_command(
                "SENTINEL", "get-master-addr-by-name", SERVICE
            )
        except redis.RedisError:
            return None
        finally:
            client.close()
        return int(address[1]) if address else None

    def _replica_in_sync(self) -> bool:
        client = redis.Redis(port=self.replica.port, socket_timeout=1)
        try:
            info = client.info("replication")
        finally:
            client.close()
        return bool(info.get("master_link_status") == "up")

    @staticmethod
    def wait(condition: object, what: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():  # type: ignore[operator]
            if time.monotonic() > deadline:
                raise TimeoutError(f"timed out waiting for {what}")
            time.sleep(0.1)
