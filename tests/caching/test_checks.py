from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.test import override_settings

from caching.checks import (
    check_middleware,
    check_redis,
    check_settings,
    check_shared_caches,
)
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
        ("CACHING_SHARED_MAX_AGE", 1.5, "caching.E025"),
        ("CACHING_PURGE_QUEUE", 0, "caching.E026"),
    ],
)
def test_bad_settings(setting: str, value: Any, check_id: str) -> None:
    with override_settings(**{setting: value}):
        messages = check_settings()
    assert ids(messages) == [check_id]
    assert setting in messages[0].msg


def test_unreachable_redis_warns_without_crashing(no_confusable_views: None) -> None:
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


@pytest.mark.parametrize(
    ("value", "check_id"),
    [
        (None, []),
        ("2026.12.1-a1b2c3", []),
        ("", ["caching.E015"]),
        ("has space", ["caching.E015"]),
        ("x" * 65, ["caching.E015"]),
        (12, ["caching.E015"]),
        ("tab\there", ["caching.E015"]),
    ],
)
def test_release_setting(value: Any, check_id: list[str]) -> None:
    with override_settings(CACHING_RELEASE=value):
        assert ids(check_settings()) == check_id


SECURITY = "django.middleware.security.SecurityMiddleware"
STATIC = "assets.middleware.StaticFilesMiddleware"
CACHE = "caching.middleware.ResponseCacheMiddleware"
SESSIONS = "django.contrib.sessions.middleware.SessionMiddleware"
COMPRESSION = "assets.compression.CompressionMiddleware"


@pytest.mark.parametrize(
    ("middleware", "check_id"),
    [
        ([SECURITY, STATIC, CACHE, COMPRESSION, SESSIONS], []),
        ([CACHE, SECURITY, STATIC, SESSIONS], ["caching.E016"]),  # above security
        ([SECURITY, STATIC, SESSIONS, CACHE], ["caching.E016"]),  # below sessions
        ([SECURITY, COMPRESSION, CACHE, SESSIONS], ["caching.E016"]),
        ([SECURITY, STATIC, SESSIONS], ["caching.W002"]),  # the demo's views exist
    ],
)
def test_middleware_order(middleware: list[str], check_id: list[str]) -> None:
    with override_settings(MIDDLEWARE=middleware):
        messages = check_middleware()
    assert ids(messages) == check_id
    if check_id == ["caching.E016"]:
        assert "ResponseCacheMiddleware" in messages[0].msg


def test_the_order_check_is_registered() -> None:
    from django.core.management.base import SystemCheckError

    assert check_middleware() == []  # the site's own order
    with (
        override_settings(MIDDLEWARE=[SESSIONS, CACHE]),
        pytest.raises(SystemCheckError, match="caching.E016"),
    ):
        call_command("check")


VARNISH = {"BACKEND": "varnish", "HOSTS": ["http://127.0.0.1:6081"]}


@pytest.mark.parametrize(
    ("overrides", "check_id", "hint"),
    [
        ({"CACHING_SURROGATE_KEYS": "akamai"}, "caching.E024", "'xkey'"),
        ({"CACHING_PURGERS": VARNISH}, "caching.E027", "must be a list"),
        ({"CACHING_PURGERS": [{"BACKEND": "squid"}]}, "caching.E027", "'varnish'"),
        ({"CACHING_PURGERS": ["http://x"]}, "caching.E027", "a dict"),
        ({"CACHING_PURGERS": [{"BACKEND": "varnish"}]}, "caching.E027", "HOSTS"),
        (
            {"CACHING_PURGERS": [{"BACKEND": "varnish", "HOSTS": ["127.0.0.1"]}]},
            "caching.E027",
            "http://",
        ),
        (
            {"CACHING_PURGERS": [{**VARNISH, "TIMEOUT": 0}]},
            "caching.E027",
            "TIMEOUT",
        ),
        (
            {"CACHING_PURGERS": [{"BACKEND": "fastly", "TOKEN": "t"}]},
            "caching.E027",
            "SERVICE",
        ),
        (
            {"CACHING_PURGERS": [{"BACKEND": "cloudflare", "ZONE": "z", "URL": "x"}]},
            "caching.E027",
            "URL",
        ),
        ({"CACHING_PURGERS": [VARNISH]}, "caching.W003", "no tags"),
    ],
)
def test_shared_cache_settings(overrides: Any, check_id: str, hint: str) -> None:
    with override_settings(**overrides):
        # A value of the wrong kind is check_settings'; the rest check_shared_caches'.
        (message,) = check_settings() + check_shared_caches()
    assert message.id == check_id
    assert hint in message.msg + (message.hint or "")


def test_good_shared_cache_settings_pass() -> None:
    with override_settings(
        CACHING_SURROGATE_KEYS="cloudflare",
        CACHING_PURGERS=[
            VARNISH,
            {"BACKEND": "cloudflare", "ZONE": "z", "TOKEN": "t"},
            {"BACKEND": "fastly", "SERVICE": "s", "TOKEN": "t", "SOFT": True},
        ],
    ):
        assert check_shared_caches() == []
