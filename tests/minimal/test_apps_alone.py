"""Each app alone in a project of its own, booted in a fresh process.

The settings modules here hold only what each app's README section asks for,
so a dependency on static files, sessions, auth or the admin shows up as a
failing ``check`` or request.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.services import RedisServer

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow]


def run(settings: str, *args: str, **env: str) -> str:
    """``python *args`` in the project with ``settings``; its output (must succeed)."""
    done = subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": settings, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


SERVE_TWICE = """
import django, json
django.setup()
from django.test import Client
client = Client()
first, second = client.get("/numbers/"), client.get("/numbers/")
print(json.dumps([first.status_code, second.status_code,
                  first.json(), second.json(), first["ETag"] == second["ETag"]]))
"""


@pytest.mark.redis
def test_caching_alone_checks_and_serves_a_cached_view(redis: RedisServer) -> None:
    settings = "tests.minimal.caching_only"
    env = {"MINIMAL_REDIS_URL": redis.url}
    run(settings, "manage.py", "check", "--fail-level", "WARNING", **env)
    out = run(settings, "-c", SERVE_TWICE, **env)
    # The second request is a hit: the view ran once, the page is the same.
    assert out.strip() == '[200, 200, {"renders": 1}, {"renders": 1}, true]'
