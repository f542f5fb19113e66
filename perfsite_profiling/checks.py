"""System checks for the profiling app's settings (ids profiling.E0xx / W0xx)."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning
from django.urls import NoReverseMatch, reverse

from perfsite_profiling.conf import SERVER_TIMING_CHOICES, conf
from perfsite_profiling.profiler import ENGINES

HIGH_SAMPLE_RATE = 0.05
MIN_TOKEN_LENGTH = 24
_POSITIVE = (
    "SAMPLE_BUDGET",
    "MAX_PROFILES_PER_ENDPOINT",
    "MAX_PROFILES",
    "MAX_METRIC_ROWS",
    "RETENTION",
    "WINDOW",
    "FLUSH_INTERVAL",
    "FLUSH_REQUESTS",
    "SLOW_QUERY_MS",
    "N_PLUS_ONE_THRESHOLD",
    "TOP_FUNCTIONS",
    "SAMPLING_INTERVAL",
)


def _number_errors() -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    for name in _POSITIVE:
        try:
            ok = getattr(conf, name) > 0
        except (TypeError, ValueError):
            ok = False
        if not ok:
            errors.append(
                Error(
                    f"PROFILING_{name} must be a positive number.",
                    id="profiling.E002",
                )
            )
    try:
        floor_ok = conf.N_PLUS_ONE_MIN_MS >= 0
    except (TypeError, ValueError):
        floor_ok = False
    if not floor_ok:
        errors.append(
            Error(
                "PROFILING_N_PLUS_ONE_MIN_MS must be a number >= 0.",
                id="profiling.E002",
            )
        )
    return errors


def _views_mounted() -> bool:
    try:
        reverse("profiling:index")
    except NoReverseMatch:
        return False
    return True


def check_settings(**kwargs: Any) -> list[CheckMessage]:
    errors = _number_errors()
    try:
        rate_ok = 0.0 <= conf.SAMPLE_RATE <= 1.0
    except (TypeError, ValueError):
        rate_ok = False
    if not rate_ok:
        errors.append(
            Error(
                "PROFILING_SAMPLE_RATE must be a number from 0 to 1.",
                hint="0.01 profiles one request in a hundred.",
                id="profiling.E001",
            )
        )
    if conf.SERVER_TIMING not in SERVER_TIMING_CHOICES:
        errors.append(
            Error(
                "PROFILING_SERVER_TIMING must be 'staff', 'all' or 'off'.",
                id="profiling.E003",
            )
        )
    if conf.ENGINE not in ENGINES:
        errors.append(
            Error(
                "PROFILING_ENGINE must be 'sampling' or 'cprofile'.",
                hint="'sampling' costs little per profiled request; 'cprofile' "
                "gives exact call counts at 2-3x the request's CPU.",
                id="profiling.E007",
            )
        )
    token = getattr(settings, "PROFILING_API_TOKEN", None)
    if token is not None and (not isinstance(token, str) or len(token) < 24):
        errors.append(
            Error(
                f"PROFILING_API_TOKEN must be a string of {MIN_TOKEN_LENGTH}+ chars.",
                hint="python -c 'import secrets; print(secrets.token_urlsafe(32))'",
                id="profiling.E005",
            )
        )
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
    try:
        high = conf.ENABLED and conf.SAMPLE_RATE > HIGH_SAMPLE_RATE
    except (TypeError, ValueError):
        return []  # reported by profiling.E001
    if high:
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
