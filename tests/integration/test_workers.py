"""Several gunicorn workers sharing Redis: an edit is seen by every worker at once."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.integration.conftest import WORKERS, Site, stats_row
from tests.support.admin import AdminBrowser

pytestmark = [pytest.mark.slow, pytest.mark.redis]
REQUESTS_PER_CHECK = 15  # at least, several per worker
MAX_REQUESTS = 300  # a bound on the requests it takes for every worker to answer


def top_post(site: Site) -> dict[str, Any]:
    data = site.get_json("/api/posts/popular?limit=1")
    assert isinstance(data, dict)
    post: dict[str, Any] = data["posts"][0]
    return post


def from_every_worker(site: Site, path: str) -> list[bytes]:
    """The bodies of ``path``, asked ``WORKERS`` at a time (a busy worker
    cannot take the next one) until every worker has answered it."""
    answered: set[str] = set()
    bodies: list[bytes] = []
    with ThreadPoolExecutor(WORKERS) as pool:
        while len(answered) < WORKERS or len(bodies) < REQUESTS_PER_CHECK:
            assert len(bodies) < MAX_REQUESTS, (
                f"only workers {sorted(answered)} answered {path} "
                f"in {len(bodies)} requests"
            )
            for pid, status, body in pool.map(site.answer, [path] * WORKERS):
                assert status == 200, body[:500]
                answered.add(pid)
                bodies.append(body)
    return bodies


def assert_every_worker_sees(site: Site, post_id: int, title: str) -> None:
    api = from_every_worker(site, "/api/posts/popular?limit=1")
    assert [json.loads(body)["posts"][0]["title"] for body in api] == [title] * len(api)
    pages = from_every_worker(site, f"/posts/{post_id}/")
    assert all(f">{title}<" in page.decode() for page in pages)


def test_edits_by_admin_orm_and_update_are_seen_by_every_worker_at_once(
    site: Site,
) -> None:
    site.orm(
        "from django.contrib.auth.models import User; "
        "User.objects.filter(username='boss').exists() or "
        "User.objects.create_superuser('boss', 'boss@example.com', 'integration-pw')"
    )
    post = top_post(site)
    post_id = post["id"]
    # Warm every worker's view of the cache with the current title.
    assert_every_worker_sees(site, post_id, post["title"])
    admin = AdminBrowser(site, "boss", "integration-pw")

    for round_ in range(3):
        title = f"Edited in the admin {round_}"
        admin.edit_post(site.orm, post_id, title)
        assert_every_worker_sees(site, post_id, title)

        title = f"Saved by the ORM elsewhere {round_}"
        site.orm(
            f"from perfsite.models import Post; p = Post.objects.get(pk={post_id}); "
            f"p.title = {title!r}; p.save()"
        )
        assert_every_worker_sees(site, post_id, title)

        title = f"Updated in bulk {round_}"
        site.orm(
            f"from perfsite.models import Post; "
            f"Post.objects.filter(pk={post_id}).update(title={title!r})"
        )
        assert_every_worker_sees(site, post_id, title)


@pytest.mark.parametrize("stopped", ["gunicorn", "uvicorn", "granian"])
def test_a_stopping_worker_flushes_its_statistics(
    site_setup: dict[str, str], redis_server: Any, stopped: str
) -> None:
    """40 requests to one worker, then a graceful stop: every count is kept
    (gunicorn: the exit handlers; uvicorn and granian: the ASGI lifespan)."""
    import redis as redis_py

    from tests.support.gunicorn import serve

    redis_server.start()
    redis_server.flushall()
    raw = redis_py.Redis.from_url(redis_server.url)
    site = Site("", site_setup)
    metrics = (
        "from django.db.models import Sum; "
        "from perfsite_profiling.models import MetricBatch; "
        "print(MetricBatch.objects.filter(endpoint__contains='popular')"
        ".aggregate(n=Sum('requests'))['n'] or 0)"
    )
    before = int(site.orm(metrics))  # what earlier workers of this module flushed
    with serve(stopped, site_setup, workers=1) as url:
        site = Site(url, site_setup)
        for _ in range(40):
            assert site.get("/api/posts/popular?limit=3")[0] == 200
    row = stats_row(raw, "api.popular")
    raw.close()
    assert row["hits"] + row["misses"] == 40
    # The profiling metrics of the same requests, edge-cache hits included.
    assert int(site.orm(metrics)) - before == 40
