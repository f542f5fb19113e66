from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest
from django.core.cache import caches
from django.test import override_settings

from caching import entries, stats
from caching.decorators import cache_result
from tests.caching.conftest import FakeClock, run_async


def counted(**options: Any) -> tuple[Any, list[Any]]:
    calls: list[Any] = []

    @cache_result(60, **options)
    def compute(x: Any = 0) -> Any:
        calls.append(x)
        return options.get("result", x) if "result" in options else x

    return compute, calls


@pytest.mark.parametrize("result", [None, 0, "", [], False])
def test_none_and_falsy_results_are_cached(backend: Any, result: Any) -> None:
    calls: list[int] = []

    @cache_result(60)
    def compute(x: int) -> Any:
        calls.append(x)
        return result

    assert compute(1) == result
    assert compute(1) == result
    assert compute(x=1) == result
    assert calls == [1]


def test_cache_if_opts_out(backend: Any) -> None:
    calls: list[int] = []

    @cache_result(60, cache_if=lambda value: value is not None)
    def compute(x: int) -> int | None:
        calls.append(x)
        return None if x < 0 else x

    compute(-1), compute(-1), compute(2), compute(2)
    assert calls == [-1, -1, 2]


def test_controls(backend: Any) -> None:
    compute, calls = counted()
    compute(1), compute(2)
    compute.invalidate(x=1)
    compute(1), compute(2)
    assert calls == [1, 2, 1]
    compute.invalidate_all()
    compute(1), compute(2)
    assert calls == [1, 2, 1, 1, 2]
    assert compute.bypass(2) == 2
    assert compute.refresh(2) == 2
    assert compute(2) == 2
    assert calls == [1, 2, 1, 1, 2, 2, 2]


def test_magic_keywords_do_not_exist() -> None:
    @cache_result(60)
    def compute(refresh: bool = False, bypass: int = 0) -> tuple[bool, int]:
        return refresh, bypass

    assert compute(refresh=True, bypass=3) == (True, 3)


def test_bad_arguments_raise() -> None:
    with pytest.raises(ValueError, match="timeout > 0"):
        cache_result(0)(lambda: None)


def test_version_changes_keys(locmem: Any) -> None:
    first, calls = counted(version=1, key_prefix="shared")
    first(1)
    second, calls2 = counted(version=2, key_prefix="shared")
    second(1)
    assert calls == [1] and calls2 == [1]


def test_stale_while_revalidate(failover: Any, wall: FakeClock) -> None:
    values = iter(range(100))

    @cache_result(10, stale_timeout=60)
    def compute() -> int:
        return next(values)

    assert compute() == 0
    wall.now += 30  # past the fresh time, within the stale window
    # Another caller holds the refresh lock: the old value is served.
    key = compute.cache_key()
    failover.add(f"{key}:lock", "someone", 30)
    assert compute() == 0
    failover.delete(f"{key}:lock")
    assert compute() == 1  # this caller refreshes
    assert compute() == 1
    assert stats.snapshot()[compute.name]["stale"] == 1


