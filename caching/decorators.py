"""``cache_result``: memoize a function in a Django cache, safely.

One call on a hit: a single ``get_many`` reads the entry and its group
versions. On a miss, one caller per key (across processes) takes a lock and
computes; the others poll for the result for at most ``CACHING_LOCK_WAIT``
seconds and then compute themselves, so nobody hangs.
"""

from __future__ import annotations

import functools
import inspect
import math
import random
import secrets
import time
from collections.abc import Callable, Iterable
from typing import Any, Generic, ParamSpec, TypeVar

from asgiref.sync import markcoroutinefunction, sync_to_async
from django.core.cache import caches

from caching import keys, stats
from caching.backends import REDIS_ERRORS
from caching.conf import conf
from caching.invalidation import (
    ModelRef,
    dirty_groups,
    invalidate_groups,
    model_group,
    read_with_versions,
    watch,
)

P = ParamSpec("P")
R = TypeVar("R")

HIT, STALE, MISS = "hit", "stale", "miss"
POLL = 0.02  # seconds between two looks at a key another caller is computing
registry: dict[str, CachedFunction[Any, Any]] = {}
# Injected by tests: ``clock`` times lock waits, ``wall`` dates entries (shared
# across processes, so wall-clock time).
clock: Callable[[], float] = time.monotonic
wall: Callable[[], float] = time.time


