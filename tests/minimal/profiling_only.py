"""``perfsite_profiling`` with only what its docs page asks for: auth (staff
access) and its own tables; no admin, sessions, static files or templates of
the project."""

from __future__ import annotations

import os

SECRET_KEY = "minimal-profiling-only"  # noqa: S105 - a test project
DEBUG = False
ALLOWED_HOSTS = ["testserver"]
ROOT_URLCONF = "tests.minimal.profiling_urls"
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "perfsite_profiling",
]
MIDDLEWARE = ["perfsite_profiling.middleware.ProfilingMiddleware"]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("MINIMAL_DB", ":memory:"),
    }
}
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
    }
]
PROFILING_ENABLED = True
PROFILING_SAMPLE_RATE = 1.0
PROFILING_ENGINE = "cprofile"  # exact: even a short request leaves a profile
USE_TZ = True
