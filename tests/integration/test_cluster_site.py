"""The demo under gunicorn (3 workers) on ``REDIS_URL=redis-cluster://...``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis as redis_py

from tests.integration.conftest import WORKERS, Site, started_site_env
from tests.integration.test_workers import assert_every_worker_sees, top_post
from tests.support.cluster import RedisCluster
from tests.support.gunicorn import gunicorn

pytestmark = [pytest.mark.slow, pytest.mark.redis]


@pytest.fixture
def cluster_site(
    site_database: str, cluster: RedisCluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    """The demo on the cluster (set up for its one test)."""
    env = {
        **started_site_env(site_database, cluster, tmp_path_factory),
        "DJANGO_SETTINGS_MODULE": "tests.support.site_settings",
    }
    with gunicorn(env, workers=WORKERS) as url:
        yield Site(url, env)


def test_pages_are_cached_on_the_cluster_and_edits_seen_by_every_worker(
    cluster_site: Site, cluster: RedisCluster
) -> None:
    post = top_post(cluster_site)
    assert_every_worker_sees(cluster_site, post["id"], post["title"])
    stored = 0
    for node in cluster.nodes:
        client = redis_py.Redis(port=node.port)
        stored += len(client.keys("perfsite:*cr:http:*"))
        client.close()
    assert stored > 0  # pages are stored on the cluster, not only in the fallback
    title = "Saved by the ORM elsewhere, on a cluster"
    cluster_site.orm(
        f"from perfsite.models import Post; p = Post.objects.get(pk={post['id']}); "
        f"p.title = {title!r}; p.save()"
    )
    assert_every_worker_sees(cluster_site, post["id"], title)
