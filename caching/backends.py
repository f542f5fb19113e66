"""``FailoverCache``: django-redis first, an in-process LocMem when Redis fails.

Fallback rules (the README's "What the fallback promises"):

- A circuit breaker per process, shared by its threads, decides where a call
  goes. While it is open no call touches the network.
- Every write, delete or clear that could not reach Redis is remembered. When
  a probe finds Redis back, those keys are deleted from Redis (or, past
  ``CACHING_REPLAY_LIMIT``, the namespace epoch is bumped) *before* any other
  call of this process reads Redis, and then the fallback is emptied.
- Other processes learn an epoch bump within ``EPOCH_REFRESH`` seconds.
"""

from __future__ import annotations

import atexit
import functools
import logging
import pickle
import random
import threading
import time
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.cache.backends.base import (
    DEFAULT_TIMEOUT,
    BaseCache,
    CacheKeyWarning,
    memcache_key_warnings,
)
from django.core.cache.backends.locmem import LocMemCache
from django_redis.exceptions import ConnectionInterrupted
from redis.backoff import NoBackoff
from redis.exceptions import (
    OutOfMemoryError,
    ReadOnlyError,
    RedisError,
    ResponseError,
)
from redis.retry import Retry

from caching.breaker import CircuitBreaker, Decision
from caching.conf import conf
from caching.keys import EPOCH_KEY
from caching.near_redis import NearRedisCache
from caching.serializer import JunkValue

logger = logging.getLogger(__name__)

# The whole Redis error family (connection, timeout, OOM/BUSY/LOADING/READONLY
# responses, invalid responses), never programming errors.
REDIS_ERRORS: tuple[type[BaseException], ...] = (RedisError, ConnectionInterrupted)
# What decoding a value written by other code (or another release) raises;
# with the default serializer, always JunkValue.
DECODE_ERRORS = (
    JunkValue,
    pickle.UnpicklingError,
    AttributeError,
    ImportError,
    EOFError,
    ValueError,
)
# Cache calls that need memory: only their success proves writes work again
# (DEL and EXPIRE are allowed under OOM, and reads on a demoted primary).
_ALLOCATING = frozenset({"add", "set", "set_many", "incr"})
_MISSING = object()
EPOCH_REFRESH = 1.0  # seconds between two reads of the namespace epoch
DEFAULT_OPTIONS: dict[str, Any] = {
    "SERIALIZER": "caching.serializer.SafePickleSerializer",
    "SOCKET_CONNECT_TIMEOUT": 0.25,  # seconds
    "SOCKET_TIMEOUT": 0.25,  # seconds
}


def _refused(error: BaseException) -> bool:
    """Whether Redis refused a write it would have served as a read."""
    current: BaseException | None = error
    while current is not None:  # django-redis wraps redis-py's errors
        if isinstance(current, OutOfMemoryError | ReadOnlyError) or (
            isinstance(current, ResponseError) and str(current).startswith("MISCONF")
        ):
            return True
        current = current.__cause__
    return False


def _no_retry() -> Retry:
    # Pinned: redis-py's own defaults have changed across releases (8.x builds
    # Redis(**kw) with 10 retries and backoff); the breaker is our retry policy.
    return Retry(NoBackoff(), 0)


@dataclass
class _Shared:
    """What every thread's instance of one cache shares in this process."""

    breaker: CircuitBreaker
    lock: threading.Lock = field(default_factory=threading.Lock)
    missed: set[tuple[str, int | None]] = field(default_factory=set)
    overflow: bool = False
    epoch: int = 0
    epoch_read_at: float = float("-inf")
    fallback_serves: int = 0
    # The latest instance, which delivers what was missed when the process exits.
    owner: FailoverCache | None = None

    def remember(self, keys: Iterable[str], version: int | None) -> None:
        with self.lock:
            for key in keys:
                if len(self.missed) >= conf.REPLAY_LIMIT:
                    self.overflow = True
                    break
                self.missed.add((key, version))

    def take(self) -> tuple[list[tuple[str, int | None]], bool]:
        with self.lock:
            missed, overflow = list(self.missed), self.overflow
            self.missed.clear()
            self.overflow = False
        return missed, overflow


_shared: dict[str, _Shared] = {}
_shared_lock = threading.Lock()


