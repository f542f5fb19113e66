"""The naive baseline: popular posts the way many sites write it today.

Flask, a decorator that keys Redis by an md5 of ``str(args)`` and stores JSON
with SETEX, and an ETag that is a hash of the query string (so it never
changes when the posts do). Served by gunicorn in bench/http.py:

    BENCH_SQLITE=/path/db.sqlite3 REDIS_URL=redis://127.0.0.1:6379/0 \\
        gunicorn -w 2 bench.naive_flask:app
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import sqlite3
from collections.abc import Callable
from typing import Any

import redis
from flask import Flask, Response, request

app = Flask(__name__)
store = redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))


def cached(ttl: int) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorator(func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def wrapper(*args: Any) -> Any:
            key = f"{func.__name__}:{hashlib.md5(str(args).encode()).hexdigest()}"
            hit = store.get(key)
            if hit is not None:
                return json.loads(hit)
            value = func(*args)
            store.setex(key, ttl, json.dumps(value))
            return value

        return wrapper

    return decorator


@cached(ttl=300)
def popular_posts(limit: int) -> list[dict[str, Any]]:
    db = sqlite3.connect(os.environ["BENCH_SQLITE"])
    try:
        rows = db.execute(
            "SELECT p.id, p.title, p.slug, p.views, p.published_at, u.username"
            " FROM perfsite_post p JOIN auth_user u ON u.id = p.author_id"
            " ORDER BY p.views DESC, p.id LIMIT ?",
            (limit,),
        ).fetchall()
    finally:
        db.close()
    keys = ("id", "title", "slug", "views", "published_at", "author")
    return [dict(zip(keys, row, strict=True)) for row in rows]


@app.get("/api/posts/popular")
def popular() -> Response:
    try:
        limit = int(request.args.get("limit", "10"))
    except ValueError:
        return Response(
            json.dumps({"error": "bad limit"}), 400, mimetype="application/json"
        )
    etag = hashlib.md5(request.query_string).hexdigest()
    if request.headers.get("If-None-Match") == etag:
        return Response(status=304)
    body = json.dumps({"limit": limit, "posts": popular_posts(limit)})
    return Response(body, mimetype="application/json", headers={"ETag": etag})
