"""The caching app's settings: defaults in ``DEFAULTS``, one typed property
each (the skeleton is ``perfsite_conf.AppSettings``)."""

from __future__ import annotations

from typing import Any

from perfsite_conf import AppSettings

DEFAULTS: dict[str, Any] = {
    "CACHING_FALLBACK_TIMEOUT": 30,  # seconds
    "CACHING_FALLBACK_MAX_ENTRIES": 1000,
    "CACHING_BREAKER_THRESHOLD": 3,
    "CACHING_BREAKER_COOLDOWN": 0.25,  # seconds
    # seconds; also how long a process may keep serving its fallback (blind
    # to other processes' edits) after Redis is back, so kept short: a failed
    # probe is a refused connection, or one call's socket timeout.
    "CACHING_BREAKER_COOLDOWN_MAX": 1.0,
    "CACHING_REPLAY_LIMIT": 1000,
    "CACHING_GROUP_TIMEOUT": 30 * 24 * 60 * 60,  # seconds
    "CACHING_LOCK_TIMEOUT": 30.0,  # seconds
    "CACHING_LOCK_WAIT": 5.0,  # seconds
    "CACHING_JITTER": 0.1,
    "CACHING_STATS_FLUSH_INTERVAL": 10.0,  # seconds
    "CACHING_NEAR_CACHE": True,
    "CACHING_NEAR_MAX_ENTRIES": 10_000,  # per process and cache
    "CACHING_NEAR_MAX_BYTES": 16 * 1024 * 1024,  # per process and cache
    "CACHING_EXIT_WAIT": 5.0,  # seconds
    # rows an update() lists to bump them one by one; beyond, the whole model
    "CACHING_ROW_LIMIT": 100,
    # seconds between two flushes of a process's write-behind counters
    "CACHING_COUNTER_FLUSH_INTERVAL": 5.0,
    # None: derived from what a deploy changes (caching.release.default_release)
    "CACHING_RELEASE": None,
    # Shared HTTP caches (caching.surrogate, caching.purge): "" (none), "xkey",
    # "fastly" or "cloudflare"; seconds a shared cache keeps a page (0: no
    # s-maxage); purge targets; tags a process keeps pending per target.
    "CACHING_SURROGATE_KEYS": "",
    "CACHING_SHARED_MAX_AGE": 0,
    "CACHING_PURGERS": [],
    "CACHING_PURGE_QUEUE": 10_000,
}


class Settings(AppSettings):
    """One typed property per ``CACHING_*`` setting."""

    @property
    def FALLBACK_TIMEOUT(self) -> int:
        """Cap on the timeout of entries in the per-process fallback."""
        return int(self._get("CACHING_FALLBACK_TIMEOUT"))

    @property
    def FALLBACK_MAX_ENTRIES(self) -> int:
        return int(self._get("CACHING_FALLBACK_MAX_ENTRIES"))

    @property
    def BREAKER_THRESHOLD(self) -> int:
        """Consecutive Redis errors that open the breaker."""
        return int(self._get("CACHING_BREAKER_THRESHOLD"))

    @property
    def BREAKER_COOLDOWN(self) -> float:
        return float(self._get("CACHING_BREAKER_COOLDOWN"))

    @property
    def BREAKER_COOLDOWN_MAX(self) -> float:
        return float(self._get("CACHING_BREAKER_COOLDOWN_MAX"))

    @property
    def REPLAY_LIMIT(self) -> int:
        """Missed invalidations kept for replay; beyond it the namespace is bumped."""
        return int(self._get("CACHING_REPLAY_LIMIT"))

    @property
    def GROUP_TIMEOUT(self) -> int:
        """Lifetime of group version keys; must exceed every entry's timeout."""
        return int(self._get("CACHING_GROUP_TIMEOUT"))

    @property
    def LOCK_TIMEOUT(self) -> float:
        return float(self._get("CACHING_LOCK_TIMEOUT"))

    @property
    def LOCK_WAIT(self) -> float:
        return float(self._get("CACHING_LOCK_WAIT"))

    @property
    def JITTER(self) -> float:
        return float(self._get("CACHING_JITTER"))

    @property
    def STATS_FLUSH_INTERVAL(self) -> float:
        return float(self._get("CACHING_STATS_FLUSH_INTERVAL"))

    @property
    def NEAR_CACHE(self) -> bool:
        """Keep per-process copies of Redis reads, invalidated by CLIENT TRACKING."""
        return bool(self._get("CACHING_NEAR_CACHE"))

    @property
    def NEAR_MAX_ENTRIES(self) -> int:
        return int(self._get("CACHING_NEAR_MAX_ENTRIES"))

    @property
    def NEAR_MAX_BYTES(self) -> int:
        """Bound on the bytes of the copies; one value may use a sixteenth."""
        return int(self._get("CACHING_NEAR_MAX_BYTES"))

    @property
    def EXIT_WAIT(self) -> float:
        """Seconds an exiting process keeps trying to deliver missed writes."""
        return float(self._get("CACHING_EXIT_WAIT"))

    @property
    def ROW_LIMIT(self) -> int:
        """Rows a queryset write lists and bumps one by one; beyond, the model."""
        return int(self._get("CACHING_ROW_LIMIT"))

    @property
    def COUNTER_FLUSH_INTERVAL(self) -> float:
        """Seconds a count waits in its process before it is written."""
        return float(self._get("CACHING_COUNTER_FLUSH_INTERVAL"))

    @property
    def RELEASE(self) -> str:
        """Part of every entry key and ETag: a new release never sees old entries."""
        value = self._get("CACHING_RELEASE")
        if value is None:
            from caching.release import default_release

            return default_release()
        return str(value)

    @property
    def SURROGATE_KEYS(self) -> str:
        """The surrogate-key preset: which header a shared cache reads tags from."""
        return str(self._get("CACHING_SURROGATE_KEYS") or "")

    @property
    def SHARED_MAX_AGE(self) -> int:
        """Seconds a shared cache may keep a page (``s-maxage``); 0: none."""
        return int(self._get("CACHING_SHARED_MAX_AGE"))

    @property
    def PURGERS(self) -> Any:
        """Where bumped groups' tags are purged (a list: see ``caching.purgers``)."""
        return self._get("CACHING_PURGERS") or []

    @property
    def PURGE_QUEUE(self) -> int:
        """Tags a process keeps waiting per purge target; beyond, they are dropped."""
        return int(self._get("CACHING_PURGE_QUEUE"))


conf = Settings(DEFAULTS)