class CachedFunction(Generic[P, R]):
    """The object ``cache_result`` returns: call it like the function."""

    def __init__(
        self,
        fn: Callable[P, R],
        timeout: float,
        key_prefix: str | None,
        depends_on: Iterable[ModelRef],
        groups: Iterable[str],
        cache: str,
        version: int,
        cache_if: Callable[[Any], bool] | None,
        stale_timeout: float,
        lock: bool,
    ) -> None:
        if timeout <= 0 or stale_timeout < 0:
            raise ValueError("cache_result needs timeout > 0 and stale_timeout >= 0.")
        functools.update_wrapper(self, fn)
        self.fn = fn
        self.name = f"{fn.__module__}.{fn.__qualname__}"
        self.prefix = f"cr:{key_prefix or self.name}:v{version}"
        self.timeout, self.stale_timeout = timeout, stale_timeout
        self.cache, self.cache_if, self.lock = cache, cache_if, lock
        depends_on = list(depends_on)
        self.function_group = f"fn:{self.prefix[3:]}"
        self.groups = [self.function_group, *groups, *map(model_group, depends_on)]
        self._binder = keys.Binder(inspect.signature(fn))
        self.is_async = inspect.iscoroutinefunction(fn)
        if self.is_async:
            markcoroutinefunction(self)
        watch(depends_on)
        registry[self.name] = self

    def __repr__(self) -> str:
        return f"<cached {self.name}>"

    # -- keys and controls -----------------------------------------------

    def cache_key(self, *args: Any, **kwargs: Any) -> str:
        canonical = self._binder.canonical(args, kwargs)
        return f"{self.prefix}:{keys.digest(canonical)}"

    def invalidate(self, *args: Any, **kwargs: Any) -> None:
        """Forget the entry of this exact call (same canonical key as a call)."""
        caches[self.cache].delete(self.cache_key(*args, **kwargs))

    def invalidate_all(self) -> None:
        """Forget every entry of this function: one version bump, no key scan."""
        invalidate_groups([self.function_group], cache=self.cache)

    def bypass(self, *args: P.args, **kwargs: P.kwargs) -> R:
        """Call the function without reading or writing the cache."""
        return self.fn(*args, **kwargs)

    def refresh(self, *args: P.args, **kwargs: P.kwargs) -> R:
        """Recompute now and store the result."""
        key = self.cache_key(*args, **kwargs)
        if self.is_async:
            return self._arefresh(key, args, kwargs)  # type: ignore[return-value]
        backend = caches[self.cache]
        _, _, vector = self._lookup(backend, key)
        return self._fill(backend, key, vector, None, args, kwargs)

    async def _arefresh(self, key: str, args: Any, kwargs: Any) -> Any:
        backend = caches[self.cache]
        _, _, vector = await sync_to_async(self._lookup)(backend, key)
        return await self._afill(backend, key, vector, None, args, kwargs)

    # -- the steps both drivers share --------------------------------------

    def _lookup(self, backend: Any, key: str) -> tuple[str, Any, tuple[int, ...]]:
        entry, vector = read_with_versions(backend, key, self.groups)
        if not isinstance(entry, tuple) or len(entry) != 3 or entry[0] != vector:
            return MISS, None, vector
        if wall() < entry[1]:
            return HIT, entry[2], vector
        return STALE, entry[2], vector

    def _acquire(self, backend: Any, key: str) -> str | None:
        token = secrets.token_hex(8)
        ok = backend.add(f"{key}:lock", token, math.ceil(conf.LOCK_TIMEOUT))
        return token if ok else None

    def _claim(
        self, backend: Any, key: str, status: str, value: Any, vector: Any
    ) -> tuple[str | None, str, Any, Any]:
        """Take the key's lock; after a miss, look again once it is ours, since
        the previous holder may have stored the value in between."""
        token = self._acquire(backend, key)
        if token is not None and status == MISS:
            again = self._lookup(backend, key)
            if again[0] == HIT:
                self._release(backend, key, token)
                return None, *again
        return token, status, value, vector

    def _store(
        self,
        backend: Any,
        key: str,
        vector: tuple[int, ...],
        value: Any,
        token: str | None,
    ) -> None:
        try:
            if self.cache_if is None or self.cache_if(value):
                # Spread expiries: a batch filled together does not expire together.
                fresh = self.timeout * (1 - conf.JITTER * random.random())
                entry = (vector, wall() + fresh, value)
                backend.set(key, entry, math.ceil(fresh + self.stale_timeout))
        finally:
            self._release(backend, key, token)

    def _bypassing(self) -> bool:
        dirty = dirty_groups()
        return bool(dirty) and not dirty.isdisjoint(self.groups)

    def _count_fallback(self, backend: Any) -> None:
        breaker = getattr(backend, "breaker", None)
        if breaker is not None and breaker.state != "closed":
            stats.record(self.name, "fallback")

    # -- sync driver -------------------------------------------------------

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        key = self.cache_key(*args, **kwargs)
        if self.is_async:
            # Decided here: the writing transaction is this thread's.
            bypass = self._bypassing()
            return self._acall(key, args, kwargs, bypass)  # type: ignore[return-value]
        if self._bypassing():
            stats.record(self.name, "misses")
            return self._timed(args, kwargs)
        backend = caches[self.cache]
        try:
            status, value, vector = self._lookup(backend, key)
        except REDIS_ERRORS:  # a plain django-redis backend that raised
            stats.record(self.name, "errors")
            return self._timed(args, kwargs)
        self._count_fallback(backend)
        if status == HIT:
            stats.record(self.name, "hits")
            return value  # type: ignore[no-any-return]
        token = None
        if self.lock or status == STALE:
            token, status, value, vector = self._claim(
                backend, key, status, value, vector
            )
            if status == HIT:
                stats.record(self.name, "hits")
                return value  # type: ignore[no-any-return]
        if status == STALE and token is None:
            stats.record(self.name, "stale")
            return value  # type: ignore[no-any-return]
        stats.record(self.name, "misses")
        if self.lock and token is None:
            stats.record(self.name, "lock_waits")
            deadline = clock() + conf.LOCK_WAIT
            while clock() < deadline:
                time.sleep(POLL)
                status, value, vector = self._lookup(backend, key)
                if status == HIT:
                    return value  # type: ignore[no-any-return]
        return self._fill(backend, key, vector, token, args, kwargs)

    def _timed(self, args: Any, kwargs: Any) -> R:
        started = time.perf_counter()
        try:
            return self.fn(*args, **kwargs)
        finally:
            stats.record(
                self.name, "compute_ms", (time.perf_counter() - started) * 1000
            )

    def _fill(
        self, backend: Any, key: str, vector: Any, token: Any, args: Any, kwargs: Any
    ) -> R:
        try:
            value = self._timed(args, kwargs)
        except BaseException:
            stats.record(self.name, "errors")
            self._release(backend, key, token)
            raise
        self._store(backend, key, vector, value, token)
        return value

    @staticmethod
    def _release(backend: Any, key: str, token: str | None) -> None:
        if token is not None and backend.get(f"{key}:lock") == token:
            backend.delete(f"{key}:lock")

    # -- async driver: cache calls in a thread, the function on the loop ---

    async def _acall(self, key: str, args: Any, kwargs: Any, bypass: bool) -> Any:
        import asyncio

        if bypass:
            stats.record(self.name, "misses")
            return await self._atimed(args, kwargs)
        backend = caches[self.cache]
        try:
            status, value, vector = await sync_to_async(self._lookup)(backend, key)
        except REDIS_ERRORS:
            stats.record(self.name, "errors")
            return await self._atimed(args, kwargs)
        self._count_fallback(backend)
        if status == HIT:
            stats.record(self.name, "hits")
            return value
        token = None
        if self.lock or status == STALE:
            token, status, value, vector = await sync_to_async(self._claim)(
                backend, key, status, value, vector
            )
            if status == HIT:
                stats.record(self.name, "hits")
                return value
        if status == STALE and token is None:
            stats.record(self.name, "stale")
            return value
        stats.record(self.name, "misses")
        if self.lock and token is None:
            stats.record(self.name, "lock_waits")
            deadline = clock() + conf.LOCK_WAIT
            while clock() < deadline:
                await asyncio.sleep(POLL)
                status, value, vector = await sync_to_async(self._lookup)(backend, key)
                if status == HIT:
                    return value
        return await self._afill(backend, key, vector, token, args, kwargs)

    async def _atimed(self, args: Any, kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return await self.fn(*args, **kwargs)  # type: ignore[misc]
        finally:
            stats.record(
                self.name, "compute_ms", (time.perf_counter() - started) * 1000
            )

    async def _afill(
        self, backend: Any, key: str, vector: Any, token: Any, args: Any, kwargs: Any
    ) -> Any:
        try:
            value = await self._atimed(args, kwargs)
        except BaseException:
            stats.record(self.name, "errors")
            await sync_to_async(self._release)(backend, key, token)
            raise
        await sync_to_async(self._store)(backend, key, vector, value, token)
        return value


def cache_result(
    timeout: float = 300,
    *,
    key_prefix: str | None = None,
    depends_on: Iterable[ModelRef] = (),
    groups: Iterable[str] = (),
    cache: str = "default",
    version: int = 1,
    cache_if: Callable[[Any], bool] | None = None,
    stale_timeout: float = 0,
    lock: bool = True,
) -> Callable[[Callable[P, R]], CachedFunction[P, R]]:
    """Memoize a function; see the README's ``caching`` section.

    ``depends_on`` takes models (or ``"app_label.Model"`` strings) whose writes
    invalidate; ``groups`` takes names for ``invalidate_group``; ``version``
    changes every key at once (bump it when the function's output changes
    shape); ``cache_if(value)`` returning False skips storing; with
    ``stale_timeout`` an expired value is served for that long while one
    caller recomputes.
    """

    def decorate(fn: Callable[P, R]) -> CachedFunction[P, R]:
        return CachedFunction(
            fn,
            timeout,
            key_prefix,
            depends_on,
            groups,
            cache,
            version,
            cache_if,
            stale_timeout,
            lock,
        )

    return decorate
