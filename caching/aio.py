"""The native async door to Redis of a ``FailoverCache``: ``redis.asyncio``.

One state, two doors: the breaker, the fallback, the statistics and the
replay are the sync path's (``caching.routing``); this module only sends the
reads an event loop makes without a thread. A redis-py asyncio pool belongs
to the loop that made it, so there is one client per event loop, built from
the sync pool's connection settings (host, port, database, credentials,
timeouts; no retries: the breaker is the retry policy), dropped with its loop.

Only what the sync path would send straight to Redis goes through here: the
breaker closed, nothing to replay, the namespace epoch read lately
(``Router.settled``). Anything else (a probe, a recovery, the epoch to read,
Sentinel or Cluster, whose async clients would need their own discovery) is
the caller's cue to take the sync path in a thread.
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

# The sync pool's settings an asyncio connection takes as they are.
_KEPT = (
    "host",
    "port",
    "db",
    "username",
    "password",
    "socket_timeout",
    "socket_connect_timeout",
    "client_name",
)


class AsyncDoor:
    def __init__(self, sync_pool: Any) -> None:
        settings = dict(getattr(sync_pool, "connection_kwargs", {}))
        self.kwargs: dict[str, Any] | None = None
        if "host" in settings and type(sync_pool).__name__ == "ConnectionPool":
            self.kwargs = {k: settings[k] for k in _KEPT if k in settings}
        elif "path" in settings:  # a Unix socket
            self.kwargs = {
                "connection_class": aioredis.UnixDomainSocketConnection,
                **{k: settings[k] for k in ("path", *_KEPT) if k in settings},
            }
        self._clients: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, aioredis.Redis
        ] = weakref.WeakKeyDictionary()

    @property
    def usable(self) -> bool:
        """False for Sentinel and Cluster pools: the sync path serves those."""
        return self.kwargs is not None

    def client(self) -> aioredis.Redis:
        """This event loop's client (its own pool)."""
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            assert self.kwargs is not None
            pool = aioredis.ConnectionPool(retry=Retry(NoBackoff(), 0), **self.kwargs)
            client = self._clients[loop] = aioredis.Redis(connection_pool=pool)
        return client

    async def fetch(self, names: list[str]) -> tuple[list[Any], list[int]]:
        """The raw values of ``names`` and their PTTLs, in one round trip."""
        async with self.client().pipeline(transaction=False) as pipe:
            pipe.mget(names)
            for name in names:
                pipe.pttl(name)
            values, *ttls = await pipe.execute()
        return values, ttls
