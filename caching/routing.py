"""Where each call of a ``FailoverCache`` goes: Redis, or the fallback.

A circuit breaker per process (``caching.breaker``), shared by its threads,
decides; while it is open no call touches the network. Every path that
reaches Redis goes through ``Router.use_redis()``: cache calls, and the raw
client that statistics, locks and the admin page use. A write, delete or
clear that could not reach Redis is remembered, and Redis learns it before
this process reads it again (``caching.replay``).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from redis.backoff import NoBackoff
from redis.retry import Retry

from caching.aio import AsyncDoor
from caching.breaker import CircuitBreaker, Decision
from caching.errors import REDIS_ERRORS, refused
from caching.fallback import Fallback
from caching.health import INFO_FIGURES, Health
from caching.keys import EPOCH_KEY
from caching.near_redis import NearRedisCache
from caching.replay import EPOCH_REFRESH, Recovery, shared_state

# Cache calls that need memory: only their success proves writes work again
# (DEL and EXPIRE are allowed under OOM, and reads on a demoted primary).
_ALLOCATING = frozenset({"add", "set", "set_many", "incr"})
DEFAULT_OPTIONS: dict[str, Any] = {
    "SERIALIZER": "caching.serializer.SafePickleSerializer",
    "SOCKET_CONNECT_TIMEOUT": 0.25,  # seconds
    "SOCKET_TIMEOUT": 0.25,  # seconds
}


def _no_retry() -> Retry:
    # Pinned: redis-py's own defaults have changed across releases (8.x builds
    # Redis(**kw) with 10 retries and backoff); the breaker is our retry policy.
    return Retry(NoBackoff(), 0)


class Router:
    """The Redis side (django-redis plus the near cache), the fallback, and
    the per-process state that chooses between them."""

    def __init__(
        self, server: str | list[str], params: dict[str, Any], owner: Any
    ) -> None:
        options = {**DEFAULT_OPTIONS, **params.get("OPTIONS", {})}
        pool_kwargs = dict(options.get("CONNECTION_POOL_KWARGS", {}))
        pool_kwargs.setdefault("retry", _no_retry())
        options["CONNECTION_POOL_KWARGS"] = pool_kwargs
        if options.get("CLUSTER"):
            options.setdefault("CLIENT_CLASS", "caching.cluster.ClusterClient")
        # django-redis plus the near cache (caching/near_redis.py).
        self.primary = NearRedisCache(server, {**params, "OPTIONS": options})
        self.name = f"{server!r}|{owner.key_prefix}"
        self.shared = shared_state(self.name)
        self.fallback = Fallback(self.name, params, owner)
        self.recovery = Recovery(
            self.name,
            self.primary,
            self.fallback,
            self.shared,
            f"{owner.key_prefix}:{EPOCH_KEY}",
        )
        self.shared.recovery = self.recovery
        self._door: AsyncDoor | None = None

    @property
    def breaker(self) -> CircuitBreaker:
        return self.shared.breaker

    def door(self) -> AsyncDoor | None:
        """The native async door to the primary (``caching.aio``), or None on
        Sentinel and Cluster, which the sync path serves."""
        if self._door is None:
            pool = getattr(
                self.primary.client.get_client(write=True), "connection_pool", None
            )
            self._door = AsyncDoor(pool)
        return self._door if self._door.usable else None

    def use_redis(self) -> bool:
        """Whether this call goes to Redis, probing and recovering first if due.

        The one routing decision of every path: a probe handed out by the
        breaker is always reported, so the breaker never stays half-open.
        """
        decision = self.breaker.allow()
        if decision is Decision.FALLBACK:
            return False
        if decision is Decision.PROBE or self.shared.behind:
            # Redis is back (or was only briefly unreachable): it must learn
            # what it missed before this process reads it again.
            return self.recovery.recover(probing=decision is Decision.PROBE)
        return True

    def settled(self) -> bool:
        """Whether a read may skip ``use_redis`` (the near cache alone answers):
        the breaker is closed, nothing is to replay, the epoch was read lately."""
        shared = self.shared
        return (
            self.breaker.closed
            and not shared.behind
            and time.monotonic() - shared.epoch_read_at < EPOCH_REFRESH
        )

    def route(
        self,
        op: str,
        args: tuple[Any, ...],
        written: Iterable[str] = (),
        version: int | None = None,
        fallback_args: tuple[Any, ...] | None = None,
        flush: bool = False,
    ) -> Any:
        """Run cache method ``op`` on Redis, or on the fallback (remembering
        the keys ``written``; ``flush``: a clear Redis did not get)."""
        shared = self.shared
        if self.use_redis():
            try:
                self.recovery.sync_epoch()
                result = getattr(self.primary, op)(*args)
            except REDIS_ERRORS as exc:
                self.breaker.failure(exc, refused=refused(exc))
            else:
                self.breaker.success(wrote=op in _ALLOCATING)
                return result
        shared.fallback_serves += 1
        shared.remember(written, version)
        if flush:  # Redis could not be cleared: bump the namespace on recovery
            shared.overflow = True
        return getattr(self.fallback, op)(*(fallback_args or args))

    def client(self) -> Any | None:
        """The primary's redis-py client, or None while Redis is not in use."""
        if not self.use_redis():
            return None
        return self.primary.client.get_client(write=True)

    def near_guard(self) -> None:
        # Copies kept while Redis was trusted are dropped as soon as the
        # breaker is seen out of closed; every read passes here first.
        if not self.breaker.closed:
            self.primary.near_drop()

    def health(self, backend: str) -> Health:
        shared, breaker = self.shared, self.breaker
        return {
            "backend": backend,
            "state": breaker.state,
            "failures": breaker.failures,
            "refusals": breaker.refusals,
            "cooldown": breaker.cooldown,
            "history": list(breaker.history),
            "fallback_serves": shared.fallback_serves,
            "missed": len(shared.missed),
            "overflow": shared.overflow,
            "epoch": shared.epoch,
        }

    def redis_info(self) -> dict[str, Any] | None:
        client = self.client()
        if client is None:
            return None
        try:
            info: dict[str, Any] = client.info()
        except REDIS_ERRORS as exc:
            self.breaker.failure(exc)
            return None
        return {key: info.get(key) for key in INFO_FIGURES}
