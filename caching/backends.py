"""``FailoverCache``: django-redis first, an in-process LocMem when Redis fails.

This module is Django's cache API and nothing else: each method validates its
keys, says which keys it writes, and hands the call to ``caching.routing``
(Redis or the fallback, the breaker, replay). Junk in Redis is a miss: a
value that cannot be decoded is deleted and reported absent. The fallback
rules are docs/caching.md's "What the fallback does and does not promise"; errors are told apart in
``caching.errors``; the admin page, statistics and locks read the backend
through ``caching.health.HealthReporting``.
"""

from __future__ import annotations

import functools
import warnings
from typing import Any

from asgiref.sync import sync_to_async
from django.core.cache.backends.base import (
    DEFAULT_TIMEOUT,
    BaseCache,
    CacheKeyWarning,
    memcache_key_warnings,
)

from caching.breaker import CircuitBreaker
from caching.errors import DECODE_ERRORS, REDIS_ERRORS, refused
from caching.health import Health
from caching.routing import Router

_MISSING = object()
# redis.asyncio raises redis-py's errors, and the loop's own for a socket.
ASYNC_REDIS_ERRORS: tuple[type[BaseException], ...] = (*REDIS_ERRORS, OSError)


@functools.lru_cache(maxsize=4096)
def _key_warnings(key: str) -> tuple[str, ...]:
    # Django checks every character in Python on every call; a site uses the
    # same keys over and over, so remember the verdict (the warning itself is
    # still raised on each call, as Django does).
    return tuple(memcache_key_warnings(key))


class FailoverCache(BaseCache):
    def __init__(self, server: str | list[str], params: dict[str, Any]) -> None:
        super().__init__(params)
        self._router = Router(server, params, self)
        self._route = self._router.route
        self._primary = self._router.primary  # the Redis side (django-redis)
        self._fallback = self._router.fallback
        self.name = self._router.name

    def validate_key(self, key: Any) -> None:
        for warning in _key_warnings(key):
            warnings.warn(warning, CacheKeyWarning, stacklevel=4)

    def _validate(self, key: Any, version: Any) -> None:
        # As Django's backends do: the key as stored (prefix, version and a
        # custom KEY_FUNCTION applied) is what must be portable.
        self.validate_key(self.make_key(key, version=version))

    # -- routing (caching.routing) ----------------------------------------

    @property
    def breaker(self) -> CircuitBreaker:
        return self._router.breaker

    def redis(self) -> Any:
        """The raw redis-py client (primary), or None while Redis is not in use.

        Like every cache call it may be the one that probes and recovers:
        callers that reach Redis through it route exactly as cache calls do.
        """
        return self._router.client()

    def ping(self) -> None:
        """Raise one of ``REDIS_ERRORS`` if Redis does not answer."""
        self._primary.client.get_client(write=True).ping()

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
        self._router.near_guard()
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
        return self._read(list(keys), [], version)

    def read_current(self, keys: Any, current: Any) -> dict[Any, Any]:
        """``get_many`` of ``keys`` and ``current`` (group version keys), the
        latter read from the primary, never from a replica that may lag."""
        return self._read(list(keys), list(current), None)

    def peek_current(self, keys: Any, current: Any) -> dict[Any, Any] | None:
        """``read_current`` from the near cache alone, or None when that would
        need Redis (a key not kept, the breaker not closed, the epoch due)."""
        if not self._router.settled():
            return None
        keys = [*keys, *current]
        for key in keys:
            self._validate(key, None)
        try:
            found: dict[Any, Any] | None = self._primary.peek_many(keys)
        except DECODE_ERRORS:  # read_current deletes the junk
            return None
        return found

    async def aread_current(self, keys: Any, current: Any) -> dict[Any, Any]:
        """``read_current`` on the loop (``redis.asyncio``, no thread) when the
        sync path would go straight to Redis; else the sync path, in a thread."""
        router, keys, current = self._router, list(keys), list(current)
        door = router.door()
        if door is None or not router.settled():
            return await sync_to_async(self.read_current)(keys, current)
        for key in (*keys, *current):
            self._validate(key, None)
        try:
            found: dict[Any, Any] = await self._primary.aget_many_from(
                door, [*keys, *current]
            )
        except ASYNC_REDIS_ERRORS as exc:
            self.breaker.failure(exc, refused=refused(exc))
            # The breaker decides again: the fallback, or Redis once more.
            return await sync_to_async(self.read_current)(keys, current)
        self.breaker.success(wrote=False)
        return found

    def _read(
        self, keys: list[Any], current: list[Any], version: Any
    ) -> dict[Any, Any]:
        for key in (*keys, *current):
            self._validate(key, version)
        self._router.near_guard()
        try:
            result: dict[Any, Any] = self._route("read", (keys, current, version))
        except DECODE_ERRORS:
            # One junk value: read the keys one by one, so only junk is dropped.
            result = {}
            one_by_one = [([k], []) for k in keys] + [([], [k]) for k in current]
            for args in one_by_one:
                try:
                    result.update(self._route("read", (*args, version)))
                except DECODE_ERRORS:
                    self.delete((args[0] or args[1])[0], version=version)
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

    def near_stats(self) -> dict[str, int | bool]:
        return self._primary.near_stats()

    def near_sync(self, timeout: float = 5.0) -> bool:
        return self._primary.near_sync(timeout)

    # -- health (caching.health.HealthReporting) ---------------------------

    @property
    def on_fallback(self) -> bool:
        return not self.breaker.closed

    def health(self) -> Health:
        return self._router.health(f"{type(self).__module__}.{type(self).__qualname__}")

    def redis_info(self) -> dict[str, Any] | None:
        return self._router.redis_info()
