"""The profiling app's settings, read from ``django.conf.settings`` on access.

The middleware reads several settings on every request, and reading a
setting that is not defined costs an AttributeError each time; so values are
memoised until Django's ``setting_changed`` signal (sent by
``override_settings``) says a ``PROFILING_*`` setting changed.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.signals import setting_changed

SERVER_TIMING_CHOICES = ("staff", "all", "off")
_values: dict[str, Any] = {}


def _get(name: str, default: Any) -> Any:
    try:
        return _values[name]
    except KeyError:
        value = _values[name] = getattr(settings, name, default)
        return value


def _forget(*, setting: str, **kwargs: Any) -> None:
    if setting.startswith("PROFILING_"):
        _values.clear()


setting_changed.connect(_forget, dispatch_uid="perfsite_profiling.conf.forget")


class Settings:
    @property
    def ENABLED(self) -> bool:
        """The profile layer; the metrics layer has its own switch."""
        return bool(_get("PROFILING_ENABLED", False))

    @property
    def ENGINE(self) -> str:
        """``"sampling"`` (statistical, low overhead) or ``"cprofile"``."""
        return str(_get("PROFILING_ENGINE", "sampling"))

    @property
    def SAMPLING_INTERVAL(self) -> float:
        return float(_get("PROFILING_SAMPLING_INTERVAL", 1.0))  # milliseconds

    @property
    def METRICS(self) -> bool:
        return bool(_get("PROFILING_METRICS", True))

    @property
    def SAMPLE_RATE(self) -> float:
        return float(_get("PROFILING_SAMPLE_RATE", 0.01))

    @property
    def SAMPLE_BUDGET(self) -> int:
        """Sampled profiles per endpoint per hour, per process."""
        return int(_get("PROFILING_SAMPLE_BUDGET", 6))

    @property
    def MAX_PROFILES_PER_ENDPOINT(self) -> int:
        return int(_get("PROFILING_MAX_PROFILES_PER_ENDPOINT", 20))

    @property
    def MAX_PROFILES(self) -> int:
        return int(_get("PROFILING_MAX_PROFILES", 500))

    @property
    def MAX_METRIC_ROWS(self) -> int:
        return int(_get("PROFILING_MAX_METRIC_ROWS", 50_000))

    @property
    def RETENTION(self) -> int:
        return int(_get("PROFILING_RETENTION", 7 * 24 * 3600))  # seconds

    @property
    def WINDOW(self) -> int:
        return int(_get("PROFILING_WINDOW", 300))  # seconds

    @property
    def FLUSH_INTERVAL(self) -> float:
        return float(_get("PROFILING_FLUSH_INTERVAL", 10.0))  # seconds

    @property
    def FLUSH_REQUESTS(self) -> int:
        return int(_get("PROFILING_FLUSH_REQUESTS", 1000))

    @property
    def SLOW_QUERY_MS(self) -> float:
        return float(_get("PROFILING_SLOW_QUERY_MS", 100.0))

    @property
    def N_PLUS_ONE_THRESHOLD(self) -> int:
        return int(_get("PROFILING_N_PLUS_ONE_THRESHOLD", 5))

    @property
    def N_PLUS_ONE_MIN_MS(self) -> float:
        return float(_get("PROFILING_N_PLUS_ONE_MIN_MS", 1.0))

    @property
    def SERVER_TIMING(self) -> str:
        return str(_get("PROFILING_SERVER_TIMING", "staff"))

    @property
    def TIMING_ALLOW_ORIGIN(self) -> str | None:
        value = _get("PROFILING_TIMING_ALLOW_ORIGIN", None)
        return None if value is None else str(value)

    @property
    def API_TOKEN(self) -> str | None:
        value = _get("PROFILING_API_TOKEN", None)
        return str(value) if value else None

    @property
    def PROMETHEUS(self) -> bool:
        return bool(_get("PROFILING_PROMETHEUS", False))

    @property
    def TOP_FUNCTIONS(self) -> int:
        return int(_get("PROFILING_TOP_FUNCTIONS", 30))


conf = Settings()
