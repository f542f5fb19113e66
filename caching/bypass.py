"""``bypass()``: caching off for a block of code, in this thread or task.

Inside ``with bypass():`` every ``cache_result`` function computes (it reads
and stores nothing) and the response cache stays out of the request (no
stored page, no 304, nothing stored): the site answers as it would with no
cache at all, in the same database state. For debugging a suspected stale
page, and for the differential test, which compares each cached response with
the uncached one.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_off: ContextVar[bool] = ContextVar("caching_bypass", default=False)


@contextmanager
def bypass() -> Iterator[None]:
    token = _off.set(True)
    try:
        yield
    finally:
        _off.reset(token)


def bypassed() -> bool:
    return _off.get()
