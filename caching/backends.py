"""``FailoverCache``: django-redis first, an in-process LocMem when Redis fails.

Fallback rules (the README's "What the fallback promises"):

- A circuit breaker per process (``caching.breaker``), shared by its
  threads, decides where a call goes; while it is open no call touches the
  network. Every path that reaches Redis goes through ``_use_redis()``.
- Every write, delete or clear that could not reach Redis is remembered, and
  Redis learns it before this process reads it again (``caching.replay``).
- Errors are told apart in ``caching.errors``; the admin page, statistics and
  locks read the backend through ``caching.health.HealthReporting``.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Iterable
from typing import Any

from django.core.cache.backends.base import (
    DEFAULT_TIMEOUT,
    BaseCache,
    CacheKeyWarning,
    memcache_key_warnings,
)
from redis.backoff import NoBackoff
from redis.retry import Retry

from caching.breaker import CircuitBreaker, Decision
from caching.errors import DECODE_ERRORS, REDIS_ERRORS, refused
from caching.fallback import Fallback
from caching.health import Health
from caching.keys import EPOCH_KEY
from caching.near_redis import NearRedisCache
from caching.replay import Recovery, shared_state

# Cache calls that need memory: only their success proves writes work again
# (DEL and EXPIRE are allowed under OOM, and reads on a demoted primary).
_ALLOCATING = frozenset({"add", "set", "set_many", "incr"})
_MISSING = object()
DEFAULT_OPTIONS: dict[str, Any] = {
    "SERIALIZER": "caching.serializer.SafePickleSerializer",
    "SOCKET_CONNECT_TIMEOUT": 0.25,  # seconds
    "SOCKET_TIMEOUT": 0.25,  # seconds
}
INFO_FIGURES = (
    "redis_version",
    "used_memory_human",
    "maxmemory_policy",
    "evicted_keys",
    "keyspace_hits",
    "keyspace_misses",
    "connected_clients",
    "uptime_in_seconds",
)


def _no_retry() -> Retry:
    # Pinned: redis-py's own defaults have changed across releases (8.x builds
    # Redis(**kw) with 10 retries and backoff); the breaker is our retry policy.
    return Retry(NoBackoff(), 0)


@functools.lru_cache(maxsize=4096)
def _key_warnings(key: str) -> tuple[str, ...]:
    # Django checks every character in Python on every call; a site uses the
    # same keys over and over, so remember the verdict (the warning itself is
    # still raised on each call, as Django does).
    return tuple(memcache_key_warnings(key))


class FailoverCache(BaseCache):
    def __init__(self, server: str | list[str], params: dict[str, Any]) -> None:
        super().__init__(params)
        options = {**DEFAULT_OPTIONS, **params.get("OPTIONS", {})}
        pool_kwargs = dict(options.get("CONNECTION_POOL_KWARGS", {}))
        pool_kwargs.setdefault("retry", _no_retry())
        options["CONNECTION_POOL_KWARGS"] = pool_kwargs
        # django-redis plus the near cache (caching/near_redis.py).
        self._primary = NearRedisCache(server, {**params, "OPTIONS": options})
        self.name = f"{server!r}|{self.key_prefix}"
        self._shared = shared_state(self.name)
        self._fallback = Fallback(self.name, params, self)
        self._recovery = Recovery(
            self.name,
            self._primary,
            self._fallback,
            self._shared,
            f"{self.key_prefix}:{EPOCH_KEY}",
        )
        self._shared.recovery = self._recovery

    def validate_key(self, key: Any) -> None:
        for warning in _key_warnings(key):
            warnings.warn(warning, CacheKeyWarning, stacklevel=4)

    def _validate(self, key: Any, version: Any) -> None:
        # As Django's backends do: the key as stored (prefix, version and a
        # custom KEY_FUNCTION applied) is what must be portable.
        self.validate_key(self.make_key(key, version=version))

    # -- routing ---------------------------------------------------------

    @property
    def breaker(self) -> CircuitBreaker:
        return self._shared.breaker

    def redis(self) -> Any:
        """The raw redis-py client (primary), or None while Redis is not in use.

        Like every cache call it may be the one that probes and recovers:
        callers that reach Redis through it route exactly as cache calls do.
        """
        if not self._use_redis():
            return None
        return self._primary.client.get_client(write=True)

    def ping(self) -> None:
        """Raise one of ``REDIS_ERRORS`` if Redis does not answer."""
        self._primary.client.get_client(write=True).ping()

    def _route(
        self,
        op: str,
        args: tuple[Any, ...],
        written: Iterable[str] = (),
        version: int | None = None,
        fallback_args: tuple[Any, ...] | None = None,
        flush: bool = False,
    ) -> Any:
        shared = self._shared
        if self._use_redis():
            try:
                self._recovery.sync_epoch()
                result = getattr(self._primary, op)(*args)
            except REDIS_ERRORS as exc:
                self.breaker.failure(exc, refused=refused(exc))
            else:
                self.breaker.success(wrote=op in _ALLOCATING)
                return result
        shared.fallback_serves += 1
        shared.remember(written, version)
        if flush:  # Redis could not be cleared: bump the namespace on recovery
            shared.overflow = True
        return getattr(self._fallback, op)(*(fallback_args or args))

    def _use_redis(self) -> bool:
        """Whether this call goes to Redis, probing and recovering first if due.

        The one routing decision of every path (cache calls, ``redis()``): a
        probe handed out by the breaker is always reported, so the breaker
        never stays half-open.
        """
        decision = self.breaker.allow()
        if decision is Decision.FALLBACK:
            return False
        if decision is Decision.PROBE or self._shared.behind:
            # Redis is back (or was only briefly unreachable): it must learn
            # what it missed before this process reads it again.
            return self._recovery.recover(probing=decision is Decision.PROBE)
        return True

    # -- the cache API -----------------------------------------------------

    def add(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> bool:
        self._validate(key, version)
        args = (key, value, timeout, version)
        fallback_args = (key, value, self._fallback.timeout(timeout), version)
        added = self._route("add", args, [key], version, fallback_args)
        if not added and self.get(key, _MISSING, version) is _MISSING:
            # What held the key was junk (get() deleted it) or just expired:
            # an absent key, so the add goes ahead.
            added = self._route("add", args, [key], version, fallback_args)
        return bool(added)

    def get(self, key: Any, default: Any = None, version: Any = None) -> Any:
        self._validate(key, version)
        self._near_guard()
        try:
            return self._route("get", (key, default, version))
        except DECODE_ERRORS:
            self.delete(key, version=version)
            return default

    def set(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> None:
        self._validate(key, version)
        self._route(
            "set",
            (key, value, timeout, version),
            [key],
            version,
            (key, value, self._fallback.timeout(timeout), version),
        )

    def touch(
        self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> bool:
        self._validate(key, version)
        return bool(
            self._route(
                "touch",
                (key, timeout, version),
                [key],
                version,
                (key, self._fallback.timeout(timeout), version),
            )
        )

    def delete(self, key: Any, version: Any = None) -> bool:
        self._validate(key, version)
        return bool(self._route("delete", (key, version), [key], version))

    def get_many(self, keys: Any, version: Any = None) -> dict[Any, Any]:
        keys = list(keys)
        for key in keys:
            self._validate(key, version)
        self._near_guard()
        try:
            result: dict[Any, Any] = self._route("get_many", (keys, version))
        except DECODE_ERRORS:
            # One junk value: read the keys one by one, so only junk is dropped.
            found = {key: self.get(key, _MISSING, version) for key in keys}
            return {key: value for key, value in found.items() if value is not _MISSING}
        return result

    def has_key(self, key: Any, version: Any = None) -> bool:
        # Not EXISTS: junk under the key is absent, as for get().
        return self.get(key, _MISSING, version) is not _MISSING

    def incr(self, key: Any, delta: int = 1, version: Any = None) -> int:
        self._validate(key, version)
        try:
            result: int = self._route("incr", (key, delta, version), [key], version)
        except DECODE_ERRORS:
            self.delete(key, version=version)
            raise ValueError(f"Key {key!r} not found") from None  # junk is absent
        return result

    def decr(self, key: Any, delta: int = 1, version: Any = None) -> int:
        return self.incr(key, -delta, version=version)

    def set_many(
        self, data: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> list[Any]:
        data = dict(data)
        for key in data:
            self._validate(key, version)
        self._route(
            "set_many",
            (data, timeout, version),
            list(data),
            version,
            (data, self._fallback.timeout(timeout), version),
        )
        return []

    def delete_many(self, keys: Any, version: Any = None) -> None:
        keys = list(keys)
        for key in keys:
            self._validate(key, version)
        if keys:
            self._route("delete_many", (keys, version), keys, version)

    def clear(self) -> None:
        self._route("clear", (), flush=True)
        self._fallback.clear()

    def close(self, **kwargs: Any) -> None:
        self._primary.close(**kwargs)

    # -- near cache hooks (caching/near_redis.py) -------------------------

    def _near_guard(self) -> None:
        # Copies kept while Redis was trusted are dropped as soon as the
        # breaker is seen out of closed; every read passes here first.
        if not self.breaker.closed:
            self._primary.near_drop()

    def near_stats(self) -> dict[str, int | bool]:
        return self._primary.near_stats()

    def near_sync(self, timeout: float = 5.0) -> bool:
        return self._primary.near_sync(timeout)

    # -- health (caching.health.HealthReporting) ---------------------------

    @property
    def on_fallback(self) -> bool:
        return not self.breaker.closed

    def health(self) -> Health:
        shared, breaker = self._shared, self.breaker
        return {
            "backend": f"{type(self).__module__}.{type(self).__qualname__}",
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
        client = self.redis()
        if client is None:
            return None
        try:
            info: dict[str, Any] = client.info()
        except REDIS_ERRORS as exc:
            self.breaker.failure(exc)
            return None
        return {key: info.get(key) for key in INFO_FIGURES}
