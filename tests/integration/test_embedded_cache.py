"""The embedded default (no REDIS_URL): gunicorn workers share one cache."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.integration.conftest import Site, site_env
from tests.support.gunicorn import gunicorn

pytestmark = pytest.mark.slow
PATH = "/api/posts/popular?limit=1"


@pytest.fixture(scope="module")
def embedded_site(
    site_database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Site, Path]]:
    """The site on two gunicorn workers, no Redis: the embedded cache file."""
    root = tmp_path_factory.mktemp("embedded")
    env = site_env(site_database, "", root / "static")
    env["DJANGO_CACHE_PATH"] = str(root / "cache.sqlite3")
    log = root / "access.log"
    args = ["--access-logfile", str(log), "--access-logformat", "%(p)s %(U)s"]
    with gunicorn(env, workers=2, extra_args=args) as url:
        yield Site(url, env), log


def etags(site: Site, count: int) -> list[str]:
    """ETags of ``count`` requests, eight at a time so both workers answer."""

    def fetch(_: int) -> str:
        with urllib.request.urlopen(site.url + PATH, timeout=30) as response:
            return str(response.headers["ETag"])

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(fetch, range(count)))


def workers_that_answered(log: Path) -> set[str]:
    return {
        line.split()[0] for line in log.read_text().splitlines() if "/api/posts" in line
    }


def test_workers_share_etags_and_see_each_others_edits(
    embedded_site: tuple[Site, Path],
) -> None:
    site, log = embedded_site
    seen: list[str] = []
    for _ in range(50):  # until both workers have answered (usually at once)
        seen += etags(site, 40)
        if len(workers_that_answered(log)) == 2:
            break
    assert len(workers_that_answered(log)) == 2
    assert len(set(seen)) == 1  # both workers gave the same ETag
    status, _ = site.get(PATH, **{"If-None-Match": seen[0]})
    assert status == 304

    data = site.get_json(PATH)
    assert isinstance(data, dict)
    post = data["posts"][0]
    # An edit in another process (a shell) bumps the versions every worker reads.
    site.orm(
        f"from perfsite.models import Post; p = Post.objects.get(pk={post['id']}); "
        "p.title = 'Edited in a shell'; p.save()"
    )
    after = etags(site, 20)
    assert len(set(after)) == 1 and after[0] != seen[0]
    for _ in range(10):
        data = site.get_json(PATH)
        assert isinstance(data, dict)
        assert data["posts"][0]["title"] == "Edited in a shell"
