"""django-redis on a Redis Cluster: ``OPTIONS = {"CLUSTER": True}``.

``LOCATION`` lists seed nodes (``redis://host:port``, comma-separated or a
list); redis-py's ``RedisCluster`` learns the slot map from any of them and
follows the cluster as slots move. Every key is sent to the master that holds
its slot:

- ``get_many`` (the hit path's one read of an entry and its group versions)
  is one ``MGET`` per slot, written to every node involved before any reply
  is read: one round trip per node, in parallel, not one per key;
- ``set_many``, ``delete_many`` and the caching app's own pipelines
  (statistics, the lock) go out as one cluster pipeline, which redis-py
  splits by node;
- ``PING`` asks every master, so the breaker's probe only closes it when the
  whole cluster answers;
- a Lua script runs on the node of its keys: the lock's release touches the
  lock and its "done" key, which ``caching.keys`` puts in one slot.

One ``RedisCluster`` per process and location, shared by threads (it pools
connections per node); caches created in a forked child build their own, and
redis-py's pools reopen their connections in a child that inherited one. The near cache is off
on a cluster (``caching.near_redis``): invalidations would have to be tracked
on every node.
"""

from __future__ import annotations

import contextlib
import os
import threading
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured
from django_redis.client import DefaultClient
from django_redis.exceptions import ConnectionInterrupted
from redis.cluster import ClusterNode, RedisCluster
from redis.exceptions import (
    AskError,
    ConnectionError,
    RedisClusterException,
    RedisError,
    TimeoutError,
    TryAgainError,
)

# Seed URL schemes a cluster accepts (no unix sockets, no database but 0).
SCHEMES = frozenset({"redis", "rediss"})

_clusters: dict[tuple[Any, ...], Cluster] = {}
_clusters_lock = threading.Lock()


def _forget_clusters() -> None:
    global _clusters_lock
    _clusters.clear()  # the parent's sockets are the parent's
    _clusters_lock = threading.Lock()  # another thread may have held it at the fork


os.register_at_fork(after_in_child=_forget_clusters)


def is_cluster(params: dict[str, Any]) -> bool:
    return bool(params.get("OPTIONS", {}).get("CLUSTER", False))


def seeds(location: str | list[str] | tuple[str, ...]) -> list[ClusterNode]:
    """The seed nodes of ``LOCATION``; ``ValueError`` says what is wrong."""
    parts = location.split(",") if isinstance(location, str) else list(location)
    nodes = []
    for part in filter(None, (p.strip() for p in parts)):
        url = urlsplit(part)
        if url.scheme not in SCHEMES or not url.hostname or url.port is None:
            raise ValueError(
                f"cluster seed {part!r} must look like redis://host:port "
                "(or rediss://host:port)"
            )
        if url.path.strip("/") not in {"", "0"}:
            raise ValueError(f"cluster seed {part!r}: a cluster only has database 0")
        nodes.append(ClusterNode(url.hostname, url.port))  # type: ignore[no-untyped-call]
    if not nodes:
        raise ValueError("a cluster LOCATION needs at least one redis://host:port")
    return nodes


