"""The cached site against the uncached site: a model-based, differential test.

A Hypothesis state machine drives one random sequence of steps against the
demo and ``tests.caching.views_site`` (class-based and factory-made views, a
per-user cart and permissions page, a page that shows its own URL) with every
cache on, and asks the same question of the same site with caching off
(``caching.bypass``), in the same database state, right before. Steps: GET,
HEAD and conditional GET (with an ETag the client was given, or ``*``) by
five clients (no cookie, an anonymous session with a cart, two users, staff),
writes through the ORM (``save``, ``update``, ``create``, ``delete``), a
change of a user's groups, a deploy (a new release) and, on Redis, a restart;
with a replica, its link to the primary cut and restored.

For every response: the status is the uncached one; the body equals the
uncached body but for the view counts, which the docs let lag by the
counter's ``tolerance``; a 304 is sent only when the body the client holds
for that ETag is the current uncached body (and for ``*`` only for a page
that exists).

``scripts/dev test -m differential --hypothesis-profile long`` runs it longer
(at least 20,000 steps).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.core.cache import caches
from django.test import Client, override_settings
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from caching.bypass import bypass
from perfsite.models import Post
from tests.perfsite.factories import make_post
from tests.support.replicas import Topology
from tests.support.services import RedisServer

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.differential]

# One Host header, whatever the scheme: the test client's default names port
# 80 for https too, which would tell the schemes apart by accident.
HOST = {"HTTP_HOST": "testserver"}
CLIENTS = ("nobody", "cart", "alice", "bob", "staff")
PAGES = (
    "/",
    "/api/stats",
    "/api/posts/popular?limit=3",
    "/api/posts/popular?limit=5&junk=1",
    "/v/about/",
    "/v/contact/",
    "/v/text-a/",
    "/v/text-b/",
    "/v/made-a/",
    "/v/made-b/",
    "/v/named-a/",
    "/v/named-b/",
    "/v/twice-a/",
    "/v/twice-b/",
    "/v/cart/",
    "/v/perms/",
    "/v/where/",
)
# What the docs let a cached page show differently: view counts, within the
# counter's tolerance (they are left out of the comparison), and CSRF tokens,
# which differ on every render.
_TOLERATED = [
    (re.compile(rb"\d+ views?\b"), b"# views"),
    (re.compile(rb'"views": ?\d+'), b'"views": #'),
    (re.compile(rb'"total_views": ?\d+'), b'"total_views": #'),
    (re.compile(rb'name="csrfmiddlewaretoken" value="[^"]+"'), b"csrf"),
]


def normal(body: bytes) -> bytes:
    for pattern, replacement in _TOLERATED:
        body = pattern.sub(replacement, body)
    return body


class CachedAgainstUncached(RuleBasedStateMachine):
    restart: Any = None  # set by the test: restarts Redis, or None (LocMem)
    topology: Topology | None = None  # set by the test: a primary and a replica
    steps = sequences = 0  # run, over every sequence (an invariant runs after each
    # step and after the start)

    @initialize()
    def start(self) -> None:
        caches["default"].clear()  # each sequence starts cold: failures replay
        type(self).sequences += 1
        self.clients: dict[str, Client] = {}
        cart = Client(**HOST)
        with bypass():
            cart.get("/v/cart/?add=book")  # an anonymous session holding a cart
        self.clients["cart"] = cart
        for name in ("alice", "bob", "staff"):
            user, _ = User.objects.get_or_create(
                username=f"{name}-d", defaults={"is_staff": name == "staff"}
            )
            client = Client(**HOST)
            client.force_login(user)
            self.clients[name] = client
        self.group, _ = Group.objects.get_or_create(name="differential")
        self.group.permissions.set(Permission.objects.all()[:2])
        self.posts = [make_post(title=f"first {n}").pk for n in range(2)]
        self.held: dict[tuple[str, str, str], bytes] = {}  # (client, url, etag) -> body
        self.releases = 0
        self.deploys: list[Any] = []
        self.link_cut = False

    def teardown(self) -> None:
        for deploy in reversed(getattr(self, "deploys", [])):
            deploy.disable()
        if self.topology is not None and getattr(self, "link_cut", False):
            self.topology.restore()

    def client(self, name: str) -> Client:
        return Client(**HOST) if name == "nobody" else self.clients[name]

    def urls(self) -> list[str]:
        missing = max(self.posts, default=0) + 1000
        return [*PAGES, *(f"/posts/{pk}/" for pk in self.posts), f"/posts/{missing}/"]

    # -- reads ---------------------------------------------------------------

    def ask(self, who: str, url: str, method: str = "get", **headers: Any) -> None:
        client = self.client(who)
        with bypass():
            expected = getattr(client, method)(url, **headers)
        got = getattr(client, method)(url, **headers)
        if got.status_code == 304:
            self.check_not_modified(who, url, expected, headers["HTTP_IF_NONE_MATCH"])
            return
        assert got.status_code == expected.status_code, (who, url)
        assert normal(got.content) == normal(expected.content), (who, url)
        if got.status_code == 200 and got.has_header("ETag") and method == "get":
            self.held[(who, url, got["ETag"])] = normal(got.content)

    def check_not_modified(
        self, who: str, url: str, expected: Any, if_none_match: str
    ) -> None:
        assert expected.status_code in (200, 304), (who, url)
        if expected.status_code == 304:
            return  # the uncached site (Django's ConditionalGetMiddleware) agrees
        if if_none_match == "*":
            return  # the page exists: a current representation matches
        held = self.held.get((who, url, if_none_match))
        assert held is not None, f"304 for an ETag {who} was never given: {url}"
        assert held == normal(expected.content), f"a 304 for an old page: {url}"

    @rule(
        who=st.sampled_from(CLIENTS),
        url=st.sampled_from(PAGES),
        method=st.sampled_from(["get", "get", "head"]),
        https=st.booleans(),
    )
    def page(self, who: str, url: str, method: str, https: bool) -> None:
        forwarded = {"HTTP_X_FORWARDED_PROTO": "https"} if https else {}
        self.ask(who, url, method, **forwarded)
        # And a visitor with no cookie over the other scheme, right after: what
        # the first one left in the cache must not reach the second.
        other = {} if https else {"HTTP_X_FORWARDED_PROTO": "https"}
        self.ask("nobody", url, "get", **other)

    @rule(
        url=st.sampled_from(PAGES),
        method=st.sampled_from(["get", "get", "head"]),
        https=st.booleans(),
    )
    def anonymous_page(self, url: str, method: str, https: bool) -> None:
        """The traffic the cache serves most: no cookie at all."""
        self.page("nobody", url, method, https)

    @rule(who=st.sampled_from(CLIENTS), n=st.integers(0, 200))
    def post_page(self, who: str, n: int) -> None:
        urls = self.urls()[len(PAGES) :]
        self.ask(who, urls[n % len(urls)])

    @rule(n=st.integers(0, 10_000), star=st.booleans())
    def conditional_get(self, n: int, star: bool) -> None:
        if star or not self.held:
            urls = self.urls()
            who = CLIENTS[n % len(CLIENTS)]
            self.ask(who, urls[n % len(urls)], HTTP_IF_NONE_MATCH="*")
            return
        who, url, etag = sorted(self.held)[n % len(self.held)]
        self.ask(who, url, HTTP_IF_NONE_MATCH=etag)

    # -- writes --------------------------------------------------------------

    @rule(n=st.integers(0, 100), how=st.sampled_from(["save", "update"]))
    def edit(self, n: int, how: str) -> None:
        if not self.posts:
            return
        pk = self.posts[n % len(self.posts)]
        title = f"edited {n}"
        if how == "save":
            post = Post.objects.get(pk=pk)
            post.title = title
            post.save()
        else:
            Post.objects.filter(pk=pk).update(title=title)

    @rule()
    def create(self) -> None:
        self.posts.append(make_post(title="created").pk)

    @rule(n=st.integers(0, 100))
    def delete(self, n: int) -> None:
        if len(self.posts) > 1:
            Post.objects.filter(pk=self.posts.pop(n % len(self.posts))).delete()

    @rule(who=st.sampled_from(["alice", "bob"]), join=st.booleans())
    def change_groups(self, who: str, join: bool) -> None:
        user = User.objects.get(username=f"{who}-d")
        if join:
            user.groups.add(self.group)
        else:
            user.groups.remove(self.group)

    @rule()
    def deploy(self) -> None:
        self.releases += 1
        release = override_settings(CACHING_RELEASE=f"differential-{self.releases}")
        release.enable()
        self.deploys.append(release)

    @rule()
    def restart_redis(self) -> None:
        if self.restart is not None:
            self.restart()

    @rule(cut=st.booleans())
    def replica_link(self, cut: bool) -> None:
        """The replica loses its primary (and keeps serving what it had), or
        gets it back and catches up."""
        if self.topology is None or cut == self.link_cut:
            return
        if cut:
            self.topology.cut()
        else:
            self.topology.restore()
        self.link_cut = cut

    @invariant()
    def no_client_holds_another_client_s_page(self) -> None:
        type(self).steps += 1
        for (who, _url, _etag), body in self.held.items():
            for other in ("alice", "bob", "staff"):
                if other != who:
                    assert f"user={other}-d".encode() not in body


@pytest.fixture(params=["locmem", "failover", "replicated"])
def site(
    request: pytest.FixtureRequest, settings: Any
) -> Iterator[tuple[RedisServer | None, Topology | None]]:
    """The backend: LocMem, Redis, or Redis with a replica (its link cut and
    restored by the ``replica_link`` step)."""
    settings.ROOT_URLCONF = "tests.caching.views_site"
    if request.param == "locmem":
        request.getfixturevalue("locmem")
        yield None, None
        return
    redis = request.getfixturevalue("redis")
    if request.param == "failover":
        request.getfixturevalue("failover")
        yield redis, None
        return
    yield redis, Topology(redis, request.getfixturevalue("replicated"))


def test_the_cached_site_answers_as_the_uncached_site(
    site: tuple[RedisServer | None, Topology | None],
) -> None:
    redis, topology = site
    CachedAgainstUncached.restart = None if redis is None else redis.restart
    CachedAgainstUncached.topology = topology
    runner = CachedAgainstUncached.TestCase
    long = settings.get_current_profile_name() == "long"
    # CI: 3,000 steps on LocMem (seconds), 600 on each Redis (restarts are slow).
    examples = 100 if redis is None else 20
    runner.settings = settings(
        settings.default,
        max_examples=settings.default.max_examples if long else examples,
        stateful_step_count=settings.default.stateful_step_count if long else 30,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        deadline=None,
    )
    CachedAgainstUncached.steps = CachedAgainstUncached.sequences = 0
    runner().runTest()
    # What ran (the long profile's promise: at least 20,000 steps), with -s.
    ran = CachedAgainstUncached
    print(
        f"differential: {ran.steps - ran.sequences} steps in {ran.sequences} sequences"
    )
