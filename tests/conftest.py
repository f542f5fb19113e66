from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import settings as hypothesis_settings

from tests.support.cluster import RedisCluster
from tests.support.sentinel import SentinelCluster
from tests.support.services import (
    CHROMIUM_ARGS,
    RedisServer,
    chromium_binary,
    fresh,
    missing,
    postgres_url,
    redis_binary,
    running,
)

# The differential test's long run: ``--hypothesis-profile long`` (1,000
# sequences of at most 30 steps: about 26,000 steps per backend, the test
# prints how many ran when given -s).
hypothesis_settings.register_profile("long", max_examples=1000, stateful_step_count=30)

# Fixtures that start a private redis-server (directly or through another).
REDIS_FIXTURES = frozenset(
    {
        "redis_server",
        "redis",
        "failover",
        "sentinel_cluster",
        "cluster_server",
        "cluster",
        "clustered",
    }
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that needs a Redis fixture, however indirectly, is marked
    ``redis``, so ``-m "not redis"`` runs without a redis-server. A fixture
    parametrized by fixture names (``request.getfixturevalue(param)``) counts
    by its parameter. (Tests that start a server of their own carry the mark
    in their module.)"""
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        callspec = getattr(item, "callspec", None)
        if callspec is not None:
            names.update(v for v in callspec.params.values() if isinstance(v, str))
        if REDIS_FIXTURES & names:
            item.add_marker(pytest.mark.redis)


@pytest.fixture(autouse=True)
def _no_counts_left() -> Iterator[None]:
    """Views counted and requests measured by a test are not flushed into
    another test's database (nor at exit, when the test database is gone)."""
    yield
    from caching import counters
    from perfsite_profiling import profiles
    from perfsite_profiling.store import aggregator

    counters.reset()
    aggregator.reset()
    profiles.reset()


@pytest.fixture(autouse=True)
def _names_claimed_by_a_test_are_dropped() -> Iterator[None]:
    """A cached function or view a test defines gives its name up after the
    test (pytest keeps a test's fixture values alive), so the next test may
    define one of that name; the modules' own claims stay."""
    from caching import identity

    state = identity.snapshot()
    yield
    identity.restore(state)


@pytest.fixture(autouse=True)
def _main_thread_without_the_browser_s_loop(
    request: pytest.FixtureRequest,
) -> Iterator[None]:
    """Playwright's sync API leaves its event loop marked as running in the
    main thread for as long as the session's browser lives. A test that does
    not use the browser runs without it: ``asyncio.run``, ``async_to_sync``
    and the apps' "am I on an event loop?" see the thread as it is in a
    worker (nothing drives the browser's loop meanwhile)."""
    loop = asyncio._get_running_loop()
    if loop is None or "browser" in request.fixturenames:
        yield
        return
    asyncio._set_running_loop(None)
    try:
        yield
    finally:
        asyncio._set_running_loop(loop)


@pytest.fixture
def no_confusable_views() -> None:
    """For the duration of a test, forget the names the suite's own confusable
    views made ambiguous on purpose (``tests.caching.views_site``)."""
    from caching import identity

    identity.restore(({}, set()))


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A private redis-server for the whole session; tests may stop/restart it."""
    yield from running(RedisServer(redis_binary()))


@pytest.fixture
def redis(redis_server: RedisServer) -> Iterator[RedisServer]:
    """The session's redis-server, running and empty at the start of the test."""
    yield from fresh(redis_server)


@pytest.fixture(scope="session")
def cluster_server() -> Iterator[RedisCluster]:
    """A private three-master Redis Cluster for the whole session."""
    yield from running(RedisCluster(redis_binary()))


@pytest.fixture
def cluster(cluster_server: RedisCluster) -> Iterator[RedisCluster]:
    """The session's cluster, every master up and empty at the start of the test."""
    yield from fresh(cluster_server)


@pytest.fixture(scope="session")
def postgres_dsn() -> str:
    """A reachable PostgreSQL, whatever database the suite itself runs on."""
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is in the dev extra
        missing("psycopg is not installed")
    url = postgres_url()
    try:
        psycopg.connect(
            url.replace("postgres://", "postgresql://", 1), connect_timeout=3
        ).close()
    except psycopg.OperationalError as exc:
        missing(f"PostgreSQL is not reachable at {url}: {exc}")
    return url


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """A headless system Chromium driven by Playwright (never a downloaded browser)."""
    executable = chromium_binary()
    if executable is None:
        missing("Chromium is not installed (apt-get install chromium)")
    try:
        import playwright  # noqa: F401
    except ImportError:  # pragma: no cover - playwright is in the dev extra
        missing("playwright is not installed")
    from assets.coverage import chromium

    with chromium(executable, CHROMIUM_ARGS) as instance:
        yield instance


@pytest.fixture
def sentinel_cluster() -> Iterator[SentinelCluster]:
    yield from running(SentinelCluster(redis_binary()))
