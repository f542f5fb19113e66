"""The HTTP caching of the site under each server (gunicorn sync workers and
uvicorn, three workers each): stored pages, 304s, invalidation across workers
and static files."""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import redis as redis_py

from tests.integration.conftest import WORKERS, Site

pytestmark = pytest.mark.slow
API = "/api/posts/popular?limit=3"


MAX_REQUESTS = 300


def spread(site: Site, path: str, **headers: str) -> list[Any]:
    """Exchanges of ``path``, ``WORKERS`` at a time (a busy worker cannot take
    the next one), until every worker has answered at least one."""
    answers: list[Any] = []
    answered: set[str] = set()
    with ThreadPoolExecutor(WORKERS) as pool:
        while len(answered) < WORKERS:
            assert len(answers) < MAX_REQUESTS, f"only {sorted(answered)} answered"
            batch = list(
                pool.map(lambda _: site.exchange(path, **headers), range(WORKERS))
            )
            answered |= {found["X-Test-Worker"] for _, _, found in batch}
            answers.extend(batch)
    return answers


def test_a_page_is_stored_once_and_every_worker_serves_it(
    site: Site, redis_server: Any
) -> None:
    answers = spread(site, API)
    assert {status for status, _, _ in answers} == {200}
    assert len({body for _, body, _ in answers}) == 1
    assert len({headers["ETag"] for _, _, headers in answers}) == 1
    raw = redis_py.Redis.from_url(redis_server.url)
    try:  # one entry, whichever worker stored it
        assert len([k for k in raw.keys("*cr:http:*") if b":lock" not in k]) == 1
    finally:
        raw.close()


def test_every_worker_answers_a_304_and_an_edit_changes_the_etag(site: Site) -> None:
    _, body, headers = site.exchange(API)
    etag = headers["ETag"]
    answers = spread(site, API, **{"If-None-Match": etag})
    assert {status for status, _, _ in answers} == {304}
    assert {b for _, b, _ in answers} == {b""}
    top = json.loads(body)["posts"][0]
    site.orm(
        "from perfsite.models import Post; "
        f"p = Post.objects.get(pk={top['id']}); p.title = 'Renamed'; p.save()"
    )
    after = spread(site, API, **{"If-None-Match": etag})
    assert {status for status, _, _ in after} == {200}
    assert all(json.loads(b)["posts"][0]["title"] == "Renamed" for _, b, _ in after)
    assert len({h["ETag"] for _, _, h in after} - {etag}) == 1


def test_static_files_are_negotiated_and_revalidated(site: Site) -> None:
    _, home, _ = site.exchange("/")
    (css,) = set(re.findall(r"/static/bundles/site\.[0-9a-f]+\.css", home.decode()))
    status, body, headers = site.exchange(css, **{"Accept-Encoding": "br"})
    assert status == 200 and headers["Content-Encoding"] == "br"
    assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert int(headers["Content-Length"]) == len(body)
    root = Path(site.env["DJANGO_STATIC_ROOT"])
    assert body == (root / (css.removeprefix("/static/") + ".br")).read_bytes()
    revalidation = {"Accept-Encoding": "br", "If-None-Match": headers["ETag"]}
    again = spread(site, css, **revalidation)
    assert {status for status, _, _ in again} == {304}
