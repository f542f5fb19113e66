"""A real Varnish (deploy/varnish/perfsite.vcl) in front of the site (gunicorn
or uvicorn) and Redis."""

from __future__ import annotations

import http.client
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest

from tests.integration.conftest import Site
from tests.support.admin import AdminBrowser
from tests.support.gunicorn import serve
from tests.support.services import RedisServer, free_port
from tests.support.varnish import Fetched, Varnish, require_varnish

pytestmark = [pytest.mark.slow, pytest.mark.redis]
PASSWORD = "integration-pw"
WAIT = 20.0  # seconds at most for a purge sent by a worker's thread to land


@dataclass
class Edge:
    varnish: Varnish
    site: Site  # through Varnish; orm() runs a shell with the site's settings

    def get(self, path: str, **headers: str) -> Fetched:
        return self.varnish.get(path, **headers)

    def until(self, path: str, done: Callable[[Fetched], bool]) -> Fetched:
        deadline = time.monotonic() + WAIT
        while True:
            fetched = self.get(path)
            if done(fetched) or time.monotonic() > deadline:
                return fetched
            time.sleep(0.05)


@pytest.fixture(scope="module")
def edge_env(site_setup: dict[str, str]) -> dict[str, str]:
    env = {**site_setup, "DJANGO_SETTINGS_MODULE": "tests.support.site_settings"}
    Site("", env).orm(
        "from django.contrib.auth.models import User\n"
        "for name in ('boss', 'alice', 'bob'):\n"
        f"    User.objects.create_superuser(name, name + '@example.com', {PASSWORD!r})"
    )
    return env


@contextmanager
def edge(
    env: dict[str, str],
    redis_server: RedisServer,
    shared_max_age: int = 300,
    purge_port: int | None = None,
    server: str = "gunicorn",
) -> Iterator[Edge]:
    """Varnish on a free port in front of the site (``server``, 2 workers),
    which purges at ``purge_port``."""
    require_varnish()
    redis_server.start()
    redis_server.flushall()
    port = free_port()
    env = {
        **env,
        "VARNISH_URL": f"http://127.0.0.1:{purge_port or port}",
        "SHARED_MAX_AGE": str(shared_max_age),
        "PERFSITE_TEST_EXIT_WAIT": "0.5",
    }
    with serve(server, env, workers=2) as url:
        varnish = Varnish(url.removeprefix("http://"), port)
        try:
            varnish.start()
            yield Edge(varnish, Site(varnish.url, env))
        finally:
            varnish.close()


@pytest.fixture
def front(
    edge_env: dict[str, str], redis_server: RedisServer, server: str
) -> Iterator[Edge]:
    """Varnish in front of the site under each of the servers (conftest)."""
    with edge(edge_env, redis_server, server=server) as found:
        yield found


def warm(front: Edge, *paths: str) -> dict[str, str]:
    """Each page, stored by Varnish (the second fetch is a hit)."""
    bodies = {}
    for path in paths:
        first = front.get(path)
        again = front.get(path)
        assert first.status == again.status == 200, first.body[:300]
        assert again.hit, (path, again.headers)
        bodies[path] = again.body
    return bodies


def first_post(front: Edge) -> str:
    return front.site.orm(
        "from perfsite.models import Post; print(Post.objects.order_by('pk').first().pk)"
    ).strip()


def test_an_anonymous_page_is_a_varnish_hit_without_its_tags(front: Edge) -> None:
    first = front.get("/t/posts/")
    second = front.get("/t/posts/")
    assert not first.hit and second.hit and second.body == first.body
    assert second.headers["X-Cache"] == "hit"
    assert "s-maxage=300" in second.headers["Cache-Control"]
    assert "xkey" not in second.headers  # Varnish keeps the tags to itself
    home = warm(front, "/")["/"]
    assert "<html" in home


def test_purge_is_refused_outside_the_acl(front: Edge) -> None:
    warm(front, "/t/posts/")
    outside = http.client.HTTPConnection(
        "127.0.0.1", front.varnish.port, timeout=10, source_address=("127.0.0.2", 0)
    )
    outside.request("PURGE", "/", headers={"xkey-purge": "anything"})
    assert outside.getresponse().status == 403
    outside.close()
    assert front.get("/t/posts/").hit


def test_edits_purge_exactly_the_pages_of_the_edited_model(front: Edge) -> None:
    pk = first_post(front)
    # Logging in saves the user's last_login: a users edit. Done before warming.
    admin = AdminBrowser(front.site, "boss", PASSWORD)
    pages = ("/t/posts/", "/t/users/", "/", f"/posts/{pk}/")
    before = warm(front, *pages)

    admin.edit_post(front.site.orm, pk, "Edited in the admin")
    posts = front.until("/t/posts/", lambda f: "Edited in the admin" in f.body)
    assert posts.body == "first post: Edited in the admin"
    detail = front.get(f"/posts/{pk}/")  # depends on posts and users: purged
    assert ">Edited in the admin<" in detail.body and not detail.hit
    users = front.get("/t/users/")
    assert users.hit and users.body == before["/t/users/"]  # still cached

    # A shell purges at exit: done by the time it has returned.
    warm(front, "/t/posts/")
    front.site.orm(
        "from django.contrib.auth.models import User; "
        "u = User.objects.order_by('pk').first(); u.first_name = 'Renamed'; u.save()"
    )
    users = front.get("/t/users/")
    assert users.body == "first user: Renamed" and not users.hit
    posts = front.get("/t/posts/")
    assert posts.hit and posts.body == "first post: Edited in the admin"


