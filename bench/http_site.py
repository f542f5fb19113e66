"""Settings of the HTTP benchmark: the demo plus its peers' variants (bench/http_urls.py)."""

from __future__ import annotations

from perfsite.settings import *  # noqa: F403

ROOT_URLCONF = "bench.http_urls"
