"""The caching app's settings: defaults in ``DEFAULTS``, one typed property
each (the skeleton is ``perfsite_conf.AppSettings``)."""

from __future__ import annotations

from typing import Any

from perfsite_conf import AppSettings, Setting
from perfsite_conf.kinds import (
    AnyValue,
    Bool,
    Int,
    ListOf,
    Number,
    Optional,
    Text,
    Where,
)

# The surrogate-key presets caching.surrogate.PRESETS defines ("": none).
SURROGATE_PRESETS = ("", "xkey", "fastly", "cloudflare")
RELEASE = Where(
    Text(),
    lambda v: 0 < len(v) <= 64 and v.isprintable() and not any(c.isspace() for c in v),
    "1-64 printable characters, no spaces",
)

SETTINGS: dict[str, Setting] = {
    "CACHING_FALLBACK_TIMEOUT": Setting(30, Int(minimum=1), "caching.E001"),  # seconds
    "CACHING_FALLBACK_MAX_ENTRIES": Setting(1000, Int(minimum=1), "caching.E002"),
    "CACHING_BREAKER_THRESHOLD": Setting(3, Int(minimum=1), "caching.E003"),
    "CACHING_BREAKER_COOLDOWN": Setting(
        0.25, Number(minimum=0), "caching.E004"
    ),  # seconds
    # seconds; also how long a process may keep serving its fallback (blind
    # to other processes' edits) after Redis is back, so kept short: a failed
    # probe is a refused connection, or one call's socket timeout.
    "CACHING_BREAKER_COOLDOWN_MAX": Setting(1.0, Number(minimum=0), "caching.E005"),
    "CACHING_REPLAY_LIMIT": Setting(1000, Int(minimum=0), "caching.E006"),
    "CACHING_GROUP_TIMEOUT": Setting(
        30 * 24 * 60 * 60, Int(minimum=60), "caching.E007"
    ),  # seconds
    "CACHING_LOCK_TIMEOUT": Setting(
        30.0, Number(minimum=0.1), "caching.E008"
    ),  # seconds
    "CACHING_LOCK_WAIT": Setting(5.0, Number(minimum=0), "caching.E009"),  # seconds
    "CACHING_JITTER": Setting(0.1, Number(minimum=0), "caching.E010"),
    "CACHING_STATS_FLUSH_INTERVAL": Setting(
        10.0, Number(minimum=0), "caching.E011"
    ),  # seconds
    "CACHING_NEAR_CACHE": Setting(True, Bool(), "caching.E020"),
    "CACHING_NEAR_MAX_ENTRIES": Setting(
        10_000, Int(minimum=0), "caching.E021"
    ),  # per process and cache
    "CACHING_NEAR_MAX_BYTES": Setting(
        16 * 1024 * 1024, Int(minimum=0), "caching.E022"
    ),  # per process and cache
    "CACHING_EXIT_WAIT": Setting(5.0, Number(minimum=0), "caching.E014"),  # seconds
    # rows an update() lists to bump them one by one; beyond, the whole model
    "CACHING_ROW_LIMIT": Setting(100, Int(minimum=0), "caching.E030"),
    # seconds between two flushes of a process's write-behind counters
    "CACHING_COUNTER_FLUSH_INTERVAL": Setting(5.0, Number(minimum=0), "caching.E031"),
    # None: derived from what a deploy changes (caching.release.default_release)
    "CACHING_RELEASE": Setting(None, Optional(RELEASE), "caching.E015"),
    # Shared HTTP caches (caching.surrogate, caching.purge): "" (none), "xkey",
    # "fastly" or "cloudflare"; seconds a shared cache keeps a page (0: no
    # s-maxage); purge targets; tags a process keeps pending per target.
    "CACHING_SURROGATE_KEYS": Setting(
        "", Optional(Text(choices=SURROGATE_PRESETS)), "caching.E024"
    ),
    "CACHING_SHARED_MAX_AGE": Setting(0, Int(minimum=0), "caching.E025"),
    "CACHING_PURGERS": Setting([], ListOf(AnyValue()), "caching.E027"),
    "CACHING_PURGE_QUEUE": Setting(10_000, Int(minimum=1), "caching.E026"),
}
DEFAULTS: dict[str, Any] = {name: spec.default for name, spec in SETTINGS.items()}