def test_a_logged_in_user_never_gets_a_cached_page_nor_another_users(
    front: Edge,
) -> None:
    warm(front, "/t/posts/")
    alice = AdminBrowser(front.site, "alice", PASSWORD)
    bob = AdminBrowser(front.site, "bob", PASSWORD)
    for _ in range(2):
        alice.open("/t/posts/")
        assert len(alice.headers["X-Varnish"].split()) == 1  # passed to Django
        assert alice.headers["X-Cache"] == "miss"
    # A view that calls a personal page public: fetched for alice, never stored.
    assert alice.open("/t/whoami/") == "you are alice"
    assert bob.open("/t/whoami/") == "you are bob"
    assert [front.get("/t/whoami/").body for _ in range(2)] == ["you are anonymous"] * 2
    assert front.get("/t/whoami/").hit
    assert alice.open("/t/whoami/") == "you are alice"
    assert bob.open("/t/whoami/") == "you are bob"
    admin_page = alice.open("/admin/")
    assert "alice" in admin_page and len(alice.headers["X-Varnish"].split()) == 1


def rename_first_post(front: Edge, title: str) -> None:
    front.site.orm(
        "from perfsite.models import Post; p = Post.objects.order_by('pk').first(); "
        f"p.title = {title!r}; p.save()"
    )


def test_after_a_varnish_restart_no_edit_is_missed(front: Edge) -> None:
    warm(front, "/t/posts/")
    front.varnish.stop()
    rename_first_post(front, "Edited while Varnish was down")  # the purge fails
    front.varnish.start()
    page = front.get("/t/posts/")
    assert page.body == "first post: Edited while Varnish was down"
    assert not page.hit


def test_with_purges_lost_no_page_is_older_than_its_s_maxage(
    edge_env: dict[str, str], redis_server: RedisServer
) -> None:
    shared = 3  # seconds
    with edge(edge_env, redis_server, shared, purge_port=free_port()) as front:
        pk = first_post(front)
        admin = AdminBrowser(front.site, "boss", PASSWORD)
        before = warm(front, "/t/posts/")["/t/posts/"]
        admin.edit_post(
            front.site.orm, pk, "Purge lost"
        )  # purged at a port nobody listens on
        seen = [front.get("/t/posts/")]
        while seen[-1].body == before and len(seen) < 2000:
            time.sleep(0.01)
            seen.append(front.get("/t/posts/"))
        assert seen[-1].body == "first post: Purge lost"
        # Stale while within its s-maxage, never after.
        assert all(f.age <= shared for f in seen)


def content_coding(host: str, port: int, path: str, accept_encoding: str) -> str:
    """The Content-Encoding a GET with this Accept-Encoding gets (``identity``: none)."""
    connection = http.client.HTTPConnection(host, port, timeout=30)
    try:
        connection.request("GET", path, headers={"Accept-Encoding": accept_encoding})
        response = connection.getresponse()
        response.read()
        assert response.status == 200
        return response.getheader("Content-Encoding") or "identity"
    finally:
        connection.close()


# Refusals with q=0 or *;q=0, and the same codings in other spellings.
REFUSING = [
    "gzip;q=0, identity",
    "gzip; q=0.000, identity",
    "br;q=0, gzip",
    "zstd;q=0, br;q=0, gzip",
    "zstd;Q=0, gzip, br",
    "*;q=0, identity",
    "gzip, *;q=0",
    "identity, *;q=0",
    "br;q=0.5, gzip",  # rated lower than gzip: Django sends gzip
    "GZIP",
    "x-gzip-not, identity",
]


def test_accept_encoding_is_honoured_as_django_reads_it(front: Edge) -> None:
    """Through Varnish, every header gets the coding Django gives it directly,
    with a compressed variant of the page already stored."""
    host, _, port = front.varnish.backend.rpartition(":")
    browser = "gzip, deflate, br, zstd"
    for _ in range(2):
        stored = content_coding("127.0.0.1", front.varnish.port, "/", browser)
    assert stored == content_coding(host, int(port), "/", browser) != "identity"
    wrong = {}
    for header in REFUSING:
        direct = content_coding(host, int(port), "/", header)
        through = content_coding("127.0.0.1", front.varnish.port, "/", header)
        if through != direct:
            wrong[header] = f"{through} instead of {direct}"
    assert wrong == {}
