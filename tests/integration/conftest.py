"""The site under gunicorn and uvicorn with several workers, its own database and a private Redis."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from tests.support.cluster import RedisCluster
from tests.support.gunicorn import ROOT, manage, production_env, serve
from tests.support.services import RedisServer

WORKERS = 3  # workers of the ``site`` fixtures
# The servers the integration tests run the site under: WSGI sync workers, and ASGI.
SERVERS = ("gunicorn", "uvicorn")


@dataclass
class Site:
    url: str
    env: dict[str, str]

    def get(self, path: str, **headers: str) -> tuple[int, bytes]:
        status, body, _ = self.exchange(path, **headers)
        return status, body

    def exchange(self, path: str, **headers: str) -> tuple[int, bytes, Message]:
        """The status, body and headers of a GET of ``path``."""
        request = urllib.request.Request(self.url + path, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.read(), response.headers
        except urllib.error.HTTPError as error:
            return error.code, error.read(), error.headers

    def answer(self, path: str) -> tuple[str, int, bytes]:
        """The worker that answered (its pid, with ``tests.support.site_settings``),
        the status and the body."""
        status, body, headers = self.exchange(path)
        return headers["X-Test-Worker"], status, body

    def get_json(self, path: str) -> object:
        status, body = self.get(path)
        assert status == 200, body[:500]
        return json.loads(body)

    def orm(self, code: str) -> str:
        """Run Python with the ORM in another process, against the site's database."""
        result = subprocess.run(
            [sys.executable, "manage.py", "shell", "-v", "0", "-c", code],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout


def stats_row(raw: Any, suffix: str) -> dict[str, float]:
    """The figures in Redis of the one function or view whose name ends with ``suffix``."""
    names = {n.decode() for n in raw.smembers("perfsite:caching:stats:names")}
    (name,) = [n for n in names if n.endswith(suffix)]
    row = raw.hgetall(f"perfsite:caching:stats:{name}")
    figures = dict.fromkeys(("hits", "misses", "stale"), 0.0)
    figures.update({k.decode(): float(v) for k, v in row.items()})
    return figures


@pytest.fixture(scope="module")
def site_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database of the site's own: SQLite, or PostgreSQL when the suite runs on it."""
    default = settings.DATABASES["default"]
    if default["ENGINE"] != "django.db.backends.postgresql":
        yield f"sqlite:///{tmp_path_factory.mktemp('site') / 'site.sqlite3'}"
        return
    import psycopg

    name = f"perfsite_site_{uuid.uuid4().hex[:8]}"
    host, port, user = (
        default["HOST"] or "127.0.0.1",
        default["PORT"] or 5432,
        default["USER"],
    )
    admin = f"postgresql://{user}@{host}:{port}/postgres"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgres://{user}@{host}:{port}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def site_env(database_url: str, redis_url: str, static_root: Path) -> dict[str, str]:
    env = production_env(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        DJANGO_STATIC_ROOT=str(static_root),
        DJANGO_SUPERUSER_PASSWORD="integration-pw",
    )
    manage(env, "migrate", "--noinput", "--verbosity", "0")
    manage(env, "collectstatic", "--noinput", "--verbosity", "0")
    manage(env, "seed_demo", "--users", "20", "--posts", "200")
    return env


def started_site_env(
    database_url: str, redis: RedisServer | RedisCluster, files: pytest.TempPathFactory
) -> dict[str, str]:
    """``site_env`` on ``redis`` (a server or a cluster), started first."""
    redis.start()
    return site_env(database_url, redis.url, files.mktemp("static"))


@pytest.fixture(scope="module")
def site_setup(
    site_database: str,
    redis_server: RedisServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, str]:
    return started_site_env(site_database, redis_server, tmp_path_factory)


@pytest.fixture(params=SERVERS)
def server(request: pytest.FixtureRequest) -> str:
    """Each test of the site runs under gunicorn (WSGI) and uvicorn (ASGI)."""
    name: str = request.param
    return name


@pytest.fixture
def site(
    site_setup: dict[str, str], redis_server: RedisServer, server: str
) -> Iterator[Site]:
    """The site under ``server`` with 3 workers."""
    redis_server.start()
    redis_server.flushall()
    env = {**site_setup, "DJANGO_SETTINGS_MODULE": "tests.support.site_settings"}
    with serve(server, env, workers=WORKERS) as url:
        yield Site(url, env)
