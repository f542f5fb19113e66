"""Django's own cache contract (its ``BaseCacheTests``) against ``SQLiteCache``.

Like tests/caching/test_django_contract.py for ``FailoverCache``: the tests of
the installed Django version, every alias on one shared file. Culling is
approximate here (a look at the table every ``CULL_EVERY`` writes, not at
each one), so Django's exact-count culling tests are left out.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.test import TestCase, override_settings

from tests.support.services import missing

pytestmark = pytest.mark.django_db

try:
    from cache.tests import BaseCacheTests, caches_setting_for_tests
except ImportError:  # pragma: no cover - scripts/dev fetches them
    missing(
        f"Django's cache tests are not in {settings.DJANGO_CACHE_TESTS} "
        "(scripts/dev test fetches them)"
    )


@pytest.fixture(autouse=True)
def sqlite_caches(tmp_path: Path) -> Iterator[None]:
    params = {
        "BACKEND": "caching.embedded.SQLiteCache",
        "LOCATION": str(tmp_path / "cache.sqlite3"),
    }
    with override_settings(
        CACHES=caches_setting_for_tests(base=params, exclude={"cull", "zero_cull"})
    ):
        yield


class SQLiteCacheContractTests(BaseCacheTests, TestCase):  # type: ignore[misc]
    pass
