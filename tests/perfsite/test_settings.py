"""The settings module under real environment variables, in a fresh process."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.support.services import free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "k3$9vQ!x7Lr2#pW8zT5@mN1&bH6^cJ4*dF0(eG-yU+iO_aS=lK",
    "DJANGO_ALLOWED_HOSTS": "www.example.com",
}

pytestmark = pytest.mark.slow


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL", "CDN_URL"))
    }
    clean["DJANGO_SETTINGS_MODULE"] = "perfsite.settings"
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_values() -> None:
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_refuses_the_dev_secret_key() -> None:
    env = {k: v for k, v in PRODUCTION.items() if k != "DJANGO_SECRET_KEY"}
    result = manage("check", "--deploy", "--fail-level", "WARNING", **env)
    assert result.returncode != 0
    assert "security.W009" in result.stderr


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DATABASE_URL", "postgres://host:notaport/db"),
        ("DJANGO_DEBUG", "perhaps"),
        ("REDIS_URL", "localhost:6379"),
    ],
)
def test_bad_value_stops_startup_naming_the_variable(name: str, value: str) -> None:
    result = manage("check", **{name: value})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert name in result.stderr.splitlines()[-1]


def test_settings_default_to_production_outside_runserver() -> None:
    result = manage(
        "shell", "-c", "from django.conf import settings; print(settings.DEBUG)"
    )
    assert result.stdout.strip().splitlines()[-1] == "False"


def test_runserver_defaults_to_debug() -> None:
    port = free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=clean,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, timeout=30)
        with pytest.raises(urllib.error.HTTPError) as error:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/no-such-page", timeout=10)
        # Django's technical 404 page appears only with DEBUG on.
        assert error.value.code == 404
        assert "Using the URLconf defined in" in error.value.read().decode()
    finally:
        server.terminate()
        server.wait(timeout=10)
