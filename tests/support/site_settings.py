"""The demo's production settings plus a test-only view (``tests.support.site_urls``)."""

from __future__ import annotations

from perfsite.settings import *  # noqa: F403

ROOT_URLCONF = "tests.support.site_urls"
# seconds: each worker flushes at its first request, then once during the
# outage and once after it (the chaos test reads the figures before the stop).
CACHING_STATS_FLUSH_INTERVAL = 10.0
