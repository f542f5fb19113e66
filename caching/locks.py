"""The stampede lock of an entry: one computing caller per key, across processes.

On Redis (a ``FailoverCache`` whose breaker is closed, or a django-redis
cache) the lock is taken on the primary with ``SET NX PX`` and released by a
Lua script that deletes it only if it still holds the caller's token, so a
holder whose lock expired never frees someone else's.

A holder that stored its value leaves a short-lived "done" key as it
releases. A caller that acquires the lock reads that key in the same round
trip: if it is there, the entry landed between the caller's lookup and its
lock, and the caller looks again instead of computing a second time.

On any other backend (LocMem, a fallback while Redis is down) the same steps
run through ``add``/``get``/``delete``: atomic within one process's LocMem,
best effort elsewhere.
"""

from __future__ import annotations

import contextlib
import math
import secrets
from typing import Any, NamedTuple

from caching.conf import conf
from caching.errors import REDIS_ERRORS
from caching.health import reporting
from caching.keys import done_key, lock_key

DONE_MS = 1000  # milliseconds a "done" key lives: longer than a lookup + acquire

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    redis.call('DEL', KEYS[1])
    if ARGV[2] == '1' then
        redis.call('SET', KEYS[2], '1', 'PX', ARGV[3])
    end
    return 1
end
return 0
"""


class Claim(NamedTuple):
    token: str | None  # None: someone else holds the lock
    just_done: bool  # a holder stored the entry a moment ago


def _redis(backend: Any) -> Any:
    """The primary's redis-py client, or None to use the cache API."""
    reporter = reporting(backend)
    if reporter is not None:  # FailoverCache: routes (and probes) like its calls
        return reporter.redis()  # None while on its fallback
    client = getattr(backend, "client", None)  # django-redis
    if client is not None and hasattr(client, "get_client"):
        return client.get_client(write=True)
    return None


def acquire(backend: Any, key: str) -> Claim:
    token = secrets.token_hex(8)
    client = _redis(backend)
    if client is not None:
        try:
            with client.pipeline(transaction=False) as pipe:
                pipe.set(
                    backend.make_key(lock_key(key)),
                    token,
                    nx=True,
                    px=math.ceil(conf.LOCK_TIMEOUT * 1000),
                )
                pipe.get(backend.make_key(done_key(key)))
                taken, done = pipe.execute()
        except REDIS_ERRORS:
            return Claim(None, False)  # compute without the lock
        return Claim(token if taken else None, done is not None)
    taken = backend.add(lock_key(key), token, math.ceil(conf.LOCK_TIMEOUT))
    done = taken and backend.get(done_key(key)) is not None
    return Claim(token if taken else None, bool(done))


def release(backend: Any, key: str, token: str | None, stored: bool) -> None:
    if token is None:
        return
    client = _redis(backend)
    if client is not None:
        with contextlib.suppress(*REDIS_ERRORS):  # it expires on its own
            client.eval(
                _RELEASE,
                2,
                backend.make_key(lock_key(key)),
                backend.make_key(done_key(key)),
                token,
                "1" if stored else "0",
                DONE_MS,
            )
        return
    if backend.get(lock_key(key)) == token:
        backend.delete(lock_key(key))
        if stored:
            backend.set(done_key(key), 1, math.ceil(DONE_MS / 1000))


def held(backend: Any, key: str) -> bool:
    """Whether someone holds the lock now (waiters stop waiting when not)."""
    client = _redis(backend)
    if client is not None:
        try:
            return bool(client.exists(backend.make_key(lock_key(key))))
        except REDIS_ERRORS:
            return False
    return backend.get(lock_key(key)) is not None
