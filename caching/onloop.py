"""The response cache on an event loop (ASGI): hits and 304s without a thread.

``ResponseCacheMiddleware`` under ASGI runs ``ahandle``. The lookup is
``entries.alookup``: from the near cache when every key is there (nothing is
awaited), else through the cache's async read. What the lookup decides (a 304,
a stored 200, run the view) is computed on the loop, as it does no I/O. Only
what needs the stampede lock (a missing or expired entry) and the store after
the view ran go through ``sync_to_async``: they are network round trips the
sync engine makes, and a miss pays for a view anyway.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponseBase

from caching import entries, stats, versions
from caching.errors import REDIS_ERRORS

if TYPE_CHECKING:
    from caching.exchange import Exchange

AsyncGetResponse = Callable[[HttpRequest], Awaitable[HttpResponseBase]]


async def abegin(exchange: Exchange) -> HttpResponseBase | None:
    """``Exchange.begin`` from an event loop."""
    from caching.exchange import UNDECIDED

    policy = exchange.policy
    try:
        found = await entries.alookup(
            exchange.backend, exchange.key if policy.timeout else None, exchange.groups
        )
    except REDIS_ERRORS:  # a plain django-redis backend that raised
        stats.record(policy.name, "errors")
        return None
    if found is None:  # junk to delete: the sync engine's job
        return await sync_to_async(exchange.begin)()
    early = exchange.answer(found)
    if early is UNDECIDED:
        return await sync_to_async(exchange.refresh)(found)
    return early


async def ahandle(
    request: HttpRequest,
    exchange: Exchange | None,
    get_response: AsyncGetResponse,
    opened: Callable[[HttpRequest], Exchange | None],
) -> HttpResponseBase:
    """``caching.exchange.handle`` for an exchange opened on the loop."""
    if exchange is not None:
        early = await abegin(exchange)
        if early is not None:
            return early
    seeds = () if exchange is None else exchange.plan.seeds
    with versions.computing(seeds):  # see caching.exchange.handle
        response = await get_response(request)
    current = opened(request)
    if current is None:
        return response
    return await sync_to_async(current.end)(response)


async def aprocess_view(
    request: HttpRequest, open_exchange: Callable[[], Exchange | None]
) -> HttpResponseBase | None:
    """A ``per_user`` page: the user is read from the database (a thread), then
    the lookup runs as for every page."""
    exchange = await sync_to_async(open_exchange)()
    if exchange is None:
        return None
    early = await abegin(exchange)
    if early is None:  # the view runs inside ahandle's ``computing`` block
        versions.enter(exchange.plan.seeds)
    return early
