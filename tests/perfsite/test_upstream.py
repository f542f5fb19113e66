"""The demo's async view: a slow upstream, cached with cache_result on an async def."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.test import AsyncClient, Client

from perfsite import upstream

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def asked(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The cities the upstream was asked about, without its delay."""
    calls: list[str] = []
    original = upstream.ask_upstream

    async def counted(city: str) -> dict[str, object]:
        calls.append(city)
        return await original(city)

    monkeypatch.setattr(upstream, "ask_upstream", counted)
    monkeypatch.setattr(upstream, "UPSTREAM_DELAY", 0)
    upstream.forecast.invalidate_all()
    return calls


def test_under_asgi_the_upstream_is_asked_once(asked: list[str]) -> None:
    client = AsyncClient()
    first = async_to_sync(client.get)("/api/upstream", {"city": "oslo"})
    again = async_to_sync(client.get)("/api/upstream", {"city": "oslo"})
    assert first.json() == again.json() == {"city": "oslo", "forecast": "rain"}
    assert asked == ["oslo"]


def test_under_wsgi_the_same_view_works(asked: list[str], client: Client) -> None:
    assert client.get("/api/upstream?city=rome").json()["forecast"] == "rain"
    assert client.get("/api/upstream?city=lima").status_code == 200
    assert asked == ["rome", "lima"]


@pytest.mark.parametrize("city", ["", "Paris", "a" * 33, "x1"])
def test_a_bad_city_is_a_400(city: str, client: Client, asked: Any) -> None:
    assert client.get("/api/upstream", {"city": city}).status_code == 400
