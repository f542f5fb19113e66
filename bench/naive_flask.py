"""The naive baseline: popular posts and site stats the way many sites write it today.

Flask, a decorator that keys Redis by an md5 of ``str(args)`` and stores JSON
with SETEX, and an ETag that is a hash of the query string (so it never
changes when the posts do). Served by gunicorn in bench/http.py, on the same
SQLite file or PostgreSQL database as the Django site:

    BENCH_DATABASE_URL=sqlite:////path/db.sqlite3 REDIS_URL=redis://127.0.0.1:6379/0 \\
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
            store.setex(key, ttl, json.dumps(value, default=str))
            return value

        return wrapper

    return decorator


def query(sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    url = os.environ["BENCH_DATABASE_URL"]
    if url.startswith("postgres"):
        import psycopg

        with psycopg.connect(url.replace("postgres://", "postgresql://", 1)) as pg:
            return pg.execute(sql.replace("?", "%s"), params).fetchall()
    db = sqlite3.connect(url.removeprefix("sqlite:///"))
    try:
        return db.execute(sql, params).fetchall()
    finally:
        db.close()


@cached(ttl=300)
def popular_posts(limit: int) -> list[dict[str, Any]]:
    rows = query(
        "SELECT p.id, p.title, p.slug, p.views, p.published_at, u.username"
        " FROM perfsite_post p JOIN auth_user u ON u.id = p.author_id"
        " ORDER BY p.views DESC, p.id LIMIT ?",
        (limit,),
    )
    keys = ("id", "title", "slug", "views", "published_at", "author")
    return [dict(zip(keys, row, strict=True)) for row in rows]


@cached(ttl=60)
def site_stats() -> dict[str, int]:
    ((users,),) = query("SELECT COUNT(*) FROM auth_user")
    ((posts,),) = query("SELECT COUNT(*) FROM perfsite_post")
    return {"total_users": users, "post_count": posts}


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
    body = json.dumps({"limit": limit, "posts": popular_posts(limit)}, default=str)
    return Response(body, mimetype="application/json", headers={"ETag": etag})


@app.get("/api/stats")
def stats() -> Response:
    return Response(json.dumps(site_stats()), mimetype="application/json")
