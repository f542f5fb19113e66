from __future__ import annotations

import pytest
from django.db.utils import ConnectionHandler

from perfsite.env import database_config

# django_db lifts pytest-django's block on connections; this one is separate.
pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def test_database_url_for_postgres_connects(postgres_dsn: str) -> None:
    handler = ConnectionHandler({"default": database_config(postgres_dsn, "unused")})
    connection = handler["default"]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT version()")
            (version,) = cursor.fetchone()
        assert version.startswith("PostgreSQL")
    finally:
        connection.close()
