"""Write-behind counters: buffered, flushed with one UPDATE per row, never lost,
and invalidating only the pages that declare the counted field."""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import caches
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from caching import counters
from caching.counters import Counter
from caching.decorators import cache_result
from caching.deps import row
from caching.keys import group_key
from perfsite.models import Post
from perfsite.views import VIEWS_TOLERANCE, post_views
from tests.perfsite.factories import make_post
from tests.support.services import RedisServer
from tests.support.workers import ROOT, migrated_env

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def views(backend: Any) -> Iterator[Counter]:
    counters.reset()
    yield post_views
    counters.reset()


def stored(post: Post) -> int:
    post.refresh_from_db(fields=["views"])
    return post.views


def test_counts_wait_in_the_process_until_a_flush(views: Counter) -> None:
    a, b = make_post(views=10), make_post()
    views.add(a.pk)
    views.add(str(a.pk), 2)  # the pk as text is the same row
    views.add(b.pk)
    assert stored(a) == 10 and views.pending(a.pk) == 3
    assert views.value(a.pk) == 13
    assert views.value(a.pk + b.pk + 1) is None  # no such row
    with CaptureQueriesContext(connection) as queries:
        assert counters.flush() == 2
    updates = [q["sql"] for q in queries if q["sql"].startswith("UPDATE")]
    assert len(updates) == 2  # one per row, whatever the count
    assert all('"views" + ' in sql for sql in updates)  # an F expression
    assert stored(a) == 13 and stored(b) == 1
    assert views.pending(a.pk) == 0 and counters.flush() == 0


def test_a_flush_adds_to_what_others_wrote(views: Counter) -> None:
    a = make_post(views=1)
    views.add(a.pk, 4)
    Post.objects.filter(pk=a.pk).update(views=100)  # another process's flush
    counters.flush()
    assert stored(a) == 104


def test_bad_pks_and_tolerances_are_refused(views: Counter) -> None:
    with pytest.raises(ValueError, match="not a pk"):
        views.add("five")
    with pytest.raises(ValueError, match="tolerance >= 0"):
        Counter(Post, "views", tolerance=-1)
    with pytest.raises(ValueError, match="max_age >= 0"):
        Counter(Post, "views", max_age=-1)
    with pytest.raises(ValueError, match="has no field 'veiws'"):
        Counter(Post, "veiws")
    assert repr(views) == "<Counter perfsite.Post.views>"


def test_a_flush_invalidates_only_what_declares_the_field(views: Counter) -> None:
    strict = Counter(Post, "views")  # tolerance=0: every flush that counted
    calls: list[str] = []

    @cache_result(60, depends_on=[row(Post, "pk", fields=["title"])])
    def title(pk: int) -> str:
        calls.append("title")
        return Post.objects.get(pk=pk).title

    @cache_result(60, depends_on=[row(Post, "pk", fields=["title", "views"])])
    def card(pk: int) -> tuple[str, int]:
        calls.append("card")
        post = Post.objects.get(pk=pk)
        return post.title, post.views

    a, b = make_post(), make_post()
    title(a.pk), card(a.pk), card(b.pk)
    strict.add(a.pk)
    counters.flush()
    assert title(a.pk) == a.title and card(b.pk) == (b.title, 0)
    assert calls == ["title", "card", "card"]
    assert card(a.pk) == (a.title, 1)  # refreshed: its row's count changed
    assert calls[-1] == "card"


def shown_views() -> tuple[Any, list[int]]:
    """A cached function that shows a post's views (declares the field)."""
    calls: list[int] = []

    @cache_result(60, depends_on=[row(Post, "pk", fields=["views"])])
    def shown(pk: int) -> int:
        calls.append(pk)
        return Post.objects.get(pk=pk).views

    return shown, calls


def test_tolerance_defers_the_bump(views: Counter) -> None:
    lenient = Counter(Post, "views", tolerance=2)
    shown, calls = shown_views()

    a = make_post()
    shown(a.pk)
    for expected in (0, 0, 3):  # bumped once the count moved by more than 2
        lenient.add(a.pk)
        counters.flush()
        assert shown(a.pk) == expected
    assert len(calls) == 2


def test_a_database_that_refuses_loses_no_count(
    views: Counter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=counters.__name__)
    a = make_post()
    views.add(a.pk, 5)
    table = connection.ops.quote_name(Post._meta.db_table)
    hidden = connection.ops.quote_name("hidden_post")
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {table} RENAME TO {hidden}")
    try:
        assert counters.flush() == 0
        assert counters.flush() == 0
        views.add(a.pk)
        assert views.pending(a.pk) == 6
        counters._flush_at_exit()  # an exit now would lose them: it says so
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE {hidden} RENAME TO {table}")
    assert counters.unflushed() == 1
    assert counters.flush() == 1 and stored(a) == 6
    messages = [r.getMessage() for r in caplog.records if r.name == counters.__name__]
    assert messages == [
        "counters: the database refused a flush; kept",
        "counters: 1 rows' counts could not be written at exit",
        "counters: flushed again",
    ]


def test_counting_needs_no_redis(failover: Any, redis: RedisServer) -> None:
    counters.reset()
    a = make_post()
    redis.stop()
    try:
        post_views.add(a.pk, 2)
        assert counters.flush() == 1
    finally:
        redis.start()
    assert stored(a) == 2


