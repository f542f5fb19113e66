"""django-redis with a near cache: a valid hit makes no network round trip.

``FailoverCache`` uses ``NearRedisCache`` as its Redis side, so the breaker,
the epoch and the replay of missed writes apply to it unchanged. Reads look in
the process's ``NearStore`` first; a miss reads the primary (never a replica:
a replica may answer with a value older than an invalidation already applied)
and keeps a copy, with the key's remaining TTL, if nothing invalidated the key
meanwhile. Every write this process makes drops its own copies once Redis has
answered, so a thread reads its own writes at once; other processes drop them
when the tracking connection (``caching.tracking``) hears of the change.

One store and one tracker per process and cache (Redis location + key
prefix), shared by the cache's per-thread instances.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django_redis.cache import RedisCache

from caching.aio import AsyncDoor
from caching.conf import conf
from caching.near import MISSING, NearStore
from caching.tracking import Tracker, register_fork_handler


@dataclass
class Near:
    store: NearStore
    tracker: Tracker | None  # None: the near cache is turned off


_near: dict[str, Near] = {}
_near_lock = threading.Lock()
register_fork_handler(lambda: [n.tracker for n in list(_near.values()) if n.tracker])


def close_all() -> None:
    """Stop every tracker; the next call builds them again from the settings."""
    with _near_lock:
        items = list(_near.values())
        _near.clear()
    for near in items:
        if near.tracker is not None:
            near.tracker.stop()


def reset_on_setting_change(setting: str, **kwargs: Any) -> None:
    if setting.startswith("CACHING_NEAR_") or setting == "CACHES":
        close_all()


class NearRedisCache(RedisCache):  # type: ignore[misc]  # django-redis is untyped
    def __init__(self, server: str | list[str], params: dict[str, Any]) -> None:
        options = dict(params.get("OPTIONS", {}))
        # Per cache (None: the deprecated CACHING_NEAR_CACHE, True by default).
        self._near_option: bool | None = options.pop("NEAR_CACHE", None)
        # Off on a Redis Cluster: tracking would need a connection per node.
        self._near_off = bool(options.get("CLUSTER", False))
        super().__init__(server, {**params, "OPTIONS": options})
        self._near_name = f"{server!r}|{self.key_prefix}"
        # Django's key function writes "<prefix>:<version>:<key>"; a key that
        # does not start with this is never kept (no invalidation would come).
        self._near_prefix = f"{self.key_prefix}:"

    # -- the process's store -------------------------------------------------

    def _near_state(self) -> Near:
        near = _near.get(self._near_name)
        if near is None:
            with _near_lock:
                near = _near.get(self._near_name)
                if near is None:
                    near = _near[self._near_name] = self._build()
        return near

    def _build(self) -> Near:
        store = NearStore(conf.NEAR_MAX_ENTRIES, conf.NEAR_MAX_BYTES)
        enabled = conf.NEAR_CACHE if self._near_option is None else self._near_option
        if not enabled or self._near_off:
            return Near(store, None)
        pool = self.client.get_client(write=True).connection_pool
        return Near(store, Tracker(store, pool, self._near_prefix, self._near_name))

    def _live_store(self) -> NearStore | None:
        near = self._near_state()
        if near.store.live:
            return near.store
        if near.tracker is not None:
            near.tracker.ensure_running()
        return None

    def near_stats(self) -> dict[str, int | bool]:
        return self._near_state().store.stats()

    def near_sync(self, timeout: float = 5.0) -> bool:
        """Apply every invalidation Redis sent before now (see ``Tracker.sync``)."""
        tracker = self._near_state().tracker
        return tracker is not None and tracker.sync(timeout)

    def near_drop(self) -> None:
        """Forget every copy (the breaker left closed)."""
        near = _near.get(self._near_name)
        if near is not None:
            near.store.flush()

    def _forget(self, keys: Iterable[Any], version: int | None) -> None:
        near = _near.get(self._near_name)
        if near is not None and near.tracker is not None:
            make = self.make_key
            near.store.invalidate([make(k, version=version) for k in keys])

    # -- reads -----------------------------------------------------------------

    def _fetch(self, store: NearStore, names: list[str]) -> dict[str, bytes]:
        """Raw values from the primary, kept in ``store`` when still valid."""
        started = store.begin()
        with self.client.get_client(write=True).pipeline(transaction=False) as pipe:
            pipe.mget(names)
            for name in names:
                pipe.pttl(name)
            values, *ttls = pipe.execute()
        return self._keep(store, names, values, ttls, started)

    def _keep(
        self,
        store: NearStore | None,
        names: list[str],
        values: list[Any],
        ttls: list[int],
        started: int,
    ) -> dict[str, bytes]:
        found: dict[str, bytes] = {}
        for name, raw, ttl in zip(names, values, ttls, strict=True):
            if raw is not None:
                found[name] = raw
                if store is not None and name.startswith(self._near_prefix):
                    store.put(name, raw, ttl, started)
        return found

    async def aget_many_from(
        self, door: AsyncDoor, keys: Iterable[Any], version: Any = None
    ) -> dict[Any, Any]:
        """``get_many`` from an event loop: near copies first, the rest from
        the primary through ``door`` (``caching.aio``), kept as ``_fetch`` does."""
        store = self._live_store()
        make = self.make_key
        names = {make(key, version=version): key for key in keys}
        raw: dict[Any, Any] = {}
        missing = []
        for name, key in names.items():
            value = MISSING if store is None else store.get(name)
            if value is MISSING:
                missing.append(name)
            else:
                raw[key] = value
        if missing:
            started = 0 if store is None else store.begin()
            values, ttls = await door.fetch(missing)
            for name, value in self._keep(
                store, missing, values, ttls, started
            ).items():
                raw[names[name]] = value
        decode = self.client.decode
        return {key: decode(value) for key, value in raw.items()}

    def get(
        self, key: Any, default: Any = None, version: Any = None, client: Any = None
    ) -> Any:
        store = self._live_store() if client is None else None
        if store is None:
            return super().get(key, default, version, client)
        name = self.make_key(key, version=version)  # what django-redis sends
        raw = store.get(name)
        if raw is MISSING:
            raw = self._fetch(store, [name]).get(name)
            if raw is None:
                return default
        return self.client.decode(raw)

    def get_many(self, keys: Any, version: Any = None, client: Any = None) -> Any:
        store = self._live_store() if client is None else None
        if store is None:
            return super().get_many(keys, version=version, client=client)
        make = self.make_key
        names = {make(key, version=version): key for key in keys}
        raw: dict[Any, Any] = {}
        missing = []
        for name, key in names.items():
            value = store.get(name)
            if value is MISSING:
                missing.append(name)
            else:
                raw[key] = value
        if missing:
            for name, value in self._fetch(store, missing).items():
                raw[names[name]] = value
        decode = self.client.decode
        return {key: decode(raw[key]) for key in names.values() if key in raw}

    def peek_many(self, keys: Iterable[Any], version: Any = None) -> Any:
        """``get_many`` from the near cache alone, or None unless it holds every
        key: nothing is sent, so an event loop may call it (``caching.onloop``)."""
        near = _near.get(self._near_name)
        if near is None or not near.store.live:
            return None
        store, make, decode = near.store, self.make_key, self.client.decode
        raw = {}
        for key in keys:
            value = store.get(make(key, version=version))
            if value is MISSING:
                return None
            raw[key] = value
        return {key: decode(value) for key, value in raw.items()}

    def read(self, keys: list[Any], current: list[Any], version: Any = None) -> Any:
        """``get_many`` of ``keys`` and ``current``, the latter as the primary has them.

        A replica may lag behind a bump (or have lost its link): group versions
        read there could make an old entry look valid. Near copies are filled
        from the primary, so with the near cache live one call serves both;
        with replicas, ``current`` is read from the primary and ``keys``
        wherever reads go (an entry is valid only with current versions).
        """
        if not current or len(self.client._clients) < 2 or self._live_store():
            return self.get_many([*keys, *current], version=version)
        primary = self.client.get_client(write=True)
        found = self.get_many(current, version=version, client=primary)
        if keys:
            found.update(self.get_many(keys, version=version))
        return found

    # -- writes: this process's own copies go once Redis has answered ---------

    def set(
        self,
        key: Any,
        value: Any,
        timeout: Any = DEFAULT_TIMEOUT,
        version: Any = None,
        client: Any = None,
        nx: bool = False,
        xx: bool = False,
    ) -> Any:
        try:
            return super().set(key, value, timeout, version, client, nx, xx)
        finally:
            self._forget([key], version)

    def add(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> Any:
        try:
            return super().add(key, value, timeout, version)
        finally:
            self._forget([key], version)

    def touch(
        self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> Any:
        try:
            return super().touch(key, timeout, version)
        finally:
            self._forget([key], version)

    def delete(self, key: Any, version: Any = None, prefix: Any = None) -> Any:
        try:
            return super().delete(key, version=version, prefix=prefix)
        finally:
            self._forget([key], version)

    def incr(self, key: Any, delta: int = 1, version: Any = None) -> Any:
        try:
            return super().incr(key, delta, version)
        finally:
            self._forget([key], version)

    def set_many(
        self, data: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> Any:
        try:
            return super().set_many(data, timeout, version)
        finally:
            self._forget(data, version)

    def delete_many(self, keys: Any, version: Any = None) -> Any:
        keys = list(keys)
        try:
            return super().delete_many(keys, version=version)
        finally:
            self._forget(keys, version)

    def clear(self) -> Any:
        try:
            return super().clear()
        finally:
            self.near_drop()
