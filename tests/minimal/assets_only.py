"""``assets`` alone, with only what its docs page asks for: static files and the
app, no sessions, auth, admin or database tables."""

from __future__ import annotations

import os
from pathlib import Path

HERE = Path(__file__).resolve().parent
SECRET_KEY = "minimal-assets-only"  # noqa: S105 - a test project
DEBUG = False
ALLOWED_HOSTS = ["testserver"]
ROOT_URLCONF = "tests.minimal.assets_urls"
INSTALLED_APPS = ["django.contrib.staticfiles", "assets"]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "assets.middleware.StaticFilesMiddleware",
    "assets.compression.CompressionMiddleware",
    "django.middleware.http.ConditionalGetMiddleware",
]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "DIRS": []}]
STATIC_URL = "/static/"
STATIC_ROOT = os.environ.get("MINIMAL_STATIC_ROOT", str(HERE / "collected"))
STATICFILES_DIRS = [HERE / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "assets.storage.BundleStorage"},
}
ASSETS_BUNDLES = {"mini": {"css": ["mini/a.css"], "js": ["mini/a.js"]}}
USE_TZ = True
