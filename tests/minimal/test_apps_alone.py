"""Each app alone in a project of its own, booted in a fresh process.

The settings modules here hold only what each app's docs page asks for,
so a dependency on static files, sessions, auth or the admin shows up as a
failing ``check`` or request.
"""

from __future__ import annotations

import json
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


RENDER_BUNDLES = """
import django, json
django.setup()
from django.test import Client
client = Client()
page = client.get("/").content.decode()
css = page.split('href="')[1].split('"')[0]
served = client.get(css)
print(json.dumps([page.count("integrity="), css.startswith("/static/bundles/"),
                  served.status_code, b"color:red" in b"".join(served)]))
"""


def test_assets_alone_checks_builds_and_serves_a_bundle(tmp_path: Path) -> None:
    settings = "tests.minimal.assets_only"
    env = {"MINIMAL_STATIC_ROOT": str(tmp_path)}
    run(settings, "manage.py", "check", "--fail-level", "WARNING", **env)
    run(settings, "manage.py", "collectstatic", "--noinput", **env)
    out = run(settings, "-c", RENDER_BUNDLES, **env)
    # Both tags carry SRI; the stylesheet is the built bundle, served.
    assert out.strip() == "[2, true, 200, true]"


PROFILE_ONE = """
import django, json
django.setup()
from django.test import Client
from perfsite_profiling.flusher import flush_all
from perfsite_profiling.models import Profile
client = Client()
page = client.get("/")
flush_all()  # what the idle thread or the exit does
anonymous = client.get("/profiling/")
print(json.dumps([page.status_code, Profile.objects.count(), anonymous.status_code,
                  anonymous["Location"].split("?")[0]]))
"""


def test_profiling_alone_checks_and_profiles_a_request(tmp_path: Path) -> None:
    settings = "tests.minimal.profiling_only"
    env = {"MINIMAL_DB": str(tmp_path / "db.sqlite3")}
    run(settings, "manage.py", "check", "--fail-level", "WARNING", **env)
    run(settings, "manage.py", "migrate", "--noinput", **env)
    out = run(settings, "-c", PROFILE_ONE, **env)
    page, profiles, anonymous, login = json.loads(out)
    assert (page, profiles) == (200, 1)
    # No admin: an anonymous visitor is sent to LOGIN_URL, never shown profiles.
    assert (anonymous, login) == (302, "/accounts/login/")
