"""``caching`` alone, with only what its docs page asks for: an API-only project
with no static files, sessions, auth, admin or templates."""

from __future__ import annotations

import os

SECRET_KEY = "minimal-caching-only"  # noqa: S105 - a test project
DEBUG = False
ALLOWED_HOSTS = ["testserver"]
ROOT_URLCONF = "tests.minimal.caching_urls"
INSTALLED_APPS = ["caching"]
MIDDLEWARE = ["caching.middleware.ResponseCacheMiddleware"]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("MINIMAL_DB", ":memory:"),
    }
}
CACHES = {
    "default": {
        "BACKEND": "caching.backends.FailoverCache",
        "LOCATION": os.environ.get("MINIMAL_REDIS_URL", "redis://127.0.0.1:6379/0"),
        "KEY_PREFIX": "minimal",
    }
}
USE_TZ = True
