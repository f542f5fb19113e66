from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db.backends.signals import connection_created
from django.test import Client

from perfsite_profiling import profiles, recorder, sampling
from perfsite_profiling.store import aggregator
from tests.profiling import site


@pytest.fixture(autouse=True)
def _fresh(settings: Any) -> Iterator[None]:
    """Each test: the test URLconf, nothing pending, no profile budget used."""
    settings.ROOT_URLCONF = "tests.profiling.site"
    aggregator.reset()
    sampling.reset()
    profiles.reset()
    yield
    aggregator.reset()
    profiles.reset()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> site.FakeClock:
    fake = site.FakeClock()
    monkeypatch.setattr(site, "clock", fake)
    monkeypatch.setattr(recorder, "clock", fake)
    return fake


def _sleep(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def _register_sleep(connection: Any, **kwargs: Any) -> None:
    if connection.vendor == "sqlite":
        connection.connection.create_function("test_sleep", 1, _sleep)


@pytest.fixture
def sleep_sql() -> Iterator[None]:
    """``test_sleep(seconds)`` on SQLite (PostgreSQL has pg_sleep)."""
    from django.db import connection

    connection.ensure_connection()
    _register_sleep(connection)
    connection_created.connect(_register_sleep, dispatch_uid="test_sleep")
    yield
    connection_created.disconnect(dispatch_uid="test_sleep")


@pytest.fixture
def staff_client(db: None) -> Client:
    user = get_user_model().objects.create_user("staff", is_staff=True)
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def user_client(db: None) -> Client:
    user = get_user_model().objects.create_user("plain")
    client = Client()
    client.force_login(user)
    return client