def test_stampede_50_threads_compute_at_most_twice(failover: Any) -> None:
    calls: list[int] = []
    start = threading.Barrier(50)

    @cache_result(60)
    def slow(x: int) -> int:
        calls.append(x)
        time.sleep(0.3)
        return x * 2

    results: list[int] = []

    def worker() -> None:
        start.wait()
        results.append(slow(21))

    threads = [threading.Thread(target=worker) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert results == [42] * 50
    assert len(calls) <= 2
    assert stats.snapshot()[slow.name]["lock_waits"] >= 1


@pytest.fixture
def lock_clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """The clock of lock waits, under the test's control, and no pause between polls."""
    clock = FakeClock()
    monkeypatch.setattr(entries, "clock", clock)
    monkeypatch.setattr(entries, "POLL", 0)
    return clock


def test_a_waiter_whose_wait_runs_out_computes(
    locmem: Any, monkeypatch: pytest.MonkeyPatch, lock_clock: FakeClock
) -> None:
    clock = lock_clock
    compute, calls = counted()
    caches["default"].add(f"{compute.cache_key(5)}:lock", "stuck", 30)

    real_sleep = time.sleep

    def advancing(seconds: float) -> None:
        clock.now += 1
        real_sleep(0)

    monkeypatch.setattr(entries.time, "sleep", advancing)
    with override_settings(CACHING_LOCK_WAIT=3):
        assert compute(5) == 5
    assert calls == [5]


def test_errors_release_the_lock(locmem: Any) -> None:
    attempts: list[int] = []

    @cache_result(60)
    def failing(x: int) -> int:
        attempts.append(x)
        if len(attempts) == 1:
            raise RuntimeError("boom")
        return x

    with pytest.raises(RuntimeError):
        failing(1)
    assert failing(1) == 1
    assert stats.snapshot()[failing.name]["errors"] == 1


def test_async_functions_natively(failover: Any) -> None:
    calls: list[int] = []

    @cache_result(60)
    async def compute(x: int) -> int | None:
        calls.append(x)
        await asyncio.sleep(0)
        return None

    async def scenario() -> None:
        assert await compute(1) is None
        assert await compute(x=1) is None
        assert await compute.refresh(1) is None
        assert await compute.bypass(1) is None

    run_async(scenario())
    assert calls == [1, 1, 1]
    assert asyncio.iscoroutinefunction(compute)


def test_async_stampede_and_errors(locmem: Any) -> None:
    calls: list[int] = []

    @cache_result(60)
    async def slow(x: int) -> int:
        calls.append(x)
        await asyncio.sleep(0.2)
        if x < 0:
            raise ValueError(x)
        return x

    async def scenario() -> list[int]:
        return list(await asyncio.gather(*(slow(3) for _ in range(20))))

    assert run_async(scenario()) == [3] * 20
    assert len(calls) <= 2
    with pytest.raises(ValueError):
        run_async(slow(-1))


def test_plain_django_redis_errors_degrade_to_computing(redis: Any) -> None:
    redis.stop()
    with override_settings(
        CACHES={
            "default": {
                "BACKEND": "django_redis.cache.RedisCache",
                "LOCATION": redis.url,
            }
        }
    ):
        compute, calls = counted()
        assert compute(1) == 1

        async def run() -> Any:
            @cache_result(60)
            async def acompute() -> int:
                return 5

            return await acompute()

        assert run_async(run()) == 5
    assert calls == [1]


def miss_once(compute: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first lookup reports a miss, as if the entry landed just after it."""
    real = entries.lookup
    first = [True]

    def lookup(backend: Any, key: Any, groups: Any) -> Any:
        if first:
            first.clear()
            found = real(backend, key, groups)
            return entries.Lookup(entries.MISS, None, found.versions)
        return real(backend, key, groups)

    monkeypatch.setattr(entries, "lookup", lookup)


def test_the_lock_holder_looks_again_before_computing(
    locmem: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    compute, calls = counted()
    compute(1)
    miss_once(compute, monkeypatch)
    assert compute(1) == 1
    assert calls == [1]


def test_async_paths(
    locmem: Any, monkeypatch: pytest.MonkeyPatch, wall: FakeClock
) -> None:
    calls: list[int] = []

    @cache_result(10, stale_timeout=60)
    async def compute(x: int) -> int:
        calls.append(x)
        return len(calls)

    key = compute.cache_key(1)

    async def scenario() -> list[int]:
        results = [await compute(1)]
        miss_once(compute, monkeypatch)
        results.append(await compute(1))  # the lock holder finds the entry
        monkeypatch.undo()
        wall.now += 30
        locmem.add(f"{key}:lock", "someone", 30)
        results.append(await compute(1))  # stale, someone else refreshes
        locmem.delete(f"{key}:lock")
        return results

    assert run_async(scenario()) == [1, 1, 1]
    assert calls == [1]


def test_async_waiter_gives_up_and_computes(
    locmem: Any, monkeypatch: pytest.MonkeyPatch, lock_clock: FakeClock
) -> None:
    clock = lock_clock

    @cache_result(60)
    async def compute(x: int) -> int:
        return x

    real_lookup = entries.lookup

    def lookup(backend: Any, key: Any, groups: Any) -> Any:
        clock.now += 1
        return real_lookup(backend, key, groups)

    monkeypatch.setattr(entries, "lookup", lookup)
    locmem.add(f"{compute.cache_key(4)}:lock", "stuck", 30)
    with override_settings(CACHING_LOCK_WAIT=3):
        assert run_async(compute(4)) == 4


@pytest.mark.django_db(transaction=True)
def test_async_functions_bypass_inside_a_writing_transaction(locmem: Any) -> None:
    from django.db import transaction

    from perfsite.models import Post
    from tests.perfsite.factories import make_post

    calls: list[int] = []

    @cache_result(60, depends_on=[Post])
    async def compute() -> int:
        calls.append(1)
        return len(calls)

    with transaction.atomic():
        make_post()
        coroutine = compute()  # the bypass is decided on this thread
        assert run_async(coroutine) == 1
        assert run_async(compute()) == 2
