"""Django's own cache tests (``BaseCacheTests``), as our backends run them.

The tests are those of the installed Django version, from its source
distribution (``scripts/dev test`` fetches them next to the venv).
"""

from __future__ import annotations

from django.conf import settings
from django.core.cache import BaseCache, cache

from tests.support.services import missing

try:
    from cache.tests import BaseCacheTests, caches_setting_for_tests
except ImportError:  # pragma: no cover - scripts/dev fetches them
    missing(
        f"Django's cache tests are not in {settings.DJANGO_CACHE_TESTS} "
        "(scripts/dev test fetches them)"
    )

__all__ = ["ContractTests", "caches_setting_for_tests"]


class ContractTests(BaseCacheTests):  # type: ignore[misc]
    async def _get_or_set_async_uses_specialized_implementation(self) -> None:
        """Django 6.1's own check, with the default its ``aget_or_set`` requires.

        With the profiling app installed, ``get_or_set`` is an instance-level
        wrapper, so Django's test takes the branch for a specialised
        ``get_or_set``, where it calls ``aget_or_set("key")`` without a
        default and fails on the call itself, whatever the backend.
        """
        from unittest import mock

        await cache.aset("key", "value")
        if (
            cache.get_or_set.__func__ is not BaseCache.get_or_set
            and cache.aget_or_set.__func__ is BaseCache.aget_or_set
        ):
            with mock.patch.object(cache, "get_or_set") as mocked:
                mocked.__func__ = lambda x: x
                await cache.aget_or_set("key", "default")
                mocked.assert_called_once()

    # Django 6.1 added the check (and the delegation it checks).
    if hasattr(BaseCacheTests, "test_get_or_set_async_uses_specialized_implementation"):
        test_get_or_set_async_uses_specialized_implementation = (
            _get_or_set_async_uses_specialized_implementation
        )
