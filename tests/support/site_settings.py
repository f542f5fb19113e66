"""The demo's production settings with test-only pages (``tests.support.site_urls``)."""

from __future__ import annotations

from perfsite.env import env_float
from perfsite.settings import *  # noqa: F403

ROOT_URLCONF = "tests.support.site_urls"
# Outermost: cache hits and 304s name their worker too.
MIDDLEWARE = ["tests.support.site_urls.worker_pid", *MIDDLEWARE]  # noqa: F405
# seconds an exiting shell keeps retrying purges to a Varnish that is down
CACHING_EXIT_WAIT = env_float("PERFSITE_TEST_EXIT_WAIT", 5.0)
# seconds: each worker flushes at its first request, then once during the
# outage and once after it (the chaos test reads the figures before the stop).
CACHING_STATS_FLUSH_INTERVAL = 10.0
