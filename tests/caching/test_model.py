"""A model-based test of ``FailoverCache`` and its breaker under real faults.

Hypothesis draws sequences that interleave faults of a real ``redis-server``
(stopped, hung with ``SIGSTOP``, out of memory under ``noeviction``, demoted to
a read-only replica, junk under a key) with every public cache method,
``cache_result`` calls (slow ones too), group invalidations, statistics
flushes and the admin's figures. A model of what each key may hold checks:

- no Redis exception ever reaches the caller;
- once Redis has been healthy for ``CACHING_BREAKER_COOLDOWN_MAX`` plus a
  margin, the process is back on Redis with nothing left to replay;
- after recovery, no read returns a value written or invalidated during the
  outage, and ``cache_result`` never serves a value computed before a group
  invalidation.

The breaker's clock is injected, so the cooldowns cost no waiting.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
import redis as redis_py
from django.core.cache import caches
from django.test import override_settings
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from caching import report, stats
from caching.breaker import State
from caching.conf import conf
from caching.decorators import cache_result
from caching.invalidation import invalidate_group
from tests.caching.conftest import (
    FakeClock,
    accept_writes,
    failover_settings,
    forget_state,
    refuse_writes,
)
from tests.support.services import RedisServer

pytestmark = [pytest.mark.redis, pytest.mark.slow]

KEYS = st.sampled_from(["a", "b", "c"])
VALUES = st.integers(0, 1000)
ABSENT = object()  # the model knows the key is not there
ANY = object()  # the model cannot know (written while Redis was out)
FAULTS = ("stopped", "hung", "oom", "readonly")
FIRST_CALLS = ("get", "flush", "admin", "cached")


class FailoverMachine(RuleBasedStateMachine):
    redis: RedisServer  # set by the test

    def __init__(self) -> None:
        super().__init__()
        forget_state()
        self.redis.start()
        self.redis.flushall()
        self.settings = override_settings(
            # Short timeouts: a hung Redis costs each call this long.
            CACHES=failover_settings(
                self.redis.url, SOCKET_TIMEOUT=0.05, SOCKET_CONNECT_TIMEOUT=0.05
            )
        )
        self.settings.enable()
        self.cache: Any = caches["default"]
        self.clock = FakeClock()
        self.cache.breaker.clock = self.clock
        self.raw = redis_py.Redis.from_url(self.redis.url, socket_timeout=5)
        self.fault: str | None = None
        self.opened = False  # the breaker opened during the current fault
        self.model: dict[str, object] = {}  # key -> value, ABSENT or ANY
        self.touched: set[str] = set()  # written since the fault began
        self.generation = 0  # bumped by every invalidation of group "g"
        self.counter = itertools.count()
        self.computed = cache_result(600, groups=["g"], key_prefix=f"model{id(self)}")(
            self._compute
        )

    def _compute(self, n: int, slow: bool) -> tuple[int, int]:
        if slow:  # the computation outlasts the breaker's cooldown
            self.clock.now += 2 * conf.BREAKER_COOLDOWN_MAX
        return n, self.generation

    # -- faults ---------------------------------------------------------------

    @initialize()
    def healthy(self) -> None:
        assert self.cache.breaker.state is State.CLOSED

    @precondition(lambda self: self.fault is None)
    @rule(fault=st.sampled_from(FAULTS))
    def break_redis(self, fault: str) -> None:
        self.fault = fault
        self.touched = set()
        self.opened = False
        if fault == "stopped":
            self.redis.stop()
        elif fault == "hung":
            self.redis.pause()
        else:
            refuse_writes(self.raw, "OOM" if fault == "oom" else "READONLY")

    @precondition(lambda self: self.fault is not None)
    @rule(first=st.sampled_from(FIRST_CALLS))
    def heal(self, first: str) -> None:
        """Redis healthy again for COOLDOWN_MAX plus a margin: back on Redis.

        Whichever path comes first after the cooldown (a cache call, a
        statistics flush, the admin's figures, a cached function) is handed
        the probe, and must bring the process back.
        """
        fault, self.fault = self.fault, None
        if fault == "stopped":
            self.redis.start()
        elif fault == "hung":
            self.redis.resume()
        else:
            accept_writes(self.raw)
        self.clock.now += conf.BREAKER_COOLDOWN_MAX + 0.1
        epoch = self.cache.health()["epoch"]
        if first == "flush":
            self.flush_statistics()
        elif first == "admin":
            self.admin_figures()
        elif first == "cached":
            self.computed(0, False)
        self.cache.get("any-call")
        assert self.cache.breaker.state is State.CLOSED
        health = self.cache.health()
        assert health["missed"] == 0 and not health["overflow"]
        if self.opened:  # another process's lost invalidation is covered too
            assert health["epoch"] != epoch, "no namespace bump after an outage"
        if fault == "stopped" or health["epoch"] != epoch:
            # A restarted server, or a new namespace: nothing from before.
            self.model = dict.fromkeys(self.model, ABSENT)
        for key in self.touched:  # written during the outage: gone, never old
            self.model[key] = ABSENT

    @invariant()
    def note_an_open_breaker(self) -> None:
        if self.fault is not None and not self.cache.breaker.closed:
            self.opened = True

    @rule()
    def wait_a_cooldown(self) -> None:
        self.clock.now += self.cache.breaker.cooldown

    @precondition(lambda self: self.fault is None)
    @rule(key=KEYS, junk=st.sampled_from([b"\x80\x09K\x01.", b"(.", b"\xff"]))
    def junk(self, key: str, junk: bytes) -> None:
        self.raw.set(self.cache._primary.make_key(key), junk)
        self.model[key] = ABSENT  # a miss, whatever the bytes

    # -- the cache API ----------------------------------------------------------

    def _healthy(self) -> bool:
        return self.fault is None and self.cache.breaker.closed

    def _wrote(self, key: str, value: object) -> None:
        if self._healthy():
            self.model[key] = value
        else:
            self.model[key] = ANY
            self.touched.add(key)

    def _check(self, key: str, got: object) -> None:
        expected = self.model.get(key, ABSENT)
        if not self._healthy() or expected is ANY:
            return  # during an outage the fallback may hold anything
        assert got == (None if expected is ABSENT else expected), (key, got, expected)

    @rule(key=KEYS, value=VALUES)
    def set(self, key: str, value: int) -> None:
        self.cache.set(key, value)
        self._wrote(key, value)

    @rule(key=KEYS)
    def get(self, key: str) -> None:
        self._check(key, self.cache.get(key))

    @rule(keys=st.lists(KEYS, max_size=3))
    def get_many(self, keys: list[str]) -> None:
        found = self.cache.get_many(keys)
        for key in keys:
            self._check(key, found.get(key))

    @rule(data=st.dictionaries(KEYS, VALUES, max_size=3))
    def set_many(self, data: dict[str, int]) -> None:
        self.cache.set_many(data)
        for key, value in data.items():
            self._wrote(key, value)

    @rule(key=KEYS)
    def delete(self, key: str) -> None:
        self.cache.delete(key)
        self._wrote(key, ABSENT)

    @rule(keys=st.lists(KEYS, max_size=3))
    def delete_many(self, keys: list[str]) -> None:
        self.cache.delete_many(keys)
        for key in keys:
            self._wrote(key, ABSENT)

    @rule(key=KEYS, value=VALUES)
    def add(self, key: str, value: int) -> None:
        before = self.model.get(key, ABSENT)
        added = self.cache.add(key, value)
        if self._healthy() and before is not ANY:
            assert added == (before is ABSENT), (key, before)
        self._wrote(key, value if added else before)

    @rule(key=KEYS)
    def incr(self, key: str) -> None:
        before = self.model.get(key, ABSENT)
        try:
            self.cache.incr(key)
        except ValueError:  # absent: Django's contract, not a Redis error
            return
        self._wrote(key, before + 1 if isinstance(before, int) else ANY)

    @rule(key=KEYS)
    def has_key(self, key: str) -> None:
        found = self.cache.has_key(key)
        expected = self.model.get(key, ABSENT)
        if self._healthy() and expected is not ANY:
            assert found == (expected is not ABSENT)

    @rule(key=KEYS)
    def touch(self, key: str) -> None:
        self.cache.touch(key, 600)
        if not self._healthy():  # not a write of the value: old or absent
            self.model[key] = ANY

    @rule()
    def clear(self) -> None:
        self.cache.clear()
        for key in self.model:
            self._wrote(key, ABSENT)

    # -- cache_result, invalidation, statistics, the admin ----------------------

    @rule(n=st.integers(0, 2), slow=st.booleans())
    def cached_call(self, n: int, slow: bool) -> None:
        generation = self.generation
        value = self.computed(n, slow)
        assert value[0] == n
        if self._healthy():
            assert value[1] == generation, "served from before an invalidation"

    @rule()
    def invalidate(self) -> None:
        self.generation += 1
        invalidate_group("g")

    @rule()
    def flush_statistics(self) -> None:
        stats.record("model", "hits", next(self.counter))
        stats.flush()

    @rule()
    def admin_figures(self) -> None:
        report.backends()

    def teardown(self) -> None:
        if self.fault == "hung":
            self.redis.resume()
        self.redis.start()
        accept_writes(self.raw)
        self.raw.close()
        self.settings.disable()
        forget_state()


def model_settings(**overrides: Any) -> settings:
    return settings(
        max_examples=20,
        stateful_step_count=30,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
        **overrides,
    )


@pytest.mark.parametrize(
    "options",
    [{"derandomize": True, "database": None}, {}],
    ids=["fixed seed", "random seed"],
)
def test_failover_model(redis: RedisServer, options: dict[str, Any]) -> None:
    FailoverMachine.redis = redis
    run_state_machine_as_test(FailoverMachine, settings=model_settings(**options))
