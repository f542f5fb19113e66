from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from perfsite_profiling.checks import check_deploy, check_settings


def ids(messages: list[Any]) -> list[str]:
    return [m.id for m in messages]


def test_defaults_pass() -> None:
    assert check_settings() == []
    assert check_deploy() == []


@pytest.mark.parametrize("rate", [-0.1, 1.5, "often"])
def test_sample_rate_range(settings: Any, rate: Any) -> None:
    settings.PROFILING_SAMPLE_RATE = rate
    assert ids(check_settings()) == ["profiling.E001"]
    assert check_deploy() == []


@pytest.mark.parametrize("engine", ["pyinstrument", "", "Sampling"])
def test_engine_choices(settings: Any, engine: str) -> None:
    settings.PROFILING_ENGINE = engine
    (message,) = check_settings()
    assert message.id == "profiling.E007"
    assert "PROFILING_ENGINE" in message.msg


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PROFILING_SAMPLE_BUDGET", 0),
        ("PROFILING_WINDOW", "x"),
        ("PROFILING_SLOW_QUERY_MS", -1),
        ("PROFILING_SAMPLING_INTERVAL", 0),
        ("PROFILING_N_PLUS_ONE_MIN_MS", -1),
        ("PROFILING_N_PLUS_ONE_MIN_MS", "x"),
    ],
)
def test_numbers(settings: Any, name: str, value: Any) -> None:
    setattr(settings, name, value)
    (message,) = check_settings()
    assert message.id == "profiling.E002"
    assert name in message.msg


def test_server_timing_choice(settings: Any) -> None:
    settings.PROFILING_SERVER_TIMING = "everyone"
    assert ids(check_settings()) == ["profiling.E003"]


@pytest.mark.parametrize("token", ["short", 12345])
def test_token_strength(settings: Any, token: Any) -> None:
    settings.PROFILING_API_TOKEN = token
    assert ids(check_settings()) == ["profiling.E005"]


def test_views_need_auth(settings: Any) -> None:
    settings.INSTALLED_APPS = [
        a
        for a in settings.INSTALLED_APPS
        if a not in {"django.contrib.auth", "django.contrib.admin"}
    ]
    assert ids(check_settings()) == ["profiling.E004"]
    settings.ROOT_URLCONF = "tests.profiling.no_views"
    assert check_settings() == []


def test_deploy_warns_on_a_high_sample_rate(settings: Any) -> None:
    settings.PROFILING_ENABLED = True
    settings.PROFILING_SAMPLE_RATE = 0.5
    assert ids(check_deploy()) == ["profiling.W001"]
    settings.PROFILING_SAMPLE_RATE = 0.01
    assert check_deploy() == []


def test_checks_are_registered(settings: Any) -> None:
    # No database access: Django 6.1 runs field checks against every database.
    settings.PROFILING_SAMPLE_RATE = 2
    with pytest.raises(SystemCheckError, match="profiling.E001"):
        call_command("check")


PROFILING = "perfsite_profiling.middleware.ProfilingMiddleware"
STATIC = "assets.middleware.StaticFilesMiddleware"
COMPRESSION = "assets.compression.CompressionMiddleware"


@pytest.mark.parametrize(
    ("middleware", "expected"),
    [
        ([STATIC, PROFILING, COMPRESSION], []),
        ([PROFILING, STATIC, COMPRESSION], ["profiling.E006"]),
        ([STATIC, COMPRESSION, PROFILING], ["profiling.E006"]),
        ([STATIC, COMPRESSION], []),
    ],
)
def test_middleware_order(
    settings: Any, middleware: list[str], expected: list[str]
) -> None:
    from perfsite_profiling.checks import check_middleware

    settings.MIDDLEWARE = middleware
    assert ids(check_middleware()) == expected


def test_middleware_order_check_is_registered(settings: Any) -> None:
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != PROFILING] + [
        PROFILING
    ]
    with pytest.raises(SystemCheckError, match="profiling.E006"):
        call_command("check")
