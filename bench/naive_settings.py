"""The demo served the naive way, for bench/assets.py to compare against.

Same data, same pages, but one ``<link>``/``<script>`` per unminified source
file (``bench/naive/base.html`` overrides the layout's asset blocks), no
compression of pages or static files, and static files revalidated on every
view (``max-age=0``) instead of cached for a year.
"""

from __future__ import annotations

import os

from perfsite.settings import *  # noqa: F403
from perfsite.settings import BASE_DIR, MIDDLEWARE, TEMPLATES

# perfsite sets a day; the naive site keeps whitenoise's own default.
del WHITENOISE_MAX_AGE  # noqa: F821

TEMPLATES[0]["DIRS"] = [BASE_DIR / "bench" / "naive", *TEMPLATES[0]["DIRS"]]
MIDDLEWARE = [
    "whitenoise.middleware.WhiteNoiseMiddleware"
    if name == "assets.middleware.StaticFilesMiddleware"
    else name
    for name in MIDDLEWARE
    if name != "assets.compression.CompressionMiddleware"
]
STATIC_ROOT = os.environ["NAIVE_STATIC_ROOT"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
ASSETS_DEBUG = True
