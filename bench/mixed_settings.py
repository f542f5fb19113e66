"""The demo's production settings, with statistics flushed often enough for
bench/mixed.py to read each phase's hit rate from them."""

from __future__ import annotations

from perfsite.settings import *  # noqa: F403

CACHING_STATS_FLUSH_INTERVAL = 0.5  # seconds
