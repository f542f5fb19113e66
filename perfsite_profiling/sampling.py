"""Bounded names and budgets: what a client can vary must not grow a table.

Endpoints are keyed by method and route pattern. The route comes from the
URLconf (bounded by the code); the method comes from the client, so any method
outside the standard set is counted under ``OTHER``. The sampling budget keeps
one entry per endpoint and at most ``MAX_BUDGETS`` of them: beyond that,
expired entries are dropped, and if none has expired the newcomers share one
budget.
"""

from __future__ import annotations

import threading
from http import HTTPMethod

from django.http import HttpRequest

from perfsite_profiling.conf import conf
from perfsite_profiling.store import MAX_ENDPOINTS, OTHER

HOUR_NS = 3600 * 10**9
METHODS = frozenset(m.value for m in HTTPMethod)
OTHER_METHOD = "OTHER"
MAX_BUDGETS = MAX_ENDPOINTS

_budget: dict[str, tuple[int, int]] = {}  # endpoint -> (hour start ns, taken)
_lock = threading.Lock()


def endpoint_of(request: HttpRequest) -> str:
    method = request.method if request.method in METHODS else OTHER_METHOD
    match = request.resolver_match
    route = f"/{match.route}" if match is not None else "(unresolved)"
    return f"{method} {route}"


def speculative(request: HttpRequest) -> bool:
    """A browser's prefetch or prerender (``Sec-Purpose``), not a visit.

    Such a request is never sampled: the visitor may never see the page, and
    a prefetch must not take an endpoint's sampling budget.
    """
    purpose = request.headers.get("Sec-Purpose") or request.headers.get("Purpose", "")
    return purpose.strip().lower().startswith("prefetch")


def _make_room(now_ns: int) -> None:
    for name in [n for n, (start, _) in _budget.items() if now_ns - start >= HOUR_NS]:
        del _budget[name]


def within_budget(endpoint: str, now_ns: int) -> bool:
    """Take one of this process's sampled profiles of ``endpoint`` for this hour."""
    with _lock:
        if endpoint not in _budget and len(_budget) >= MAX_BUDGETS:
            _make_room(now_ns)
            if len(_budget) >= MAX_BUDGETS:
                endpoint = OTHER
        start, used = _budget.get(endpoint, (now_ns, 0))
        if now_ns - start >= HOUR_NS:
            start, used = now_ns, 0
        if used >= conf.SAMPLE_BUDGET:
            return False
        _budget[endpoint] = (start, used + 1)
        return True


def reset() -> None:
    """Forget every budget (tests start from a known state)."""
    with _lock:
        _budget.clear()
