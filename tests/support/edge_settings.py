"""The demo's settings with a URLconf that adds a page per model (Varnish tests)."""

from __future__ import annotations

from perfsite.env import env_float
from perfsite.settings import *  # noqa: F403

ROOT_URLCONF = "tests.support.edge_urls"
# seconds an exiting shell keeps retrying purges to a Varnish that is down
CACHING_EXIT_WAIT = env_float("PERFSITE_TEST_EXIT_WAIT", 5.0)