def deliver_missed(wait: float) -> bool:
    """Send what every cache of this process missed, retrying for ``wait`` seconds.

    Runs at exit: a process that made an invalidation while Redis was
    unreachable (a ``manage.py shell`` during a failover, say) would otherwise
    take it with it. Returns whether nothing is left undelivered.
    """
    deadline = time.monotonic() + wait
    pending = [
        s for s in list(_shared.values()) if s.owner and (s.missed or s.overflow)
    ]
    while pending:
        pending = [
            s
            for s in pending
            if s.owner and not s.owner._recover(probing=not s.breaker.closed)
        ]
        if not pending or time.monotonic() >= deadline:
            break
        time.sleep(0.1)
    for shared in pending:
        logger.error(
            "cache %s: %d missed writes could not reach Redis before exit%s",
            shared.breaker.name,
            len(shared.missed),
            " (and a namespace bump)" if shared.overflow else "",
        )
    return not pending


@atexit.register
def _deliver_at_exit() -> None:
    if _shared:
        deliver_missed(conf.EXIT_WAIT)


def _shared_state(name: str) -> _Shared:
    with _shared_lock:
        if name not in _shared:
            _shared[name] = _Shared(
                CircuitBreaker(
                    name,
                    conf.BREAKER_THRESHOLD,
                    conf.BREAKER_COOLDOWN,
                    conf.BREAKER_COOLDOWN_MAX,
                )
            )
        return _shared[name]


@functools.lru_cache(maxsize=4096)
def _key_warnings(key: str) -> tuple[str, ...]:
    # Django checks every character in Python on every call; a site uses the
    # same keys over and over, so remember the verdict (the warning itself is
    # still raised on each call, as Django does).
    return tuple(memcache_key_warnings(key))


class _Fallback(LocMemCache):
    # FailoverCache validates keys once, whichever store serves the call.
    def validate_key(self, key: str) -> None:
        pass


