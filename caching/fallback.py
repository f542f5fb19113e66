"""The in-process store ``FailoverCache`` serves from while Redis is out."""

from __future__ import annotations

from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.locmem import LocMemCache

from caching.conf import conf


class Fallback(LocMemCache):
    """A LocMem whose entries live at most ``CACHING_FALLBACK_TIMEOUT`` seconds.

    It is per process: what it holds is blind to other processes' writes, so
    its lifetime is capped, and it is emptied when Redis returns.
    """

    def __init__(self, name: str, params: dict[str, Any], owner: Any) -> None:
        super().__init__(
            f"caching-fallback|{name}",
            {
                "TIMEOUT": params.get("TIMEOUT", 300),
                "KEY_PREFIX": owner.key_prefix,
                "VERSION": owner.version,
                # The same stored keys as Redis: caches that share a location
                # but not a key function must not see each other's entries.
                **(
                    {"KEY_FUNCTION": params["KEY_FUNCTION"]}
                    if "KEY_FUNCTION" in params
                    else {}
                ),
                "OPTIONS": {"MAX_ENTRIES": conf.FALLBACK_MAX_ENTRIES},
            },
        )

    def validate_key(self, key: str) -> None:
        pass  # FailoverCache validates keys once, whichever store serves the call

    def read(self, keys: list[Any], current: list[Any], version: Any = None) -> Any:
        """``get_many`` of both (one store here: nothing lags)."""
        return self.get_many([*keys, *current], version=version)

    def timeout(self, timeout: Any) -> Any:
        """A caller's timeout, capped for the fallback."""
        if timeout is DEFAULT_TIMEOUT:
            timeout = self.default_timeout
        cap = conf.FALLBACK_TIMEOUT
        if timeout is None:
            return cap
        assert isinstance(timeout, int | float)
        return min(timeout, cap)
