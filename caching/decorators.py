"""``cache_result``: memoize a function in a Django cache, safely.

A thin adapter over ``caching.entries``: one ``get_many`` on a hit; on a miss,
one caller per key (across processes) takes the lock and computes, the others
wait for its result for at most ``CACHING_LOCK_WAIT`` seconds and then compute
themselves, so nobody hangs.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import time
from collections.abc import Callable, Iterable
from typing import Any, Generic, ParamSpec, TypeVar

from asgiref.sync import markcoroutinefunction, sync_to_async
from django.core.cache import caches

from caching import entries, identity, keys, stats, versions
from caching.bypass import bypassed
from caching.conf import conf
from caching.deps import Dependency, split
from caching.entries import HIT, MISS, STALE, WAIT, Plan
from caching.errors import REDIS_ERRORS
from caching.health import reporting
from caching.invalidation import dirty_groups, invalidate_groups, watch

P = ParamSpec("P")
R = TypeVar("R")

__all__ = ["HIT", "MISS", "STALE", "CachedFunction", "cache_result", "registry"]

registry: dict[str, CachedFunction[Any, Any]] = {}
# Cache calls of async functions run in a thread; waits are polled from the loop.
_plan_async = sync_to_async(entries.plan)
_poll_async = sync_to_async(entries.poll)
_abandon_async = sync_to_async(entries.abandon)


class CachedFunction(Generic[P, R]):
    """The object ``cache_result`` returns: call it like the function."""

    def __init__(
        self,
        fn: Callable[P, R],
        timeout: float,
        key_prefix: str | None,
        depends_on: Iterable[Dependency],
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
        self.name = identity.derived_name(fn)
        registry.pop(self.name, None)  # the registry alone keeps no claim alive
        # Claimed by this object: another live one with this namespace makes
        # both bypass the cache (caching.E032), never share entries.
        self.namespace = identity.claim(f"{key_prefix or self.name}:v{version}", self)
        self.timeout, self.stale_timeout = timeout, stale_timeout
        self.cache, self.cache_if, self.lock = cache, cache_if, lock
        static, self.rows, models = split(depends_on)
        self.function_group = f"fn:{self.namespace}"
        self.groups = [self.function_group, *groups, *static]
        signature = inspect.signature(fn)
        self._binder = keys.Binder(signature)
        for dependency in self.rows:
            if dependency.arg not in signature.parameters:
                raise ValueError(
                    f"{self.name} has no argument {dependency.arg!r} for its row "
                    f"dependency; its arguments: {', '.join(signature.parameters)}."
                )
        self.is_async = inspect.iscoroutinefunction(fn)
        if self.is_async:
            markcoroutinefunction(self)
        watch(models)
        registry[self.name] = self

    def __repr__(self) -> str:
        return f"<cached {self.name}>"

    # -- keys and controls -----------------------------------------------

    def cache_key(self, *args: Any, **kwargs: Any) -> str:
        canonical = self._binder.canonical(args, kwargs)
        return keys.entry_key(self.namespace, keys.digest(canonical))

    def groups_for(self, args: Any, kwargs: Any) -> list[str]:
        """The call's groups: the static ones, plus its rows'."""
        if not self.rows:
            return self.groups
        bound = self._binder.signature.bind(*args, **kwargs)
        bound.apply_defaults()
        names = list(self.groups)
        for dependency in self.rows:
            names.extend(dependency.groups(bound.arguments))
        return names

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
        backend = caches[self.cache]
        groups = self.groups_for(args, kwargs)
        if self.is_async:
            return self._arefresh(backend, key, groups, args, kwargs)  # type: ignore[return-value]
        plan = entries.plan(backend, key, groups, lock=False)
        return self._fill(backend, key, _recompute(plan), args, kwargs)

    async def _arefresh(
        self, backend: Any, key: str, groups: list[str], args: Any, kwargs: Any
    ) -> Any:
        plan = await _plan_async(backend, key, groups, lock=False)
        return await self._afill(backend, key, _recompute(plan), args, kwargs)

    # -- what both drivers share -------------------------------------------

    def _bypassing(self, groups: list[str]) -> bool:
        if identity.is_ambiguous(self.namespace) or bypassed():
            return True  # a name two live functions share (E032), or caching off
        dirty = dirty_groups()
        return bool(dirty) and not dirty.isdisjoint(groups)

    def _served(self, backend: Any, plan: Plan) -> bool:
        """Count the outcome; True when the plan's value is the answer."""
        reporter = reporting(backend)
        if reporter is not None and reporter.on_fallback:
            stats.record(self.name, "fallback")
        if plan.error:
            stats.record(self.name, "errors")
        if plan.waited:  # a miss, answered (or not) by another caller's result
            stats.record(self.name, "misses")
            stats.record(self.name, "lock_waits")
            return plan.status != MISS
        if plan.status == MISS:
            stats.record(self.name, "misses")
            return False
        stats.record(self.name, "hits" if plan.status == HIT else "stale")
        return True

    def _computed(self, started: float) -> None:
        stats.record(self.name, "compute_ms", (time.perf_counter() - started) * 1000)

    # -- sync driver -------------------------------------------------------

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        key = self.cache_key(*args, **kwargs)
        groups = self.groups_for(args, kwargs)
        if self.is_async:
            # Decided here: the writing transaction is this thread's.
            bypass = self._bypassing(groups)
            return self._acall(key, groups, args, kwargs, bypass)  # type: ignore[return-value]
        if self._bypassing(groups):
            stats.record(self.name, "misses")
            return self._fill(None, key, None, args, kwargs)
        backend = caches[self.cache]
        plan = entries.plan(backend, key, groups, lock=self.lock)
        if self._served(backend, plan):
            return plan.value  # type: ignore[no-any-return]
        return self._fill(backend, key, plan, args, kwargs)

    def _fill(
        self, backend: Any, key: str, plan: Plan | None, args: Any, kwargs: Any
    ) -> R:
        started = time.perf_counter()
        try:
            with versions.computing(() if plan is None else plan.seeds):
                value = self.fn(*args, **kwargs)
        except BaseException:
            stats.record(self.name, "errors")
            if plan is not None:
                entries.abandon(backend, key, plan)
            raise
        finally:
            self._computed(started)
        if plan is not None:
            self._store(backend, key, plan, value)
        return value

    def _store(self, backend: Any, key: str, plan: Plan, value: Any) -> None:
        entries.finish(
            backend,
            key,
            plan,
            value,
            timeout=self.timeout,
            stale_timeout=self.stale_timeout,
            store=self.cache_if is None or self.cache_if(value),
        )

    # -- async driver: cache calls in threads, the function on the loop ----

    async def _acall(
        self, key: str, groups: list[str], args: Any, kwargs: Any, bypass: bool
    ) -> Any:
        if bypass:
            stats.record(self.name, "misses")
            return await self._afill(None, key, None, args, kwargs)
        backend = caches[self.cache]
        plan = await self._aplan(backend, key, groups)
        if plan.status == WAIT:
            plan = await self._await_other(backend, key, groups, plan)
        if self._served(backend, plan):
            return plan.value
        return await self._afill(backend, key, plan, args, kwargs)

    async def _aplan(self, backend: Any, key: str, groups: list[str]) -> Plan:
        """``entries.plan`` from the loop: a hit (near cache, or the cache's
        native async read) is decided here; the lock and the seeding of new
        groups go to the sync engine, in a thread."""
        try:
            found = await entries.alookup(backend, key, groups)
        except REDIS_ERRORS:  # a plain django-redis backend: the sync engine copes
            found = None
        if found is not None and (
            found.status == HIT or (found.status == MISS and not self.lock)
        ):
            return Plan(found.status, found.entry, found.versions)
        return await _plan_async(
            backend, key, groups, lock=self.lock, wait=False, found=found
        )

    async def _await_other(
        self, backend: Any, key: str, groups: list[str], waiting: Plan
    ) -> Plan:
        deadline = entries.clock() + conf.LOCK_WAIT
        while entries.clock() < deadline:
            await asyncio.sleep(entries.POLL)
            outcome = await _poll_async(backend, key, groups)
            if outcome is not None:
                return outcome
        return entries.gave_up(waiting)

    async def _afill(
        self, backend: Any, key: str, plan: Plan | None, args: Any, kwargs: Any
    ) -> Any:
        started = time.perf_counter()
        try:
            with versions.computing(() if plan is None else plan.seeds):
                value = await self.fn(*args, **kwargs)  # type: ignore[misc]
        except BaseException:
            stats.record(self.name, "errors")
            if plan is not None:
                await _abandon_async(backend, key, plan)
            raise
        finally:
            self._computed(started)
        if plan is not None:
            await sync_to_async(self._store)(backend, key, plan, value)
        return value


def _recompute(plan: Plan) -> Plan:
    """``refresh``: compute whatever the lookup found, store under its versions."""
    return Plan(MISS, None, plan.versions, error=plan.error, seeds=plan.seeds)


def cache_result(
    timeout: float = 300,
    *,
    key_prefix: str | None = None,
    depends_on: Iterable[Dependency] = (),
    groups: Iterable[str] = (),
    cache: str = "default",
    version: int = 1,
    cache_if: Callable[[Any], bool] | None = None,
    stale_timeout: float = 0,
    lock: bool = True,
) -> Callable[[Callable[P, R]], CachedFunction[P, R]]:
    """Memoize a function; see docs/caching.md.

    ``depends_on`` takes models (or ``"app_label.Model"`` strings) whose writes
    invalidate, and ``caching.deps.row``/``fields`` dependencies; ``groups`` takes names for ``invalidate_group``; ``version``
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
