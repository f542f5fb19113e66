"""The profiling app's settings: defaults in ``DEFAULTS``, one typed property
each (the skeleton is ``perfsite_conf.AppSettings``, which memoises values
until Django's ``setting_changed`` signal: the middleware reads several
settings on every request)."""

from __future__ import annotations

from typing import Any

from perfsite_conf import AppSettings, Setting
from perfsite_conf.kinds import Bool, Int, Number, Optional, Text, Where

SERVER_TIMING_CHOICES = ("staff", "all", "off")
ENGINES = ("sampling", "cprofile")
MIN_TOKEN_LENGTH = 24
TOKEN = Where(
    Text(),
    lambda v: len(v) >= MIN_TOKEN_LENGTH,
    f"a string of {MIN_TOKEN_LENGTH}+ characters",
)

SETTINGS: dict[str, Setting] = {
    "PROFILING_ENABLED": Setting(False, Bool(), "profiling.E008"),
    "PROFILING_ENGINE": Setting(
        "sampling",
        Text(choices=ENGINES),
        "profiling.E007",
        "'sampling' costs little per profiled request; 'cprofile' gives exact call counts at 2-3x the request's CPU.",
    ),
    "PROFILING_SAMPLING_INTERVAL": Setting(
        1.0, Number(above=0), "profiling.E002"
    ),  # milliseconds
    "PROFILING_METRICS": Setting(True, Bool(), "profiling.E009"),
    "PROFILING_SAMPLE_RATE": Setting(
        0.01,
        Number(minimum=0, maximum=1),
        "profiling.E001",
        "0.01 profiles one request in a hundred.",
    ),
    "PROFILING_SAMPLE_BUDGET": Setting(6, Int(minimum=1), "profiling.E002"),
    "PROFILING_MAX_PROFILES_PER_ENDPOINT": Setting(
        20, Int(minimum=1), "profiling.E002"
    ),
    "PROFILING_MAX_PROFILES": Setting(500, Int(minimum=1), "profiling.E002"),
    "PROFILING_MAX_METRIC_ROWS": Setting(50_000, Int(minimum=1), "profiling.E002"),
    "PROFILING_RETENTION": Setting(
        7 * 24 * 3600, Int(minimum=1), "profiling.E002"
    ),  # seconds
    "PROFILING_WINDOW": Setting(300, Int(minimum=1), "profiling.E002"),  # seconds
    "PROFILING_FLUSH_INTERVAL": Setting(
        10.0, Number(above=0), "profiling.E002"
    ),  # seconds
    "PROFILING_FLUSH_REQUESTS": Setting(1000, Int(minimum=1), "profiling.E002"),
    "PROFILING_SLOW_QUERY_MS": Setting(100.0, Number(above=0), "profiling.E002"),
    "PROFILING_N_PLUS_ONE_THRESHOLD": Setting(5, Int(minimum=1), "profiling.E002"),
    "PROFILING_N_PLUS_ONE_MIN_MS": Setting(1.0, Number(minimum=0), "profiling.E002"),
    "PROFILING_SERVER_TIMING": Setting(
        "staff", Text(choices=SERVER_TIMING_CHOICES), "profiling.E003"
    ),
    "PROFILING_TIMING_ALLOW_ORIGIN": Setting(
        None,
        Optional(Text()),
        "profiling.E011",
        "'*', or the origins (space-separated) whose pages may read the timings.",
    ),
    "PROFILING_API_TOKEN": Setting(
        None,
        Optional(TOKEN),
        "profiling.E005",
        "python -c 'import secrets; print(secrets.token_urlsafe(32))'",
    ),
    "PROFILING_PROMETHEUS": Setting(False, Bool(), "profiling.E010"),
    "PROFILING_TOP_FUNCTIONS": Setting(30, Int(minimum=1), "profiling.E002"),
}
DEFAULTS: dict[str, Any] = {name: spec.default for name, spec in SETTINGS.items()}


class Settings(AppSettings):
    @property
    def ENABLED(self) -> bool:
        """The profile layer; the metrics layer has its own switch."""
        return self._bool("PROFILING_ENABLED")

    @property
    def ENGINE(self) -> str:
        """``"sampling"`` (statistical, low overhead) or ``"cprofile"``."""
        return self._str("PROFILING_ENGINE")

    @property
    def SAMPLING_INTERVAL(self) -> float:
        return self._number("PROFILING_SAMPLING_INTERVAL")

    @property
    def METRICS(self) -> bool:
        return self._bool("PROFILING_METRICS")

    @property
    def SAMPLE_RATE(self) -> float:
        return self._number("PROFILING_SAMPLE_RATE")

    @property
    def SAMPLE_BUDGET(self) -> int:
        """Sampled profiles per endpoint per hour, per process."""
        return self._int("PROFILING_SAMPLE_BUDGET")

    @property
    def MAX_PROFILES_PER_ENDPOINT(self) -> int:
        return self._int("PROFILING_MAX_PROFILES_PER_ENDPOINT")

    @property
    def MAX_PROFILES(self) -> int:
        return self._int("PROFILING_MAX_PROFILES")

    @property
    def MAX_METRIC_ROWS(self) -> int:
        return self._int("PROFILING_MAX_METRIC_ROWS")

    @property
    def RETENTION(self) -> int:
        return self._int("PROFILING_RETENTION")

    @property
    def WINDOW(self) -> int:
        return self._int("PROFILING_WINDOW")

    @property
    def FLUSH_INTERVAL(self) -> float:
        return self._number("PROFILING_FLUSH_INTERVAL")

    @property
    def FLUSH_REQUESTS(self) -> int:
        return self._int("PROFILING_FLUSH_REQUESTS")

    @property
    def SLOW_QUERY_MS(self) -> float:
        return self._number("PROFILING_SLOW_QUERY_MS")

    @property
    def N_PLUS_ONE_THRESHOLD(self) -> int:
        return self._int("PROFILING_N_PLUS_ONE_THRESHOLD")

    @property
    def N_PLUS_ONE_MIN_MS(self) -> float:
        return self._number("PROFILING_N_PLUS_ONE_MIN_MS")

    @property
    def SERVER_TIMING(self) -> str:
        return self._str("PROFILING_SERVER_TIMING")

    @property
    def TIMING_ALLOW_ORIGIN(self) -> str | None:
        value = self._get("PROFILING_TIMING_ALLOW_ORIGIN")
        return value if isinstance(value, str) else None

    @property
    def API_TOKEN(self) -> str | None:
        value = self._get("PROFILING_API_TOKEN")
        return value if TOKEN.problem(value) is None else None  # else profiling.E005

    @property
    def PROMETHEUS(self) -> bool:
        return self._bool("PROFILING_PROMETHEUS")

    @property
    def TOP_FUNCTIONS(self) -> int:
        return self._int("PROFILING_TOP_FUNCTIONS")


conf = Settings(SETTINGS)
