"""A worker process for the multi-process cache tests.

Reads one command per line on stdin and answers one JSON line on stdout, so a
test can drive several workers in lock step, like gunicorn workers sharing
Redis and a database.
"""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.support.worker_settings")

import django  # noqa: E402

django.setup()

from django.core.cache import caches  # noqa: E402
from django.utils import timezone  # noqa: E402

from caching.decorators import cache_result  # noqa: E402
from perfsite.models import Post  # noqa: E402
from perfsite.queries import popular_posts  # noqa: E402

computed = 0


@cache_result(60, key_prefix="stampede")
def slow_square(x: int) -> int:
    global computed
    computed += 1
    time.sleep(0.5)
    return x * x


def handle(command: str, args: list[str]) -> dict[str, Any]:
    if command == "stampede":
        return {"value": slow_square(7), "computed": computed}
    if command == "save":
        from django.contrib.auth.models import User

        author, _ = User.objects.get_or_create(username="worker")
        post = Post.objects.create(
            title=args[0],
            slug=f"{args[0]}-{uuid.uuid4().hex[:12]}",  # a test may run again on this db
            body="",
            published_at=timezone.now(),
            author=author,
            views=int(args[1]),
        )
        return {"id": post.pk}
    if command == "edit":
        post = Post.objects.get(pk=int(args[0]))
        post.title = args[1]
        post.save()
        return {"id": post.pk}
    if command == "popular":
        return {"titles": [p["title"] for p in popular_posts(5)]}
    if command in ("get", "sync-get"):
        cache = caches["default"]
        synced = cache.near_sync() if command == "sync-get" else None
        before = cache.near_stats()["hits"]
        value = cache.get(args[0])
        near = cache.near_stats()
        return {"value": value, "near": near["hits"] > before, "synced": synced}
    if command == "set":
        caches["default"].set(args[0], int(args[1]), 60)
        return {"set": True}
    if command == "near-live":
        cache = caches["default"]
        deadline = time.monotonic() + 10
        cache.get("near-live")
        while not cache.near_stats()["live"] and time.monotonic() < deadline:
            time.sleep(0.01)
        return cache.near_stats()
    if command == "watch":  # answers twice: now, and once the value changed
        cache = caches["default"]
        print(json.dumps({"watching": True}), flush=True)
        deadline = time.monotonic() + 5
        reads = 1
        while cache.get(args[0]) == int(args[1]) and time.monotonic() < deadline:
            reads += 1
            time.sleep(0.0002)  # a worker between requests releases the GIL
        value = cache.get(args[0])
        return {"seen_at": time.monotonic(), "value": value, "reads": reads + 1}
    if command == "near-stats":
        return caches["default"].near_stats()
    if command == "delete":
        cache = caches["default"]
        for key in args:
            cache.delete(key)
        return {"state": cache.breaker.state, "missed": cache.health()["missed"]}
    if command == "touch":
        cache = caches["default"]
        cache.get("touch")
        return {"state": cache.breaker.state, "missed": cache.health()["missed"]}
    raise ValueError(command)


def main() -> None:
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        command, *args = line.split()
        print(json.dumps(handle(command, args)), flush=True)
    print(json.dumps({"exiting": True}), flush=True)  # the exit handlers run next


if __name__ == "__main__":
    main()