def test_an_idle_process_flushes_on_its_own(views: Counter) -> None:
    a = make_post()
    rounds = counters.flusher.rounds
    with override_settings(CACHING_COUNTER_FLUSH_INTERVAL=0.05):
        counters.flush()  # due again in 0.05 s
        views.add(a.pk, 3)
        # Wait for the thread's flush to end, then read: a read racing its
        # UPDATE on SQLite's shared-cache test database is refused.
        assert counters.flusher.wait_for_round(rounds, timeout=30)
        assert views.pending(a.pk) == 0  # the thread took them
    counters.flush()  # not due again during the other tests (nothing pending)
    assert counters.flusher.started
    assert stored(a) == 3


def test_the_post_page_counts_stored_hits_and_304s(views: Counter) -> None:
    a, b = make_post(title="a"), make_post(title="b")
    client = Client()
    first = client.get(f"/posts/{a.pk}/")
    client.get(f"/posts/{a.pk}/")  # a stored response
    client.get(f"/posts/{a.pk}/", HTTP_IF_NONE_MATCH=first["ETag"])  # a 304
    client.head(f"/posts/{a.pk}/")  # not a view
    client.get(f"/posts/{a.pk}/", HTTP_SEC_PURPOSE="prefetch")  # nor a prefetch
    client.get(f"/posts/{b.pk + a.pk + 1}/")  # a 404: not a view
    assert views.pending(a.pk) == 3 and stored(a) == 0
    client.get(f"/posts/{b.pk}/")
    assert counters.flush() == 2
    assert stored(a) == 3
    # 3 views are within the page's tolerance: it is not rendered again.
    assert (
        client.get(f"/posts/{a.pk}/", HTTP_IF_NONE_MATCH=first["ETag"]).status_code
        == 304
    )
    views.add(a.pk, VIEWS_TOLERANCE - 3)  # 4 + 17 = 21 counted since the render
    counters.flush()
    page = client.get(f"/posts/{a.pk}/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert page.status_code == 200
    assert f"{4 + VIEWS_TOLERANCE - 3} views".encode() in page.content


def test_without_the_response_cache_the_view_counts(
    views: Counter, settings: Any
) -> None:
    settings.MIDDLEWARE = [
        m
        for m in settings.MIDDLEWARE
        if m != "caching.middleware.ResponseCacheMiddleware"
    ]
    a = make_post()
    Client().get(f"/posts/{a.pk}/")
    Client().get(f"/posts/{a.pk}/")
    assert views.pending(a.pk) == 2


@pytest.mark.slow
def test_an_exiting_process_writes_its_counts(
    redis: RedisServer, tmp_path: Path
) -> None:
    env = migrated_env(redis.url, tmp_path / "db.sqlite3")

    def run(code: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", f"import django; django.setup(); {code}"],
            cwd=ROOT,
            env=env,
            check=True,
            timeout=120,
            capture_output=True,
            text=True,
        )
        return done.stdout.strip()

    pk = run("from tests.perfsite.factories import make_post; print(make_post().pk)")
    # The interval is 10**9 seconds in the test settings: only the exit flushes.
    run(
        f"from perfsite.views import VIEWS_TOLERANCE, post_views; post_views.add({pk}, 7)"
    )
    shown = run(
        f"from perfsite.models import Post; print(Post.objects.get(pk={pk}).views)"
    )
    assert shown == "7"


def test_max_age_bumps_a_row_whose_count_moved_too_little(
    views: Counter, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [100.0]
    monkeypatch.setattr(counters, "clock", lambda: now[0])
    aged = Counter(Post, "views", tolerance=100, max_age=60)
    shown, calls = shown_views()

    a = make_post()
    shown(a.pk)
    aged.add(a.pk)
    counters.flush()
    now[0] += 59
    counters.flush()  # nothing new, 59 s: still within max_age
    assert shown(a.pk) == 0
    now[0] += 1
    counters.flush()  # nothing new either, but the first count is 60 s old
    assert shown(a.pk) == 1 and len(calls) == 2
    now[0] += 60
    counters.flush()  # bumped already: nothing drifted since
    assert shown(a.pk) == 1 and len(calls) == 2


def test_a_flush_keeps_nothing_for_rows_that_do_not_exist(views: Counter) -> None:
    """200 counted ids without a row: one flush later, no count, drift or group
    key is left for them (an anonymous visitor's fake ids cost nothing lasting)."""
    aged = Counter(Post, "views", tolerance=10**6, max_age=3600)
    strict = Counter(Post, "views")
    a = make_post()
    missing = range(a.pk + 1, a.pk + 201)
    for pk in missing:
        aged.add(pk)
        strict.add(pk)
    aged.add(a.pk)
    assert counters.flush() == 1  # the one row that exists
    assert stored(a) == 1
    assert counters.unflushed() == 0
    assert set(aged._drift) == {a.pk} and strict._drift == {}
    backend = caches["default"]
    for pk in missing:
        assert backend.get(group_key(f"field:perfsite.post:views:i{pk}")) is None
    aged.add(missing[0])  # counted again: still nothing kept for it
    counters.flush()
    assert set(aged._drift) == {a.pk} and counters.unflushed() == 0
