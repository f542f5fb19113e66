"""Settings for the perfsite demo, read from the environment.

With nothing set, the site runs on a bare machine: SQLite in the project
directory and a SQLite-file cache every process of the site shares. Production values come from
``DJANGO_*``, ``DATABASE_URL``, ``REDIS_URL`` and ``CDN_URL``; see docs/deployment.md.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from perfsite.env import (
    database_config,
    env_bool,
    env_float,
    env_list,
    redis_cache_config,
)

BASE_DIR = Path(__file__).resolve().parent.parent

# manage.py sets DJANGO_DEBUG=1 for runserver; gunicorn/wsgi default to production.
DEBUG = env_bool("DJANGO_DEBUG", False)

# A dev-only key: the "django-insecure-" prefix makes `check --deploy` refuse it.
SECRET_KEY = os.environ.get(
    "DJANGO_SECRET_KEY",
    "django-insecure-perfsite-dev-only-key-do-not-use-in-production",
)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "caching",
    "assets",
    "perfsite_profiling",  # app label "profiling" (see docs/profiling.md)
    "perfsite",
]

# Order matters (see docs/deployment.md "Middleware order"; system checks caching.E016
# and caching.W002 enforce the response cache's place):
# - The response cache comes right under the static files: hits and 304s are
#   answered before sessions, CSRF, auth and the view run, and what it stores
#   is judged on the response every middleware below it has finished.
# - The static files middleware (assets' whitenoise) sits right under
#   SecurityMiddleware, above compression, so static files keep their
#   precompressed variants, PNGs are never re-gzipped and Range requests work.
# - Compression is listed *before* ConditionalGet, so ConditionalGet sees the
#   uncompressed body: its ETag is stable (gzip's random padding would change it
#   on every request) and a repeated GET can get a 304.
MIDDLEWARE = [
    # Django's, with its hooks on the event loop under ASGI (perfsite/middleware.py).
    "perfsite.middleware.SecurityMiddleware",
    "assets.middleware.StaticFilesMiddleware",
    # Below the static files (they are not measured), above the response cache
    # (its hits are requests too) and compression (it sees the bytes sent);
    # see docs/profiling.md.
    "perfsite_profiling.middleware.ProfilingMiddleware",
    "caching.middleware.ResponseCacheMiddleware",
    "assets.compression.CompressionMiddleware",
    "django.middleware.http.ConditionalGetMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Right below sessions: a speculative prefetch never creates a session.
    "assets.prefetch.PrefetchSessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
# Django's security.W001 looks for its SecurityMiddleware by path; the site's
# subclass is checked by perfsite/checks.py, which runs the other checks for it.
SILENCED_SYSTEM_CHECKS = ["security.W001"]

ROOT_URLCONF = "perfsite.urls"
WSGI_APPLICATION = "perfsite.wsgi.application"
ASGI_APPLICATION = "perfsite.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    }
]

DATABASES = {
    "default": database_config(
        os.environ.get("DATABASE_URL"), str(BASE_DIR / "db.sqlite3")
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


def _caches(redis_url: str | None) -> dict[str, dict[str, Any]]:
    if not redis_url:
        return {
            "default": {
                # One SQLite file shared by every process of the site on this
                # machine (workers, shell, commands): one set of group
                # versions, so one ETag and no stale copy per process.
                "BACKEND": "caching.embedded.SQLiteCache",
                "LOCATION": os.environ.get("DJANGO_CACHE_PATH")
                or str(BASE_DIR / "cache.sqlite3"),
                "KEY_PREFIX": "perfsite",
                "OPTIONS": {"MAX_ENTRIES": 20_000},
            }
        }
    redis = redis_cache_config(redis_url)
    return {
        "default": {
            # Redis with an in-process fallback and a circuit breaker.
            "BACKEND": "caching.backends.FailoverCache",
            "LOCATION": redis["LOCATION"],
            "KEY_PREFIX": "perfsite",
            "OPTIONS": {
                # Short timeouts: a cache that hangs is worse than a miss.
                "SOCKET_CONNECT_TIMEOUT": 0.25,  # seconds
                "SOCKET_TIMEOUT": 0.25,  # seconds
                **redis["OPTIONS"],
            },
        }
    }


CACHES = _caches(os.environ.get("REDIS_URL"))

# Varnish in front (scripts/dev edge): pages carry xkey tags and s-maxage, and
# an edit purges its tags at every Varnish listed.
VARNISH_URLS = env_list("VARNISH_URL", "")
if VARNISH_URLS:
    CACHING_SURROGATE_KEYS = "xkey"
    CACHING_SHARED_MAX_AGE = int(env_float("SHARED_MAX_AGE", 300))  # seconds
    CACHING_PURGERS = [{"BACKEND": "varnish", "HOSTS": VARNISH_URLS}]
    # The VCL sets it: the port a visitor's Host names is Varnish's, not gunicorn's.
    USE_X_FORWARDED_PORT = True

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = os.environ.get("CDN_URL", "").rstrip("/") + "/static/"
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT") or BASE_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # Hashed names + gzip/brotli variants, written once at collectstatic.
        "BACKEND": "assets.storage.BundleStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage",
    },
}
WHITENOISE_MAX_AGE = 24 * 60 * 60  # seconds, for files without a content hash
# One bundle per type for the demo; "critical" is inlined, "css" deferred.
ASSETS_BUNDLES = {
    "site": {
        "critical": ["perfsite/css/base.css", "perfsite/css/layout.css"],
        "css": [
            "perfsite/css/base.css",
            "perfsite/css/layout.css",
            "perfsite/css/components.css",
        ],
        "js": ["perfsite/js/app.js", "perfsite/js/enhance.js"],
    }
}
# The dcz dictionary: both page layouts rendered with an empty context, for
# every page of the site.
ASSETS_DICTIONARY_TEMPLATES = ["post_detail.html", "home.html"]
# The pages whose first viewport the critical CSS is extracted from, in
# headless Chromium at collectstatic (the "critical" list is the fallback).
ASSETS_CRITICAL_PAGES = {
    "site": [
        {"template": "home.html", "context": "perfsite.critical.home"},
        {"template": "post_detail.html", "context": "perfsite.critical.post_detail"},
    ]
}

# HTTPS hardening, on whenever DEBUG is off. DJANGO_SECURE=0 turns it off for a
# plain-HTTP production-like run on localhost (the benchmarks do this).
SECURE = env_bool("DJANGO_SECURE", not DEBUG)
SECURE_SSL_REDIRECT = SECURE
SESSION_COOKIE_SECURE = SECURE
CSRF_COOKIE_SECURE = SECURE
SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365 if SECURE else 0  # seconds
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE
SECURE_HSTS_PRELOAD = SECURE
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

PROFILING_ENABLED = env_bool("PROFILING_ENABLED", False)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {
        "handlers": ["console"],
        "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO"),
    },
    "loggers": {"django": {"level": "INFO", "propagate": True}},
}
