"""Versioned entries: lookup, store, the stampede lock and stale-while-revalidate.

The one engine behind ``cache_result`` and the HTTP response cache. An entry
is the value plus the versions of its groups read *before* the value was
computed, and the wall-clock time until which it is fresh. On the wire it is
a plain tagged tuple (cheap to unpickle); anything else found under an entry
key (another program's value, an older layout, bytes that do not unpickle) is
a miss.

A lookup is one ``get_many`` of the entry and its group keys (with Redis
replicas, two: the versions from the primary, the entry from a replica). A cold miss
(groups already known) then costs the lock (``SET NX PX`` plus a ``GET`` in one
round trip), one ``set`` of the entry and the lock's release: one read and one
write besides the lock. A group nobody has stored under yet gets a version at
the lookup that is written (``add``) only with the entry: a lookup that stores
nothing, a 404 say, leaves no key behind.

``plan`` decides what a caller does (serve, or compute under the lock, or
compute after waiting); ``finish`` stores and releases. The adapters call the
two around their own computation, synchronously or from an event loop.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from caching import locks, versions
from caching.conf import conf
from caching.errors import DECODE_ERRORS, REDIS_ERRORS
from caching.keys import group_key
from caching.versions import Seeds

HIT, STALE, MISS = "hit", "stale", "miss"
WAIT = "wait"  # another caller computes: poll (``poll``) for its result
_TAG = "cr-entry-1"
POLL = 0.02  # seconds between two looks at a key another caller is computing
# Injected by tests: ``clock`` times lock waits, ``wall`` dates entries (shared
# across processes, so wall-clock time).
clock: Callable[[], float] = time.monotonic
wall: Callable[[], float] = time.time


@dataclass(frozen=True, slots=True)
class Entry:
    versions: tuple[int, ...]
    fresh_until: float  # wall-clock seconds
    value: Any

    def pack(self) -> tuple[Any, ...]:
        return (_TAG, self.versions, self.fresh_until, self.value)

    @classmethod
    def unpack(cls, raw: Any) -> Entry | None:
        if (
            type(raw) is tuple
            and len(raw) == 4
            and raw[0] == _TAG
            and type(raw[1]) is tuple
            and type(raw[2]) is float
        ):
            return cls(raw[1], raw[2], raw[3])
        return None


@dataclass(frozen=True, slots=True)
class Lookup:
    status: str  # HIT, STALE or MISS
    entry: Entry | None  # only when its versions are current
    versions: tuple[int, ...]
    seeds: Seeds = ()  # missing groups' versions, written on store


def lookup(backend: Any, key: str | None, groups: Sequence[str]) -> Lookup:
    """The entry at ``key`` (``None``: versions only) and the current versions."""
    group_keys = [group_key(g) for g in groups]
    try:
        found = versions.read(backend, () if key is None else [key], group_keys)
    except DECODE_ERRORS:  # a plain backend that could not unpickle something
        if key is not None:
            backend.delete(key)
        found = backend.get_many(group_keys)
    return judge(backend, key, groups, found)


def judge(
    backend: Any, key: str | None, groups: Sequence[str], found: Mapping[str, Any]
) -> Lookup:
    """What a read of the entry and its group keys (``found``) says."""
    current, seeds = versions.seed(backend, groups, found)
    entry = None if key is None else Entry.unpack(found.get(key))
    if entry is None or entry.versions != current:
        return Lookup(MISS, None, current, seeds)
    return Lookup(HIT if wall() < entry.fresh_until else STALE, entry, current)


async def alookup(
    backend: Any, key: str | None, groups: Sequence[str]
) -> Lookup | None:
    """``lookup`` from an event loop, or None when only the sync one can answer
    (junk under a group key to delete: a rare write).

    The read is ``peek_current`` (``FailoverCache``: the near cache alone, no
    I/O) when it has every key, else ``aread_current``, else ``aget_many``.
    """
    group_keys = [group_key(g) for g in groups]
    keys = () if key is None else (key,)
    peek = getattr(backend, "peek_current", None)
    found = None if peek is None else peek(keys, group_keys)
    if found is None:
        aread = getattr(backend, "aread_current", None)
        try:
            if aread is not None:
                found = await aread(keys, group_keys)
            else:
                found = await backend.aget_many([*keys, *group_keys])
        except DECODE_ERRORS:
            return None
    if any(found.get(k) is not None and type(found[k]) is not int for k in group_keys):
        return None  # junk under a group key
    return judge(backend, key, groups, found)  # no junk: writes nothing


@dataclass(frozen=True, slots=True)
class Plan:
    """What to do: serve ``entry`` (HIT/STALE) or compute (MISS), maybe locked."""

    status: str
    entry: Entry | None
    versions: tuple[int, ...]
    token: str | None = None
    waited: bool = False
    error: bool = False  # the cache failed: compute and store nothing
    seeds: Seeds = ()  # see ``Lookup``

    @property
    def value(self) -> Any:
        assert self.entry is not None
        return self.entry.value


def plan(
    backend: Any,
    key: str,
    groups: Sequence[str],
    *,
    lock: bool,
    found: Lookup | None = None,
    wait: bool = True,
) -> Plan:
    """``found``: a lookup the caller already made for this key; ``wait=False``
    returns a WAIT plan instead of polling here (an event loop polls itself)."""
    if found is None:
        try:
            found = lookup(backend, key, groups)
        except REDIS_ERRORS:  # a plain django-redis backend that raised
            return Plan(MISS, None, (), error=True)
    if found.status == HIT or (found.status == MISS and not lock):
        return Plan(found.status, found.entry, found.versions, seeds=found.seeds)
    claim = locks.acquire(backend, key)
    if claim.token is not None:
        if found.status == MISS and claim.just_done:
            # Stored between the lookup and the lock: look again, once.
            again = lookup(backend, key, groups)
            if again.status == HIT:
                locks.release(backend, key, claim.token, stored=True)
                return Plan(HIT, again.entry, again.versions)
        return Plan(
            MISS, found.entry, found.versions, token=claim.token, seeds=found.seeds
        )
    if found.status == STALE:  # another caller refreshes it
        return Plan(STALE, found.entry, found.versions)
    if not wait:
        return Plan(WAIT, None, found.versions, seeds=found.seeds)
    deadline = clock() + conf.LOCK_WAIT
    while clock() < deadline:
        time.sleep(POLL)
        outcome = poll(backend, key, groups)
        if outcome is not None:
            return outcome
    return gave_up(found)


def poll(backend: Any, key: str, groups: Sequence[str]) -> Plan | None:
    """One look while another caller computes: its result, a go-ahead, or None."""
    # The lock first: a holder stores before it releases, so a lock seen free
    # before the lookup means the lookup sees whatever it stored.
    free = not locks.held(backend, key)
    found = lookup(backend, key, groups)
    if found.status != MISS:
        return Plan(found.status, found.entry, found.versions, waited=True)
    if free:  # the holder stored nothing (or gave up): compute
        return Plan(MISS, None, found.versions, waited=True, seeds=found.seeds)
    return None


def gave_up(found: Lookup | Plan) -> Plan:
    """Waited ``CACHING_LOCK_WAIT`` seconds in vain: compute, unlocked."""
    return Plan(MISS, None, found.versions, waited=True, seeds=found.seeds)


def finish(
    backend: Any,
    key: str,
    plan: Plan,
    value: Any,
    *,
    timeout: float,
    stale_timeout: float = 0,
    store: bool = True,
) -> bool:
    """Store ``value`` under the versions read before it was computed; release.

    False when nothing was stored: not asked to, the cache failed, or a group
    seeded by the lookup was created or bumped meanwhile (``versions.persist``).
    """
    stored = False
    try:
        if store and not plan.error and versions.persist(backend, plan.seeds):
            # Spread expiries: a batch filled together does not expire together.
            fresh = timeout * (1 - conf.JITTER * random.random())
            entry = Entry(plan.versions, wall() + fresh, value)
            backend.set(key, entry.pack(), math.ceil(fresh + stale_timeout))
            stored = True
    finally:
        locks.release(backend, key, plan.token, stored=stored)
    return stored


def abandon(backend: Any, key: str, plan: Plan) -> None:
    """The computation failed: free the lock for the next caller."""
    locks.release(backend, key, plan.token, stored=False)
