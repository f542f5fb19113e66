"""Cache hits and misses, decided with a sentinel, on LocMem and on real Redis."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import caches

from perfsite_profiling import recorder
from perfsite_profiling.cache import install, instrument
from tests.support.services import RedisServer


@pytest.fixture(params=["locmem", "redis"])
def backend(request: pytest.FixtureRequest, settings: Any) -> Iterator[Any]:
    if request.param == "redis":
        server: RedisServer = request.getfixturevalue("redis")
        settings.CACHES = {
            **settings.CACHES,
            "other": {
                "BACKEND": "django_redis.cache.RedisCache",
                "LOCATION": server.url,
            },
        }
    else:
        settings.CACHES = {
            **settings.CACHES,
            "other": {
                "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                "LOCATION": "profiling-tests",
            },
        }
    cache = caches["other"]  # created, hence instrumented, by the handler
    cache.clear()
    install()  # twice is harmless
    yield cache
    cache.clear()


def counted(cache: Any, call: Any) -> tuple[Any, int, int]:
    rec = recorder.Recorder()
    token = recorder.current.set(rec)
    try:
        value = call(cache)
    finally:
        recorder.current.reset(token)
    return value, rec.cache_hits, rec.cache_misses


def test_a_cached_none_is_a_hit(backend: Any) -> None:
    backend.set("none", None)
    assert counted(backend, lambda c: c.get("none", "dflt")) == (None, 1, 0)
    assert counted(backend, lambda c: c.get("absent", "dflt")) == ("dflt", 0, 1)
    assert counted(backend, lambda c: c.get("absent", default=5)) == (5, 0, 1)


def test_get_many_counts_each_key(backend: Any) -> None:
    backend.set_many({"a": 1, "b": None})
    value, hits, misses = counted(backend, lambda c: c.get_many(["a", "b", "c"]))
    assert value == {"a": 1, "b": None}
    assert (hits, misses) == (2, 1)


def test_get_or_set_counts_once(backend: Any) -> None:
    assert counted(backend, lambda c: c.get_or_set("k", lambda: 7)) == (7, 0, 1)
    assert counted(backend, lambda c: c.get_or_set("k", 8)) == (7, 1, 0)
    assert counted(backend, lambda c: c.get_or_set("n", None)) == (None, 0, 1)


def test_nothing_is_counted_without_a_recorder(backend: Any) -> None:
    backend.set("a", 1)
    assert backend.get("a") == 1
    assert backend.get("missing", 3) == 3
    assert backend.get_or_set("x", 2) == 2
    instrument(backend)  # twice is harmless
    assert counted(backend, lambda c: c.get("a")) == (1, 1, 0)


def test_install_also_instruments_backends_created_before_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from asgiref.local import Local
    from django.core.cache import CacheHandler

    monkeypatch.setattr(
        caches, "create_connection", CacheHandler.create_connection.__get__(caches)
    )
    monkeypatch.setattr(caches, "_connections", Local())
    backend = caches["default"]
    assert not getattr(backend, "_profiling_instrumented", False)
    install()
    assert backend._profiling_instrumented


def test_instrumented_backends_keep_the_async_api(backend: Any) -> None:
    """Django 6.1's ``aget_many`` reads ``self.get_many.__func__``."""
    import asyncio
    import threading

    backend.set("a", 1)
    assert backend.get_many.__func__  # bound like the original method
    found: list[Any] = []

    # In a thread of its own: the session's browser keeps a loop on this one.
    thread = threading.Thread(
        target=lambda: found.append(asyncio.run(backend.aget_many(["a", "b"])))
    )
    thread.start()
    thread.join()
    assert found == [{"a": 1}]
