from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.test import override_settings

from caching.checks import check_redis, check_settings
from tests.caching.conftest import failover_settings
from tests.support.hung import HungServer
from tests.support.services import RedisServer, free_port


def ids(messages: list[Any]) -> list[str]:
    return [m.id for m in messages]


def test_defaults_pass() -> None:
    assert check_settings() == []


@pytest.mark.parametrize(
    ("setting", "value", "check_id"),
    [
        ("CACHING_FALLBACK_TIMEOUT", 0, "caching.E001"),
        ("CACHING_FALLBACK_MAX_ENTRIES", "many", "caching.E002"),
        ("CACHING_BREAKER_THRESHOLD", 1.5, "caching.E003"),
        ("CACHING_BREAKER_COOLDOWN", -1, "caching.E004"),
        ("CACHING_BREAKER_COOLDOWN_MAX", True, "caching.E005"),
        ("CACHING_REPLAY_LIMIT", -1, "caching.E006"),
        ("CACHING_GROUP_TIMEOUT", 10, "caching.E007"),
        ("CACHING_LOCK_TIMEOUT", 0, "caching.E008"),
        ("CACHING_LOCK_WAIT", None, "caching.E009"),
        ("CACHING_JITTER", -0.1, "caching.E010"),
        ("CACHING_STATS_FLUSH_INTERVAL", "10", "caching.E011"),
        ("CACHING_JITTER", 1.0, "caching.E012"),
        ("CACHING_BREAKER_COOLDOWN_MAX", 0.1, "caching.E013"),
        ("CACHING_EXIT_WAIT", -1, "caching.E014"),
    ],
)
def test_bad_settings(setting: str, value: Any, check_id: str) -> None:
    with override_settings(**{setting: value}):
        messages = check_settings()
    assert ids(messages) == [check_id]
    assert setting in messages[0].msg


def test_unreachable_redis_warns_without_crashing() -> None:
    with override_settings(
        CACHES=failover_settings(f"redis://127.0.0.1:{free_port()}/0")
    ):
        messages = check_redis()
        assert ids(messages) == ["caching.W001"]
        call_command("check")  # a warning, not an error


def test_hung_redis_warns() -> None:
    server = HungServer()
    try:
        with override_settings(CACHES=failover_settings(server.url)):
            assert ids(check_redis()) == ["caching.W001"]
    finally:
        server.close()


def test_reachable_redis_passes(redis: RedisServer) -> None:
    with override_settings(CACHES=failover_settings(redis.url)):
        assert check_redis() == []
    assert check_redis() == []  # LocMem: nothing to check