class Settings(AppSettings):
    """One typed property per ``CACHING_*`` setting."""

    @property
    def FALLBACK_TIMEOUT(self) -> int:
        """Cap on the timeout of entries in the per-process fallback."""
        return self._int("CACHING_FALLBACK_TIMEOUT")

    @property
    def FALLBACK_MAX_ENTRIES(self) -> int:
        return self._int("CACHING_FALLBACK_MAX_ENTRIES")

    @property
    def BREAKER_THRESHOLD(self) -> int:
        """Consecutive Redis errors that open the breaker."""
        return self._int("CACHING_BREAKER_THRESHOLD")

    @property
    def BREAKER_COOLDOWN(self) -> float:
        return self._number("CACHING_BREAKER_COOLDOWN")

    @property
    def BREAKER_COOLDOWN_MAX(self) -> float:
        return self._number("CACHING_BREAKER_COOLDOWN_MAX")

    @property
    def REPLAY_LIMIT(self) -> int:
        """Missed invalidations kept for replay; beyond it the namespace is bumped."""
        return self._int("CACHING_REPLAY_LIMIT")

    @property
    def GROUP_TIMEOUT(self) -> int:
        """Lifetime of group version keys; must exceed every entry's timeout."""
        return self._int("CACHING_GROUP_TIMEOUT")

    @property
    def LOCK_TIMEOUT(self) -> float:
        return self._number("CACHING_LOCK_TIMEOUT")

    @property
    def LOCK_WAIT(self) -> float:
        return self._number("CACHING_LOCK_WAIT")

    @property
    def JITTER(self) -> float:
        return self._number("CACHING_JITTER")

    @property
    def STATS_FLUSH_INTERVAL(self) -> float:
        return self._number("CACHING_STATS_FLUSH_INTERVAL")

    @property
    def NEAR_CACHE(self) -> bool:
        """Keep per-process copies of Redis reads, invalidated by CLIENT TRACKING.

        Deprecated (caching.W005): the default of each cache's
        ``OPTIONS["NEAR_CACHE"]``, which decides."""
        return self._bool("CACHING_NEAR_CACHE")

    @property
    def NEAR_MAX_ENTRIES(self) -> int:
        return self._int("CACHING_NEAR_MAX_ENTRIES")

    @property
    def NEAR_MAX_BYTES(self) -> int:
        """Bound on the bytes of the copies; one value may use a sixteenth."""
        return self._int("CACHING_NEAR_MAX_BYTES")

    @property
    def EXIT_WAIT(self) -> float:
        """Seconds an exiting process keeps trying to deliver missed writes."""
        return self._number("CACHING_EXIT_WAIT")

    @property
    def ROW_LIMIT(self) -> int:
        """Rows a queryset write lists and bumps one by one; beyond, the model."""
        return self._int("CACHING_ROW_LIMIT")

    @property
    def COUNTER_FLUSH_INTERVAL(self) -> float:
        """Seconds a count waits in its process before it is written."""
        return self._number("CACHING_COUNTER_FLUSH_INTERVAL")

    @property
    def RELEASE(self) -> str:
        """Part of every entry key and ETag: a new release never sees old entries."""
        value = self._get("CACHING_RELEASE")
        if RELEASE.problem(value) is not None:  # None, or refused by caching.E015
            from caching.release import default_release

            return default_release()
        return str(value)

    @property
    def SURROGATE_KEYS(self) -> str:
        """The surrogate-key preset: which header a shared cache reads tags from."""
        value = self._get("CACHING_SURROGATE_KEYS")
        return value if value in SURROGATE_PRESETS else ""

    @property
    def SHARED_MAX_AGE(self) -> int:
        """Seconds a shared cache may keep a page (``s-maxage``); 0: none."""
        return self._int("CACHING_SHARED_MAX_AGE")

    @property
    def PURGERS(self) -> Any:
        """Where bumped groups' tags are purged (a list: see ``caching.purgers``)."""
        value = self._get("CACHING_PURGERS")
        return value if isinstance(value, list | tuple) else []

    @property
    def PURGE_QUEUE(self) -> int:
        """Tags a process keeps waiting per purge target; beyond, they are dropped."""
        return self._int("CACHING_PURGE_QUEUE")


conf = Settings(SETTINGS)
