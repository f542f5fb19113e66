"""A private Redis Cluster of three masters (no replicas) on free loopback ports."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable

import redis

from tests.support.services import RedisServer, free_port, missing

# Milliseconds before the other masters call a silent one failed: with no
# replicas, the cluster then refuses every command until it is back.
NODE_TIMEOUT_MS = 1000


def redis_cli() -> str:
    return shutil.which("redis-cli") or missing("redis-cli is not installed")


class RedisCluster:
    def __init__(self, binary: str, size: int = 3) -> None:
        self.cli = redis_cli()
        self.nodes: list[RedisServer] = []
        self.created = False
        for _ in range(size):
            node = RedisServer(binary)
            node.extra_args = (
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                str(node.dir / "nodes.conf"),
                "--cluster-node-timeout",
                str(NODE_TIMEOUT_MS),
                # The bus port defaults to port + 10000, past 65535 for some
                # free ports: pick a free one too.
                "--cluster-port",
                str(free_port()),
            )
            self.nodes.append(node)

    @property
    def location(self) -> str:
        """``LOCATION`` of a cache on this cluster: every node as a seed."""
        return ",".join(f"redis://127.0.0.1:{n.port}" for n in self.nodes)

    @property
    def url(self) -> str:
        """The demo's ``REDIS_URL`` for this cluster."""
        return "redis-cluster://" + ",".join(f"127.0.0.1:{n.port}" for n in self.nodes)

    def start(self) -> None:
        """Create the cluster; later, start any stopped master and wait until
        the cluster is whole again."""
        for node in self.nodes:
            node.start()
        if self.created:
            self.wait_ok()
            return
        self.created = True
        subprocess.run(
            [
                self.cli,
                "--cluster",
                "create",
                *(f"127.0.0.1:{n.port}" for n in self.nodes),
                "--cluster-replicas",
                "0",
                "--cluster-yes",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.wait_ok()

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()

    def _state(self, node: RedisServer) -> str:
        client = redis.Redis(port=node.port, socket_timeout=1)
        try:
            info = client.execute_command("CLUSTER", "INFO")
        except redis.RedisError:
            return "unreachable"
        finally:
            client.close()
        text = info.decode() if isinstance(info, bytes) else str(info)
        for line in text.splitlines():
            if line.startswith("cluster_state:"):
                return line.split(":", 1)[1].strip()
        return "unknown"

    def wait(self, done: Callable[[], bool], what: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            if time.monotonic() > deadline:
                raise TimeoutError(f"cluster: {what} after {timeout}s")
            time.sleep(0.05)

    def wait_ok(self) -> None:
        """Every running node sees every slot served (``cluster_state:ok``)."""
        self.wait(
            lambda: all(self._state(n) == "ok" for n in self.nodes if n.running),
            "cluster_state is not ok",
        )

    def wait_down(self) -> None:
        """The running nodes have called the stopped one failed."""
        self.wait(
            lambda: all(self._state(n) == "fail" for n in self.nodes if n.running),
            "cluster_state is not fail",
        )

    def flushall(self) -> None:
        for node in self.nodes:
            node.flushall()

    def slot(self, key: str) -> int:
        client = redis.Redis(port=next(n for n in self.nodes if n.running).port)
        try:
            return int(client.execute_command("CLUSTER", "KEYSLOT", key))
        finally:
            client.close()

    def owner(self, key: str) -> RedisServer:
        """The master that holds ``key``'s slot."""
        slot = self.slot(key)
        client = redis.Redis(port=next(n for n in self.nodes if n.running).port)
        try:
            for start, end, primary, *_ in client.execute_command("CLUSTER", "SLOTS"):
                if start <= slot <= end:
                    port = int(primary[1])
                    return next(n for n in self.nodes if n.port == port)
        finally:
            client.close()
        raise LookupError(f"no master holds the slot of {key!r}")
