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
from django.test import TestCase, override_settings

from tests.caching.django_contract import ContractTests, caches_setting_for_tests

pytestmark = pytest.mark.django_db


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


class SQLiteCacheContractTests(ContractTests, TestCase):  # type: ignore[misc]
    pass