class FailoverCache(BaseCache):
    def __init__(self, server: str | list[str], params: dict[str, Any]) -> None:
        super().__init__(params)
        options = {**DEFAULT_OPTIONS, **params.get("OPTIONS", {})}
        pool_kwargs = dict(options.get("CONNECTION_POOL_KWARGS", {}))
        pool_kwargs.setdefault("retry", _no_retry())
        options["CONNECTION_POOL_KWARGS"] = pool_kwargs
        self._base_prefix = self.key_prefix
        # django-redis plus the near cache (caching/near_redis.py).
        self._primary = NearRedisCache(server, {**params, "OPTIONS": options})
        self.name = f"{server!r}|{self.key_prefix}"
        self._shared = _shared_state(self.name)
        self._shared.owner = self
        self._epoch_key = f"{self._base_prefix}:{EPOCH_KEY}"
        self._fallback = _Fallback(
            f"caching-fallback|{self.name}",
            {
                "TIMEOUT": params.get("TIMEOUT", 300),
                "KEY_PREFIX": self.key_prefix,
                "VERSION": self.version,
                # The same stored keys as Redis: caches that share a location
                # but not a key function must not see each other's entries.
                **(
                    {"KEY_FUNCTION": params["KEY_FUNCTION"]}
                    if "KEY_FUNCTION" in params
                    else {}
                ),
                "OPTIONS": {"MAX_ENTRIES": conf.FALLBACK_MAX_ENTRIES},
            },
        )

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
                self._sync_epoch()
                result = getattr(self._primary, op)(*args)
            except REDIS_ERRORS as exc:
                self.breaker.failure(exc, refused=_refused(exc))
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
        shared = self._shared
        if decision is Decision.PROBE or shared.missed or shared.overflow:
            # Redis is back (or was only briefly unreachable): it must learn
            # what it missed before this process reads it again.
            return self._recover(probing=decision is Decision.PROBE)
        return True

    def _sync_epoch(self) -> None:
        shared = self._shared
        now = time.monotonic()
        if now - shared.epoch_read_at >= EPOCH_REFRESH:
            client = self._primary.client.get_client(write=True)
            shared.epoch, shared.epoch_read_at = self._read_epoch(client), now
        prefix = (
            f"{self._base_prefix}:e{shared.epoch}"
            if shared.epoch
            else self._base_prefix
        )
        if self._primary.key_prefix != prefix:
            self._primary.key_prefix = prefix

    def _read_epoch(self, client: Any) -> int:
        raw = client.get(self._epoch_key)
        try:
            return int(raw or 0)
        except ValueError:
            # Junk: start a namespace no entry belongs to (every process reads
            # the same new value), rather than fail every call.
            epoch = random.randrange(1 << 32, 1 << 62)
            client.set(self._epoch_key, epoch, ex=conf.GROUP_TIMEOUT)
            logger.warning("cache %s: junk namespace epoch %r replaced", self.name, raw)
            return epoch

    def _recover(self, probing: bool) -> bool:
        """Ping Redis; if it answers, replay what it missed, and close a probe."""
        shared = self._shared
        missed, overflow = shared.take()
        # After an outage (the breaker opened), other processes may have lost
        # invalidations too, and some of them may have exited since: only a
        # namespace bump guarantees that nothing cached before is served.
        bump = overflow or probing
        try:
            client = self._primary.client.get_client(write=True)
            client.ping()
            if bump:
                with client.pipeline() as pipe:
                    pipe.incr(self._epoch_key)
                    pipe.expire(self._epoch_key, conf.GROUP_TIMEOUT)
                    pipe.execute()
                shared.epoch_read_at = float("-inf")
            self._sync_epoch()
            by_version: dict[int | None, list[str]] = {}
            for key, version in missed:
                by_version.setdefault(version, []).append(key)
            for version, keys in by_version.items():
                self._primary.delete_many(keys, version=version)
        except BaseException as exc:
            with shared.lock:  # put back what could not be replayed
                shared.missed.update(missed)
                shared.overflow = shared.overflow or overflow
            if isinstance(exc, REDIS_ERRORS):
                self.breaker.failure(exc, refused=_refused(exc))
                return False
            if probing:  # not Redis's fault: let the next caller probe
                self.breaker.give_back()
            raise
        self._fallback.clear()
        logger.info(
            "cache %s: recovered; %s",
            self.name,
            "namespace bumped" if bump else f"{len(missed)} keys replayed",
        )
        if probing:
            # Only a probe closes the breaker: a replayed DEL is allowed
            # where writes are not (OOM), so it proves nothing more.
            self.breaker.success()
        return True

    @staticmethod
    def _capped(timeout: float | None | object) -> Any:
        cap = conf.FALLBACK_TIMEOUT
        if timeout is DEFAULT_TIMEOUT or timeout is None:
            return cap
        assert isinstance(timeout, int | float)
        return min(timeout, cap)

    # -- the cache API -----------------------------------------------------

    def add(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> bool:
        self._validate(key, version)
        args = (key, value, timeout, version)
        fallback_args = (key, value, self._fallback_timeout(timeout), version)
        added = self._route("add", args, [key], version, fallback_args)
        if not added and self.get(key, _MISSING, version) is _MISSING:
            # What held the key was junk (get() deleted it) or just expired:
            # an absent key, so the add goes ahead.
            added = self._route("add", args, [key], version, fallback_args)
        return bool(added)

    def _fallback_timeout(self, timeout: Any) -> Any:
        if timeout is DEFAULT_TIMEOUT:
            timeout = self.default_timeout
        return self._capped(timeout)

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
            (key, value, self._fallback_timeout(timeout), version),
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
                (key, self._fallback_timeout(timeout), version),
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
            (data, self._fallback_timeout(timeout), version),
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

    # -- health ----------------------------------------------------------

    def health(self) -> dict[str, Any]:
        shared = self._shared
        return {
            "backend": f"{type(self).__module__}.{type(self).__qualname__}",
            "state": self.breaker.state,
            "failures": self.breaker.failures,
            "cooldown": self.breaker.cooldown,
            "history": list(self.breaker.history),
            "fallback_serves": shared.fallback_serves,
            "missed": len(shared.missed),
            "overflow": shared.overflow,
            "epoch": shared.epoch,
        }

    def redis_info(self) -> dict[str, Any] | None:
        """A few Redis ``INFO`` figures, or None when Redis is not reachable."""
        client = self.redis()
        if client is None:
            return None
        try:
            info: dict[str, Any] = client.info()
        except REDIS_ERRORS as exc:
            self.breaker.failure(exc)
            return None
        keys = (
            "redis_version",
            "used_memory_human",
            "maxmemory_policy",
            "evicted_keys",
            "keyspace_hits",
            "keyspace_misses",
            "connected_clients",
            "uptime_in_seconds",
        )
        return {key: info.get(key) for key in keys}