class Cluster(RedisCluster):
    def ping(self, **kwargs: Any) -> Any:
        # redis-py pings one node; a probe must hear from every master.
        kwargs.setdefault("target_nodes", self.PRIMARIES)
        return super().ping(**kwargs)

    def mget_by_node(self, keys: list[str]) -> list[Any]:
        """``MGET`` per slot, written to every node before any reply is read.

        The values of ``keys``, in order, as ``mget_nonatomic``, which this
        falls back to (redirects, a node not connected yet): redis-py's cluster
        pipeline costs a few hundred microseconds of Python per call, most of
        a hit.
        """
        by_node: dict[str, tuple[Any, list[list[int]]]] = {}
        slots: dict[int, list[int]] = {}
        for index, key in enumerate(keys):
            slot = self.keyslot(key)  # type: ignore[no-untyped-call]
            slots.setdefault(slot, []).append(index)
        for slot, indexes in slots.items():
            node = self.nodes_manager.get_node_from_slot(slot)
            if node.redis_connection is None:  # pragma: no cover - redis-py
                # connects every node it learns of; if not, it knows how to.
                return list(self.mget_nonatomic(keys))
            by_node.setdefault(node.name, (node, []))[1].append(indexes)
        values: list[Any] = [None] * len(keys)
        sent: list[tuple[Any, Any, list[list[int]]]] = []
        done = 0  # connections whose every reply was read
        try:
            for node, groups in by_node.values():
                pool = node.redis_connection.connection_pool
                connection = pool.get_connection()
                sent.append((pool, connection, groups))
                connection.send_packed_command(
                    connection.pack_commands(
                        [("MGET", *(keys[i] for i in group)) for group in groups]
                    )
                )
            for _, connection, groups in sent:
                for group in groups:
                    for index, value in zip(
                        group, connection.read_response(), strict=True
                    ):
                        values[index] = value
                done += 1
        except BaseException as exc:
            self._drop(sent[done:])
            if isinstance(exc, AskError | TryAgainError):
                # Slots are moving: let redis-py follow the redirects.
                self.nodes_manager.initialize()
                return list(self.mget_nonatomic(keys))
            if isinstance(exc, ConnectionError | TimeoutError):
                # A master may have been replaced: read the slot map again,
                # as redis-py does after a connection error, then report it.
                with contextlib.suppress(RedisError, RedisClusterException):
                    self.nodes_manager.initialize()
            raise
        finally:
            for pool, connection, _ in sent:
                pool.release(connection)
        return values

    @staticmethod
    def _drop(unread: list[tuple[Any, Any, list[list[int]]]]) -> None:
        # Replies still on the wire would be read by the next caller.
        for _, connection, _ in unread:
            connection.disconnect()


def _connection_kwargs(server: list[str], options: dict[str, Any]) -> dict[str, Any]:
    first = urlsplit(server[0])
    kwargs: dict[str, Any] = dict(options.get("CONNECTION_POOL_KWARGS", {}))
    for option, name in (
        ("SOCKET_TIMEOUT", "socket_timeout"),
        ("SOCKET_CONNECT_TIMEOUT", "socket_connect_timeout"),
        ("PASSWORD", "password"),
        ("USERNAME", "username"),
    ):
        if option in options:
            kwargs.setdefault(name, options[option])
    if first.password is not None:
        kwargs.setdefault("password", first.password)
    if first.username:
        kwargs.setdefault("username", first.username)
    if first.scheme == "rediss":
        kwargs.setdefault("ssl", True)
    return kwargs


class ClusterClient(DefaultClient):  # type: ignore[misc]  # django-redis is untyped
    """django-redis's client with one ``RedisCluster`` in place of its pools."""

    def __init__(self, server: Any, params: dict[str, Any], backend: Any) -> None:
        super().__init__(server, params, backend)
        try:
            self._seeds = seeds(self._server)
        except ValueError as exc:
            raise ImproperlyConfigured(f"CLUSTER cache LOCATION: {exc}.") from None
        self._clients = [None]  # one client, whatever the number of seeds

    def get_next_client_index(
        self, write: bool = True, tried: list[int] | None = None
    ) -> int:
        return 0  # the cluster client routes each key itself

    def connect(self, index: int = 0) -> Cluster:
        kwargs = _connection_kwargs(list(self._server), self._options)
        # The cluster-level retry policy (redis-py refuses one per node).
        retry = kwargs.pop("retry", None)
        name = (
            tuple((n.host, n.port) for n in self._seeds),
            tuple(sorted((k, repr(v)) for k, v in kwargs.items())),
        )
        with _clusters_lock:
            cluster = _clusters.get(name)
            if cluster is None:
                cluster = _clusters[name] = Cluster(
                    startup_nodes=self._seeds, retry=retry, **kwargs
                )
        return cluster

    def disconnect(self, index: int = 0, client: Any = None) -> None:
        pass  # shared by the process's caches: closed with the process

    def get_many(
        self, keys: Any, version: int | None = None, client: Any = None
    ) -> dict[Any, Any]:
        if client is None:
            client = self.get_client(write=False)
        if not keys:
            return {}
        names = {self.make_key(k, version=version): k for k in keys}
        try:
            values = client.mget_by_node(list(names))
        except RedisError as exc:
            raise ConnectionInterrupted(connection=client) from exc
        return {
            names[name]: self.decode(value)
            for name, value in zip(names, values, strict=True)
            if value is not None
        }
