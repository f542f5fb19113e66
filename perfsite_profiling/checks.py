"""System checks for the profiling app's settings (ids profiling.E0xx / W0xx)."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning
from django.urls import NoReverseMatch, reverse

from perfsite_profiling.conf import conf

HIGH_SAMPLE_RATE = 0.05


def _views_mounted() -> bool:
    try:
        reverse("profiling:index")
    except NoReverseMatch:
        return False
    return True


def check_settings(**kwargs: Any) -> list[CheckMessage]:
    """Every ``PROFILING_*`` setting against its kind (ids in
    ``perfsite_profiling.conf``), read from ``conf`` as the code reads them."""
    errors = conf.check()
    if not apps.is_installed("django.contrib.auth") and _views_mounted():
        errors.append(
            Error(
                "The profiling views are mounted but django.contrib.auth is missing.",
                hint="They are staff-only: add django.contrib.auth to INSTALLED_APPS "
                "or remove the profiling URLs.",
                id="profiling.E004",
            )
        )
    return errors


def check_deploy(**kwargs: Any) -> list[CheckMessage]:
    if not conf.fits("PROFILING_SAMPLE_RATE"):
        return []  # reported by profiling.E001
    if conf.ENABLED and conf.SAMPLE_RATE > HIGH_SAMPLE_RATE:
        return [
            Warning(
                f"PROFILING_SAMPLE_RATE above {HIGH_SAMPLE_RATE} with profiles on.",
                hint="Each profile is a stored row (and with the cprofile engine "
                "2-3x the request's CPU); keep the rate at 0.01 or below and "
                "use ?profile=1 as staff.",
                id="profiling.W001",
            )
        ]
    return []


PROFILING = "perfsite_profiling.middleware.ProfilingMiddleware"
_STATIC_FILES = (
    "assets.middleware.StaticFilesMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
)
_COMPRESSORS = (
    "assets.compression.CompressionMiddleware",
    "django.middleware.gzip.GZipMiddleware",
)


def check_middleware(**kwargs: Any) -> list[CheckMessage]:
    """ProfilingMiddleware under the static files, above compression."""
    middleware = list(getattr(settings, "MIDDLEWARE", None) or [])
    if PROFILING not in middleware:
        return []
    position = middleware.index(PROFILING)
    wrong = [m for m in middleware[position + 1 :] if m in _STATIC_FILES] + [
        m for m in middleware[:position] if m in _COMPRESSORS
    ]
    if not wrong:
        return []
    return [
        Error(
            "ProfilingMiddleware must sit under the static files middleware "
            "and above compression.",
            hint=f"Move it past {', '.join(wrong)}: static files are not "
            "measured, and it must see the compressed bytes sent.",
            id="profiling.E006",
        )
    ]
