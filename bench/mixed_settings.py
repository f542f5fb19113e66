"""Settings of bench/mixed.py's sites: the demo's production settings, with
statistics flushed often, a middleware that tells cache hits from renders,
and, with ``MIXED_PEER=cacheops`` or ``cachalot``, the post page served by
that peer's ORM cache instead of the response cache."""

from __future__ import annotations

import os

from perfsite.settings import *  # noqa: F403
from perfsite.settings import INSTALLED_APPS, MIDDLEWARE

CACHING_STATS_FLUSH_INTERVAL = 0.5  # seconds
PEER = os.environ.get("MIXED_PEER", "")
# First: it sees every request, the response cache's hits included.
MIDDLEWARE = ["bench.mixed_site.CountReads", *MIDDLEWARE]

if PEER:
    ROOT_URLCONF = "bench.mixed_site"
    MIDDLEWARE.remove("caching.middleware.ResponseCacheMiddleware")
    SILENCED_SYSTEM_CHECKS = ["caching.W002"]
if PEER == "cacheops":
    INSTALLED_APPS = [*INSTALLED_APPS, "cacheops"]
    CACHEOPS_REDIS = os.environ["REDIS_URL"]
    # Every query of the models the page reads, invalidated by cacheops'
    # conjunctions (a get(pk=5) survives writes to other rows).
    CACHEOPS = {
        "perfsite.post": {"ops": "all", "timeout": 300},
        "auth.user": {"ops": "all", "timeout": 300},
    }
elif PEER == "cachalot":
    INSTALLED_APPS = [*INSTALLED_APPS, "cachalot"]
    CACHALOT_TIMEOUT = 300  # seconds; invalidated per table on every write
elif PEER:
    raise ValueError(f"MIXED_PEER must be cacheops or cachalot, not {PEER!r}.")
