"""Settings and URLs of the profiling benchmark (not part of the demo).

A trivial view and a 20-query view (19 posts, then each post's author: the
classic N+1), on a SQLite file of the benchmark's own. Silk is installed so
that it can be switched on per variant; its middleware is added only there.
"""

from __future__ import annotations

import os
import tempfile

from django.http import HttpRequest, HttpResponse
from django.urls import path

SECRET_KEY = "bench-only"
DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "bench.profiling_site"
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "perfsite",
    "perfsite_profiling",  # app label "profiling" (see docs/profiling.md)
    "silk",
]
BASE_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
MIDDLEWARE = BASE_MIDDLEWARE
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get(
            "BENCH_DB", os.path.join(tempfile.gettempdir(), "bench-profiling.sqlite3")
        ),
    }
}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": ["django.template.context_processors.request"]
        },
    }
]
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # A loaded machine makes some queries "slow"; their log lines would bury
    # the figures (and printing them is not what is measured).
    "loggers": {"profiling.slow_queries": {"level": "CRITICAL"}},
}
SILKY_PYTHON_PROFILER = False
SILKY_AUTHENTICATION = False
SILKY_AUTHORISATION = False
PYINSTRUMENT_SHOW_CALLBACK = "bench.profiling_site.always"
PROFILING_METRICS = False
PROFILING_ENABLED = False
PROFILING_SAMPLE_BUDGET = 10**9
PROFILING_SERVER_TIMING = "off"


def always(request: HttpRequest) -> bool:
    return True


def trivial(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


def twenty_queries(request: HttpRequest) -> HttpResponse:
    from perfsite.models import Post  # this module is also the settings module

    posts = list(Post.objects.order_by("id")[:19])
    names = [post.author.username for post in posts]  # 19 more queries
    return HttpResponse(",".join(names))


urlpatterns = [path("t/", trivial), path("q20/", twenty_queries)]
