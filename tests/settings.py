"""Test settings: the site's own settings, made fast and deterministic."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import django

from perfsite.settings import *  # noqa: F403

# The test client speaks plain HTTP; HTTPS hardening is tested in test_settings.py.
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# An empty STATIC_ROOT of their own; tests that need collected files collect them.
STATIC_ROOT = Path(tempfile.mkdtemp(prefix="perfsite-static-"))
# Tests never need collectstatic unless they ask for it.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# No collected bundles either: asset tags link the source files.
ASSETS_DEBUG = True
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "tests",
    }
}
LOGGING = {"version": 1, "disable_existing_loggers": False}
# Metrics flush only when a test asks (store.aggregator.flush()), never mid-test.
PROFILING_FLUSH_INTERVAL = 10**9
PROFILING_FLUSH_REQUESTS = 10**9
# Write-behind counters flush only when a test asks (caching.counters.flush()).
CACHING_COUNTER_FLUSH_INTERVAL = 10**9  # seconds
# The suite stops Redis on purpose: no waiting at exit.
CACHING_EXIT_WAIT = 0.0  # seconds

# Django's own cache tests, fetched by scripts/dev next to the venv, are the
# contract suite of FailoverCache (tests/caching/test_django_contract.py); some
# of them store instances of their app's model.
DJANGO_CACHE_TESTS = Path(sys.prefix) / "django-tests" / django.__version__
if (DJANGO_CACHE_TESTS / "cache" / "tests.py").is_file():
    sys.path.append(str(DJANGO_CACHE_TESTS))
    INSTALLED_APPS = [*INSTALLED_APPS, "cache"]  # noqa: F405

# Models only the tests use (a proxy, multi-table inheritance, an m2m through
# model), with their own migration.
INSTALLED_APPS = [*INSTALLED_APPS, "tests.testmodels"]  # noqa: F405
