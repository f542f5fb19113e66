"""A read/write mix on the demo's post pages: hit rate, throughput, stale reads.

    .venv/bin/python bench/mixed.py [--posts 2000] [--read-set 1000]
        [--duration 15] [--rounds 3] [--clients 2] [--threads 4]

The demo under gunicorn (2 workers) on a private redis-server, seeded with
``--posts`` posts. Readers (``--clients`` processes of ``--threads`` threads)
fetch ``/posts/<pk>/`` with ``pk`` drawn from a Zipf law (s = 1.1) over the
first ``--read-set`` posts; a reader sends the ETag it last got for the URL
(``If-None-Match``), except for about 1 read in 20, a fresh anonymous visitor.
Every post page served counts a view (``perfsite.views.post_views``, flushed
every ``CACHING_COUNTER_FLUSH_INTERVAL`` seconds).

Phases, interleaved within each round (A B C, A B C, ...):

- ``reads``: the readers alone;
- ``+10 writes/s``: plus 10 ``update(views=F("views") + 1)`` a second, each to
  a post outside the read set (the issue's measurement);
- ``+ title edits``: plus a title edit of a post of the read set every 2 s,
  each followed by the check below.

A read is stale when it started after an edit of its post had committed and
shows the old title. The hit rate is the post page's, from the site's own
statistics (hits, 304s included, over hits, misses and stale serves). After
the last round the site is stopped (its workers flush their counts at exit)
and the views added to the database are compared with the post pages served
(200s and 304s): a count lost would show there.
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
import multiprocessing  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import urllib.request  # noqa: E402
from bisect import bisect  # noqa: E402
from itertools import accumulate  # noqa: E402
from typing import Any  # noqa: E402

from bench.harness import prepare_site  # noqa: E402
from tests.support.gunicorn import gunicorn  # noqa: E402
from tests.support.services import RedisServer, redis_binary  # noqa: E402

TITLE = re.compile(rb'<h1 id="post-title" class="article__title">(.*?)</h1>', re.S)
POLICY = "http:perfsite.views.post_detail"
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


def _edit(stop: threading.Event, edits: list[tuple[float, int, bytes]], n: int) -> None:
    from perfsite.models import Post

    rng = random.Random(n)
    while not stop.wait(EDIT_EVERY):
        pk = rng.randint(1, 50)  # popular posts: read often right after
        post = Post.objects.get(pk=pk)
        post.title = f"Edited {n}.{len(edits)} of {pk}"
        # Committed (autocommit) and bumped when this returns; update_fields,
        # so the flushes of the view counts meanwhile are not overwritten.
        post.save(update_fields=["title"])
        edits.append((time.time(), pk, post.title.encode()))


def _stats() -> dict[str, float]:
    from caching import stats

    row = stats.snapshot().get(POLICY, {})
    return {k: row.get(k, 0.0) for k in ("hits", "misses", "stale")}


def run_phase(name: str, base: str, args: argparse.Namespace, n: int) -> dict[str, Any]:
    before = _stats()
    stop = threading.Event()
    edits: list[tuple[float, int, bytes]] = []
    side: list[threading.Thread] = []
    written: list[int] = []
    if name != "reads":
        first = args.read_set + 1
        side.append(
            threading.Thread(
                target=lambda: written.append(_write(stop, first, args.posts))
            )
        )
    if name == "+ title edits":
        side.append(threading.Thread(target=_edit, args=(stop, edits, n)))
    queue: Any = multiprocessing.get_context("fork").Queue()
    clients = [
        multiprocessing.get_context("fork").Process(
            target=_read,
            args=(base, args.read_set, args.duration, args.threads, n * 10 + c, queue),
        )
        for c in range(args.clients)
    ]
    started = time.monotonic()
    for process in [*clients]:
        process.start()
    for thread in side:
        thread.start()
    results = [r for _ in clients for r in queue.get()]
    elapsed = time.monotonic() - started
    for process in clients:
        process.join()
    stop.set()
    for thread in side:
        thread.join()
    time.sleep(1.5)  # the workers' statistics of the phase reach Redis
    after = _stats()
    served = {k: sum(r["counts"][k] for r in results) for k in ("200", "304", "other")}
    stale = 0
    for result in results:
        for started_at, pk, title in result["seen"]:
            # The last edit of this post committed before the read started.
            done = [e for e in edits if e[1] == pk and e[0] < started_at]
            if done:
                stale += title != max(done)[2]
    hits = after["hits"] - before["hits"]
    looked = (
        hits + after["misses"] - before["misses"] + after["stale"] - before["stale"]
    )
    return {
        "rps": (served["200"] + served["304"] + served["other"]) / elapsed,
        "hit_rate": hits / looked if looked else 0.0,
        "stale": stale,
        "edits": len(edits),
        "writes": sum(written),
        "served": served,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--read-set", type=int, default=1000)
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()

    redis = RedisServer(redis_binary())
    redis.start()
    workdir = Path(tempfile.mkdtemp(prefix="perfsite-mixed-"))
    try:
        env = prepare_site(
            workdir,
            users=50,
            posts=args.posts,
            REDIS_URL=redis.url,
            DJANGO_SETTINGS_MODULE="bench.mixed_settings",
        )
        os.environ.update(env)
        import django

        django.setup()
        from django.db.models import Sum

        from perfsite.models import Post

        views_before = Post.objects.aggregate(n=Sum("views"))["n"] or 0
        phases = ["reads", "+10 writes/s", "+ title edits"]
        figures: dict[str, list[dict[str, Any]]] = {p: [] for p in phases}
        with gunicorn(env, workers=2, log=workdir / "gunicorn.log") as base:
            for pk in range(1, args.read_set + 1):  # every page of the read set stored
                urllib.request.urlopen(f"{base}/posts/{pk}/", timeout=30).read()
            warm = argparse.Namespace(**{**vars(args), "duration": 5.0})
            warmup = run_phase("reads", base, warm, 0)
            warmup["served"]["200"] += args.read_set
            for n in range(1, args.rounds + 1):
                for phase in phases:
                    figures[phase].append(run_phase(phase, base, args, n))
                    print(phase, figures[phase][-1]["served"], flush=True)
        # Stopped: the workers have flushed their counts at exit.
        written = sum(f["writes"] for p in phases for f in figures[p])
        counted_pages = sum(
            f["served"]["200"] + f["served"]["304"]
            for f in [warmup, *(f for p in phases for f in figures[p])]
        )
        views_after = Post.objects.aggregate(n=Sum("views"))["n"] or 0
        print()
        print(f"{'phase':<16} {'req/s':>8} {'hit rate':>9} {'stale':>6} {'edits':>6}")
        for phase in phases:
            rows = figures[phase]
            print(
                f"{phase:<16} {statistics.median(r['rps'] for r in rows):>8.0f} "
                f"{statistics.median(r['hit_rate'] for r in rows):>9.1%} "
                f"{sum(r['stale'] for r in rows):>6} {sum(r['edits'] for r in rows):>6}"
            )
        print(
            f"\nviews added to the database: {views_after - views_before}; "
            f"post pages served (200 and 304): {counted_pages}; "
            f"writes to other posts: {written}; lost: "
            f"{counted_pages + written - (views_after - views_before)}"
        )
    finally:
        redis.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
