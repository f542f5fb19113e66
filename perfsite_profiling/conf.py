"""The profiling app's settings: defaults in ``DEFAULTS``, one typed property
each (the skeleton is ``perfsite_conf.AppSettings``, which memoises values
until Django's ``setting_changed`` signal: the middleware reads several
settings on every request)."""

from __future__ import annotations

from typing import Any

from perfsite_conf import AppSettings

SERVER_TIMING_CHOICES = ("staff", "all", "off")

DEFAULTS: dict[str, Any] = {
    "PROFILING_ENABLED": False,
    "PROFILING_ENGINE": "sampling",
    "PROFILING_SAMPLING_INTERVAL": 1.0,  # milliseconds
    "PROFILING_METRICS": True,
    "PROFILING_SAMPLE_RATE": 0.01,
    "PROFILING_SAMPLE_BUDGET": 6,
    "PROFILING_MAX_PROFILES_PER_ENDPOINT": 20,
    "PROFILING_MAX_PROFILES": 500,
    "PROFILING_MAX_METRIC_ROWS": 50_000,
    "PROFILING_RETENTION": 7 * 24 * 3600,  # seconds
    "PROFILING_WINDOW": 300,  # seconds
    "PROFILING_FLUSH_INTERVAL": 10.0,  # seconds
    "PROFILING_FLUSH_REQUESTS": 1000,
    "PROFILING_SLOW_QUERY_MS": 100.0,
    "PROFILING_N_PLUS_ONE_THRESHOLD": 5,
    "PROFILING_N_PLUS_ONE_MIN_MS": 1.0,
    "PROFILING_SERVER_TIMING": "staff",
    "PROFILING_TIMING_ALLOW_ORIGIN": None,
    "PROFILING_API_TOKEN": None,
    "PROFILING_PROMETHEUS": False,
    "PROFILING_TOP_FUNCTIONS": 30,
}


class Settings(AppSettings):
    @property
    def ENABLED(self) -> bool:
        """The profile layer; the metrics layer has its own switch."""
        return bool(self._get("PROFILING_ENABLED"))

    @property
    def ENGINE(self) -> str:
        """``"sampling"`` (statistical, low overhead) or ``"cprofile"``."""
        return str(self._get("PROFILING_ENGINE"))

    @property
    def SAMPLING_INTERVAL(self) -> float:
        return float(self._get("PROFILING_SAMPLING_INTERVAL"))

    @property
    def METRICS(self) -> bool:
        return bool(self._get("PROFILING_METRICS"))

    @property
    def SAMPLE_RATE(self) -> float:
        return float(self._get("PROFILING_SAMPLE_RATE"))

    @property
    def SAMPLE_BUDGET(self) -> int:
        """Sampled profiles per endpoint per hour, per process."""
        return int(self._get("PROFILING_SAMPLE_BUDGET"))

    @property
    def MAX_PROFILES_PER_ENDPOINT(self) -> int:
        return int(self._get("PROFILING_MAX_PROFILES_PER_ENDPOINT"))

    @property
    def MAX_PROFILES(self) -> int:
        return int(self._get("PROFILING_MAX_PROFILES"))

    @property
    def MAX_METRIC_ROWS(self) -> int:
        return int(self._get("PROFILING_MAX_METRIC_ROWS"))

    @property
    def RETENTION(self) -> int:
        return int(self._get("PROFILING_RETENTION"))

    @property
    def WINDOW(self) -> int:
        return int(self._get("PROFILING_WINDOW"))

    @property
    def FLUSH_INTERVAL(self) -> float:
        return float(self._get("PROFILING_FLUSH_INTERVAL"))

    @property
    def FLUSH_REQUESTS(self) -> int:
        return int(self._get("PROFILING_FLUSH_REQUESTS"))

    @property
    def SLOW_QUERY_MS(self) -> float:
        return float(self._get("PROFILING_SLOW_QUERY_MS"))

    @property
    def N_PLUS_ONE_THRESHOLD(self) -> int:
        return int(self._get("PROFILING_N_PLUS_ONE_THRESHOLD"))

    @property
    def N_PLUS_ONE_MIN_MS(self) -> float:
        return float(self._get("PROFILING_N_PLUS_ONE_MIN_MS"))

    @property
    def SERVER_TIMING(self) -> str:
        return str(self._get("PROFILING_SERVER_TIMING"))

    @property
    def TIMING_ALLOW_ORIGIN(self) -> str | None:
        value = self._get("PROFILING_TIMING_ALLOW_ORIGIN")
        return None if value is None else str(value)

    @property
    def API_TOKEN(self) -> str | None:
        value = self._get("PROFILING_API_TOKEN")
        return str(value) if value else None

    @property
    def PROMETHEUS(self) -> bool:
        return bool(self._get("PROFILING_PROMETHEUS"))

    @property
    def TOP_FUNCTIONS(self) -> int:
        return int(self._get("PROFILING_TOP_FUNCTIONS"))


conf = Settings(DEFAULTS)
