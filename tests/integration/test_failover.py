"""Redis failing under a real load: Sentinel failover and a stop/restart (chaos)."""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from typing import Self

import pytest
import redis as redis_py

from tests.integration.conftest import Site, site_env, stats_row
from tests.support.admin import AdminBrowser
from tests.support.gunicorn import gunicorn, serve
from tests.support.sentinel import SentinelCluster
from tests.support.services import RedisServer

pytestmark = [pytest.mark.slow, pytest.mark.redis]
TOP = "/api/posts/popular?limit=1"


@dataclass
class Sample:
    sent: float
    status: int
    seq: int | None  # the edit number in the title, None before the first edit
    received: float = 0.0
    worker: str = ""  # the pid of the worker that answered
    cache: str = ""  # its breaker state and namespace epoch when it answered


@dataclass
class Load:
    """Threads that GET the top post in a loop and record every answer."""

    site: Site
    threads: int = 4
    samples: list[Sample] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def _run(self) -> None:
        while not self._stop.is_set():
            sent = time.time()
            status, body, headers = self.site.exchange(TOP)
            match = re.search(rb'"title": "edit (\d+)"', body)
            self.samples.append(
                Sample(
                    sent,
                    status,
                    int(match.group(1)) if match else None,
                    time.time(),
                    headers["X-Test-Worker"],
                    headers["X-Test-Cache"],
                )
            )

    def __enter__(self) -> Load:
        self._workers = [
            threading.Thread(target=self._run) for _ in range(self.threads)
        ]
        for worker in self._workers:
            worker.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for worker in self._workers:
            worker.join(timeout=60)


class Editor:
    """Edits the top post from another process, remembering when each commit was done."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.committed: list[tuple[float, int]] = []  # (time the commit was done, seq)
        self.post_id = int(site.get_json(TOP)["posts"][0]["id"])  # type: ignore[index]

    def edit(self, seq: int) -> None:
        self.site.orm(
            f"from perfsite.models import Post; p = Post.objects.get(pk={self.post_id}); "
            f"p.title = 'edit {seq}'; p.save()"
        )
        self.committed.append((time.time(), seq))

    def latest_before(self, moment: float) -> int | None:
        done = [seq for at, seq in self.committed if at < moment]
        return max(done) if done else None


class Repeat:
    """Runs ``step()`` again and again on a thread of its own until the block ends."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run)

    def step(self) -> None:
        raise NotImplementedError

    def _run(self) -> None:
        while not self._stop.is_set():
            self.step()

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=120)


class Edits(Repeat):
    """Edits the top post again and again, one edit after the other."""

    def __init__(self, editor: Editor) -> None:
        super().__init__()
        self.editor = editor
        self.seq = 0

    def step(self) -> None:
        self.seq += 1
        self.editor.edit(self.seq)


class Outage(Repeat):
    """What the load does not: cache_result misses that outlast the breaker's
    longest cooldown, and the admin's Cache statistics page."""

    def __init__(self, site: Site, admin: AdminBrowser) -> None:
        super().__init__()
        self.site, self.admin = site, admin
        self.slow: list[int] = []  # status of each slow miss
        self.pages: list[bool] = []  # whether each load showed the statistics

    def step(self) -> None:
        self.slow.append(self.site.get(f"/t/slow/{len(self.slow)}")[0])
        page = self.admin.open("/admin/caching/cachestatistics/")
        self.pages.append('<td class="breaker">' in page)


def stale(samples: list[Sample], editor: Editor, after: float) -> list[Sample]:
    """Answers older than an edit committed before the request was sent."""
    bad = []
    for sample in samples:
        expected = editor.latest_before(sample.sent)
        if (
            sample.sent >= after
            and expected is not None
            and (sample.seq is None or sample.seq < expected)
        ):
            bad.append(sample)
    return bad


def settled(samples: list[Sample], workers: int, since: float) -> float:
    """When every worker had answered, after ``since``, with its breaker closed
    and the namespace epoch all the workers end on: back on Redis, its
    fallback dropped and any bump learnt."""
    final = {s.worker: s.cache for s in samples}
    assert len(final) == workers, f"only workers {sorted(final)} answered"
    (cache,) = set(final.values())  # one epoch for all in the end
    assert cache.startswith("closed ")
    first = {}
    for s in samples:
        if s.sent > since and s.cache == cache:
            first.setdefault(s.worker, s.received)
    assert len(first) == workers, "a worker never answered from Redis again"
    return max(first.values())


