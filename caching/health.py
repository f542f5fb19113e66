"""The typed contract between a cache backend and the app's other parts.

``caching.stats`` (flushes to Redis), ``caching.locks`` (compare-and-delete on
the primary), ``caching.decorators`` (fallback counts) and the admin's Cache
statistics page read a backend through ``HealthReporting`` and nothing else:
``FailoverCache`` implements it; a plain Django backend does not, and is then
treated as having no Redis and no breaker.
"""

from __future__ import annotations

from typing import Any, Protocol, TypedDict, runtime_checkable

from caching.breaker import State, Transition


class Health(TypedDict):
    backend: str
    state: State
    failures: int
    refusals: int
    cooldown: float
    history: list[Transition]
    fallback_serves: int
    missed: int
    overflow: bool
    epoch: int


class PurgeHealth(TypedDict):
    """One purge target's queue in this process (``caching.purge``)."""

    target: str
    pending: int  # tags waiting
    limit: int  # CACHING_PURGE_QUEUE
    delivered: int
    failures: int  # consecutive failed requests now; 0 when healthy
    dropped: int  # tags refused by a full queue
    expired: int  # tags dropped after CACHING_SHARED_MAX_AGE
    last_error: str


@runtime_checkable
class HealthReporting(Protocol):
    def redis(self) -> Any | None:
        """The primary's redis-py client, or None while Redis is not in use.

        Routes like a cache call: the caller that gets the breaker's probe
        probes and reports, so using it never leaves the breaker half-open.
        """

    def health(self) -> Health: ...

    def redis_info(self) -> dict[str, Any] | None:
        """A few Redis ``INFO`` figures, or None when Redis is not reachable."""

    @property
    def on_fallback(self) -> bool:
        """Whether calls go to the in-process fallback now (breaker not closed)."""


_known: dict[type, bool] = {}


def reporting(backend: Any) -> HealthReporting | None:
    """``backend`` as a ``HealthReporting``, or None for a plain Django cache."""
    # isinstance() against a runtime Protocol inspects every member; a cache
    # call's hot path asks once per backend class.
    kind = type(backend)
    known = _known.get(kind)
    if known is None:
        known = _known[kind] = isinstance(backend, HealthReporting)
    return backend if known else None
