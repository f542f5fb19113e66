"""Settings of the worker processes the multi-process cache tests start."""

from __future__ import annotations

import os

from tests.settings import *  # noqa: F403

CACHES = {
    "default": {
        "BACKEND": "caching.backends.FailoverCache",
        "LOCATION": os.environ["PERFSITE_TEST_REDIS_URL"],
        "KEY_PREFIX": "t",
    }
}
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ["PERFSITE_TEST_DB"],
    }
}
CACHING_BREAKER_COOLDOWN = 0.05  # seconds: probe soon after Redis returns
CACHING_EXIT_WAIT = float(os.environ.get("PERFSITE_TEST_EXIT_WAIT", "5"))  # seconds