def test_sentinel_failover_under_load(
    sentinel_cluster: SentinelCluster,
    site_database: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    env = {
        **site_env(
            site_database, sentinel_cluster.url, tmp_path_factory.mktemp("static")
        ),
        "DJANGO_SETTINGS_MODULE": "tests.support.site_settings",
    }
    with gunicorn(env, workers=2) as url:
        site = Site(url, env)
        editor = Editor(site)
        editor.edit(1)
        with Load(site) as load:
            time.sleep(1)
            old_primary = sentinel_cluster.primary.port
            sentinel_cluster.primary.stop()
            editor.edit(2)  # while nobody is primary
            SentinelCluster.wait(
                lambda: (
                    sentinel_cluster.current_primary_port() not in (None, old_primary)
                ),
                "failover",
            )
            editor.edit(3)
            recovered = time.time()
            time.sleep(3)
        promoted = redis_py.Redis(port=sentinel_cluster.replica.port)
        keys_on_new_primary = promoted.dbsize()
        promoted.close()

    assert load.samples, "no request was made"
    assert [s for s in load.samples if s.status != 200] == []
    # Back on Redis: the promoted replica holds the entries written since.
    assert keys_on_new_primary > 0
    # Nothing invalidated during the failover is served once every worker is
    # back on Redis and has learnt the namespace bump.
    after = settled(load.samples, 2, since=recovered)
    assert stale(load.samples, editor, after=after) == []
    assert any(s.sent > after for s in load.samples)
    assert load.samples[-1].seq == 3


def test_chaos_redis_stopped_and_restarted_under_load(
    site_setup: dict[str, str], redis_server: RedisServer, server: str
) -> None:
    redis_server.start()
    redis_server.flushall()
    raw = redis_py.Redis.from_url(redis_server.url)
    env = {**site_setup, "DJANGO_SETTINGS_MODULE": "tests.support.site_settings"}
    Site("", env).orm(
        "from django.contrib.auth.models import User; "
        "User.objects.filter(username='chaos').exists() or "
        "User.objects.create_superuser('chaos', 'chaos@example.com', 'integration-pw')"
    )
    with serve(server, env, workers=2) as url:
        site = Site(url, env)
        editor = Editor(site)
        admin = AdminBrowser(site, "chaos", "integration-pw")
        start = time.time()

        def at(moment: float) -> float:
            time.sleep(max(0.0, start + moment - time.time()))
            return time.time()

        # The outage's timing does not depend on how long an edit takes: the
        # edits run on a thread of their own, one after the other.
        with Load(site) as load, Edits(editor):
            at(5.0)
            # Redis comes back empty (no persistence): the figures flushed
            # before the stop go with it.
            lost = stats_row(raw, "api.popular")
            redis_server.stop()
            stopped_at = time.time()
            with Outage(site, admin) as during:
                at(12.0)
            redis_server.start()
            restarted_at = time.time()
            at(22.0)

    samples = load.samples
    healthy = [s for s in samples if s.sent < stopped_at]
    outage = [s for s in samples if stopped_at <= s.sent < restarted_at]
    assert len(healthy) > 50 and len(outage) > 50
    assert [s for s in samples if s.status >= 500] == []
    assert [s for s in samples if s.status != 200] == []
    # Each worker's breaker closes at its next probe (at most COOLDOWN_MAX after
    # the restart), then nothing stale: its fallback is dropped and the namespace
    # bumped. Stale answers *during* the outage are allowed: each worker's
    # fallback is its own and cannot see another process's invalidations.
    after = settled(samples, 2, since=restarted_at)
    assert stale(samples, editor, after=after) == []
    assert any(s.sent > after for s in samples)

    # The slow misses and the statistics page during the outage did not keep
    # any worker off Redis, and every worker's figures reached it (the ones
    # counted during the outage too, the last ones at exit).
    assert len(during.slow) >= 2 and set(during.slow) == {200}
    assert len(during.pages) >= 2 and all(during.pages)
    popular, slow = stats_row(raw, "api.popular"), stats_row(raw, "slow_count")
    raw.close()
    answered = len(samples) + 1  # and the editor's first look
    assert sum(popular[f] + lost[f] for f in ("hits", "misses", "stale")) == answered
    assert slow["hits"] + slow["misses"] == len(during.slow)
