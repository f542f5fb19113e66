"""Under ASGI the apps' middleware run on the event loop: Django adapts none,
and a stored page or a 304 is answered without a trip to a worker thread."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from asgiref.sync import SyncToAsync
from django.conf import settings
from django.core.cache import caches
from django.core.handlers.base import BaseHandler
from django.test import AsyncRequestFactory
from django.utils.module_loading import import_string

from tests.caching import site
from tests.caching.conftest import failover_settings, forget_state
from tests.caching.test_near import wait_until
from tests.support.services import RedisServer

APPS = ("caching.", "assets.", "perfsite_profiling.", "perfsite.")
pytestmark = pytest.mark.django_db(transaction=True)


def app_middleware() -> list[str]:
    return [path for path in settings.MIDDLEWARE if path.startswith(APPS)]


def test_every_middleware_of_the_apps_is_sync_and_async_capable() -> None:
    for path in app_middleware():
        middleware = import_string(path)
        assert middleware.sync_capable, path
        assert middleware.async_capable, path


def test_django_adapts_none_of_the_apps_middleware_under_asgi(
    caplog: pytest.LogCaptureFixture,
) -> None:
    handler = BaseHandler()
    with caplog.at_level(logging.DEBUG, logger="django.request"):
        handler.load_middleware(is_async=True)
    adapted = [r.getMessage() for r in caplog.records if "adapted" in r.getMessage()]
    assert adapted == []
    # process_view hooks too: an adapted one is a SyncToAsync around the method.
    wrapped = [m.func for m in handler._view_middleware if isinstance(m, SyncToAsync)]
    owners = {type(f.__self__).__module__ for f in wrapped}
    assert not {o for o in owners if o.startswith(APPS)}


class Hops:
    """Counts every way into a worker thread: ``sync_to_async`` (asgiref) and
    the loop's executor."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def wrap(self, name: str, call: Callable[..., Any]) -> Callable[..., Any]:
        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(name)
            return call(*args, **kwargs)

        return counted


@pytest.fixture
def asgi_stack(
    settings: Any, redis: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[BaseHandler, Hops]]:
    """The site's middleware loaded for ASGI on a FailoverCache whose near cache
    is live, with the thread hops counted."""
    forget_state()
    settings.CACHES = failover_settings(redis.url)
    settings.ROOT_URLCONF = "tests.caching.site"
    cache = caches["default"]
    cache.get("warm-up")  # starts the tracker
    wait_until(lambda: cache.near_stats()["live"], "the tracking connection")
    handler = BaseHandler()
    handler.load_middleware(is_async=True)
    hops = Hops()
    original = SyncToAsync.__call__

    def counted(self: SyncToAsync[Any, Any], *args: Any, **kwargs: Any) -> Any:
        hops.calls.append(repr(self.func))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(SyncToAsync, "__call__", counted)
    yield handler, hops
    forget_state()


def get(handler: BaseHandler, hops: Hops, path: str, **headers: str) -> Any:
    async def run() -> Any:
        loop = asyncio.get_running_loop()
        loop.run_in_executor = hops.wrap("executor", loop.run_in_executor)  # type: ignore[method-assign]
        request = AsyncRequestFactory().get(path, headers=headers)
        return await handler.get_response_async(request)

    return asyncio.run(run())


def test_a_stored_page_and_a_304_are_answered_on_the_loop(
    asgi_stack: tuple[BaseHandler, Hops],
) -> None:
    handler, hops = asgi_stack
    site.renders.clear()
    first = get(handler, hops, "/t/host/1/", accept_encoding="gzip")
    assert first.status_code == 200 and site.renders == ["host"]
    assert hops.calls  # a miss stores through the sync engine
    hops.calls.clear()
    # The first hit reads Redis through redis.asyncio and keeps near copies.
    assert get(handler, hops, "/t/host/1/", accept_encoding="gzip").content
    assert hops.calls == []
    assert caches["default"].near_sync()  # this process's own writes echoed
    hit = get(handler, hops, "/t/host/1/", accept_encoding="gzip")
    hit_body = hit.content
    assert hit.status_code == 200 and site.renders == ["host"]
    assert hit["Content-Encoding"] == "gzip"
    # Not a worker thread's: the near cache answered without a single await.
    assert hops.calls == []
    not_modified = get(handler, hops, "/t/host/1/", if_none_match=first["ETag"])
    assert not_modified.status_code == 304
    assert hops.calls == []
    assert hit_body == first.content


def test_a_per_user_page_under_asgi_is_kept_for_its_user(
    asgi_stack: tuple[BaseHandler, Hops],
) -> None:
    from asgiref.sync import async_to_sync
    from django.contrib.auth.models import User
    from django.test import AsyncClient

    User.objects.create_user("ann", password="pw")
    client = AsyncClient()
    client.force_login(User.objects.get(username="ann"))
    site.renders.clear()
    first = async_to_sync(client.get)("/t/mine/")
    again = async_to_sync(client.get)("/t/mine/")
    assert first.content == again.content == b"hello ann"
    assert site.renders == ["mine"]
    assert "private" in again["Cache-Control"]


def test_an_async_cache_result_hit_stays_on_the_loop(
    asgi_stack: tuple[BaseHandler, Hops],
) -> None:
    from caching.decorators import cache_result

    _, hops = asgi_stack
    calls: list[int] = []

    @cache_result(60, groups=["t-async"])
    async def upstream(n: int) -> int:
        calls.append(n)
        await asyncio.sleep(0)
        return n * 2

    async def twice() -> tuple[int, int, list[str]]:
        first = await upstream(21)
        hops.calls.clear()
        second = await upstream(21)
        return first, second, list(hops.calls)

    first, second, during_hit = asyncio.run(twice())
    assert (first, second, calls) == (42, 42, [21])
    assert during_hit == []


def test_with_redis_down_the_async_read_falls_back(
    asgi_stack: tuple[BaseHandler, Hops], redis: RedisServer
) -> None:
    handler, hops = asgi_stack
    site.renders.clear()
    assert get(handler, hops, "/t/host/2/").status_code == 200
    redis.stop()
    try:
        answers = [get(handler, hops, "/t/host/2/").status_code for _ in range(3)]
        health = caches["default"].health()
    finally:
        redis.start()
    assert answers == [200, 200, 200]
    assert health["failures"] >= 1 or health["state"] != "closed"


def test_the_apps_process_view_hooks_stay_on_the_loop_for_a_plain_view(
    asgi_stack: tuple[BaseHandler, Hops],
) -> None:
    """Django's own middleware below the cache still go to threads; the apps' do not."""
    handler, hops = asgi_stack
    assert get(handler, hops, "/api/health").status_code == 200
    ours = [c for c in hops.calls if "ResponseCache" in c or "Profiling" in c]
    assert ours == []
