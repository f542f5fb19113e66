"""Cache hit/miss counting that works with any Django cache backend.

Each backend instance gets instance-level wrappers around ``get``,
``get_many`` and ``get_or_set`` when ``caches`` creates it (``install()``
wraps the handler's ``create_connection``, so nothing is paid per request).
They count only while a request recorder is active, and decide hit or miss with
a private sentinel, so a cached ``None`` is a hit.
"""

from __future__ import annotations

import functools
import types
from collections.abc import Callable
from typing import Any

from django.core.cache import caches

from perfsite_profiling import recorder

_MISSING = object()
_MARK = "_profiling_instrumented"


def _timed(
    method: Callable[..., Any], account: Callable[..., tuple[int, int]]
) -> Callable[..., Any]:
    @functools.wraps(method)
    def wrapper(_backend: Any, *args: Any, **kwargs: Any) -> Any:
        rec = recorder.current.get()
        if rec is None or rec.cache_depth:
            return method(*args, **kwargs)
        rec.cache_depth += 1
        start = recorder.clock()
        try:
            return account(rec, method, *args, **kwargs)
        finally:
            rec.cache_ns += recorder.clock() - start
            rec.cache_depth -= 1

    return wrapper


def _get(
    rec: recorder.Recorder, method: Callable[..., Any], key: Any, *args: Any, **kw: Any
) -> Any:
    default = kw.pop("default", args[0] if args else None)
    value = method(key, _MISSING, *args[1:], **kw)
    if value is _MISSING:
        rec.cache_misses += 1
        return default
    rec.cache_hits += 1
    return value


def _get_many(
    rec: recorder.Recorder, method: Callable[..., Any], keys: Any, *args: Any, **kw: Any
) -> Any:
    keys = list(keys)
    found = method(keys, *args, **kw)
    rec.cache_hits += len(found)
    rec.cache_misses += len(set(keys)) - len(found)
    return found


def _get_or_set(
    rec: recorder.Recorder, method: Callable[..., Any], key: Any, *args: Any, **kw: Any
) -> Any:
    computed = False
    default = kw.pop("default", args[0] if args else None)

    def produce() -> Any:
        nonlocal computed
        computed = True
        return default() if callable(default) else default

    value = method(key, produce, *args[1:], **kw)
    if computed:
        rec.cache_misses += 1
    else:
        rec.cache_hits += 1
    return value


_ACCOUNTS = {"get": _get, "get_many": _get_many, "get_or_set": _get_or_set}


def instrument(cache: Any) -> None:
    if getattr(cache, _MARK, False):
        return
    for name, account in _ACCOUNTS.items():
        # Bound like the originals: Django 6.1's a* methods look at
        # ``self.get_many.__func__`` to decide how to run the sync method.
        wrapper = _timed(getattr(cache, name), account)
        setattr(cache, name, types.MethodType(wrapper, cache))
    setattr(cache, _MARK, True)


def install() -> None:
    """Instrument every cache backend instance ``caches`` creates from now on."""
    original = caches.create_connection
    if getattr(original, _MARK, False):
        return

    def create_connection(alias: str) -> Any:
        backend = original(alias)
        instrument(backend)
        return backend

    setattr(create_connection, _MARK, True)
    caches.create_connection = create_connection  # type: ignore[method-assign]
    for backend in caches.all(initialized_only=True):
        instrument(backend)
