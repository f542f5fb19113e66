"""Settings of bench/asgi_static.py: the demo with another static files middleware.

``BENCH_STATIC`` picks it: ``ours`` (assets.middleware.StaticFilesMiddleware),
``whitenoise`` (whitenoise's own, sync-only) or ``servestatic`` (4.x,
async-only).
"""

from __future__ import annotations

import os

from perfsite.settings import *  # noqa: F403

_CHOSEN = {
    "ours": "assets.middleware.StaticFilesMiddleware",
    "whitenoise": "whitenoise.middleware.WhiteNoiseMiddleware",
    "servestatic": "servestatic.middleware.ServeStaticMiddleware",
}[os.environ.get("BENCH_STATIC", "ours")]
MIDDLEWARE = [
    _CHOSEN if path == "assets.middleware.StaticFilesMiddleware" else path
    for path in MIDDLEWARE  # noqa: F405
]
SERVESTATIC_MAX_AGE = WHITENOISE_MAX_AGE  # noqa: F405
SILENCED_SYSTEM_CHECKS = [*SILENCED_SYSTEM_CHECKS, "assets.E011", "caching.E016"]  # noqa: F405
