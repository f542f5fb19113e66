"""A read/write mix on the post pages: perfsite, django-cacheops, django-cachalot.

    .venv/bin/python -m pip install -e ".[dev,bench]"
    [DATABASE_URL=postgres://...] .venv/bin/python bench/mixed.py [--posts 2000]
        [--read-set 1000] [--duration 10] [--rounds 3] [--clients 2] [--threads 4]
        [--sites perfsite,cacheops,cachalot]

Three sites, each under gunicorn (2 workers) with a database of its own
(PostgreSQL when ``DATABASE_URL`` is given, else SQLite) seeded with
``--posts`` posts, and a Redis database of its own on one private
redis-server (``bench/mixed_settings.py``, ``bench/mixed_site.py``):

- ``perfsite``: the demo as it is, its post pages in the response cache;
- ``cacheops``: the same page rendered on every request, its queries cached
  by django-cacheops (``ops: all`` on posts and users);
- ``cachalot``: the same, its queries cached by django-cachalot;
- ``uncounted`` (only when listed in ``--sites``): perfsite counting no views.

All three count a view per page served with the same write-behind counter
(``perfsite.views.post_views``). Readers (``--clients`` processes of
``--threads`` threads) fetch ``/posts/<pk>/`` with ``pk`` drawn from a Zipf
law (s = 1.1) over the first ``--read-set`` posts; a reader sends the ETag it
last got for the URL (``If-None-Match``), except for about 1 read in 20, a
fresh anonymous visitor.

Phases, each run on every site in turn (interleaved), every round:

- ``reads``: the readers alone;
- ``+10 writes/s``: plus 10 ``update(views=F("views") + 1)`` a second, each to
  a post outside the read set (the issue's measurement), made by a process
  in the site's own settings, so the site's invalidation sees them;
- ``+ title edits``: plus a title edit of a popular post every 2 s.

The hit rate counts the post pages answered without a single ``SELECT``
(``bench.mixed_site.CountReads``): a stored response or a 304 for perfsite,
every query answered from the cache for the peers (which still render). A
read is stale when it started after an edit of its post had committed and
shows the old title. After the last round the sites are stopped (their
workers flush their counts at exit) and the views added to each database are
compared with the pages served (200s and 304s) plus the writes: a count lost
would show there.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder would come first on sys.path and
# bench/http.py would shadow the standard library's `http`.
sys.path[0] = str(Path(__file__).resolve().parent.parent)

import argparse  # noqa: E402
import gzip  # noqa: E402
import http.client  # noqa: E402
import json  # noqa: E402
import multiprocessing  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import urllib.request  # noqa: E402
from bisect import bisect  # noqa: E402
from contextlib import ExitStack  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from itertools import accumulate  # noqa: E402
from typing import Any  # noqa: E402

from bench.harness import prepare_site  # noqa: E402
from bench.results import Results  # noqa: E402
from tests.support.gunicorn import gunicorn  # noqa: E402
from tests.support.services import RedisServer, redis_binary  # noqa: E402

TITLE = re.compile(rb'<h1 id="post-title" class="article__title">(.*?)</h1>', re.S)
HITS_KEY = "mixed:reads"  # bench.mixed_site.HITS_KEY, read without Django
FRESH_VISITOR = 20  # one read in 20 sends no If-None-Match
WRITES_PER_SECOND = 10
EDIT_EVERY = 2.0  # seconds


def _read(
    base: str, read_set: int, duration: float, threads: int, seed: int, out: Any
) -> None:
    """One client process: its threads' reads, sent back as one dict."""
    host, port = base.removeprefix("http://").split(":")
    weights = list(accumulate(1 / k**1.1 for k in range(1, read_set + 1)))
    results: list[dict[str, Any]] = []

    def thread(n: int) -> None:
        rng = random.Random(seed * 100 + n)
        etags: dict[int, str] = {}
        seen: list[tuple[float, int, bytes]] = []  # start, pk, title (200s)
        counts = {"200": 0, "304": 0, "other": 0}
        deadline = time.monotonic() + duration
        while time.monotonic() < deadline:
            pk = bisect(weights, rng.random() * weights[-1]) + 1
            headers = {"Accept-Encoding": "gzip"}
            if pk in etags and rng.randrange(FRESH_VISITOR):
                headers["If-None-Match"] = etags[pk]
            started = time.time()
            connection = http.client.HTTPConnection(host, int(port), timeout=30)
            try:
                connection.request("GET", f"/posts/{pk}/", headers=headers)
                response = connection.getresponse()
                body = response.read()
            finally:
                connection.close()
            if response.status == 200:
                counts["200"] += 1
                etags[pk] = response.getheader("ETag") or ""
                if response.getheader("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                match = TITLE.search(body)
                seen.append((started, pk, match.group(1) if match else b""))
            elif response.status == 304:
                counts["304"] += 1
            else:
                counts["other"] += 1
        results.append({"counts": counts, "seen": seen})

    workers = [threading.Thread(target=thread, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    out.put(results)


def _write(stop: threading.Event, first: int, last: int) -> int:
    from django.db import OperationalError
    from django.db.models import F

    from perfsite.models import Post

    rng, written = random.Random(7), 0
    next_at = time.monotonic()
    while not stop.is_set():
        pk = rng.randint(first, last)
        try:
            Post.objects.filter(pk=pk).update(views=F("views") + 1)
            written += 1
        except OperationalError:  # SQLite: locked for longer than its timeout
            pass
        next_at += 1 / WRITES_PER_SECOND
        stop.wait(max(0.0, next_at - time.monotonic()))
    return written


def _edit(stop: threading.Event, edits: list[list[Any]], n: int) -> None:
    from perfsite.models import Post

    rng = random.Random(n)
    while not stop.wait(EDIT_EVERY):
        pk = rng.randint(1, 50)  # popular posts: read often right after
        post = Post.objects.get(pk=pk)
        post.title = f"Edited {n}.{len(edits)} of {pk}"
        # Committed (autocommit) and invalidated when this returns; update_fields,
        # so the flushes of the view counts meanwhile are not overwritten.
        post.save(update_fields=["title"])
        edits.append([time.time(), pk, post.title])


def writer_main(args: argparse.Namespace) -> None:
    """``--writer``: the writes of one phase, in the site's own settings (so the
    site's invalidation sees them); prints what it wrote as JSON."""
    import django

    django.setup()
    if args.writer == "views":
        from django.db.models import Sum

        from perfsite.models import Post

        print(json.dumps(Post.objects.aggregate(n=Sum("views"))["n"] or 0))
        return
    stop = threading.Event()
    edits: list[list[Any]] = []
    written: list[int] = []
    threads = [
        threading.Thread(
            target=lambda: written.append(_write(stop, args.read_set + 1, args.posts))
        )
    ]
    if args.writer == "+ title edits":
        threads.append(threading.Thread(target=_edit, args=(stop, edits, args.seed)))
    for thread in threads:
        thread.start()
    time.sleep(args.duration)
    stop.set()
    for thread in threads:
        thread.join()
    print(json.dumps({"written": sum(written), "edits": edits}))


@dataclass
class Site:
    name: str
    env: dict[str, str]
    redis: Any  # a client of the site's own Redis database
    base: str = ""
    figures: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    served: int = 0  # post pages answered 200 or 304
    written: int = 0
    views_before: int = 0

    def reads(self) -> dict[str, int]:
        raw = self.redis.hgetall(HITS_KEY)
        return {k.decode(): int(v) for k, v in raw.items()}

    def helper(self, *argv: str) -> Any:
        done = subprocess.run(
            [sys.executable, __file__, *argv],
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
            timeout=600,
        )
        return json.loads(done.stdout.strip().splitlines()[-1])


def run_phase(site: Site, name: str, args: argparse.Namespace, n: int) -> None:
    before = site.reads()
    writer = None
    if name != "reads":
        writer = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--writer",
                name,
                "--seed",
                str(n),
                "--duration",
                str(args.duration),
                "--posts",
                str(args.posts),
                "--read-set",
                str(args.read_set),
            ],
            env=site.env,
            stdout=subprocess.PIPE,
            text=True,
        )
    context = multiprocessing.get_context("fork")
    queue: Any = context.Queue()
    clients = [
        context.Process(
            target=_read,
            args=(
                site.base,
                args.read_set,
                args.duration,
                args.threads,
                n * 10 + c,
                queue,
            ),
        )
        for c in range(args.clients)
    ]
    started = time.monotonic()
    for process in clients:
        process.start()
    results = [r for _ in clients for r in queue.get()]
    elapsed = time.monotonic() - started
    for process in clients:
        process.join()
    wrote = {"written": 0, "edits": []}
    if writer is not None:
        out, _ = writer.communicate(timeout=600)
        wrote = json.loads(out.strip().splitlines()[-1])
    after = site.reads()
    served = {k: sum(r["counts"][k] for r in results) for k in ("200", "304", "other")}
    stale = 0
    for result in results:
        for started_at, pk, title in result["seen"]:
            # The last edit of this post committed before the read started.
            done = [e for e in wrote["edits"] if e[1] == pk and e[0] < started_at]
            if done:
                stale += title != max(done)[2].encode()
    hits = after.get("hit", 0) - before.get("hit", 0)
    looked = hits + after.get("miss", 0) - before.get("miss", 0)
    site.served += served["200"] + served["304"]
    site.written += wrote["written"]
    site.figures.setdefault(name, []).append(
        {
            "rps": sum(served.values()) / elapsed,
            "hit_rate": hits / looked if looked else 0.0,
            "stale": stale,
            "edits": len(wrote["edits"]),
        }
    )


def site_database(url: str | None, name: str, workdir: Path) -> str:
    """A database of its own for each site: a fresh PostgreSQL one, or SQLite."""
    if not url:
        return f"sqlite:///{workdir / (name + '.sqlite3')}"
    import psycopg

    database = f"perfsite_mixed_{name}"
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {database}")
        connection.execute(f"CREATE DATABASE {database}")
    return url.rsplit("/", 1)[0] + "/" + database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--read-set", type=int, default=1000)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--sites", default="perfsite,cacheops,cachalot")
    parser.add_argument("--writer", help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.writer:
        writer_main(args)
        return

    import redis as redis_py

    # The commit and versions as the run starts.
    results = Results(
        "mixed",
        distributions=("django-cacheops", "django-cachalot", "gunicorn", "redis"),
        programs=("redis-server",),
    )

    server = RedisServer(redis_binary())
    server.start()
    workdir = Path(tempfile.mkdtemp(prefix="perfsite-mixed-"))
    phases = ["reads", "+10 writes/s", "+ title edits"]
    sites: list[Site] = []
    try:
        for number, name in enumerate(args.sites.split(",")):
            url = f"redis://127.0.0.1:{server.port}/{number}"
            env = prepare_site(
                workdir / name,
                users=50,
                posts=args.posts,
                REDIS_URL=url,
                DJANGO_SETTINGS_MODULE="bench.mixed_settings",
                MIXED_PEER="" if name in {"perfsite", "uncounted"} else name,
                MIXED_COUNT="0" if name == "uncounted" else "1",
                DATABASE_URL=site_database(
                    os.environ.get("DATABASE_URL"), name, workdir
                ),
            )
            site = Site(name, env, redis_py.Redis.from_url(url))
            site.views_before = site.helper("--writer", "views")
            sites.append(site)
        with ExitStack() as stack:
            for site in sites:
                site.base = stack.enter_context(
                    gunicorn(site.env, workers=2, log=workdir / f"{site.name}.log")
                )
                for pk in range(1, args.read_set + 1):  # every page read once
                    urllib.request.urlopen(
                        f"{site.base}/posts/{pk}/", timeout=30
                    ).read()
                site.served += args.read_set
            for n in range(1, args.rounds + 1):
                for phase in phases:
                    for site in sites:  # interleaved: A B C, A B C, ...
                        run_phase(site, phase, args, n)
                        print(site.name, phase, site.figures[phase][-1], flush=True)
        # Stopped: the workers have flushed their counts at exit.
        kind = "PostgreSQL" if os.environ.get("DATABASE_URL") else "SQLite"
        rows = []
        for phase in phases:
            for site in sites:
                figures = site.figures[phase]
                results.sample(f"{site.name}, {phase}", figures)
                stale = sum(r["stale"] for r in figures)
                edits = sum(r["edits"] for r in figures)
                rows.append(
                    [
                        site.name,
                        phase,
                        f"{statistics.median(r['rps'] for r in figures):.0f}",
                        f"{statistics.median(r['hit_rate'] for r in figures):.1%}",
                        f"{stale} / {edits} edits" if edits else stale,
                    ]
                )
        counts: list[list[Any]] = []
        for site in sites:
            added = site.helper("--writer", "views") - site.views_before
            if site.name == "uncounted":
                counts.append([site.name, "not counted", site.served, "", ""])
                continue
            lost = site.served + site.written - added
            counts.append([site.name, added, site.served, site.written, lost])
        results.table(
            f"Post pages, {args.posts} posts ({kind}), Zipf reads over "
            f"{args.read_set}, {args.clients} clients × {args.threads} threads, "
            f"{args.rounds} interleaved round(s) × {args.duration:g} s; medians",
            ["site", "phase", "req/s", "hit rate", "stale reads"],
            rows,
            align="llrrr",
        )
        results.table(
            "View counts after the sites stopped",
            [
                "site",
                "views added to the database",
                "post pages served",
                "writes",
                "lost",
            ],
            counts,
            align="lrrrr",
        )
        # perfsite's own claims: no count lost, no stale read (the peers'
        # figures are in the tables).
        for number, site in enumerate(sites):
            if site.name != "perfsite":
                continue
            stale = sum(r["stale"] for p in phases for r in site.figures[p])
            lost = int(counts[number][4])
            results.target(
                "perfsite: view counts lost", lost, "0", lost == 0, str(lost)
            )
            results.target("perfsite: stale reads", stale, "0", stale == 0, str(stale))
        results.write()
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
